"""simdb's pytest plugin: fakes as fixtures. Imports nothing heavy until a fixture is used.

Options (command line or ini): ``--simdb-snapshot DIR`` / ``simdb_snapshot = DIR`` seeds every fake.

Fixtures:

- ``simdb_redis``: a session-wide Redis fake, reset to the snapshot before each test that uses it.
- ``simdb_mysql``: a session-wide MySQL fake (database ``simdb``), reset the same way.
- ``simdb_thrift``: a factory ``simdb_thrift(idl, service, stubs=(), **config)`` returning a started
  Thrift fake that is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from simdb.fake import Fake


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``simdb`` option group."""
    group = parser.getgroup("simdb", "simdb fakes")
    group.addoption("--simdb-snapshot", default=None, help="snapshot directory that seeds simdb's fixtures")
    parser.addini("simdb_snapshot", "snapshot directory that seeds simdb's fixtures", default="")


def _snapshot(config: pytest.Config) -> Path | None:
    value = config.getoption("--simdb-snapshot") or config.getini("simdb_snapshot")
    return Path(str(value)) if value else None


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
