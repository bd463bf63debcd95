"""Rows and values from the stores become the Thrift return value.

A *row* is a mapping of column name to raw value (a SQL row, a Redis hash, a
``{member, score}`` pair of a sorted set, ``{value}`` for a plain Redis
string). :class:`Mapper` builds the return value from the rows of one read
following the binding's :class:`~simdb.thrift.databind.model.Shape`; a value
that cannot fit its field raises :class:`~simdb.thrift.databind.params.Misfit`
naming the field and the value, never a silently wrong answer.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from thriftpy2.thrift import TType

from simdb.thrift.codec import from_json, norm_desc, type_name
from simdb.thrift.databind.model import Shape
from simdb.thrift.databind.params import Misfit
from simdb.thrift.model import FieldModel, field_models

__all__ = ["HASH_MARK", "Mapper", "coerce", "norm_name", "struct_field"]

HASH_MARK = "__hash__"
"""A row that is a whole hash (HGETALL) carries this column, so a map return takes it as the map."""

Row = Mapping[str, Any]

_INT_RANGES = {
    TType.BYTE: (-(2**7), 2**7 - 1),
    TType.I16: (-(2**15), 2**15 - 1),
    TType.I32: (-(2**31), 2**31 - 1),
    TType.I64: (-(2**63), 2**63 - 1),
}


def norm_name(name: str) -> str:
    """Names compare without case and underscores: ``owner_id`` matches ``ownerId``."""
    return name.replace("_", "").lower()


def struct_field(cls: type, name: str) -> Any:
    """The :class:`~simdb.thrift.model.FieldModel` called ``name`` of struct ``cls``, or None."""
    for f in field_models(cls):
        if f.name == name:
            return f
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(ttype: int, value: Any, where: str) -> int:
    if isinstance(value, bool):
        out = int(value)
    elif isinstance(value, int):
        out = value
    elif (
        isinstance(value, Decimal | float)
        and value == value
        and not math.isinf(value)
        and value == int(value)
    ):
        out = int(value)
    elif isinstance(value, str | bytes):
        text = value.decode() if isinstance(value, bytes) else value
        try:
            out = int(text.strip())
        except ValueError:
            raise Misfit(f"{where}: {_shown(value)} is not an integer") from None
    elif isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        out = int(stamp.timestamp() * 1000)
    else:
        raise Misfit(f"{where}: {_shown(value)} is not an integer")
    low, high = _INT_RANGES[ttype]
    if not low <= out <= high:
        raise Misfit(f"{where}: {out} is out of range for {type_name(ttype, None)}")
    return out


def _enum(cls: type, value: Any, where: str) -> int:
    names: dict[str, int] = getattr(cls, "_NAMES_TO_VALUES", {})
    values: dict[int, str] = getattr(cls, "_VALUES_TO_NAMES", {})
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        if value in names:
            return names[value]
        if value.strip().lstrip("-").isdigit():
            value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in values:
        return value
    raise Misfit(f"{where}: {_shown(value)} is not a member of enum {cls.__name__} ({', '.join(names)})")


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str | bytes):
        text = (value.decode() if isinstance(value, bytes) else value).strip().lower()
        if text in ("1", "true"):
            return True
        if text in ("0", "false"):
            return False
    raise Misfit(f"{where}: {_shown(value)} is not a bool (0/1, true/false)")


def _double(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise Misfit(f"{where}: {_shown(value)} is not a number")
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str | bytes):
        try:
            return float(value)
        except ValueError:
            pass
    raise Misfit(f"{where}: {_shown(value)} is not a number")


def _string(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise Misfit(f"{where}: {_shown(value)} is not UTF-8 text") from None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    raise Misfit(f"{where}: {_shown(value)} ({type(value).__name__}) is not a string")


def coerce(ttype: int, spec: Any, value: Any, where: str) -> Any:
    """The Thrift value of type ``(ttype, spec)`` for a raw store value; :class:`Misfit` if none fits.

    Numbers are parsed from text (Redis holds strings), ``0``/``1`` are bools,
    enum members are names or numbers, datetimes are epoch milliseconds in an
    integer and ISO text in a string. Structs, lists and maps take JSON-shaped
    values (dicts and lists) only.
    """
    if value is None:
        return None
    if ttype == TType.BOOL:
        return _bool(value, where)
    if ttype in _INT_RANGES:
        if ttype == TType.I32 and isinstance(spec, type):
            return _enum(spec, value, where)
        return _int(ttype, value, where)
    if ttype == TType.DOUBLE:
        return _double(value, where)
    if ttype == TType.STRING:
        return _string(value, where)
    if ttype == TType.BINARY:
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        raise Misfit(f"{where}: {_shown(value)} ({type(value).__name__}) is not binary")
    if ttype == TType.STRUCT:
        if not isinstance(value, Mapping):
            raise Misfit(f"{where}: {_shown(value)} is not an object (struct {spec.__name__})")
        return build_struct(spec, value, {}, where)
    if ttype in (TType.LIST, TType.SET):
        if not isinstance(value, list | tuple | set | frozenset):
            raise Misfit(f"{where}: {_shown(value)} is not a list")
        et, es = norm_desc(spec)
        items = [coerce(et, es, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return set(items) if ttype == TType.SET else items
    if ttype == TType.MAP:
        if not isinstance(value, Mapping):
            raise Misfit(f"{where}: {_shown(value)} is not a map")
        (kt, ks), (vt, vs) = norm_desc(spec[0]), norm_desc(spec[1])
        return {
            coerce(kt, ks, k, f"{where} key"): coerce(vt, vs, v, f"{where}[{k!r}]") for k, v in value.items()
        }
    raise Misfit(f"{where}: cannot build a {type_name(ttype, spec)}")


_SLOW = object()
"""A fast converter's "not the common case": the caller converts with :func:`coerce`."""

