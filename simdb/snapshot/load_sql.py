"""Load a snapshot's SQL part into a database reached by an SQLAlchemy URL (a real MariaDB/MySQL).

Two passes, so a bad snapshot never touches the database (MySQL DDL cannot be
rolled back): the first decodes every row against its table
(:class:`simdb.mysql.rows.RowDecoder`, errors name file and line) and, for
MySQL/MariaDB, renders the rows as multi-row ``INSERT`` statements into a
temporary file (what a dump is); the second drops the part's tables,
re-creates them from ``schema.sql`` and streams the statements, with foreign
key and unique checks off, in one transaction. Other databases go through
:func:`simdb.mysql.seed.seed_connection` after the checking pass.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pymysql.converters import escape_string

from simdb.errors import SnapshotError
from simdb.mysql.seed import SqlPart, iter_rows, open_part, schema_statements, seed_connection

Progress = Callable[[str, int], None]
STATEMENT_BYTES = 1 << 20  # one INSERT stays well under max_allowed_packet (16 MiB by default)


def check_sql_part(snapshot_dir: Path, part: str) -> None:
    """Decode every row of the part against its DDL; raises SnapshotError (file:line) on the first bad one."""
    sql_part = open_part(Path(snapshot_dir), part)
    for name in sql_part.part.tables:
        for _row in iter_rows(sql_part, sql_part.table(name)):
            pass


def _literal(v: Any) -> str:
    t = type(v)
    if v is None:
        return "NULL"
    if t is int:
        return str(v)
    if t is str:
        return "'" + str(escape_string(v)) + "'"
    if t is float:
        return repr(v)
    if t is bytes:
        return "X'" + v.hex() + "'" if v else "''"
    if t is bool:
        return "1" if v else "0"
    if isinstance(v, Decimal | dt.date | dt.time | dt.datetime):
        return "'" + str(v) + "'"
    return "'" + str(escape_string(str(v))) + "'"


def _text(v: Any) -> str:
    return "'" + str(escape_string(v)) + "'" if type(v) is str else _literal(v)


def _int(v: Any) -> str:
    return str(v) if type(v) is int else _literal(v)


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "int": _int,
    "text": _text,
    "temporal": _text,
    "decimal": _text,
    "json": _text,
}


def render_inserts(sql_part: SqlPart, out: Path, progress: Progress | None = None) -> list[tuple[str, int]]:
    """Check every row and write ``INSERT`` statements (one per line) to ``out``; returns rows per table."""
    counts: list[tuple[str, int]] = []
    with open(out, "w", encoding="utf-8") as fh:
        for name in sql_part.part.tables:
            table = sql_part.table(name)
            head = "INSERT INTO `{}` ({}) VALUES ".format(
                name.replace("`", "``"),
                ", ".join("`" + c.name.replace("`", "``") + "`" for c in table.columns),
            )
            n = 0
            chunk: list[str] = []
            size = 0
            fmts = [_FORMATTERS.get(c.category, _literal) for c in table.columns]
            for row in iter_rows(sql_part, table):
                values = [f(v) if v is not None else "NULL" for f, v in zip(fmts, row, strict=True)]
                text = "(" + ",".join(values) + ")"
                chunk.append(text)
                size += len(text) + 1
                n += 1
                if size >= STATEMENT_BYTES:
                    fh.write(head + ",".join(chunk) + "\n")
                    chunk, size = [], 0
            if chunk:
                fh.write(head + ",".join(chunk) + "\n")
            counts.append((name, n))
            if progress is not None:
                progress(name, n)
    return counts


def _statements(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield line.rstrip("\n")


def load_sql(
    url: str, snapshot_dir: Path, part: str, progress: Progress | None = None, validate: bool = True
) -> dict[str, int]:
    """Replace the part's tables in the database at ``url``; returns rows per table.

    ``validate`` is kept for callers that already checked the part; rows are
    always decoded (and so checked) before the database is touched.
    """
    sql_part = open_part(Path(snapshot_dir), part)
    engine = sa.create_engine(url)
    try:
        if engine.dialect.name not in ("mysql", "mariadb"):
            check_sql_part(snapshot_dir, part)
            with engine.begin() as conn:
                quote = conn.dialect.identifier_preparer.quote
                for name in reversed(list(sql_part.part.tables)):
                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")
                return seed_connection(conn, sql_part, progress=progress)
        fd, tmp = tempfile.mkstemp(prefix=".simdb-sql.", suffix=".sql")
        os.close(fd)
        try:
            counts = render_inserts(sql_part, Path(tmp))
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute("SET FOREIGN_KEY_CHECKS=0")
                cur.execute("SET UNIQUE_CHECKS=0")
                for name in reversed(list(sql_part.part.tables)):
                    cur.execute("DROP TABLE IF EXISTS `{}`".format(name.replace("`", "``")))
                for stmt in schema_statements(sql_part, "mysql"):
                    cur.execute(stmt)
                cur.execute("START TRANSACTION")
                for stmt in _statements(Path(tmp)):
                    cur.execute(stmt)
                cur.execute("COMMIT")
                cur.execute("SET UNIQUE_CHECKS=1")
                cur.execute("SET FOREIGN_KEY_CHECKS=1")
                cur.close()
            finally:
                raw.close()
            if progress is not None:
                for name, n in counts:
                    progress(name, n)
            return dict(counts)
        finally:
            os.unlink(tmp)
    except sa.exc.DBAPIError as exc:
        raise SnapshotError(
            f"the database refused the part: {exc.orig}", str(Path(snapshot_dir) / "sql" / part)
        ) from exc
    except Exception as exc:
        if type(exc).__module__.startswith("pymysql"):
            raise SnapshotError(
                f"the database refused the part: {exc}", str(Path(snapshot_dir) / "sql" / part)
            ) from exc
        raise
    finally:
        engine.dispose()
