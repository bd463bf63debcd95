"""Stubs and fault rules added to a stack's Thrift fakes for one test, and undone after it.

Stubs win over bindings and generated answers, so a test can pin one answer of a data-backed
method. Fault rules are merged over the fake's own (a method named again replaces its rule).
:meth:`Overrides.undo` removes what was added, newest first; the per-test reset would too, but
undoing at teardown keeps a test's changes out of the next test's setup and of session fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from simdb.errors import ConfigError

if TYPE_CHECKING:
    from simdb.testing.session import StackSession


class Overrides:
    """What one test added to the fakes of ``session``."""

    def __init__(self, session: StackSession) -> None:
        self.session = session
        self._undo: list[Callable[[], None]] = []

    def stub(self, name: str, *stubs: Mapping[str, Any], service: str | None = None) -> list[str]:
        """Add stubs (JSON objects as in stub files) to the Thrift fake ``name``; return their ids."""
        fake = self.session.thrift(name)
        ids = []
        for i, stub in enumerate(stubs):
            if not isinstance(stub, Mapping):
                raise ConfigError(
                    f"fake {name!r}: stub {i + 1} must be a JSON object like "
                    '{"method": "getPin", "args": {"id": 1}, "reply": {"return": {...}}}, '
                    f"got {type(stub).__name__}"
                )
            try:
                state = fake.state_for_stub(service, dict(stub))
                stub_id = state.stubs.add(dict(stub))
            except ConfigError as exc:
                raise ConfigError(f"fake {name!r}: stub {i + 1}: {exc}") from None
            fake.changed()
            ids.append(stub_id)

            def remove(state: Any = state, stub_id: str = stub_id) -> None:
                if state.stubs.get(stub_id) is not None:
                    state.stubs.remove(stub_id)
                    fake.changed()

            self._undo.append(remove)
        return ids

    def faults(
        self, name: str, rules: Mapping[str, Any], service: str | None = None, seed: int | None = None
    ) -> None:
        """Merge fault ``rules`` (method or ``"*"`` -> rule) over the Thrift fake ``name``'s own."""
        fake = self.session.thrift(name)
        if not isinstance(rules, Mapping):
            raise ConfigError(
                f"fake {name!r}: fault rules are an object of method -> rule, "
                f'e.g. {{"getPin": {{"app_error_rate": 1.0}}}}, got {type(rules).__name__}'
            )
        try:
            state = fake.state(service)
            before = state.plan
            current = before.to_json()
            plan = {
                "seed": current["seed"] if seed is None else seed,
                "rules": {**current["rules"], **dict(rules)},
            }
            fake.set_faults(service, plan)
        except ConfigError as exc:
            raise ConfigError(f"fake {name!r}: faults: {exc}") from None

        def restore() -> None:
            state.plan = before
            fake.changed()

        self._undo.append(restore)

    def undo(self) -> None:
        """Remove every stub and fault rule added, newest first."""
        while self._undo:
            self._undo.pop()()
