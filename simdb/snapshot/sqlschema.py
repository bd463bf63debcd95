"""What simdb needs to know of an SQL part's DDL: tables, columns, keys, foreign keys.

Parsed from the MySQL-dialect ``schema.sql`` with sqlglot; used to validate rows
(:mod:`simdb.snapshot.verify`), key rows for diffs and generate synthetic data.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from simdb.errors import SnapshotError
from simdb.snapshot.reader import split_sql

INT_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "MEDIUMINT",
        "INT",
        "BIGINT",
        "UTINYINT",
        "USMALLINT",
        "UMEDIUMINT",
        "UINT",
        "UBIGINT",
        "BIT",
        "BOOLEAN",
        "YEAR",
        "SERIAL",
    }
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL"})
DECIMAL_TYPES = frozenset({"DECIMAL", "UDECIMAL", "BIGDECIMAL", "NUMERIC", "MONEY"})
BINARY_TYPES = frozenset({"BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "IMAGE"})
DATE_TYPES = frozenset({"DATE"})
DATETIME_TYPES = frozenset(
    {"DATETIME", "DATETIME2", "DATETIME64", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMPLTZ", "SMALLDATETIME"}
)
TIME_TYPES = frozenset({"TIME", "TIMETZ"})


@dataclass(frozen=True)
class ColumnDef:
    """One column: name, sqlglot type name (upper case), type parameters and constraints."""

    name: str
    type: str
    params: tuple[int, ...] = ()
    nullable: bool = True
    has_default: bool = False
    auto_increment: bool = False
    values: tuple[str, ...] = ()  # ENUM/SET members


@dataclass(frozen=True)
class ForeignKeyDef:
    """``columns`` of this table reference ``ref_columns`` of ``ref_table``."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableDef:
    """A table of the DDL."""

    name: str
    columns: tuple[ColumnDef, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKeyDef, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = field(default=())

    def column(self, name: str) -> ColumnDef | None:
        """The column called ``name`` (exact match), if any."""
        for col in self.columns:
            if col.name == name:
                return col
        return None

    def row_key(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The primary key of ``row`` (the whole row, sorted by column, when there is none)."""
        if self.primary_key:
            return tuple(row.get(c) for c in self.primary_key)
        return tuple(sorted((k, repr(v)) for k, v in row.items()))


def _name(node: exp.Expression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Identifier):
        return str(node.this)
    if isinstance(node, exp.Column):
        return str(node.name)
    return str(node.name) if hasattr(node, "name") else str(node)


def _type_of(kind: exp.DataType | None) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    if kind is None:
        return "TEXT", (), ()
    tname = kind.this.name if hasattr(kind.this, "name") else str(kind.this)
    params: list[int] = []
    values: list[str] = []
    for p in kind.expressions:
        inner = p.this if isinstance(p, exp.DataTypeParam) else p
        if isinstance(inner, exp.Literal):
            if inner.is_string:
                values.append(str(inner.this))
            else:
                with contextlib.suppress(ValueError):
                    params.append(int(str(inner.this)))
    return tname.upper(), tuple(params), tuple(values)


def parse_table(statement: str, where: str = "schema.sql") -> TableDef | None:
    """Parse one ``CREATE TABLE`` statement; other statements give None."""
    try:
        tree = sqlglot.parse_one(statement, read="mysql")
    except ParseError as exc:
        raise SnapshotError(f"cannot parse DDL statement {statement[:60]!r}...: {exc}", where) from exc
    if not isinstance(tree, exp.Create) or str(tree.args.get("kind", "")).upper() != "TABLE":
        return None
    schema = tree.this
    if not isinstance(schema, exp.Schema):
        return None
    name = _name(schema.this.this if isinstance(schema.this, exp.Table) else schema.this)
    columns: list[ColumnDef] = []
    pk: tuple[str, ...] = ()
    fks: list[ForeignKeyDef] = []
    uniques: list[tuple[str, ...]] = []
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            tname, params, values = _type_of(item.args.get("kind"))
            nullable, has_default, auto = True, False, False
            for c in item.args.get("constraints") or []:
                kind = c.args.get("kind") if isinstance(c, exp.ColumnConstraint) else c
                if isinstance(kind, exp.NotNullColumnConstraint):
                    nullable = bool(kind.args.get("allow_null"))
                elif isinstance(kind, exp.DefaultColumnConstraint):
                    has_default = True
                elif isinstance(kind, exp.AutoIncrementColumnConstraint):
                    auto = True
                elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
                    pk = (_name(item.this),)
                    nullable = False
                elif isinstance(kind, exp.UniqueColumnConstraint):
                    uniques.append((_name(item.this),))
            if tname == "SERIAL":
                auto, nullable = True, False
            columns.append(ColumnDef(_name(item.this), tname, params, nullable, has_default, auto, values))
        elif isinstance(item, exp.PrimaryKey):
            pk = tuple(_name(e.this if isinstance(e, exp.Ordered) else e) for e in item.expressions)
        elif isinstance(item, exp.Constraint | exp.ForeignKey):
            subs = item.expressions if isinstance(item, exp.Constraint) else [item]
            for sub in subs:
                if isinstance(sub, exp.ForeignKey):
                    ref = sub.args.get("reference")
                    target = ref.this if ref is not None else None
                    if isinstance(target, exp.Schema):
                        ref_table = _name(
                            target.this.this if isinstance(target.this, exp.Table) else target.this
                        )
                        ref_cols = tuple(_name(e) for e in target.expressions)
                    else:
                        continue
                    fks.append(ForeignKeyDef(tuple(_name(e) for e in sub.expressions), ref_table, ref_cols))
                elif isinstance(sub, exp.PrimaryKey):
                    pk = tuple(_name(e) for e in sub.expressions)
                elif isinstance(sub, exp.UniqueColumnConstraint):
                    uniques.append(tuple(_name(e) for e in getattr(sub.this, "expressions", [])))
        elif isinstance(item, exp.UniqueColumnConstraint):
            target = item.this
            cols = tuple(_name(e) for e in getattr(target, "expressions", []))
            if cols:
                uniques.append(cols)
    pk_set = set(pk)
    columns = [
        ColumnDef(c.name, c.type, c.params, False, c.has_default, c.auto_increment, c.values)
        if c.name in pk_set
        else c
        for c in columns
    ]
    return TableDef(name, tuple(columns), pk, tuple(fks), tuple(uniques))


def parse_schema(ddl: str, where: str = "schema.sql") -> dict[str, TableDef]:
    """Every ``CREATE TABLE`` of a DDL script, by table name, in script order."""
    tables: dict[str, TableDef] = {}
    for stmt in split_sql(ddl):
        table = parse_table(stmt, where)
        if table is not None:
            tables[table.name] = table
    return tables


def load_order(tables: Mapping[str, TableDef]) -> list[str]:
    """Tables ordered parents first (self references ignored; cycles broken by name)."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:  # a cycle: give up ordering this edge
            return
        state[name] = 1
        for fk in tables[name].foreign_keys:
            if fk.ref_table != name and fk.ref_table in tables:
                visit(fk.ref_table)
        state[name] = 2
        order.append(name)

    for name in sorted(tables):
        visit(name)
    return order


def check_value(col: ColumnDef, value: Any) -> str | None:
    """None if ``value`` (as written in a snapshot row) fits ``col``, else what is wrong."""
    if value is None:
        return None if col.nullable or col.auto_increment else f"column {col.name!r} is NOT NULL"
    t = col.type
    if t in INT_TYPES:
        if isinstance(value, bool) and t == "BOOLEAN":
            return None
        if t == "BIT" and isinstance(value, dict):
            return _check_b64(col, value)
        if isinstance(value, bool) or not isinstance(value, int):
            return f"column {col.name!r} ({t}) needs an integer, got {value!r}"
        if t.startswith("U") and value < 0:
            return f"column {col.name!r} ({t}) is unsigned, got {value}"
        return None
    if t in FLOAT_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"column {col.name!r} ({t}) needs a number, got {value!r}"
        return None
    if t in DECIMAL_TYPES:
        if isinstance(value, bool) or not isinstance(value, str | int):
            return f"column {col.name!r} ({t}) needs a decimal string, got {value!r}"
        try:
            decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return f"column {col.name!r} ({t}) needs a decimal string, got {value!r}"
        return None
    if t in BINARY_TYPES:
        if isinstance(value, dict):
            return _check_b64(col, value)
        if isinstance(value, str):
            return None
        return f"column {col.name!r} ({t}) needs {{'b64': ...}} or a string, got {value!r}"
    if t in DATE_TYPES | DATETIME_TYPES | TIME_TYPES:
        if not isinstance(value, str):
            return f"column {col.name!r} ({t}) needs an ISO string, got {value!r}"
        try:
            if t in DATE_TYPES:
                dt.date.fromisoformat(value)
            elif t in DATETIME_TYPES:
                if not value.startswith("0000-00-00"):
                    dt.datetime.fromisoformat(value)
            elif not _is_time(value):
                raise ValueError(value)
        except ValueError:
            return f"column {col.name!r} ({t}) needs an ISO {t.lower()}, got {value!r}"
        return None
    if t in ("ENUM", "SET") and col.values:
        if not isinstance(value, str):
            return f"column {col.name!r} ({t}) needs a string, got {value!r}"
        members = [v for v in value.split(",") if v] if t == "SET" else [value]
        bad = [m for m in members if m not in col.values]
        if bad:
            return f"column {col.name!r}: {bad[0]!r} is not one of {list(col.values)}"
        return None
    if t == "JSON":
        return None
    if not isinstance(value, str):
        return f"column {col.name!r} ({t}) needs a string, got {value!r}"
    if t in ("CHAR", "VARCHAR", "NCHAR", "NVARCHAR") and col.params and len(value) > col.params[0]:
        return f"column {col.name!r} ({t}({col.params[0]})) is too long: {len(value)} characters"
    return None


def _check_b64(col: ColumnDef, value: dict[str, Any]) -> str | None:
    if set(value) != {"b64"} or not isinstance(value["b64"], str):
        return f"column {col.name!r} needs {{'b64': ...}}, got {value!r}"
    try:
        base64.b64decode(value["b64"], validate=True)
    except ValueError:
        return f"column {col.name!r}: invalid base64"
    return None


def _is_time(value: str) -> bool:
    text = value.lstrip("-")
    parts = text.split(":")
    if len(parts) != 3:
        return False
    try:
        int(parts[0])
        int(parts[1])
        float(parts[2])
    except ValueError:
        return False
    return True
