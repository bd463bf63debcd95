"""The one protocol every fake implements.

The runner, the admin API, the pytest plugin and the container entrypoint only
talk to fakes through :class:`Fake`; a new kind of fake is one new module that
implements it (see ``docs/extending.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable
from urllib.parse import quote

if TYPE_CHECKING:
    from simdb.staging import StagedLoad

FakeKind = Literal["thrift", "redis", "mysql"]


@dataclass(frozen=True)
class Endpoint:
    """Where a running fake can be reached."""

    kind: FakeKind
    host: str
    port: int
    admin_port: int | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def address(self) -> str:
        """``host:port`` as clients spell it."""
        return f"{self.host}:{self.port}"

    def url(self) -> str:
        """A URL a client library understands (``redis://``, ``mysql://``, ``thrift://``)."""
        extras = dict(self.extra)
        if self.kind == "redis":
            secret = quote(extras["password"], safe="") if extras.get("password") else ""
            return (
                f"redis://:{secret}@{self.host}:{self.port}/0"
                if secret
                else f"redis://{self.host}:{self.port}/0"
            )
        if self.kind == "mysql":
            user = extras.get("user", "root")
            password = extras.get("password", "")
            database = extras.get("database", "")
            auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "") + "@"
            return f"mysql+pymysql://{auth}{self.host}:{self.port}/{database}"
        return f"thrift://{self.host}:{self.port}"

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """The endpoint a ``redis://``, ``mysql://`` (or ``mysql+pymysql://``) or ``thrift://`` URL names."""
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(url)
        scheme = parts.scheme.split("+")[0]
        if scheme not in ("redis", "mysql", "thrift"):
            raise ValueError(f"{url!r}: a URL is redis://, mysql:// or thrift://")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{url!r}: {exc}") from None
        if not parts.hostname or port is None:
            raise ValueError(f"{url!r}: give host and port")
        extra: list[tuple[str, str]] = []
        if parts.password:
            extra.append(("password", unquote(parts.password)))
        if scheme == "mysql":
            extra.append(("user", unquote(parts.username or "root")))
            extra.append(("database", parts.path.lstrip("/")))
        kind: FakeKind = "redis" if scheme == "redis" else "mysql" if scheme == "mysql" else "thrift"
        return cls(kind, parts.hostname, port, None, tuple(sorted(extra)))


@dataclass(frozen=True)
class Health:
    """The answer to a health probe."""

    ok: bool
    detail: str = ""
    stats: dict[str, int | float | str] = field(default_factory=dict)


@runtime_checkable
class Fake(Protocol):
    """A simulated dependency: start, stop, endpoint, load, reset, health."""

    @property
    def name(self) -> str:
        """The fake's name in its stack (also the name of its snapshot part)."""
        ...

    @property
    def kind(self) -> FakeKind:
        """``thrift``, ``redis`` or ``mysql``."""
        ...

    def start(self) -> Endpoint:
        """Start serving; return once the fake answers probes."""
        ...

    def stop(self) -> None:
        """Stop serving and release ports, threads and child processes."""
        ...

    @property
    def endpoint(self) -> Endpoint:
        """Where the running fake is reached (raises if not started)."""
        ...

    def load(self, snapshot_dir: Path) -> None:
        """Load this fake's part of the snapshot in ``snapshot_dir``, atomically.

        On any error the previous state is kept and a
        :class:`simdb.errors.SnapshotError` names the file and line.
        """
        ...

    def prepare(self, snapshot_dir: Path) -> StagedLoad:
        """Read and check this fake's part into staged state, changing nothing clients see.

        The first phase of a load across several fakes (:mod:`simdb.staging`):
        a bad part raises :class:`simdb.errors.SnapshotError` (file and line) here, and
        the returned load's ``commit`` swaps it in. ``load`` is ``prepare`` then ``commit``.
        """
        ...

    def reset(self) -> None:
        """Return to exactly the state of the last successful :meth:`load`."""
        ...

    def health(self) -> Health:
        """Report whether the fake serves, with a few counters."""
        ...


@runtime_checkable
class StackAware(Protocol):
    """A fake that wants the endpoints of the other fakes of its stack (data-backed Thrift methods).

    The stack runner calls :meth:`bind_stack` once every fake of the stack has started.
    """

    def bind_stack(self, endpoints: Mapping[str, Endpoint], fakes: Mapping[str, Any] | None = None) -> None:
        """Connect to the stack's other fakes, by fake name.

        ``fakes``: the stack's fake objects by name when they run in this process (an embedded
        stack), so a fake may use them directly instead of over a socket.
        """
        ...
