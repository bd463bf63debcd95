"""The schema as MySQL sees it: tables parsed from MySQL DDL, rendered back for
``SHOW CREATE TABLE`` (MariaDB's canonical layout) and forward as SQLite DDL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

INT_TYPES = frozenset(
    {
        "tinyint",
        "smallint",
        "mediumint",
        "int",
        "integer",
        "bigint",
        "bit",
        "bool",
        "boolean",
        "year",
        "utinyint",
        "usmallint",
        "umediumint",
        "uint",
        "ubigint",
    }
)
FLOAT_TYPES = frozenset({"float", "double", "real", "double precision"})
DECIMAL_TYPES = frozenset({"decimal", "numeric", "dec", "fixed", "udecimal"})
BINARY_TYPES = frozenset({"binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob"})
TEMPORAL_TYPES = frozenset({"date", "datetime", "timestamp", "time"})
JSON_TYPES = frozenset({"json"})


class DdlError(ValueError):
    """A DDL statement could not be understood; the message names the construct."""


@dataclass
class Column:
    """One column: its MySQL type as written (``varchar(64)``) and its base type (``varchar``)."""

    name: str
    type_sql: str
    base: str
    nullable: bool = True
    default_sql: str | None = None
    auto_increment: bool = False
    unsigned: bool = False
    binary_collation: bool = False

    @property
    def category(self) -> str:
        """``int``, ``float``, ``decimal``, ``binary``, ``temporal``, ``json`` or ``text``."""
        return category_of(self.base)

    @property
    def scale(self) -> int | None:
        """The declared scale of a DECIMAL column (``decimal(10,2)`` -> 2)."""
        m = re.search(r"\(\s*\d+\s*,\s*(\d+)\s*\)", self.type_sql)
        if m:
            return int(m.group(1))
        return 0 if self.category == "decimal" else None


@dataclass
class Index:
    """A key: ``PRIMARY``, ``UNIQUE`` or plain."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass
class ForeignKey:
    """``CONSTRAINT name FOREIGN KEY (cols) REFERENCES table (cols) [ON DELETE ...]``."""

    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    options: tuple[str, ...] = ()


@dataclass
class Table:
    """A table definition as parsed from MySQL DDL."""

    name: str
    columns: list[Column]
    primary_key: tuple[str, ...] = ()
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        """The column named ``name`` (case-insensitive), or None."""
        low = name.lower()
        for col in self.columns:
            if col.name.lower() == low:
                return col
        return None

    @property
    def auto_increment(self) -> Column | None:
        """The AUTO_INCREMENT column, if any."""
        return next((c for c in self.columns if c.auto_increment), None)


def category_of(base: str) -> str:
    """Map a MySQL base type name to the value category the fake stores."""
    base = base.lower()
    if base in INT_TYPES:
        return "int"
    if base in FLOAT_TYPES:
        return "float"
    if base in DECIMAL_TYPES:
        return "decimal"
    if base in BINARY_TYPES:
        return "binary"
    if base in TEMPORAL_TYPES:
        return "temporal"
    if base in JSON_TYPES:
        return "json"
    return "text"


def split_statements(text: str) -> list[str]:
    """Split a DDL script on ``;`` outside quotes and comments."""
    out: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    quote = ""
    while i < n:
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and quote != "`" and i + 1 < n:
                buf.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
            buf.append(ch)
        elif (ch == "-" and text.startswith("-- ", i)) or ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif ch == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        elif ch == ";":
            stmt = "".join(buf).strip()
            if stmt:
                out.append(stmt)
            buf = []
        else:
            buf.append(ch)
        i += 1
    stmt = "".join(buf).strip()
    if stmt:
        out.append(stmt)
    return out


def _ident(node: exp.Expression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Column | exp.Identifier | exp.Table):
        return node.name
    if isinstance(node, exp.Ordered):
        return _ident(node.this)
    return node.name


def _names(nodes: list[exp.Expression]) -> tuple[str, ...]:
    return tuple(_ident(n) for n in nodes)


def _type_sql(kind: exp.DataType) -> tuple[str, str, bool]:
    """(``varchar(64)``, ``varchar``, unsigned) for a sqlglot data type."""
    text = kind.sql("mysql").lower()
    unsigned = " unsigned" in text or (text.startswith("u") and kind.this.name.startswith("U"))
    text = re.sub(r",\s+", ",", text)
    base = re.split(r"[\s(]", text, maxsplit=1)[0]
    if kind.this == exp.DataType.Type.TEXT and kind.args.get("expressions"):
        base = "text"
    return text, base, unsigned


