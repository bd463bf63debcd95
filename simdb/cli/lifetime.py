"""How a serving command lives: until Ctrl-C or ``kill`` (SIGINT/SIGTERM), then it stops cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType


class StopSignals:
    """Catches SIGINT and SIGTERM from the moment it is made (main thread only).

    Make it before starting anything: a signal that arrives while fakes start is kept, and
    :meth:`wait` then returns at once, so the caller's ``finally`` stops what was started.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def wait(self, poll: float = 0.5, done: Callable[[], bool] | None = None) -> None:
        """Block until a signal arrives, or until ``done()`` is true (checked every ``poll`` s)."""
        while not self._stop.wait(poll):
            if done is not None and done():
                return


READY_FILE_ENV = "SIMDB_READY_FILE"
"""Names a file a serving command creates once it is started *and seeded* (removed at start-up).

A container's health check (``simdb probe --from-env``) and ``simdb up --docker`` wait for it:
a port that answers is not yet a fake that holds its snapshot.
"""


def clear_ready() -> None:
    """Remove a ready file left by an earlier run (a restarted container keeps its files)."""
    path = os.environ.get(READY_FILE_ENV)
    if path:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def mark_ready() -> None:
    """Create the ready file, if one is asked for."""
    path = os.environ.get(READY_FILE_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
