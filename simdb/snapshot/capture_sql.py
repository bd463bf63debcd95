"""Capture any SQLAlchemy database into a snapshot's SQL part, referentially intact.

1. Reflect the schema; the tables captured are the ones asked for plus every
   table they reference through foreign keys (transitively).
2. DDL in the MySQL dialect: ``SHOW CREATE TABLE`` when the source is
   MySQL/MariaDB (``AUTO_INCREMENT=<n>`` dropped, so captures diff cleanly),
   otherwise generated from the reflected tables.
3. Rows, children before parents: a table asked for without ``--where`` or
   ``--limit`` is streamed whole (server-side cursor, ``ORDER BY`` primary key).
   Otherwise its rows are its own selection (``WHERE cond ORDER BY pk LIMIT n``)
   plus every row that a captured child row references (and, for
   self-references, the rows those reference, to a fixed point), fetched in
   primary-key batches. Only key values are held in memory, never rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.schema import CreateTable

from simdb.errors import ConfigError, SimdbError
from simdb.mysql.rows import encode_value
from simdb.snapshot.capture_redis import _redact
from simdb.snapshot.format import dump_line
from simdb.snapshot.writer import SnapshotWriter

Progress = Callable[[str, int], None]
KEY_BATCH = 1000
_AUTO_INC = re.compile(r" AUTO_INCREMENT=\d+")


class SqlCaptureError(SimdbError):
    """The source database could not be read."""


@dataclass
class SqlCaptureStats:
    """Rows captured per table, in load order."""

    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows written, all tables."""
        return sum(self.rows.values())


def parse_where(items: Iterable[str]) -> dict[str, str]:
    """``T:COND`` strings -> {table: condition}."""
    out: dict[str, str] = {}
    for item in items:
        table, sep, cond = item.partition(":")
        if not sep or not table.strip() or not cond.strip():
            raise ConfigError(f"--where {item!r}: expected TABLE:CONDITION, e.g. users:id <= 20")
        out[table.strip()] = cond.strip()
    return out


def parse_limits(items: Iterable[str]) -> tuple[int | None, dict[str, int]]:
    """``N`` (every table asked for) and ``T:N`` (one table) -> (default, {table: n})."""
    default: int | None = None
    per: dict[str, int] = {}
    for item in items:
        table, sep, n = item.rpartition(":")
        try:
            value = int(n)
        except ValueError:
            raise ConfigError(f"--limit {item!r}: expected N or TABLE:N") from None
        if value < 0:
            raise ConfigError(f"--limit {item!r}: must be >= 0")
        if sep:
            per[table] = value
        else:
            default = value
    return default, per


def mysql_ddl(engine: sa.Engine, conn: sa.Connection, md: sa.MetaData, order: Sequence[str]) -> list[str]:
    """Each table's DDL in the MySQL dialect, ending with ``;``, in ``order``."""
    if engine.dialect.name in ("mysql", "mariadb"):
        quote = engine.dialect.identifier_preparer.quote
        out = []
        for name in order:
            row = conn.exec_driver_sql(f"SHOW CREATE TABLE {quote(name)}").one()
            out.append(_AUTO_INC.sub("", str(row[1])) + ";")
        return out
    copy_md = sa.MetaData()
    copies = []
    for name in order:
        table = md.tables[name]
        copy = sa.Table(table.name, copy_md)
        for col in table.columns:
            ctype = col.type
            unsized = isinstance(ctype, sa.String) and not isinstance(ctype, sa.Text) and ctype.length is None
            if unsized or isinstance(ctype, sa.types.NullType):
                ctype = sa.Text()
            copy.append_column(
                sa.Column(
                    col.name,
                    ctype,
                    primary_key=col.primary_key,
                    nullable=col.nullable,
                    autoincrement=col.autoincrement if col.primary_key else False,
                )
            )
        for fk in table.foreign_key_constraints:
            copy.append_constraint(
                sa.ForeignKeyConstraint(
                    [c.name for c in fk.columns],
                    [f"{fk.referred_table.name}.{e.column.name}" for e in fk.elements],
                    name=fk.name,
                )
            )
        copies.append(copy)
    dialect = mysql_dialect.dialect()
    return [str(CreateTable(c).compile(dialect=dialect)).strip() + ";" for c in copies]


def _closure(md: sa.MetaData, wanted: Sequence[str]) -> set[str]:
    out: set[str] = set()
    stack = list(wanted)
    while stack:
        name = stack.pop()
        if name in out:
            continue
        out.add(name)
        for fk in md.tables[name].foreign_keys:
            stack.append(fk.column.table.name)
    return out


def _raw(table: sa.Table) -> Any:
    """``SELECT`` every column with the driver's own values (no SQLAlchemy result processing)."""
    return sa.select(
        *[sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in table.columns]
    ).select_from(table)


def _pk(table: sa.Table) -> list[sa.Column[Any]]:
    return list(table.primary_key.columns)


