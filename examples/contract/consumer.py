"""A consumer of PinStore: a one-line digest per board section (the code the contract tests protect)."""

from __future__ import annotations

from typing import Any


def digest(sections: dict[str, list[Any]]) -> list[str]:
    """One line per section, in name order: how many pins, and the most saved one's title."""
    lines = []
    for name in sorted(sections):
        pins = sections[name] or []
        # Generated answers found this: a section may be empty (and a title may be "").
        best = max(pins, key=lambda p: p.saveCount or 0, default=None)
        top = "-" if best is None else (best.title or "(untitled)")
        lines.append(f"{name or '(no section)'}: {len(pins)} pins; top: {top}")
    return lines


def board_digest(pinstore: Any, board_id: int, limit: int = 50) -> list[str]:
    """Ask PinStore for a board's pins and digest them."""
    return digest(pinstore.getBoardPins(board_id, limit))
