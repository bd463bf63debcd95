"""How a serving command lives: until Ctrl-C or ``kill`` (SIGINT/SIGTERM), then it stops cleanly."""

from __future__ import annotations

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
