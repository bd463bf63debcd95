"""Seed a database from a snapshot's SQL part, through SQLAlchemy, streaming.

Used by both engines (the fake's SQLite and a real MariaDB) and by the snapshot tools:
the part's ``schema.sql`` is executed (translated for SQLite), then each table's rows
are bulk-inserted in the manifest's order (parents first), ``executemany`` per batch
(of multi-row INSERTs on SQLite).
"""

from __future__ import annotations

import gzip
import io
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, Any

import orjson
import sqlalchemy as sa

from simdb.errors import SnapshotError
from simdb.mysql.catalog import DdlError, Table, parse_schema, render_sqlite, split_statements
from simdb.mysql.rows import BatchDecoder, RowDecoder
from simdb.snapshot.format import Manifest, Part, read_manifest, verify_file

BATCH_ROWS = 5000
ROWS_PER_STATEMENT = 500  # rows per multi-row INSERT on SQLite


@dataclass
class SqlPart:
    """A located, checked SQL part: its schema text, parsed tables and row files."""

    root: Path
    name: str
    part: Part
    schema_sql: str
    tables: list[Table]
    row_files: dict[str, Path] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        """The parsed definition of table ``name``."""
        for t in self.tables:
            if t.name == name:
                return t
        raise SnapshotError(
            f"table {name!r} is listed in the manifest but not defined in schema.sql",
            str(self.root / "sql" / self.name / "schema.sql"),
        )


def open_part(
    snapshot_dir: Path, part: str = "db", manifest: Manifest | None = None, verify: bool = True
) -> SqlPart:
    """Find the SQL part ``part``, verify its checksums and parse its schema."""
    root = Path(snapshot_dir)
    manifest = manifest or read_manifest(root)
    found = manifest.parts.get(part)
    if found is None:
        raise SnapshotError(
            f"snapshot has no part named {part!r} (parts: {sorted(manifest.parts)})",
            str(root / "snapshot.yaml"),
        )
    if found.kind != "sql":
        raise SnapshotError(
            f"part {part!r} is a {found.kind} part, not an sql part", str(root / "snapshot.yaml")
        )
    if verify:
        for entry in found.files:
            verify_file(root, entry)
    schema_rel = f"sql/{part}/schema.sql"
    schema_path = root / schema_rel
    if not schema_path.is_file():
        raise SnapshotError("the sql part has no schema.sql", str(schema_path))
    text = schema_path.read_text(encoding="utf-8")
    try:
        tables = parse_schema(text)
    except DdlError as exc:
        raise SnapshotError(str(exc), str(schema_path)) from exc
    sql_part = SqlPart(root=root, name=part, part=found, schema_sql=text, tables=tables)
    prefix = f"sql/{part}/tables/"
    for entry in found.files:
        if entry.path.startswith(prefix):
            stem = entry.path[len(prefix) :]
            table = stem.removesuffix(".gz").removesuffix(".jsonl")
            sql_part.row_files[table] = root / entry.path
    for table in found.tables:
        sql_part.table(table)
    return sql_part


def _open_lines(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def _line_batches(fh: IO[str], batch: int, chunk: int = 1 << 20) -> Iterator[list[str]]:
    """The file's lines (newline removed) in lists of ``batch``, read in large chunks.

    Same lines as iterating the file (split at ``\\n`` after newline translation), but one
    ``read`` per megabyte instead of one ``readline`` per line.
    """
    pending: list[str] = []
    open_line: list[str] = []  # pieces of the line not yet ended (a long line spans chunks)
    while True:
        text = fh.read(chunk)
        if not text:
            break
        end = text.rfind("\n")
        if end < 0:
            open_line.append(text)
            continue
        open_line.append(text[:end])
        pending += "".join(open_line).split("\n")
        open_line = [text[end + 1 :]]
        if len(pending) >= batch:
            full = len(pending) - len(pending) % batch
            for start in range(0, full, batch):
                yield pending[start : start + batch]
            del pending[:full]
    tail = "".join(open_line)
    if tail:
        pending.append(tail)
    for start in range(0, len(pending), batch):
        yield pending[start : start + batch]


def iter_batches(sql_part: SqlPart, table: Table, batch: int = BATCH_ROWS) -> Iterator[list[tuple[Any, ...]]]:
    """Stream the decoded rows of ``table`` in batches (nothing if it has no rows file).

    A batch of lines is parsed as one JSON array and checked column by column; if anything
    is wrong the batch is re-read line by line so the error names the exact line.
    """
    path = sql_part.row_files.get(table.name)
    if path is None:
        return
    fast = BatchDecoder(table.name, table.columns)
    spath = str(path)
    try:
        with _open_lines(path) as fh:
            first = 1
            for lines in _line_batches(fh, batch):
                rows = None
                try:
                    objs = orjson.loads("[" + ",".join(lines) + "]")  # a blank line fails: slow path
                    if len(objs) == len(lines):  # else some line holds several values
                        rows = fast(objs)
                except orjson.JSONDecodeError:
                    rows = None
                if rows is None:
                    rows = _slow_batch(lines, first, fast.row, spath)
                yield rows
                first += len(lines)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"cannot read file: {exc}", spath) from exc


