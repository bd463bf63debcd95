"""The request journal: a bounded ring of what the fake was asked and how it answered.

Appending is cheap (one tuple into a ``deque`` with ``maxlen``); turning the
arguments into canonical JSON happens only when someone reads the journal.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

DEFAULT_SIZE = 1000


class Entry(NamedTuple):
    """One answered call. ``args`` is the decoded thriftpy2 args struct (or None).

    A named tuple rather than a dataclass: one is built per call on the serving thread.
    """

    time: float
    service: str
    method: str
    args: Any
    answered: str
    """``stub:<id>``, ``recording``, ``generated``, ``fault:<action>``, ``error:<kind>``, ``oneway``..."""
    latency_s: float
    detail: str = ""


ArgsToJson = Callable[[Entry], Any]


class Journal:
    """A ring buffer of :class:`Entry`; the oldest entries drop out once ``size`` is reached."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError(f"journal size must be at least 1, got {size}")
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size)
        self._total = 0
        self._dropped = 0
        self._lock = threading.Lock()

    def record(self, entry: Entry) -> None:
        """Append one entry (drops the oldest when full)."""
        if len(self._entries) == self.size:
            self._dropped += 1
        self._entries.append(entry)
        self._total += 1

    @property
    def dropped(self) -> int:
        """How many entries dropped out since the last :meth:`clear` (0: the journal holds every call)."""
        return self._dropped

    @property
    def total(self) -> int:
        """How many entries were ever recorded (including ones that dropped out)."""
        return self._total

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self, method: str | None = None) -> list[Entry]:
        """A copy of the entries, oldest first, optionally only those of ``method``.

        ``method`` matches either the bare method name or ``Service.method``.
        """
        with self._lock:
            items = list(self._entries)
        if method is None:
            return items
        return [e for e in items if e.method == method or f"{e.service}.{e.method}" == method]

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self._dropped = 0

    def to_json(self, args_to_json: ArgsToJson, method: str | None = None) -> list[dict[str, Any]]:
        """The entries as JSON objects (arguments in canonical JSON via ``args_to_json``)."""
        out = []
        for e in self.entries(method):
            try:
                args = args_to_json(e)
            except Exception as exc:  # a journal read must never fail because of one odd entry
                args = {"_error": f"could not render arguments: {exc}"}
            item: dict[str, Any] = {
                "time": datetime.fromtimestamp(e.time, UTC).isoformat(timespec="microseconds"),
                "service": e.service,
                "method": e.method,
                "args": args,
                "answered": e.answered,
                "latency_ms": round(e.latency_s * 1000.0, 3),
            }
            if e.detail:
                item["detail"] = e.detail
            out.append(item)
        return out


def now() -> float:
    """Wall-clock time for an entry."""
    return time.time()
