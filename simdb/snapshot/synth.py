"""``simdb snapshot synth``: a synthetic snapshot from IDL and SQL schema, for teams with no data.

Values are drawn with hypothesis strategies, one ``ConjectureData`` per row or
stub seeded from ``(seed, table or method, index)``, so the same seed gives
byte-identical snapshots and adding rows does not change the earlier ones.

SQL: every table of the DDL, ``rows`` rows each, in load order; integer
single-column primary keys count 1..rows, foreign keys pick keys of the
parent rows (so the data is referentially intact), unique columns stay unique.
Thrift: ``rows`` exact-match stubs per method (oneway methods excepted);
integer arguments and fields named like a table (``userId`` -> ``users``,
``pinIds`` -> ``pins``) take ids of the generated rows, so stubs and rows agree.

Note: drawing outside a test needs hypothesis's internal API, kept in
:mod:`simdb.hypothesis_compat` (with its canary, run by the tests).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import random
import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
from hypothesis.errors import HypothesisException

from simdb.errors import ConfigError, SimdbError
from simdb.hypothesis_compat import NoValue, draw_with
from simdb.snapshot.format import encode_bytes
from simdb.snapshot.sqlschema import (
    BINARY_TYPES,
    DATE_TYPES,
    DATETIME_TYPES,
    DECIMAL_TYPES,
    FLOAT_TYPES,
    INT_TYPES,
    TIME_TYPES,
    ColumnDef,
    TableDef,
    load_order,
    parse_schema,
)
from simdb.snapshot.writer import SnapshotWriter

_INT_RANGES = {
    "TINYINT": (-128, 127),
    "UTINYINT": (0, 255),
    "SMALLINT": (-32768, 32767),
    "USMALLINT": (0, 65535),
    "MEDIUMINT": (-8388608, 8388607),
    "UMEDIUMINT": (0, 16777215),
    "INT": (-(2**31), 2**31 - 1),
    "UINT": (0, 2**32 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
    "UBIGINT": (0, 2**64 - 1),
    "BOOLEAN": (0, 1),
    "BIT": (0, 1),
    "YEAR": (1901, 2155),
    "SERIAL": (1, 2**63 - 1),
}
_WORD = st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=9)


def _rng(seed: int, *parts: object) -> random.Random:
    text = "\x00".join([str(seed), *map(str, parts)])
    return random.Random(int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big"))


def draw(strategy: st.SearchStrategy[Any], seed: int, *parts: object) -> Any:
    """One value of ``strategy``, determined by ``seed`` and ``parts``."""
    for attempt in range(20):
        try:
            return draw_with(strategy, _rng(seed, *parts, attempt))
        except NoValue:  # ran out of choices or a filter kept failing: try the next stream
            continue
    raise SimdbError(f"could not generate a value for {parts!r}")


def _clip(limit: int, text: str) -> str:
    return text[:limit]


def _one_field(cls: type, name: str, value: Any) -> Any:
    return cls(**{name: value})


def _build(cls: type, kwargs: dict[str, Any]) -> Any:
    return cls(**kwargs)


def _entity(name: str) -> str:
    low = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return re.sub(r"_?ids?$", "", low)


def _column_strategy(col: ColumnDef) -> st.SearchStrategy[Any]:
    t = col.type
    name = col.name.lower()
    base: st.SearchStrategy[Any]
    if t in INT_TYPES:
        lo, hi = _INT_RANGES.get(t, (0, 2**31 - 1))
        if t == "BIT" and col.params and col.params[0] > 1:
            base = st.binary(min_size=(col.params[0] + 7) // 8, max_size=(col.params[0] + 7) // 8).map(
                encode_bytes
            )
        else:
            base = st.integers(max(lo, 0) if "id" in name or "count" in name else lo, min(hi, 10**9))
    elif t in FLOAT_TYPES:
        base = st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 4))
    elif t in DECIMAL_TYPES:
        p = col.params[0] if col.params else 10
        s = col.params[1] if len(col.params) > 1 else 0
        bound = 10 ** min(p - s, 12) - 1
        base = st.decimals(-bound, bound, places=s, allow_nan=False, allow_infinity=False).map(str)
    elif t in BINARY_TYPES:
        size = col.params[0] if col.params else 32
        fixed = t == "BINARY"
        base = st.binary(min_size=size if fixed else 0, max_size=min(size, 64)).map(
            lambda b: {"b64": __import__("base64").b64encode(b).decode()}
        )
    elif t in DATE_TYPES:
        base = st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)).map(lambda d: d.isoformat())
    elif t in DATETIME_TYPES:
        base = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 12, 31)).map(
            lambda d: d.replace(microsecond=0).isoformat(sep=" ")
        )
    elif t in TIME_TYPES:
        base = st.times().map(lambda x: x.replace(microsecond=0).isoformat())
    elif t == "ENUM" and col.values:
        base = st.sampled_from(col.values)
    elif t == "SET" and col.values:
        base = st.sets(st.sampled_from(col.values)).map(lambda s: ",".join(v for v in col.values if v in s))
    elif t == "JSON":
        base = st.dictionaries(_WORD, st.integers(0, 1000) | _WORD, max_size=3).map(
            lambda d: json.dumps(d, sort_keys=True)
        )
    else:
        limit = col.params[0] if col.params else 200
        if "email" in name:
            base = st.tuples(_WORD, _WORD).map(lambda t2: f"{t2[0]}.{t2[1]}@example.com")
        elif "url" in name:
            base = _WORD.map(lambda w: f"https://example.com/{w}")
        elif "name" in name or "title" in name:
            base = st.lists(_WORD, min_size=1, max_size=3).map(
                lambda ws: " ".join(w.capitalize() for w in ws)
            )
        else:
            base = st.text(alphabet=string.ascii_letters + string.digits + " .,-", max_size=min(limit, 60))
        base = base.map(functools.partial(_clip, limit))
    if col.nullable and not col.auto_increment:
        return st.one_of(st.none(), base, base, base, base)
    return base


def synth_rows(
    table: TableDef, n: int, seed: int, keys: dict[str, list[tuple[Any, ...]]]
) -> list[dict[str, Any]]:
    """``n`` rows of ``table`` (fewer if unique keys run out); parents' keys come from ``keys``."""
    pk = table.primary_key
    int_pk = len(pk) == 1 and table.column(pk[0]) is not None and table.column(pk[0]).type in INT_TYPES  # type: ignore[union-attr]
    fk_cols: dict[str, tuple[int, Sequence[tuple[Any, ...]], str]] = {}
    for fk in table.foreign_keys:
        parent_keys = keys.get(fk.ref_table)
        if parent_keys is None and fk.ref_table == table.name:
            continue
        for i, c in enumerate(fk.columns):
            fk_cols[c] = (i, parent_keys or [], fk.ref_table)
    strategies = {c.name: _column_strategy(c) for c in table.columns}
    uniques = [u for u in table.unique_keys if u and u != pk]
    seen_unique: dict[tuple[str, ...], set[tuple[Any, ...]]] = {u: set() for u in uniques}
    seen_pk: set[tuple[Any, ...]] = set()
    rows: list[dict[str, Any]] = []
    for index in range(1, n + 1):
        for attempt in range(10):
            row: dict[str, Any] = {}
            for col in table.columns:
                if int_pk and col.name == pk[0]:
                    row[col.name] = index
                elif col.name in fk_cols:
                    pos, parents, _parent = fk_cols[col.name]
                    if not parents:
                        row[col.name] = None
                    else:
                        pick = draw(
                            st.integers(0, len(parents) - 1), seed, table.name, index, attempt, col.name
                        )
                        row[col.name] = parents[pick][pos]
                else:
                    row[col.name] = draw(strategies[col.name], seed, table.name, index, attempt, col.name)
            key = tuple(row[c] for c in pk)
            if pk and key in seen_pk:
                continue
            if any(tuple(row[c] for c in u) in seen_unique[u] for u in uniques):
                continue
            if any(row[c] is None for c in pk):
                continue
            break
        else:
            continue
        seen_pk.add(tuple(row[c] for c in pk))
        for u in uniques:
            seen_unique[u].add(tuple(row[c] for c in u))
        rows.append(row)
    for fk in (f for f in table.foreign_keys if f.ref_table == table.name):  # point at earlier rows
        nullable = all(table.column(c) is None or table.column(c).nullable for c in fk.columns)  # type: ignore[union-attr]
        for i, row in enumerate(rows):
            if i == 0:
                target = None if nullable else row
            else:
                target = rows[draw(st.integers(0, i - 1), seed, table.name, "self", i)]
            for c, rc in zip(fk.columns, fk.ref_columns, strict=True):
                row[c] = None if target is None else target[rc]
    if not int_pk and pk:
        rows.sort(key=lambda r: tuple((v is None, str(type(v)), v) for v in (r[c] for c in pk)))
    return rows