def table_from_create(create: exp.Create) -> Table:
    """Build a :class:`Table` from a parsed ``CREATE TABLE``."""
    schema = create.this
    if not isinstance(schema, exp.Schema) or not isinstance(schema.this, exp.Table):
        raise DdlError("CREATE TABLE without a column list (CREATE TABLE ... AS SELECT) is not supported")
    table = Table(name=schema.this.name, columns=[])
    fk_count = 0
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            kind = item.args.get("kind")
            if not isinstance(kind, exp.DataType):
                raise DdlError(f"column {item.name!r} has no type")
            type_sql, base, unsigned = _type_sql(kind)
            col = Column(name=item.name, type_sql=type_sql, base=base, unsigned=unsigned)
            for cons in item.args.get("constraints") or []:
                ck = cons.args.get("kind")
                if isinstance(ck, exp.NotNullColumnConstraint):
                    col.nullable = bool(ck.args.get("allow_null"))
                elif isinstance(ck, exp.AutoIncrementColumnConstraint):
                    col.auto_increment = True
                elif isinstance(ck, exp.PrimaryKeyColumnConstraint):
                    table.primary_key = (col.name,)
                    col.nullable = False
                elif isinstance(ck, exp.UniqueColumnConstraint):
                    table.indexes.append(Index(col.name, (col.name,), unique=True))
                elif isinstance(ck, exp.DefaultColumnConstraint):
                    col.default_sql = ck.this.sql("mysql")
                elif isinstance(ck, exp.CollateColumnConstraint):
                    col.binary_collation = ck.sql("mysql").lower().endswith("_bin")
            table.columns.append(col)
        elif isinstance(item, exp.PrimaryKey):
            table.primary_key = _names(item.expressions)
        elif isinstance(item, exp.UniqueColumnConstraint):
            inner = item.this
            cols = _names(inner.expressions) if isinstance(inner, exp.Schema) else ()
            name = inner.name if isinstance(inner, exp.Schema) and inner.this else (cols[0] if cols else "")
            table.indexes.append(Index(name or cols[0], cols, unique=True))
        elif isinstance(item, exp.IndexColumnConstraint):
            cols = _names(item.expressions)
            kind_text = str(item.args.get("kind") or "").upper()
            if kind_text in ("FULLTEXT", "SPATIAL"):
                continue
            table.indexes.append(Index(item.name or cols[0], cols, unique=kind_text == "UNIQUE"))
        elif isinstance(item, exp.Constraint | exp.ForeignKey):
            fks = (
                [item]
                if isinstance(item, exp.ForeignKey)
                else [e for e in item.expressions if isinstance(e, exp.ForeignKey)]
            )
            for fk in fks:
                ref = fk.args.get("reference")
                if ref is None or not isinstance(ref.this, exp.Schema):
                    raise DdlError(f"foreign key on table {table.name!r} without a referenced column list")
                fk_count += 1
                name = item.name if isinstance(item, exp.Constraint) else ""
                table.foreign_keys.append(
                    ForeignKey(
                        name=name or f"{table.name}_ibfk_{fk_count}",
                        columns=_names(fk.expressions),
                        ref_table=ref.this.this.name,
                        ref_columns=_names(ref.this.expressions),
                        options=tuple(str(o).upper() for o in ref.args.get("options") or []),
                    )
                )
            if isinstance(item, exp.Constraint) and not fks:
                continue
        else:
            continue
    for name in table.primary_key:
        pk_col = table.column(name)
        if pk_col is None:
            raise DdlError(f"table {table.name!r}: primary key names unknown column {name!r}")
        pk_col.nullable = False
    return table


def parse_create(sql: str) -> Table:
    """Parse one ``CREATE TABLE`` statement written for MySQL."""
    try:
        node = sqlglot.parse_one(sql, read="mysql")
    except ParseError as exc:
        raise DdlError(f"cannot parse DDL: {exc.errors[0]['description'] if exc.errors else exc}") from exc
    if not isinstance(node, exp.Create) or str(node.args.get("kind", "")).upper() != "TABLE":
        raise DdlError(f"expected CREATE TABLE, got: {sql[:60]!r}")
    return table_from_create(node)


