"""One readiness poller: probe until it answers, with a timeout and an allow-list of transient errors.

Never a sleep-and-hope: :func:`wait_for` calls ``probe`` until it returns, retrying only the
errors named transient (a refused connection while a server binds), and raises
:class:`NotReady` with the last error when the deadline passes. The stack runner and the
tests both use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from simdb.errors import SimdbError

T = TypeVar("T")

#: Errors a server that is still starting gives: refused or reset connections, timeouts.
TRANSIENT: tuple[type[BaseException], ...] = (OSError, EOFError, TimeoutError)


class NotReady(SimdbError):
    """The probe did not succeed before the timeout; the message says what it last saw."""


def wait_for(
    probe: Callable[[], T],
    timeout: float = 10.0,
    what: str = "service",
    transient: tuple[type[BaseException], ...] = TRANSIENT,
    interval: float = 0.02,
) -> T:
    """Call ``probe`` until it returns a value (returned) or ``timeout`` seconds pass.

    Errors in ``transient`` are retried after ``interval`` seconds (growing to 0.2 s); any
    other error propagates at once. A probe returning ``None``/``False`` counts as not ready.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    delay = interval
    while True:
        try:
            result = probe()
            if result is not None and result is not False:
                return result
            last = None
        except transient as exc:
            last = exc
        if time.monotonic() >= deadline:
            seen = f": {type(last).__name__}: {last}" if last is not None else ": the probe never succeeded"
            raise NotReady(f"{what} not ready after {timeout:g}s{seen}")
        time.sleep(delay)  # between probes, not instead of one
        delay = min(delay * 1.5, 0.2)
