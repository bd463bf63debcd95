"""Assertions on what a Thrift fake was asked: was a method called, with what, how often, in which order.

Every failure is an :class:`AssertionError` that names the fake, says what was expected and lists
the calls the fake actually answered (oldest first), so the message alone explains the failure.
A method the fake does not serve is an error, not a pass: ``assert_not_called("getPn")`` must not
hold just because of a typo.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simdb.errors import SimdbError

if TYPE_CHECKING:
    from simdb.thrift.fake import ThriftFake

_SHOWN = 20


@dataclass(frozen=True)
class Call:
    """One answered call: the service, the method, its arguments in canonical JSON and how it was answered."""

    service: str
    method: str
    args: Mapping[str, Any]
    answered: str

    def matches(self, method: str, with_args: Mapping[str, Any] | None) -> bool:
        """Whether this calls ``method`` (or ``Service.method``) with arguments including ``with_args``."""
        if method not in (self.method, f"{self.service}.{self.method}"):
            return False
        if with_args is None:
            return True
        return all(key in self.args and self.args[key] == value for key, value in with_args.items())

    def __str__(self) -> str:
        return f"{self.method}({_json(self.args)}) -> {self.answered}"


Expected = str | tuple[str, Mapping[str, Any]]
"""One step of an order assertion: a method, or a method and (part of) its arguments."""


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)


def _times(n: int) -> str:
    return f"{n} time" + ("" if n == 1 else "s")


class JournalView:
    """The journal of one Thrift fake, with assertions. Calls are read fresh at every assertion."""

    def __init__(self, name: str, fake: ThriftFake) -> None:
        self.name = name
        self.fake = fake

    def calls(self, method: str | None = None, with_args: Mapping[str, Any] | None = None) -> list[Call]:
        """The calls answered since the last reset, oldest first (only ``method``'s when given)."""
        journal = self.fake.journal
        if journal.dropped:
            raise SimdbError(
                f"the journal of fake {self.name!r} dropped {journal.dropped} of "
                f"{journal.dropped + len(journal)} calls (it keeps {journal.size}); counts and order "
                "would be wrong: make fewer calls in one test or give the fake a larger journal_size"
            )
        if method is not None:
            self._check_method(method)
        out = []
        for entry in journal.entries():
            args = self.fake.entry_args_json(entry)
            call = Call(entry.service, entry.method, args if isinstance(args, dict) else {}, entry.answered)
            if method is None or call.matches(method, with_args):
                out.append(call)
        return out

    def _check_method(self, method: str) -> None:
        service, _, bare = method.rpartition(".")
        for name, state in self.fake.states.items():
            if service and service not in (name, name.rpartition(".")[2]):
                continue
            if state.model.method(bare) is not None:
                return
        known = sorted({m for st in self.fake.states.values() for m in st.model.methods})
        raise SimdbError(
            f"fake {self.name!r} serves no method {method!r} "
            f"(services {', '.join(self.fake.states)}; methods: {', '.join(known)})"
        )

    def _listing(self, calls: Sequence[Call] | None = None) -> str:
        every = self.calls() if calls is None else list(calls)
        if not every:
            return f"fake {self.name!r} answered no calls in this test"
        lines = [f"calls answered by fake {self.name!r} in this test ({len(every)}, oldest first):"]
        lines += [f"  {i}. {call}" for i, call in enumerate(every[:_SHOWN], 1)]
        if len(every) > _SHOWN:
            lines.append(f"  ... and {len(every) - _SHOWN} more")
        return "\n".join(lines)

    def assert_called(
        self, method: str, times: int | None = None, with_args: Mapping[str, Any] | None = None
    ) -> list[Call]:
        """A call of ``method`` (exactly ``times`` when given) with arguments including ``with_args``.

        ``with_args`` names arguments with their values in canonical JSON (as in stub files):
        ``{"id": 1001}``; arguments it does not name may have any value. Returns the matching calls.
        """
        if times is not None and times < 0:
            raise ValueError(f"times must not be negative, got {times}")
        found = self.calls(method, with_args)
        if (times is None and found) or (times is not None and len(found) == times):
            return found
        wanted = "at least once" if times is None else f"exactly {_times(times)}"
        shown = f" with arguments including {_json(with_args)}" if with_args is not None else ""
        raise AssertionError(
            f"fake {self.name!r}: expected {method} to be called {wanted}{shown}, "
            f"it was called {_times(len(found))}{' so' if with_args is not None else ''}\n{self._listing()}"
        )

    def assert_not_called(self, method: str, with_args: Mapping[str, Any] | None = None) -> None:
        """No call of ``method`` (whose arguments include ``with_args``, when given)."""
        found = self.calls(method, with_args)
        if found:
            shown = f" with arguments including {_json(with_args)}" if with_args is not None else ""
            raise AssertionError(
                f"fake {self.name!r}: expected no call of {method}{shown}, "
                f"it was called {_times(len(found))}\n{self._listing()}"
            )

    def assert_order(self, *expected: Expected) -> None:
        """The calls ``expected`` happened in this order (other calls may come between them).

        Each step is a method name or a ``(method, with_args)`` pair.
        """
        if not expected:
            raise ValueError("name at least one call: assert_order('getFollowees', 'getPins')")
        steps = [(e, None) if isinstance(e, str) else (e[0], e[1]) for e in expected]
        for method, _ in steps:
            self._check_method(method)
        every = self.calls()
        i = 0
        for call in every:
            if i < len(steps) and call.matches(*steps[i]):
                i += 1
        if i == len(steps):
            return

        def show(step: tuple[str, Mapping[str, Any] | None]) -> str:
            return step[0] if step[1] is None else f"{step[0]}({_json(step[1])})"

        order = " then ".join(show(s) for s in steps)
        missing = show(steps[i])
        after = f" after {show(steps[i - 1])}" if i else ""
        raise AssertionError(
            f"fake {self.name!r}: expected the calls {order}; no call of {missing} came{after}\n"
            f"{self._listing(every)}"
        )

    def assert_call_count(self, count: int) -> None:
        """Exactly ``count`` calls of any method."""
        every = self.calls()
        if len(every) != count:
            raise AssertionError(
                f"fake {self.name!r}: expected {_times(count).replace('time', 'call')} in all, "
                f"got {len(every)}\n{self._listing(every)}"
            )