def _fk_groups(table: sa.Table) -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    """(local columns, parent table, parent columns) per foreign key constraint."""
    out = []
    for fkc in table.foreign_key_constraints:
        out.append(
            (
                tuple(c.name for c in fkc.columns),
                fkc.referred_table.name,
                tuple(e.column.name for e in fkc.elements),
            )
        )
    return out


def _in(cols: Sequence[sa.ColumnElement[Any]], values: Sequence[tuple[Any, ...]]) -> sa.ColumnElement[bool]:
    if len(cols) == 1:
        return cols[0].in_([v[0] for v in values])
    return sa.tuple_(*cols).in_(values)


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, type(v).__name__, v) for v in key)


_PLAIN = frozenset({int, str, float, type(None)})


def _engine(url: str) -> sa.Engine:
    """An engine; for PyMySQL and mysqlclient (``mysql+mysqldb://``, C, faster), temporal and DECIMAL
    columns arrive as MySQL's own text (no conversion)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() in ("mysql", "mariadb") and parsed.get_driver_name() == "pymysql":
        from pymysql.constants import FIELD_TYPE
        from pymysql.converters import conversions

        conv = dict(conversions)
        for ft in (
            FIELD_TYPE.DATETIME,
            FIELD_TYPE.TIMESTAMP,
            FIELD_TYPE.DATE,
            FIELD_TYPE.TIME,
            FIELD_TYPE.DECIMAL,
            FIELD_TYPE.NEWDECIMAL,
        ):
            conv[ft] = None
        return sa.create_engine(url, connect_args={"conv": conv})
    if parsed.get_backend_name() in ("mysql", "mariadb") and parsed.get_driver_name() == "mysqldb":
        import importlib

        # imported by name: mysqlclient is an optional extra (fast-mysql) without type stubs
        field_type: Any = importlib.import_module("MySQLdb.constants.FIELD_TYPE")
        converters: Any = importlib.import_module("MySQLdb.converters")
        mconv = dict(converters.conversions)
        for ft in (
            field_type.DATETIME,
            field_type.TIMESTAMP,
            field_type.DATE,
            field_type.TIME,
            field_type.DECIMAL,
            field_type.NEWDECIMAL,
        ):
            mconv[ft] = str
        return sa.create_engine(url, connect_args={"conv": mconv})
    return sa.create_engine(url)


class _TableWriter:
    def __init__(
        self,
        writer: SnapshotWriter,
        part: str,
        table: sa.Table,
        refs: dict[str, dict[tuple[str, ...], set[tuple[Any, ...]]]],
        full: set[str],
    ) -> None:
        self.fw = writer.open_file(part, "sql", f"sql/{part}/tables/{table.name}.jsonl")
        self.names = [c.name for c in table.columns]
        # foreign keys whose parents are not captured whole: remember the values referenced
        self.collect = [
            (idx, parent, pcols, refs.setdefault(parent, {}).setdefault(pcols, set()))
            for cols, parent, pcols in _fk_groups(table)
            if parent not in full
            for idx in [tuple(self.names.index(c) for c in cols)]
        ]

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        names = self.names
        plain = _PLAIN
        write = self.fw.write_line
        for row in rows:
            write(
                dump_line(
                    {n: (v if type(v) in plain else encode_value(v)) for n, v in zip(names, row, strict=True)}
                )
            )
            for idx, _parent, _pcols, bucket in self.collect:
                values = tuple(row[i] for i in idx)
                if None not in values:
                    bucket.add(values)


def capture_sql(
    writer: SnapshotWriter,
    part: str,
    url: str,
    tables: Sequence[str] = (),
    where: Mapping[str, str] | None = None,
    limit: int | None = None,
    limits: Mapping[str, int] | None = None,
    progress: Progress | None = None,
    batch: int = 5000,
) -> SqlCaptureStats:
    """Capture ``tables`` (default: all) of the database at ``url`` into ``writer``'s part ``part``."""
    where = dict(where or {})
    limits = dict(limits or {})
    try:
        engine = _engine(url)
        md = sa.MetaData()
        md.reflect(engine)
    except sa.exc.SQLAlchemyError as exc:
        raise SqlCaptureError(f"cannot reflect the database at {_redact(url)}: {exc}") from exc
    wanted = list(tables) or sorted(md.tables)
    for name in [*wanted, *where, *limits]:
        if name not in md.tables:
            raise ConfigError(f"no table {name!r} in {_redact(url)} (tables: {', '.join(sorted(md.tables))})")
    included = _closure(md, wanted)
    order = [t.name for t in md.sorted_tables if t.name in included]
    asked = set(wanted)
    full = {t for t in asked if t not in where and limits.get(t, limit) is None}
    refs: dict[str, dict[tuple[str, ...], set[tuple[Any, ...]]]] = {}
    stats = SqlCaptureStats()
    try:
        with engine.connect() as conn:
            ddl = mysql_ddl(engine, conn, md, order)
            fw = writer.open_file(part, "sql", f"sql/{part}/schema.sql", jsonl=False)
            fw.write_text("\n\n".join(ddl) + "\n")
            writer.add_file(part, fw.close())
            for name in reversed(order):
                table = md.tables[name]
                tw = _TableWriter(writer, part, table, refs, full)
                if name in full or not _pk(table):
                    stream = _stream_all(
                        conn,
                        table,
                        where.get(name),
                        limits.get(name, limit),
                        refs.get(name, {}),
                        name in asked,
                        batch,
                    )
                    tw.write_rows(stream)
                else:
                    keys = _subset_keys(
                        conn,
                        table,
                        where.get(name) if name in asked else None,
                        limits.get(name, limit) if name in asked else None,
                        name in asked,
                        refs.get(name, {}),
                    )
                    tw.write_rows(_fetch_by_keys(conn, table, keys))
                writer.add_file(part, tw.fw.close())
                stats.rows[name] = tw.fw.records
                if progress is not None:
                    progress(name, tw.fw.records)
    except sa.exc.SQLAlchemyError as exc:
        raise SqlCaptureError(f"reading {_redact(url)} failed: {exc}") from exc
    finally:
        engine.dispose()
    writer.set_tables(part, order)
    writer.captured_from[part] = _redact(url)
    stats.rows = {t: stats.rows[t] for t in order}
    return stats