Converter = Callable[[Any], Any]


def _fast(ttype: int, spec: Any) -> Converter:
    """The common, already-typed values of ``(ttype, spec)`` pass unchanged; anything else is ``_SLOW``."""
    if ttype in _INT_RANGES and not (ttype == TType.I32 and isinstance(spec, type)):
        low, high = _INT_RANGES[ttype]
        return lambda v: v if type(v) is int and low <= v <= high else _SLOW
    if ttype == TType.DOUBLE:
        return lambda v: v if type(v) is float else (float(v) if type(v) is int else _SLOW)
    if ttype == TType.STRING:
        return lambda v: v if type(v) is str else _SLOW
    if ttype == TType.BINARY:
        return lambda v: v if type(v) is bytes else _SLOW
    return lambda v: _SLOW


@dataclass(frozen=True)
class _Step:
    """How one field of a struct is filled from a row of known columns."""

    field: FieldModel
    kind: int  # 0: a column, 1: a nested struct, 2: a list holding nested structs
    source: Any  # the column name, or the nested mapping(s)
    fast: Converter


@dataclass(frozen=True)
class _Plan:
    steps: tuple[_Step, ...]
    required: tuple[str, ...]


def _plan(cls: type, columns: tuple[str, ...], mapping: Mapping[str, Any]) -> _Plan:
    by_norm = {norm_name(k): k for k in columns}
    steps: list[_Step] = []
    for f in field_models(cls):
        target = mapping.get(f.name)
        if isinstance(target, str):
            if target in columns:  # a column absent from this row leaves the field at its default
                steps.append(_Step(f, 0, target, _fast(f.ttype, f.spec)))
        elif isinstance(target, Mapping):
            steps.append(_Step(f, 1, target, _fast(TType.VOID, None)))
        elif isinstance(target, list):
            steps.append(_Step(f, 2, target, _fast(TType.VOID, None)))
        else:
            column = by_norm.get(norm_name(f.name))
            if column is not None:
                steps.append(_Step(f, 0, column, _fast(f.ttype, f.spec)))
    return _Plan(tuple(steps), tuple(f.name for f in field_models(cls) if f.required))


