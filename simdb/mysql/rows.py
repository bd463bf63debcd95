"""Row values of a snapshot's SQL part, to and from JSON.

Encoding (see ``docs/snapshots.md``): null, int, float and string as JSON; bytes via
:func:`simdb.snapshot.format.encode_bytes` (``{"b64": ...}`` when not UTF-8); DECIMAL as a
string; DATE/DATETIME/TIME/TIMESTAMP as ISO strings (``"2024-01-02 03:04:05"``); JSON
columns as their JSON text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

from simdb.errors import SnapshotError
from simdb.mysql.catalog import Column
from simdb.snapshot.format import decode_bytes, encode_bytes

Where = tuple[str, int]


def encode_value(v: Any) -> Any:
    """A database value (from PyMySQL, SQLite or SQLAlchemy) as a snapshot JSON value."""
    if v is None or (isinstance(v, str | int | float) and not isinstance(v, bool)):
        return v
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, bytes | bytearray | memoryview):
        return encode_bytes(bytes(v))
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        total = int(v.total_seconds())
        sign = "-" if total < 0 else ""
        total = abs(total)
        return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    if isinstance(v, dict | list):
        return json.dumps(v, separators=(",", ":"), sort_keys=True)
    raise TypeError(f"cannot encode a {type(v).__name__} value for a snapshot: {v!r}")


def _int(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected an integer, got {v!r}")
    return v


def _float(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"expected a number, got {v!r}")
    return v


def _decimal(v: Any) -> Any:
    if isinstance(v, str):
        try:
            Decimal(v)
        except ArithmeticError as exc:
            raise ValueError(f"expected a decimal string, got {v!r}") from exc
        return v
    return _float(v)


def _text(v: Any) -> Any:
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {v!r}")
    return v


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "int": _int,
    "float": _float,
    "decimal": _decimal,
    "binary": decode_bytes,
    "temporal": _text,
    "json": _text,
    "text": _text,
}


class RowDecoder:
    """Turns snapshot row objects into value tuples in column order, validating each value."""

    def __init__(self, table: str, columns: Sequence[Column]) -> None:
        self.table = table
        self.names = tuple(c.name for c in columns)
        self.keyset = frozenset(self.names)
        self._checks = tuple((c.name, _DECODERS[c.category], c.nullable) for c in columns)

    def __call__(self, obj: Any, where: Where) -> tuple[Any, ...]:
        if not isinstance(obj, dict):
            raise SnapshotError(f"table {self.table}: a row must be a JSON object", *where)
        if obj.keys() != self.keyset:
            missing = sorted(self.keyset - obj.keys())
            extra = sorted(obj.keys() - self.keyset)
            what = "; ".join(
                x
                for x in (missing and f"missing columns {missing}", extra and f"unknown columns {extra}")
                if x
            )
            raise SnapshotError(f"table {self.table}: {what}", *where)
        out: list[Any] = []
        for name, check, nullable in self._checks:
            v = obj[name]
            if v is None:
                if not nullable:
                    raise SnapshotError(f"table {self.table}: column {name} is NOT NULL", *where)
                out.append(None)
                continue
            try:
                out.append(check(v))
            except ValueError as exc:
                raise SnapshotError(f"table {self.table}, column {name}: {exc}", *where) from exc
        return tuple(out)


_FAST_TYPES: dict[str, frozenset[type]] = {
    "int": frozenset({int}),
    "float": frozenset({int, float}),
    "temporal": frozenset({str}),
    "json": frozenset({str}),
    "text": frozenset({str}),
}


class BatchDecoder:
    """Decodes many rows at once (column-wise checks); on any problem the caller re-checks the
    batch row by row with :class:`RowDecoder` to report the exact line."""

    def __init__(self, table: str, columns: Sequence[Column]) -> None:
        self.row = RowDecoder(table, columns)
        self.names = self.row.names
        self.n = len(self.names)
        self._cols = [(i, c.category, c.nullable) for i, c in enumerate(columns)]
        names = self.names
        self._get: Callable[[Any], tuple[Any, ...]] = (
            itemgetter(*names) if len(names) > 1 else lambda o: (o[names[0]],)
        )

    def __call__(self, objs: list[Any]) -> list[tuple[Any, ...]] | None:
        """Decoded rows, or None if some row is not valid (then use :attr:`row` per row)."""
        n = self.n
        try:
            # a non-object row fails len() or the key lookup with TypeError; equal sizes and
            # every name present means exactly the table's columns
            if set(map(len, objs)) != {n}:
                return None
            rows: list[tuple[Any, ...]] = list(map(self._get, objs))
        except (KeyError, TypeError):
            return None
        converted: dict[int, list[Any]] = {}
        for i, category, nullable in self._cols:
            values = list(map(itemgetter(i), rows))
            kinds = set(map(type, values))
            if type(None) in kinds:
                if not nullable:
                    return None
                kinds.discard(type(None))
            allowed = _FAST_TYPES.get(category)
            if allowed is not None:
                if not kinds <= allowed:
                    return None
                continue
            try:
                if category == "binary":
                    converted[i] = [None if v is None else decode_bytes(v) for v in values]
                else:  # decimal: strings must parse, numbers pass
                    for v in values:
                        if isinstance(v, str):
                            Decimal(v)
                        elif v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                            return None
            except (ValueError, ArithmeticError):
                return None
        if converted:
            cols = [converted.get(i) for i in range(n)]
            rows = [
                tuple(
                    cols[i][j] if cols[i] is not None else r[i]  # type: ignore[index]
                    for i in range(n)
                )
                for j, r in enumerate(rows)
            ]
        return rows


def decode_row(obj: Any, columns: Sequence[Column], where: Where) -> tuple[Any, ...]:
    """Decode one snapshot row into a tuple ordered like ``columns``.

    ``where`` is ``(path, line)`` for the error message. For many rows, build one
    :class:`RowDecoder` instead.
    """
    return RowDecoder("?", columns)(obj, where)