def _stream_all(
    conn: sa.Connection,
    table: sa.Table,
    cond: str | None,
    limit: int | None,
    refs: Mapping[tuple[str, ...], set[tuple[Any, ...]]],
    asked: bool,
    batch: int,
) -> Iterator[Sequence[Any]]:
    """Rows of a table taken whole, or (no primary key) its own selection plus referenced rows."""
    query = _raw(table)
    pk = _pk(table)
    query = query.order_by(*pk) if pk else query.order_by(*table.columns)
    conds: list[Any] = []
    if asked:
        conds.append(sa.text(cond) if cond else sa.true())
    for cols, values in refs.items():
        if values:
            conds.append(_in([table.c[c] for c in cols], sorted(values, key=_sort_key)))
    if not asked or cond or refs:
        query = query.where(sa.or_(*conds) if conds else sa.false())
    if limit is not None and not refs:
        query = query.limit(limit)
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
    for partition in result.partitions():
        yield from partition


def _subset_keys(
    conn: sa.Connection,
    table: sa.Table,
    cond: str | None,
    limit: int | None,
    asked: bool,
    refs: Mapping[tuple[str, ...], set[tuple[Any, ...]]],
) -> list[tuple[Any, ...]]:
    """Primary keys of the rows to capture: own selection, referenced rows, self-reference closure."""
    pk = _pk(table)
    pk_names = tuple(c.name for c in pk)
    keys: set[tuple[Any, ...]] = set()
    if asked:
        q = sa.select(*pk).order_by(*pk)
        if cond:
            q = q.where(sa.text(cond))
        if limit is not None:
            q = q.limit(limit)
        keys.update(tuple(r) for r in conn.execute(q))
    for cols, values in refs.items():
        if cols == pk_names:
            keys.update(values)
            continue
        vals = sorted(values, key=_sort_key)
        for i in range(0, len(vals), KEY_BATCH):
            q = sa.select(*pk).where(_in([table.c[c] for c in cols], vals[i : i + KEY_BATCH]))
            keys.update(tuple(r) for r in conn.execute(q))
    self_fks = [(cols, pcols) for cols, parent, pcols in _fk_groups(table) if parent == table.name]
    frontier = set(keys)
    while self_fks and frontier:
        new: set[tuple[Any, ...]] = set()
        fl = sorted(frontier, key=_sort_key)
        for i in range(0, len(fl), KEY_BATCH):
            for cols, pcols in self_fks:
                q = sa.select(*[table.c[c] for c in cols]).where(_in(pk, fl[i : i + KEY_BATCH]))
                targets = {tuple(r) for r in conn.execute(q) if None not in tuple(r)}
                if pcols == pk_names:
                    new.update(targets)
                else:
                    tl = sorted(targets, key=_sort_key)
                    for j in range(0, len(tl), KEY_BATCH):
                        q2 = sa.select(*pk).where(_in([table.c[c] for c in pcols], tl[j : j + KEY_BATCH]))
                        new.update(tuple(r) for r in conn.execute(q2))
        frontier = new - keys
        keys |= frontier
    return sorted(keys, key=_sort_key)


def _fetch_by_keys(
    conn: sa.Connection, table: sa.Table, keys: list[tuple[Any, ...]]
) -> Iterator[Sequence[Any]]:
    pk = _pk(table)
    for i in range(0, len(keys), KEY_BATCH):
        q = _raw(table).where(_in(pk, keys[i : i + KEY_BATCH])).order_by(*pk)
        yield from conn.execute(q)
