"""A stack started once for a test session and reset to its snapshot before every test.

:class:`StackSession` wraps :class:`simdb.stack.run.StackRun` (the fakes run embedded in the test
process) with what tests need: the fakes by name, their endpoints, a timed reset, journals, IDL
modules. The pytest plugin's ``simdb_stack`` fixture is one of these.
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simdb.errors import ConfigError

if TYPE_CHECKING:
    from simdb.fake import Endpoint, Fake
    from simdb.stack.load import Stack
    from simdb.stack.run import StackRun
    from simdb.testing.journal import JournalView
    from simdb.thrift.fake import ThriftFake


class StackSession:
    """One stack file, running embedded; :meth:`reset` puts every fake back to the loaded snapshot."""

    def __init__(self, path: Path, snapshot: Path | None = None) -> None:
        from simdb.stack.load import load_stack
        from simdb.stack.run import StackRun

        self.stack: Stack = load_stack(Path(path))
        self.run: StackRun = StackRun(self.stack, snapshot=snapshot)
        self.last_reset_s = 0.0
        """Seconds the last :meth:`reset` took."""
        self._clients: dict[tuple[str, str | None], tuple[Any, Callable[[], None]]] = {}

    @property
    def name(self) -> str:
        """The stack's name."""
        return self.stack.name

    @property
    def names(self) -> list[str]:
        """The fakes' names, in the stack file's order."""
        return list(self.stack.spec.fakes)

    def start(self) -> dict[str, Endpoint]:
        """Start every fake (storage first), seed it, probe it, bind it; return the endpoints."""
        return self.run.start()

    def stop(self) -> None:
        """Close the clients of :meth:`client`, stop every fake."""
        while self._clients:
            _, (_, close) = self._clients.popitem()
            close()
        self.run.stop()

    def reset(self) -> float:
        """Every fake back to the snapshot (data, stubs, faults, journal); return the seconds it took."""
        started = time.perf_counter()
        self.run.reset()
        self.last_reset_s = time.perf_counter() - started
        return self.last_reset_s

    def fake(self, name: str) -> Fake:
        """The running fake ``name``; a ConfigError naming the stack's fakes when there is none."""
        fake = self.run.by_name.get(name)
        if fake is None:
            raise ConfigError(
                f"stack {self.name} ({self.stack.path}) has no fake {name!r}; "
                f"its fakes: {', '.join(self.names)}"
            )
        return fake

    def thrift(self, name: str) -> ThriftFake:
        """The Thrift fake ``name`` (a ConfigError when ``name`` is another kind)."""
        from simdb.thrift.fake import ThriftFake

        fake = self.fake(name)
        if not isinstance(fake, ThriftFake):
            raise ConfigError(
                f"fake {name!r} of stack {self.name} is a {fake.kind} fake; "
                f"stubs, faults and journals are for the Thrift fakes ({', '.join(self.thrift_names)})"
            )
        return fake

    @property
    def thrift_names(self) -> list[str]:
        """The names of the stack's Thrift fakes."""
        return [n for n, spec in self.stack.spec.fakes.items() if spec.kind == "thrift"]

    def endpoint(self, name: str) -> Endpoint:
        """Where the fake ``name`` is reached (``.url()`` for clients)."""
        return self.fake(name).endpoint

    def endpoints(self) -> dict[str, Endpoint]:
        """Every endpoint by fake name."""
        return self.run.endpoints()

    def idl(self, name: str) -> types.ModuleType:
        """The IDL module the Thrift fake ``name`` serves (its structs and exceptions, for tests)."""
        fake = self.thrift(name)
        module: Any = next(iter(fake.states.values())).model.module
        if module is None:
            raise ConfigError(f"fake {name!r}: its service model has no IDL module")
        assert isinstance(module, types.ModuleType)
        return module

    def client(self, name: str, service: str | None = None) -> Any:
        """A client of the fake ``name`` kept for the session (see :func:`simdb.testing.clients.client_for`).

        For tests that cannot take function-scoped fixtures, such as hypothesis ``@given`` tests.
        """
        key = (name, service)
        if key not in self._clients:
            from simdb.testing.clients import client_for

            self._clients[key] = client_for(self.fake(name), service)
        return self._clients[key][0]

    def journal(self, name: str) -> JournalView:
        """Assertions on what the Thrift fake ``name`` was asked since the last reset."""
        from simdb.testing.journal import JournalView

        return JournalView(name, self.thrift(name))
