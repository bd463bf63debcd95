"""What a MySQL fake's snapshot schema says about a binding's SQL: tables, columns and their types.

:func:`load_schema` reads a snapshot's ``schema.sql`` with sqlglot;
:func:`query_columns` resolves the output columns of a SELECT (and checks
every column the statement names); :func:`fits` says whether a column type
can ever fill a Thrift field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from thriftpy2.thrift import TType

from simdb.errors import ConfigError

__all__ = ["ColumnKind", "Tables", "fits", "load_schema", "query_columns"]

ColumnKind = Literal["int", "bool", "decimal", "float", "text", "binary", "datetime", "enum", "other"]
Tables = Mapping[str, Mapping[str, ColumnKind]]

_INTS = (
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
    "YEAR",
)
_TEXT = ("CHAR", "VARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "NCHAR", "NVARCHAR", "JSON", "SET")
_BINARY = ("BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB")
_TIME = ("DATETIME", "TIMESTAMP", "DATE", "DATETIME64", "TIMESTAMPTZ", "TIMESTAMPLTZ")


def _kind(dtype: str, text: str) -> ColumnKind:
    if dtype == "TINYINT" and text.upper().startswith("TINYINT(1)"):
        return "bool"
    if dtype in ("BOOLEAN", "BOOL"):
        return "bool"
    if dtype in _INTS:
        return "int"
    if dtype in ("DECIMAL", "UDECIMAL", "MONEY"):
        return "decimal"
    if dtype in ("FLOAT", "DOUBLE", "REAL", "UDOUBLE", "UFLOAT"):
        return "float"
    if dtype in _TEXT:
        return "text"
    if dtype in _BINARY:
        return "binary"
    if dtype in _TIME:
        return "datetime"
    if dtype == "ENUM":
        return "enum"
    return "other"


def load_schema(path: Path) -> dict[str, dict[str, ColumnKind]]:
    """Tables and column kinds of a ``schema.sql`` (``CREATE TABLE`` statements, MySQL dialect)."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = sqlglot.parse(path.read_text(encoding="utf-8"), read="mysql")
    except (OSError, sqlglot.errors.SqlglotError) as exc:
        raise ConfigError(f"{path}: cannot read the schema: {exc}") from exc
    tables: dict[str, dict[str, ColumnKind]] = {}
    for st in statements:
        if not isinstance(st, exp.Create) or st.kind != "TABLE":
            continue
        table = st.find(exp.Table)
        if table is None:
            continue
        cols: dict[str, ColumnKind] = {}
        for cd in st.find_all(exp.ColumnDef):
            kind = cd.args.get("kind")
            cols[cd.name.lower()] = _kind(kind.this.name, kind.sql("mysql")) if kind is not None else "other"
        tables[table.name.lower()] = cols
    return tables


def query_columns(query: str, tables: Tables) -> tuple[dict[str, ColumnKind], list[str]]:
    """``(output column -> kind, problems)`` of a statement whose parameters are already literals.

    Problems name unknown tables and columns. For writes the output is empty.
    """
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(query, read="mysql")
    except sqlglot.errors.SqlglotError as exc:
        return {}, [f"cannot parse the SQL: {str(exc).splitlines()[0]}"]
    problems: list[str] = []
    scope: dict[str, str] = {}
    for t in tree.find_all(exp.Table):
        name = t.name.lower()
        if name not in tables:
            problems.append(f"unknown table {t.name!r} (tables: {', '.join(sorted(tables))})")
            continue
        scope[t.alias_or_name.lower()] = name
        scope.setdefault(name, name)
    if problems:
        return {}, problems

    def lookup(col: exp.Column) -> tuple[ColumnKind | None, str]:
        """``(kind, problem)`` of one column reference (kind None when not a table column)."""
        name = col.name.lower()
        qual = col.table.lower()
        if qual:
            table = scope.get(qual)
            if table is None:
                return None, f"unknown table or alias {col.table!r} in {col.sql('mysql')}"
            if name not in tables[table]:
                return None, f"unknown column {col.name!r} in table {table!r}"
            return tables[table][name], ""
        for table in dict.fromkeys(scope.values()):
            if name in tables[table]:
                return tables[table][name], ""
        return None, ""

    out: dict[str, ColumnKind] = {}
    aliases: set[str] = set()
    selects = tree.selects if isinstance(tree, exp.Query) else []
    for sel in selects:
        inner = sel.unalias()
        if isinstance(inner, exp.Star) or (isinstance(inner, exp.Column) and inner.name == "*"):
            qual = inner.table.lower() if isinstance(inner, exp.Column) else ""
            for table in [scope[qual]] if qual and qual in scope else dict.fromkeys(scope.values()):
                out.update(tables[table])
            continue
        kind: ColumnKind = "other"
        if isinstance(inner, exp.Column):
            found, _ = lookup(inner)
            kind = found or "other"
        out[sel.alias_or_name] = kind
        if isinstance(sel, exp.Alias):
            aliases.add(sel.alias.lower())
    for col in tree.find_all(exp.Column):
        if col.name == "*":
            continue
        found, problem = lookup(col)
        if problem:
            problems.append(problem)
        elif found is None and col.name.lower() not in aliases:
            problems.append(f"unknown column {col.name!r} (in {', '.join(sorted(set(scope.values())))})")
    return out, sorted(set(problems))


_FITS: dict[ColumnKind, tuple[int, ...]] = {
    "int": (TType.BOOL, TType.BYTE, TType.I16, TType.I32, TType.I64, TType.DOUBLE),
    "bool": (TType.BOOL, TType.BYTE, TType.I16, TType.I32, TType.I64),
    "decimal": (TType.DOUBLE,),
    "float": (TType.DOUBLE,),
    "text": (TType.STRING, TType.BINARY),
    "binary": (TType.BINARY, TType.STRING),
    "datetime": (TType.I64, TType.STRING),
    "enum": (TType.STRING,),
}


def fits(kind: ColumnKind, ttype: int, spec: object, decoded: bool = False) -> bool:
    """Whether a column of ``kind`` can fill a field of type ``(ttype, spec)``.

    ``decoded``: the column is declared JSON or split, so it may fill a struct, list or map.
    """
    if kind == "other":
        return True
    if decoded and kind in ("text", "binary"):
        return True
    if ttype == TType.I32 and isinstance(spec, type):  # an enum: names from text, numbers from ints
        return kind in ("enum", "text", "int")
    return ttype in _FITS[kind]