def thrift_strategy(
    ttype: int, spec: Any, name: str, ids: dict[str, list[int]], depth: int = 0
) -> st.SearchStrategy[Any]:
    """Thriftpy2 values of a Thrift type; id-like integer fields take generated SQL ids."""
    from thriftpy2.thrift import TType

    from simdb.thrift.codec import norm_desc
    from simdb.thrift.idl import is_union
    from simdb.thrift.model import field_models

    ent = _entity(name)
    if ttype in (TType.I16, TType.I32, TType.I64, TType.BYTE):
        if ttype == TType.I32 and isinstance(spec, type) and getattr(spec, "_VALUES_TO_NAMES", None):
            return st.sampled_from(sorted(spec._VALUES_TO_NAMES))  # type: ignore[attr-defined]
        for key in (ent, ent + "s", ent[:-1] if ent.endswith("s") else ent):
            if ids.get(key):
                return st.sampled_from(ids[key])
        bits = {TType.BYTE: 7, TType.I16: 15, TType.I32: 31, TType.I64: 63}[ttype]
        return st.integers(0, min(2**bits - 1, 10**6))
    if ttype == TType.BOOL:
        return st.booleans()
    if ttype == TType.DOUBLE:
        return st.floats(-1e3, 1e3, allow_nan=False).map(lambda f: round(f, 6))
    if ttype == TType.STRING:
        return st.text(alphabet=string.ascii_letters + string.digits + " -", max_size=16)
    if ttype == TType.BINARY:
        return st.binary(max_size=12)
    if ttype in (TType.LIST, TType.SET):
        et, es = norm_desc(spec)
        inner = thrift_strategy(et, es, name, ids, depth + 1)
        size = 3 if depth < 2 else 0
        if ttype == TType.SET:
            return st.sets(inner, max_size=size) if _hashable(et) else st.just(set())
        return st.lists(inner, max_size=size)
    if ttype == TType.MAP:
        kt, ks = norm_desc(spec[0])
        vt, vs = norm_desc(spec[1])
        if depth >= 2 or not _hashable(kt):
            return st.just({})
        return st.dictionaries(
            thrift_strategy(kt, ks, name, ids, depth + 1),
            thrift_strategy(vt, vs, name, ids, depth + 1),
            max_size=3,
        )
    if ttype == TType.STRUCT:
        fields = field_models(spec)
        if depth >= 4:
            return st.just(spec())
        if is_union(spec):
            if not fields:
                return st.just(spec())
            return st.one_of(
                *[
                    thrift_strategy(f.ttype, f.spec, f.name, ids, depth + 1).map(
                        functools.partial(_one_field, spec, f.name)
                    )
                    for f in fields
                ]
            )
        parts = {
            f.name: (
                thrift_strategy(f.ttype, f.spec, f.name, ids, depth + 1)
                if f.required or depth < 3
                else st.none()
            )
            for f in fields
        }
        return st.fixed_dictionaries(parts).map(lambda kw: spec(**kw))
    return st.none()