def parse_schema(text: str) -> list[Table]:
    """Parse a ``schema.sql`` file (``CREATE TABLE ...;`` statements; others are ignored)."""
    tables = []
    for stmt in split_statements(text):
        head = stmt.lstrip("(").split(None, 2)
        if len(head) >= 2 and head[0].upper() == "CREATE" and head[1].upper() == "TABLE":
            tables.append(parse_create(stmt))
    return tables


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _qs(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def render_mysql(table: Table) -> str:
    """``SHOW CREATE TABLE`` text in MariaDB's canonical layout (what SQLAlchemy parses)."""
    lines = []
    for col in table.columns:
        parts = [f"  {_q(col.name)} {col.type_sql}"]
        if not col.nullable:
            parts.append("NOT NULL")
        if col.default_sql is not None:
            parts.append(f"DEFAULT {col.default_sql}")
        elif col.nullable and col.category not in ("binary",) and not col.type_sql.endswith("text"):
            parts.append("DEFAULT NULL")
        if col.auto_increment:
            parts.append("AUTO_INCREMENT")
        lines.append(" ".join(parts))
    if table.primary_key:
        lines.append(f"  PRIMARY KEY ({','.join(_q(c) for c in table.primary_key)})")
    for ix in table.indexes:
        kw = "UNIQUE KEY" if ix.unique else "KEY"
        lines.append(f"  {kw} {_q(ix.name)} ({','.join(_q(c) for c in ix.columns)})")
    for fk in table.foreign_keys:
        opts = (" " + " ".join(fk.options)) if fk.options else ""
        lines.append(
            f"  CONSTRAINT {_q(fk.name)} FOREIGN KEY ({','.join(_q(c) for c in fk.columns)}) "
            f"REFERENCES {_q(fk.ref_table)} ({','.join(_q(c) for c in fk.ref_columns)}){opts}"
        )
    body = ",\n".join(lines)
    return (
        f"CREATE TABLE {_q(table.name)} (\n{body}\n) "
        "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
    )


_SQLITE_AFFINITY = {
    "int": "INTEGER",
    "float": "REAL",
    "decimal": "NUMERIC",
    "binary": "BLOB",
    "temporal": "TEXT",
    "json": "TEXT",
    "text": "TEXT",
}


def _sqlite_default(col: Column) -> str | None:
    d = col.default_sql
    if d is None:
        return None
    up = d.upper()
    if up.startswith("CURRENT_TIMESTAMP") or up.startswith("NOW("):
        return "CURRENT_TIMESTAMP"
    if up == "NULL" or re.fullmatch(r"-?\d+(\.\d+)?", d) or (d.startswith("'") and d.endswith("'")):
        return d
    if up in ("TRUE", "FALSE"):
        return "1" if up == "TRUE" else "0"
    return None


_INT_RANGES = {
    "tinyint": 8,
    "bool": 8,
    "boolean": 8,
    "smallint": 16,
    "mediumint": 24,
    "int": 32,
    "integer": 32,
    "bigint": 64,
}
_TEXT_BYTES = {"tinytext": 255, "text": 65535, "mediumtext": 16777215, "longtext": 4294967295}
_BLOB_BYTES = {"tinyblob": 255, "blob": 65535, "mediumblob": 16777215, "longblob": 4294967295}


def int_range(col: Column) -> tuple[int, int] | None:
    """The (min, max) an integer column holds (MariaDB's ranges, UNSIGNED included)."""
    base = col.base[1:] if col.base.startswith("u") and col.base[1:] in _INT_RANGES else col.base
    bits = _INT_RANGES.get(base)
    if bits is None:
        return None
    unsigned = col.unsigned or col.base.startswith("u")
    if unsigned:
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _length_param(col: Column) -> int | None:
    m = re.search(r"\(\s*(\d+)\s*\)", col.type_sql)
    return int(m.group(1)) if m else None


def enum_values(col: Column) -> list[str]:
    """The members of an ENUM column, as declared."""
    m = re.search(r"\((.*)\)", col.type_sql, re.DOTALL)
    if not m:
        return []
    return [v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", m.group(1))]


def _decimal_shape(col: Column) -> tuple[int, int]:
    m = re.search(r"\(\s*(\d+)\s*(?:,\s*(\d+))?\s*\)", col.type_sql)
    if not m:
        return 10, 0
    return int(m.group(1)), int(m.group(2) or 0)


def strict_checks(col: Column) -> list[tuple[int, str]]:
    """STRICT_TRANS_TABLES as SQLite CHECKs: (MariaDB error code, condition that must hold).

    1235 marks values MariaDB would silently round (a fraction into an INT or past a DECIMAL's
    scale), which the fake refuses rather than store differently."""
    q = _qs(col.name)
    cat = col.category
    out: list[tuple[int, str]] = []
    if cat == "int":
        rng = int_range(col)
        if rng is not None:
            out.append((1366, f"typeof({q}) NOT IN ('text', 'blob')"))
            out.append((1235, f"typeof({q}) <> 'real'"))
            lo, hi = rng
            if hi < (1 << 63):
                out.append((1264, f"{q} BETWEEN {lo} AND {hi}"))
            else:
                out.append((1264, f"{q} >= {lo}"))
    elif cat == "decimal":
        p, s = _decimal_shape(col)
        out.append((1366, f"typeof({q}) NOT IN ('text', 'blob')"))
        out.append((1264, f"abs({q}) < {10 ** (p - s)}"))
        out.append((1235, f"round({q}, {s}) = {q}"))
    elif col.base in ("char", "varchar"):
        n = _length_param(col)
        if n is not None:
            out.append((1406, f"length({q}) <= {n}"))
    elif col.base in _TEXT_BYTES:
        out.append((1406, f"length(CAST({q} AS BLOB)) <= {_TEXT_BYTES[col.base]}"))
    elif col.base in ("binary", "varbinary"):
        n = _length_param(col)
        if n is not None:
            out.append((1406, f"length(CAST({q} AS BLOB)) <= {n}"))
    elif col.base in _BLOB_BYTES:
        out.append((1406, f"length(CAST({q} AS BLOB)) <= {_BLOB_BYTES[col.base]}"))
    elif col.base == "enum":
        members = ", ".join("'" + v.replace("'", "''") + "'" for v in enum_values(col))
        if members:
            out.append((1265, f"{q} IN ({members})"))
    return out


def strict_violation(col: Column, value: object) -> int | None:
    """The error code STRICT_TRANS_TABLES raises storing ``value`` in ``col`` (None: fits)."""
    if value is None:
        return None
    cat = col.category
    if cat == "int":
        rng = int_range(col)
        if rng is None:
            return None
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                return 1366
        if isinstance(value, float):
            return 1235 if not value.is_integer() else None
        if isinstance(value, int) and not rng[0] <= value <= rng[1]:
            return 1264
        return None
    if col.base in ("char", "varchar"):
        n = _length_param(col)
        return 1406 if n is not None and len(str(value)) > n else None
    if col.base == "enum":
        members = {v.upper() for v in enum_values(col)}
        return 1265 if str(value).upper() not in members else None
    return None


PAD_BINARY = {"simdb_ci": "simdb_bin"}
"""The fake's collation for ``_bin`` columns next to its default one (utf8mb4_bin: PAD SPACE)."""


def render_sqlite(table: Table, collation: str = "NOCASE") -> list[str]:
    """SQLite statements that create ``table`` (the table, then its indexes); text columns
    compare with ``collation`` (the fake's ``simdb_ci``: utf8mb4_general_ci, PAD SPACE)."""
    auto = table.auto_increment
    inline_pk = auto is not None and table.primary_key == (auto.name,)
    defs = []
    for col in table.columns:
        parts = [_qs(col.name), _SQLITE_AFFINITY[col.category]]
        if inline_pk and col is auto:
            parts.append("PRIMARY KEY AUTOINCREMENT")
        elif not col.nullable:
            parts.append("NOT NULL")
        default = _sqlite_default(col)
        if default is not None:
            parts.append(f"DEFAULT {default}")
        if col.category == "text":
            if not col.binary_collation:
                parts.append(f"COLLATE {collation}")
            elif collation in PAD_BINARY:
                parts.append(f"COLLATE {PAD_BINARY[collation]}")
        index = table.columns.index(col)
        for code, cond in strict_checks(col):
            parts.append(f'CONSTRAINT "simdb_{code}_{index}" CHECK ({_qs(col.name)} IS NULL OR ({cond}))')
        defs.append(" ".join(parts))
    if table.primary_key and not inline_pk:
        defs.append(f"PRIMARY KEY ({', '.join(_qs(c) for c in table.primary_key)})")
    for fk in table.foreign_keys:
        opts = (" " + " ".join(fk.options)) if fk.options else ""
        defs.append(
            f"FOREIGN KEY ({', '.join(_qs(c) for c in fk.columns)}) REFERENCES "
            f"{_qs(fk.ref_table)} ({', '.join(_qs(c) for c in fk.ref_columns)}){opts}"
        )
    stmts = [f"CREATE TABLE {_qs(table.name)} ({', '.join(defs)})"]
    for ix in table.indexes:
        kw = "UNIQUE INDEX" if ix.unique else "INDEX"
        stmts.append(
            f"CREATE {kw} {_qs(table.name + '__' + ix.name)} ON {_qs(table.name)} "
            f"({', '.join(_qs(c) for c in ix.columns)})"
        )
    return stmts
