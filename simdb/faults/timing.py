"""Delays that end on time: event loops wake up late, injected latency must not.

``epoll`` takes its timeout in whole milliseconds, rounded up, and an asyncio loop on a busy
thread wakes a timer up to a few milliseconds late (measured: median +0.7 ms, p99 +2.2 ms in
the Redis fake), a 5-20% error at 10 ms that the fault model does not allow. So:

* asyncio fakes (Redis, MySQL) hand their delays to one timer thread, which waits on a
  condition variable (microsecond timeouts) and wakes the loop with ``call_soon_threadsafe``
  when the delay is due (:func:`call_at_precisely`, :func:`precise_sleep`);
* the Thrift fake's own poll loop wakes :data:`SPIN_S` before a reply is due and polls without
  waiting from then on (it serves every other connection meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["SPIN_S", "call_at_precisely", "precise_sleep"]

#: How long before a reply is due the Thrift loop stops sleeping and polls until it is due.
SPIN_S = 0.0015


class _Timers:
    """One daemon thread that runs ``loop.call_soon_threadsafe(fn, *args)`` at due times."""

    def __init__(self) -> None:
        self._heap: list[
            tuple[float, int, asyncio.AbstractEventLoop, Callable[..., Any], tuple[Any, ...]]
        ] = []
        self._cond = threading.Condition()
        self._tick = itertools.count()
        self._thread: threading.Thread | None = None

    def add(
        self, due: float, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="simdb-fault-timers", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (due, next(self._tick), loop, fn, args))
            self._cond.notify()  # the thread recomputes its wait (the new timer may be the first)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                due = self._heap[0][0]
                now = time.monotonic()
                if due > now:
                    self._cond.wait(due - now)
                    continue
                _, _, loop, fn, args = heapq.heappop(self._heap)
            if not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(fn, *args)


_TIMERS = _Timers()


def call_at_precisely(
    loop: asyncio.AbstractEventLoop, delay: float, fn: Callable[..., Any], *args: Any
) -> None:
    """``loop.call_later(delay, fn, *args)`` that runs ``fn`` within about 0.1 ms of the due time."""
    _TIMERS.add(time.monotonic() + delay, loop, fn, args)


async def precise_sleep(seconds: float) -> None:
    """``asyncio.sleep(seconds)`` that ends within about 0.1 ms of the due time."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    call_at_precisely(loop, seconds, wake)
    await done