def _hashable(ttype: int) -> bool:
    from thriftpy2.thrift import TType

    return ttype not in (TType.STRUCT, TType.LIST, TType.SET, TType.MAP)


def synth_stubs(
    idl: Path,
    service_name: str,
    n: int,
    seed: int,
    include_dirs: Sequence[Path] = (),
    ids: dict[str, list[int]] | None = None,
) -> list[dict[str, Any]]:
    """``n`` exact-match stubs per method of ``service_name``, in the stub schema of docs/thrift-stubs.md."""
    from simdb.thrift.codec import args_to_json, to_json
    from simdb.thrift.idl import load_idl
    from simdb.thrift.model import service_model

    module = load_idl(idl, include_dirs)
    service = service_model(module, service_name)
    out: list[dict[str, Any]] = []
    for mname in sorted(service.methods):
        method = service.methods[mname]
        if method.oneway:
            continue
        subject = re.sub(r"^(get|fetch|find|list|lookup|load|read)", "", mname) or mname
        arg_strats = {
            f.name: thrift_strategy(
                f.ttype, f.spec, f"{subject}Id" if f.name.lower() in ("id", "ids") else f.name, ids or {}
            )
            for f in method.args
        }
        seen: set[str] = set()
        for i in range(n):
            args_obj = draw(
                st.fixed_dictionaries(arg_strats).map(functools.partial(_build, method.args_cls)),
                seed,
                service_name,
                mname,
                i,
                "args",
            )
            args_json = args_to_json(method, args_obj)
            key = json.dumps(args_json, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            if method.has_return:
                value = draw(
                    thrift_strategy(method.return_ttype, method.return_spec, mname, ids or {}),
                    seed,
                    service_name,
                    mname,
                    i,
                    "return",
                )
                reply: dict[str, Any] = {"return": to_json(method.return_ttype, method.return_spec, value)}
            else:
                reply = {"return": None}
            out.append(
                {
                    "id": f"synth-{mname}-{i:04d}",
                    "method": mname,
                    "match": "exact",
                    "args": args_json,
                    "reply": reply,
                }
            )
    return out


def synth_snapshot(
    out: Path,
    idls: Sequence[tuple[str, Path, str]] = (),
    include_dirs: Sequence[Path] = (),
    sql_schema: Path | None = None,
    sql_part: str = "db",
    rows: int = 100,
    seed: int = 0,
) -> dict[str, int]:
    """Write a synthetic snapshot; returns records per part. ``idls``: (part, idl file, service)."""
    if sql_schema is None and not idls:
        raise ConfigError("nothing to synthesise: give --sql-schema and/or --idl")
    counts: dict[str, int] = {}
    ids: dict[str, list[int]] = {}
    with SnapshotWriter(out, out.name, f"synthetic snapshot, seed {seed}, {rows} rows per table") as writer:
        writer.captured_from = {"synth": f"seed={seed} rows={rows}"}
        if sql_schema is not None:
            try:
                ddl = Path(sql_schema).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{sql_schema}: cannot read the SQL schema: {exc}") from exc
            tables = parse_schema(ddl, str(sql_schema))
            if not tables:
                raise ConfigError(f"{sql_schema}: no CREATE TABLE statement found")
            order = load_order(tables)
            fw = writer.open_file(sql_part, "sql", f"sql/{sql_part}/schema.sql", jsonl=False)
            fw.write_text(ddl if ddl.endswith("\n") else ddl + "\n")
            writer.add_file(sql_part, fw.close())
            keys: dict[str, list[tuple[Any, ...]]] = {}
            total = 0
            for name in order:
                table = tables[name]
                try:
                    table_rows = synth_rows(table, rows, seed, keys)
                except HypothesisException as exc:
                    raise SimdbError(f"table {name}: cannot generate rows: {exc}") from exc
                ref_cols = {
                    fk.ref_columns for t in tables.values() for fk in t.foreign_keys if fk.ref_table == name
                }
                for cols in ref_cols | {table.primary_key}:
                    if cols and cols == table.primary_key:
                        keys[name] = [tuple(r[c] for c in cols) for r in table_rows]
                if len(table.primary_key) == 1:
                    ids[name.lower()] = [
                        r[table.primary_key[0]]
                        for r in table_rows
                        if isinstance(r[table.primary_key[0]], int)
                    ]
                fw = writer.open_file(sql_part, "sql", f"sql/{sql_part}/tables/{name}.jsonl")
                for row in table_rows:
                    fw.write(row)
                writer.add_file(sql_part, fw.close())
                total += fw.records
            writer.set_tables(sql_part, order)
            counts[sql_part] = total
        for part, idl, service in idls:
            stubs = synth_stubs(idl, service, rows, seed, include_dirs, ids)
            fw = writer.open_file(part, "thrift", f"thrift/{part}/stubs.jsonl", jsonl=False)
            for stub in stubs:
                fw.write(stub)
            writer.add_file(part, fw.close())
            counts[part] = len(stubs)
        writer.commit()
    return counts
