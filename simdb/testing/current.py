"""The stack file of the running test session, for helpers that name a fake's method without an IDL.

Set by the pytest plugin from ``--simdb-stack`` / ``simdb_stack`` before collection, so that
``@given(simdb.contract.args("PinStore.getPin"))`` finds the IDL of the fake serving ``PinStore``.
Kept free of imports: the plugin sets it without loading anything.
"""

from __future__ import annotations

from pathlib import Path

_stack_file: Path | None = None


def set_stack_file(path: Path | None) -> None:
    """Name the session's stack file (``None``: none)."""
    global _stack_file
    _stack_file = path


def stack_file() -> Path | None:
    """The session's stack file, if one was named."""
    return _stack_file
