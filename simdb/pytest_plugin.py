"""simdb's pytest plugin: a stack (or single fakes) as fixtures. Imports nothing heavy until a fixture runs.

Options (group ``simdb``; each also an ini key):

- ``--simdb-stack FILE`` / ``simdb_stack = FILE``: the stack file of ``simdb_stack`` (relative to
  the ini file's directory when set there). When given, every test starts from the snapshot.
- ``--simdb-snapshot DIR`` / ``simdb_snapshot = DIR``: the snapshot that seeds every fake (for the
  stack: instead of its own ``snapshot:``).
- ``--simdb-docker`` / ``simdb_docker = true``: run the stack in Docker (refused for now, see docs/pytest.md).

Fixtures for a stack: ``simdb_stack`` (session, a :class:`simdb.testing.session.StackSession`),
reset before every test; ``simdb_client(name, service=None)``; ``simdb_stub(name, *stubs)`` and
``simdb_fault(name, rules)`` for one test; ``simdb_journal(name)`` with ``assert_called``,
``assert_not_called`` and ``assert_order``. Markers ``simdb_stubs(name, *stubs)`` and
``simdb_faults(name, rules)`` do what the two helpers do, declaratively.

Fixtures for single fakes: ``simdb_redis``, ``simdb_mysql`` (session-wide, reset per test) and
``simdb_thrift(idl, service, stubs=(), **config)`` (started for one test). See docs/pytest.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from simdb.fake import Fake
    from simdb.testing.journal import JournalView
    from simdb.testing.overrides import Overrides
    from simdb.testing.session import StackSession

_RESETS = pytest.StashKey[list[float]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``simdb`` option group and its ini keys."""
    group = parser.getgroup("simdb", "simdb fakes")
    group.addoption(
        "--simdb-stack", default=None, metavar="FILE", help="stack file (simdb.yaml) of simdb_stack"
    )
    group.addoption("--simdb-snapshot", default=None, help="snapshot directory that seeds simdb's fixtures")
    group.addoption(
        "--simdb-docker", action="store_true", default=None, help="run the stack in Docker, not embedded"
    )
    parser.addini("simdb_stack", "stack file (simdb.yaml) of the simdb_stack fixture", default="")
    parser.addini("simdb_snapshot", "snapshot directory that seeds simdb's fixtures", default="")
    parser.addini("simdb_docker", "run the simdb stack in Docker, not embedded", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers; name the session's stack file for ``simdb.contract.args``."""
    config.addinivalue_line(
        "markers", "simdb_stubs(fake, *stubs, service=None): stubs on a Thrift fake for this test"
    )
    config.addinivalue_line(
        "markers", "simdb_faults(fake, rules, service=None, seed=None): fault rules for this test"
    )
    config.stash[_RESETS] = []
    if _docker(config):
        raise pytest.UsageError(
            "--simdb-docker: the per-test reset, stubs, faults and journals need each fake's admin API, "
            "which the Docker stack does not publish yet; run the stack embedded (leave out --simdb-docker)"
        )
    from simdb.testing.current import set_stack_file

    set_stack_file(_stack_file(config))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Forget the session's stack file."""
    from simdb.testing.current import set_stack_file

    set_stack_file(None)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line on the per-test resets, when the stack ran."""
    times = config.stash.get(_RESETS, [])
    if times:
        mean_ms = sum(times) / len(times) * 1000.0
        terminalreporter.write_line(
            f"simdb: {len(times)} per-test resets of the stack, "
            f"mean {mean_ms:.2f} ms, max {max(times) * 1000.0:.2f} ms"
        )


def _docker(config: pytest.Config) -> bool:
    option = config.getoption("--simdb-docker")
    return bool(option) if option is not None else bool(config.getini("simdb_docker"))


def _ini_path(config: pytest.Config, value: str) -> Path:
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return (base / value).resolve()


def _stack_file(config: pytest.Config) -> Path | None:
    option = config.getoption("--simdb-stack")
    if option:
        return (config.invocation_params.dir / str(option)).resolve()
    value = str(config.getini("simdb_stack") or "")
    return _ini_path(config, value) if value else None


def _snapshot(config: pytest.Config) -> Path | None:
    option = config.getoption("--simdb-snapshot")
    if option:
        return (config.invocation_params.dir / str(option)).resolve()
    value = str(config.getini("simdb_snapshot") or "")
    return _ini_path(config, value) if value else None


def _session_fake(request: pytest.FixtureRequest, fake: Fake) -> Iterator[Fake]:
    fake.start()
    snapshot = _snapshot(request.config)
    if snapshot is not None:
        fake.load(snapshot)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def _simdb_redis_session(request: pytest.FixtureRequest) -> Iterator[Fake]:
    from simdb.redis.fake import RedisConfig, RedisFake

    yield from _session_fake(request, RedisFake(RedisConfig(name="cache")))


@pytest.fixture
def simdb_redis(_simdb_redis_session: Fake) -> Fake:
    """A running Redis fake (``.endpoint.url()`` for clients), reset to the loaded snapshot."""
    _simdb_redis_session.reset()
    return _simdb_redis_session


@pytest.fixture(scope="session")
def _simdb_mysql_session(request: pytest.FixtureRequest) -> Iterator[Fake]:
    from simdb.mysql.fake import MySQLConfig, MySQLFake

    yield from _session_fake(request, MySQLFake(MySQLConfig(name="db")))


@pytest.fixture
def simdb_mysql(_simdb_mysql_session: Fake) -> Fake:
    """A running MySQL fake (``.endpoint.url()`` is a SQLAlchemy URL), reset to the loaded snapshot."""
    _simdb_mysql_session.reset()
    return _simdb_mysql_session


_FROM_OPTION: Any = object()


@pytest.fixture
def simdb_thrift(request: pytest.FixtureRequest) -> Iterator[Callable[..., Fake]]:
    """Factory: ``simdb_thrift(idl, service, stubs=(), snapshot=..., **config)`` starts a Thrift fake.

    The fake loads its part (``thrift/<name>/``) of ``--simdb-snapshot`` like the other fixtures; a
    snapshot without that part is an error (pass ``name=`` to pick the part, or ``snapshot=None`` to
    start without one). The fake is stopped after the test.
    """
    from simdb.errors import ConfigError
    from simdb.thrift.fake import ThriftConfig, ThriftFake

    started: list[Fake] = []
    default_snapshot = _snapshot(request.config)

    def make(
        idl: str | Path,
        service: str,
        stubs: tuple[str | Path, ...] = (),
        snapshot: str | Path | None = _FROM_OPTION,
        **config: Any,
    ) -> Fake:
        idl_path = Path(idl)
        config.setdefault("include_dirs", (idl_path.parent,))
        fake = ThriftFake(
            ThriftConfig(idl=idl_path, services=(service,), stubs=tuple(Path(s) for s in stubs), **config)
        )
        chosen = default_snapshot if snapshot is _FROM_OPTION else (Path(snapshot) if snapshot else None)
        if chosen is not None and not (chosen / "thrift" / fake.name).is_dir():
            raise ConfigError(
                f"snapshot {chosen} has no thrift/{fake.name}/ part for the {service} fake: pass name= "
                "naming its part, or snapshot=None to serve without one"
            )
        fake.start()
        started.append(fake)
        if chosen is not None:
            fake.load(chosen)
        return fake

    try:
        yield make
    finally:
        for fake in reversed(started):
            fake.stop()


# -- a stack ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def simdb_stack(request: pytest.FixtureRequest) -> Iterator[StackSession]:
    """The stack of ``--simdb-stack FILE`` (or ini ``simdb_stack``), running embedded for the session.

    Every test that uses it (every test, when the option is given) starts from the snapshot.
    """
    from simdb.testing.session import StackSession

    path = _stack_file(request.config)
    if path is None:
        raise pytest.UsageError(
            "the simdb_stack fixture needs a stack file: pass --simdb-stack FILE or set simdb_stack = FILE "
            "in the ini file"
        )
    session = StackSession(path, _snapshot(request.config))
    session.start()
    try:
        yield session
    finally:
        session.stop()


def _uses_stack(request: pytest.FixtureRequest) -> bool:
    if _stack_file(request.config) is not None or "simdb_stack" in request.fixturenames:
        return True
    node = request.node
    return any(node.iter_markers("simdb_stubs")) or any(node.iter_markers("simdb_faults"))


@pytest.fixture(autouse=True)
def _simdb_per_test(request: pytest.FixtureRequest) -> Iterator[Overrides | None]:
    """Reset the stack to its snapshot before each test that uses it; apply the simdb markers."""
    if not _uses_stack(request):
        yield None
        return
    from simdb.testing.overrides import Overrides

    session: StackSession = request.getfixturevalue("simdb_stack")
    request.config.stash[_RESETS].append(session.reset())
    overrides = Overrides(session)
    try:
        for mark in request.node.iter_markers("simdb_stubs"):
            if not mark.args:
                raise pytest.UsageError("simdb_stubs(fake, *stubs): name the fake first")
            overrides.stub(mark.args[0], *mark.args[1:], **mark.kwargs)
        for mark in request.node.iter_markers("simdb_faults"):
            if len(mark.args) != 2:
                raise pytest.UsageError("simdb_faults(fake, rules, service=None, seed=None): give both")
            overrides.faults(mark.args[0], mark.args[1], **mark.kwargs)
        yield overrides
    finally:
        overrides.undo()


@pytest.fixture
def simdb_client(simdb_stack: StackSession) -> Iterator[Callable[..., Any]]:
    """Factory: ``simdb_client(name, service=None)`` gives a client of the stack's fake ``name``.

    A thriftpy2 client for a Thrift fake (``service=`` picks one of a multiplexed fake), a redis-py
    client for a Redis fake, an SQLAlchemy engine for a MySQL fake. Closed after the test.
    """
    from simdb.testing.clients import client_for

    made: dict[tuple[str, str | None], tuple[Any, Callable[[], None]]] = {}

    def client(name: str, service: str | None = None) -> Any:
        key = (name, service)
        if key not in made:
            made[key] = client_for(simdb_stack.fake(name), service)
        return made[key][0]

    try:
        yield client
    finally:
        for _, close in made.values():
            close()


@pytest.fixture
def simdb_stub(simdb_stack: StackSession, _simdb_per_test: Overrides) -> Callable[..., list[str]]:
    """Factory: ``simdb_stub(name, *stubs, service=None)`` adds stubs for this test only (returns ids)."""
    return _simdb_per_test.stub


@pytest.fixture
def simdb_fault(simdb_stack: StackSession, _simdb_per_test: Overrides) -> Callable[..., None]:
    """Factory: ``simdb_fault(name, rules, service=None, seed=None)`` adds fault rules for this test only."""
    return _simdb_per_test.faults


@pytest.fixture
def simdb_journal(simdb_stack: StackSession) -> Callable[[str], JournalView]:
    """Factory: ``simdb_journal(name)`` gives assertions on the Thrift fake ``name``'s calls in this test."""
    return simdb_stack.journal
