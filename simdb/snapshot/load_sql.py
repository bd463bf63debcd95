"""Load a snapshot's SQL part into a database reached by an SQLAlchemy URL (a real MariaDB/MySQL).

The part is checked first (checksums, DDL, every row decoded against its
table) so a bad snapshot is refused before the database is touched; then the
part's tables are dropped, re-created from ``schema.sql`` and filled in load
order by :func:`simdb.mysql.seed.seed_connection` (batched ``executemany``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from simdb.errors import SnapshotError
from simdb.mysql.seed import iter_rows, open_part, seed_connection

Progress = Callable[[str, int], None]


def check_sql_part(snapshot_dir: Path, part: str) -> None:
    """Decode every row of the part against its DDL; raises SnapshotError (file:line) on the first bad one."""
    sql_part = open_part(Path(snapshot_dir), part)
    for name in sql_part.part.tables:
        for _row in iter_rows(sql_part, sql_part.table(name)):
            pass


def load_sql(
    url: str, snapshot_dir: Path, part: str, progress: Progress | None = None, validate: bool = True
) -> dict[str, int]:
    """Replace the part's tables in the database at ``url``; returns rows per table."""
    if validate:
        check_sql_part(snapshot_dir, part)
    sql_part = open_part(Path(snapshot_dir), part, verify=not validate)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            if conn.dialect.name in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
                conn.exec_driver_sql("SET UNIQUE_CHECKS=0")
            for name in reversed(list(sql_part.part.tables)):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")
            counts = seed_connection(conn, sql_part, progress=progress)
            if conn.dialect.name in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET UNIQUE_CHECKS=1")
            return counts
    except sa.exc.DBAPIError as exc:
        raise SnapshotError(
            f"the database refused the part: {exc.orig}", str(Path(snapshot_dir) / "sql" / part)
        ) from exc
    finally:
        engine.dispose()