def _slow_batch(lines: list[str], first: int, decode: RowDecoder, path: str) -> list[tuple[Any, ...]]:
    rows = []
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"not valid JSON: {exc.msg}", path, number) from exc
        rows.append(decode(obj, (path, number)))
    return rows


_DONE = object()


def _prefetch(batches: Iterator[list[tuple[Any, ...]]], depth: int = 4) -> Iterator[list[tuple[Any, ...]]]:
    """Decode batches in a helper thread while the caller inserts over the network.

    Not for SQLite: its ``executemany`` drops and retakes the GIL around every row's step, so
    a busy decode thread makes each retake wait out the switch interval (measured: 1,000,000
    rows took 5.5 s with the thread and 3.7 s without).
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in batches:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            q.put(exc)

    worker = threading.Thread(target=produce, name="simdb-seed-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def iter_rows(sql_part: SqlPart, table: Table) -> Iterator[tuple[Any, ...]]:
    """Stream the decoded rows of ``table`` one by one (nothing if it has no rows file)."""
    for rows in iter_batches(sql_part, table):
        yield from rows


def schema_statements(sql_part: SqlPart, dialect: str, collation: str = "NOCASE") -> list[str]:
    """The DDL to run on ``dialect``: as captured for MySQL/MariaDB, translated for SQLite
    (text columns with ``collation``)."""
    if dialect == "sqlite":
        return [s for t in sql_part.tables for s in render_sqlite(t, collation)]
    return split_statements(sql_part.schema_sql)


def insert_statement(dialect: sa.Dialect, table: Table, rows: int = 1) -> str:
    """``INSERT INTO t (cols) VALUES (params)`` in the driver's own parameter style.

    With ``rows`` > 1 the statement has that many ``(params)`` groups, one per row.
    """
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    cols = ", ".join(quote(c.name) for c in table.columns)
    params = "(" + ", ".join(marker for _ in table.columns) + ")"
    return f"INSERT INTO {quote(table.name)} ({cols}) VALUES {', '.join([params] * rows)}"


def _rows_per_statement(conn: sa.Connection, table: Table) -> int:
    """How many rows one multi-row INSERT carries on SQLite (1 elsewhere).

    SQLite spends about half of a one-row-per-step ``executemany`` on per-row statement
    overhead; PyMySQL already sends one multi-row INSERT per ``executemany``.
    """
    if conn.dialect.name != "sqlite":
        return 1
    dbapi = conn.connection.driver_connection
    limit = 999  # SQLite's compiled-in default before 3.32
    if isinstance(dbapi, sqlite3.Connection):
        limit = dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(ROWS_PER_STATEMENT, limit // max(1, len(table.columns))))


def _insert(conn: sa.Connection, one: str, multi: str, group: int, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` in order: ``group`` rows per ``multi`` statement, the rest one by one."""
    full = len(rows) - len(rows) % group if group > 1 else 0
    if full:
        flat = chain.from_iterable
        conn.exec_driver_sql(multi, [tuple(flat(rows[i : i + group])) for i in range(0, full, group)])
    if full < len(rows):
        conn.exec_driver_sql(one, rows[full:])


def seed_connection(
    conn: sa.Connection,
    sql_part: SqlPart,
    batch: int = BATCH_ROWS,
    progress: Callable[[str, int], None] | None = None,
    collation: str = "NOCASE",
) -> dict[str, int]:
    """Create the schema and insert every table's rows on an open connection (no commit).

    ``collation``: of text columns on SQLite (the fake registers ``simdb_ci``)."""
    dialect = conn.dialect
    if dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    elif dialect.name in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
    for stmt in schema_statements(sql_part, dialect.name, collation):
        conn.exec_driver_sql(stmt)
    counts: dict[str, int] = {}
    order = list(sql_part.part.tables) or [t.name for t in sql_part.tables]
    for name in order:
        table = sql_part.table(name)
        one = insert_statement(dialect, table)
        group = _rows_per_statement(conn, table)
        multi = insert_statement(dialect, table, group) if group > 1 else one
        n = 0
        batches = iter_batches(sql_part, table, batch)
        if dialect.name != "sqlite":
            batches = _prefetch(batches)
        for rows in batches:
            if rows:
                _insert(conn, one, multi, group, rows)
                n += len(rows)
                if progress:
                    progress(name, n)
        counts[name] = n
    if dialect.name in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    return counts


def seed(
    engine: sa.Engine,
    snapshot_dir: Path,
    part: str = "db",
    batch: int = BATCH_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Seed ``engine`` from the SQL part ``part`` of a snapshot in one transaction.

    Returns the number of rows inserted per table. Errors name the file and line;
    the transaction is rolled back on any error.
    """
    sql_part = open_part(snapshot_dir, part)
    try:
        with engine.begin() as conn:
            return seed_connection(conn, sql_part, batch, progress)
    except sa.exc.DBAPIError as exc:
        raise SnapshotError(
            f"the database refused the part: {exc.orig}", str(sql_part.root / "sql" / part)
        ) from exc
