"""Helpers for bulk loads (snapshot parts, stub files)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk load builds many long-lived objects.

    Without this, allocation-triggered collections rescan the growing structure again and
    again and loading becomes several times slower.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