def build_struct(
    cls: type,
    row: Row,
    mapping: Mapping[str, Any],
    where: str,
    plans: dict[tuple[Any, ...], _Plan] | None = None,
    path: str = "",
) -> Any:
    """An instance of ``cls`` from ``row``: explicit ``mapping`` first, then columns matched by name.

    ``plans`` caches how the fields are filled per (struct, mapping ``path``, row columns): a
    :class:`Mapper` passes its own, since its mappings never change.
    """
    columns = tuple(row)
    key = (cls, path, columns)
    plan = plans.get(key) if plans is not None else None
    if plan is None:
        plan = _plan(cls, columns, mapping)
        if plans is not None and len(plans) < 256:
            plans[key] = plan
    kwargs: dict[str, Any] = {}
    for step in plan.steps:
        f = step.field
        if step.kind == 0:
            raw = row[step.source]
            if raw is None:
                continue
            value = step.fast(raw)
            if value is _SLOW:
                value = coerce(f.ttype, f.spec, raw, f"{where}.{f.name} (column {step.source!r})")
            kwargs[f.name] = value
        elif step.kind == 1:
            kwargs[f.name] = build_struct(
                f.spec, row, step.source, f"{where}.{f.name}", plans, f"{path}.{f.name}"
            )
        else:
            _, es = norm_desc(f.spec)
            items = [
                build_struct(es, row, t, f"{where}.{f.name}[{i}]", plans, f"{path}.{f.name}[{i}]")
                for i, t in enumerate(step.source)
            ]
            kwargs[f.name] = set(items) if f.ttype == TType.SET else items
    obj = cls(**kwargs)
    for name in plan.required:
        if getattr(obj, name, None) is None:
            raise Misfit(f"{where}: required field {name!r} of {cls.__name__} has no value in the row")
    return obj


