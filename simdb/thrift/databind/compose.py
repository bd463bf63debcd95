"""The composition step: look each item of a list argument up, sort by a looked-up field, cut.

This is the "rank what you were given" shape: a ranker bound this way only
ever answers with the items it was asked about.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from simdb.thrift.databind.mapping import HASH_MARK
from simdb.thrift.databind.model import Compose
from simdb.thrift.databind.params import Misfit, Template, resolve

__all__ = ["compose_rows"]

Lookup = Callable[[Mapping[str, Any]], list[dict[str, Any]]]


def _sort_value(value: Any) -> tuple[int, Any]:
    """Numbers (also as text, as Redis holds them) sort as numbers, the rest as text after them."""
    if isinstance(value, bool | int | float | Decimal):
        return (0, float(value))
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def _limit(spec: Compose, scope: Mapping[str, Any]) -> int | None:
    if spec.limit is None:
        return None
    raw = spec.limit if isinstance(spec.limit, int) else Template.parse("{" + spec.limit + "}").value(scope)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise Misfit(f"limit {spec.limit!r} is {raw!r}, not a count (a non-negative integer)")
    return raw


def compose_rows(spec: Compose, scope: Mapping[str, Any], lookup: Lookup) -> list[dict[str, Any]]:
    """One row per item (its lookup row plus ``item``), sorted and cut as ``spec`` says."""
    items = resolve(scope, spec.items)
    if items is None:
        items = []
    if not isinstance(items, list | tuple | set | frozenset):
        raise Misfit(f"'items': {spec.items} is a {type(items).__name__}, not a list")
    ordered = sorted(items) if isinstance(items, set | frozenset) else list(items)
    rows: list[dict[str, Any]] = []
    for item in ordered:
        found = lookup({**scope, "item": item})
        if len(found) > 1:
            raise Misfit(f"the lookup of item {item!r} found {len(found)} rows, expected one")
        if not found:
            if spec.missing == "error":
                raise Misfit(f"the lookup of item {item!r} found nothing (set missing: skip or keep)")
            if spec.missing == "skip":
                continue
            rows.append({"item": item})
            continue
        row = {k: v for k, v in found[0].items() if k != HASH_MARK}
        row["item"] = item
        rows.append(row)
    if spec.sort_by is not None:
        key = spec.sort_by
        present = [r for r in rows if r.get(key) is not None]
        absent = [r for r in rows if r.get(key) is None]
        if absent and spec.missing != "keep":
            raise Misfit(f"sort_by: item {absent[0]['item']!r} has no {key!r}")
        present.sort(key=lambda r: _sort_value(r[key]), reverse=spec.order == "desc")
        rows = present + absent
    limit = _limit(spec, scope)
    return rows if limit is None else rows[:limit]