class Mapper:
    """Turns the rows of one read into the return value of one method, following a :class:`Shape`."""

    def __init__(self, ttype: int, spec: Any, shape: Shape, label: str) -> None:
        self.shape = shape
        self.label = label
        self._plans: dict[tuple[Any, ...], _Plan] = {}
        self.outer = (ttype, spec)
        self.target = (ttype, spec)
        if shape.into is not None:
            f = struct_field(spec, shape.into) if ttype == TType.STRUCT else None
            if f is None:
                raise ValueError(f"'into': the return type has no field {shape.into!r}")
            self.target = (f.ttype, f.spec)

    def prepare(self, row: Row) -> dict[str, Any]:
        """Decode the declared JSON columns and split the declared list columns of a row."""
        out = dict(row)
        for col in self.shape.json_columns:
            raw = out.get(col)
            if isinstance(raw, str | bytes):
                try:
                    out[col] = json.loads(raw)
                except ValueError:
                    raise Misfit(f"column {col!r} is declared JSON but holds {_shown(raw)}") from None
        for col, sep in self.shape.split.items():
            raw = out.get(col)
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            if isinstance(raw, str):
                out[col] = [p for p in raw.split(sep) if p] if raw else []
        return out

    def build(self, rows: Sequence[Row], scope: Mapping[str, Any]) -> Any:
        """The return value for these rows (an empty result is the caller's ``not_found`` business)."""
        is_hash = bool(rows) and rows[0].get(HASH_MARK) is True
        prepared = [self.prepare({k: v for k, v in r.items() if k != HASH_MARK}) for r in rows]
        ttype, spec = self.target
        where = f"{self.label}: return value" + (f".{self.shape.into}" if self.shape.into else "")
        if is_hash and ttype == TType.MAP and self.shape.key is None and len(prepared) == 1:
            (kt, ks), (vt, vs) = norm_desc(spec[0]), norm_desc(spec[1])
            value: Any = {
                coerce(kt, ks, k, f"{where} key"): coerce(vt, vs, v, f"{where}[{k!r}]")
                for k, v in prepared[0].items()
            }
        else:
            value = self._value(ttype, spec, prepared, where)
        if self.shape.into is None and not self.shape.set and self.shape.count is None:
            return value
        ot, os_ = self.outer
        kwargs: dict[str, Any] = {}
        for name, const in self.shape.set.items():
            f = struct_field(os_, name)
            if f is None:
                raise Misfit(f"{self.label}: 'set': the return type has no field {name!r}")
            kwargs[name] = from_json(f.ttype, f.spec, const, f"{self.label}: set.{name}")
        if self.shape.count is not None:
            f = struct_field(os_, self.shape.count)
            kwargs[self.shape.count] = coerce(f.ttype, f.spec, len(prepared), f"{self.label}: count")
        if self.shape.into is not None:
            kwargs[self.shape.into] = value
            return os_(**kwargs)
        if ot != TType.STRUCT or not isinstance(value, os_):
            raise Misfit(f"{self.label}: 'set'/'count' need a struct return value")
        for k, v in kwargs.items():
            setattr(value, k, v)
        return value

    def _value(self, ttype: int, spec: Any, rows: list[dict[str, Any]], where: str) -> Any:
        if ttype in (TType.LIST, TType.SET):
            et, es = norm_desc(spec)
            items = [self._one(et, es, r, f"{where}[{i}]") for i, r in enumerate(rows)]
            if ttype == TType.SET:
                return set(items)
            return items
        if ttype == TType.MAP:
            return self._map(spec, rows, where)
        if len(rows) != 1:
            raise Misfit(f"{where}: {len(rows)} rows for a single {type_name(ttype, spec)}")
        return self._one(ttype, spec, rows[0], where)

    def _one(self, ttype: int, spec: Any, row: Mapping[str, Any], where: str) -> Any:
        if ttype == TType.STRUCT and (self.shape.value is None or isinstance(spec, type)):
            if self.shape.value is not None and isinstance(row.get(self.shape.value), Mapping):
                row = row[self.shape.value]
            return build_struct(spec, row, self.shape.map, where, self._plans)
        column = self._value_column(row, where)
        return coerce(ttype, spec, row[column], f"{where} (column {column!r})")

    def _value_column(self, row: Mapping[str, Any], where: str, skip: str | None = None) -> str:
        if self.shape.value is not None:
            if self.shape.value not in row:
                raise Misfit(f"{where}: no column {self.shape.value!r} in the row ({', '.join(row)})")
            return self.shape.value
        cols = [c for c in row if c != skip and c != "item"]
        if len(cols) == 1:
            return cols[0]
        if "value" in row:
            return "value"
        raise Misfit(f"{where}: the row has columns {', '.join(row)}; name one with 'value:'")

    def _map(self, spec: Any, rows: list[dict[str, Any]], where: str) -> Any:
        (kt, ks), (vt, vs) = norm_desc(spec[0]), norm_desc(spec[1])
        out: dict[Any, Any] = {}
        for i, row in enumerate(rows):
            key_col = self.shape.key or next(iter(row), "")
            if key_col not in row:
                raise Misfit(f"{where}[{i}]: no key column {key_col!r} in the row ({', '.join(row)})")
            key = coerce(kt, ks, row[key_col], f"{where}[{i}] key (column {key_col!r})")
            if vt == TType.STRUCT:
                value = build_struct(vs, row, self.shape.map, f"{where}[{key!r}]", self._plans)
            else:
                col = self._value_column(row, f"{where}[{key!r}]", skip=key_col)
                value = coerce(vt, vs, row[col], f"{where}[{key!r}] (column {col!r})")
            if key in out:
                raise Misfit(f"{where}: key {key!r} appears in two rows")
            out[key] = value
        return out
