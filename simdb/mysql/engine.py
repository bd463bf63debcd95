"""The fake's storage: one SQLite database file (WAL) reached through SQLAlchemy, one SQLite
connection per client connection so that ``BEGIN``/``COMMIT``/``ROLLBACK`` really work.

Transactions follow MySQL's shape: autocommit by default; ``BEGIN``/``START TRANSACTION``
or ``SET autocommit=0`` open a transaction whose SQLite write lock is taken at its first
write (``BEGIN IMMEDIATE``); DDL commits implicitly. Reads outside a write transaction see
the latest committed data. A write that meets another connection's open write transaction
waits (in a worker thread, so the server keeps serving) up to ``lock_wait_timeout`` and then
fails with 1205, as MariaDB does.

Loading builds the new state in a separate file and copies it in with SQLite's backup API
only when everything loaded, so a bad snapshot leaves the previous state; :meth:`Store.reset`
copies the loaded state back.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from mysql_mimic.types import ColumnType
from sqlalchemy.pool import NullPool
from sqlglot import exp

from simdb.errors import SnapshotError
from simdb.mysql import errors as E
from simdb.mysql import functions, names
from simdb.mysql.catalog import (
    Column,
    DdlError,
    Index,
    Table,
    render_sqlite,
    strict_violation,
    table_from_create,
)
from simdb.mysql.seed import open_part, seed_connection
from simdb.mysql.semantics import SqlType, unsupported
from simdb.mysql.translate import Plan, Translator, bind_order

log = logging.getLogger("simdb.mysql")

BINARY_CHARSET = 63
TEXT_CHARSET = 45  # utf8mb4_general_ci


@dataclass(frozen=True)
class ColInfo:
    """A result column as the wire sends it."""

    name: str
    type: int
    charset: int = BINARY_CHARSET
    scale: int | None = None
    table: str = ""


@dataclass
class Result:
    """What a statement produced: rows (``columns`` set) or an OK (affected rows, insert id)."""

    columns: list[ColInfo] | None = None
    rows: list[tuple[Any, ...]] | None = None
    affected: int = 0
    insert_id: int = 0
    plan: Plan | None = None


class Busy(Exception):
    """SQLite's write lock is held by another connection; retry while waiting."""


class NotMine(Exception):
    """The statement is for mysql-mimic's generic handling (SET, SHOW, variables...)."""


_INT_WIRE = {
    "tinyint": ColumnType.TINY,
    "bool": ColumnType.TINY,
    "boolean": ColumnType.TINY,
    "smallint": ColumnType.SHORT,
    "mediumint": ColumnType.INT24,
    "int": ColumnType.LONG,
    "integer": ColumnType.LONG,
    "bigint": ColumnType.LONGLONG,
    "year": ColumnType.YEAR,
}
_TEMPORAL_WIRE = {
    "date": ColumnType.DATE,
    "datetime": ColumnType.DATETIME,
    "timestamp": ColumnType.TIMESTAMP,
    "time": ColumnType.TIME,
}


def col_info(name: str, col: Column, table: str = "") -> ColInfo:
    """Wire metadata of a result column that is a table column."""
    cat = col.category
    base = col.base
    if cat == "int":
        return ColInfo(name, _INT_WIRE.get(base, ColumnType.LONGLONG), table=table)
    if cat == "float":
        return ColInfo(name, ColumnType.FLOAT if base == "float" else ColumnType.DOUBLE, table=table)
    if cat == "decimal":
        return ColInfo(name, ColumnType.NEWDECIMAL, scale=col.scale, table=table)
    if cat == "temporal":
        return ColInfo(name, _TEMPORAL_WIRE[base], table=table)
    if cat == "binary":
        wire = (
            ColumnType.BLOB
            if "blob" in base
            else (ColumnType.STRING if base == "binary" else ColumnType.VAR_STRING)
        )
        return ColInfo(name, wire, BINARY_CHARSET, table=table)
    if cat == "json" or base.endswith("text"):
        return ColInfo(name, ColumnType.BLOB, TEXT_CHARSET, table=table)
    if base in ("char", "enum", "set"):
        return ColInfo(name, ColumnType.STRING, TEXT_CHARSET, table=table)
    return ColInfo(name, ColumnType.VAR_STRING, TEXT_CHARSET, table=table)


def infer_info(name: str, values: list[Any]) -> ColInfo:
    """Wire metadata guessed from a result column's values (NULL type when all are NULL)."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return ColInfo(name, ColumnType.NULL)
    if kinds <= {int, bool}:
        return ColInfo(name, ColumnType.LONGLONG)
    if kinds <= {int, bool, float}:
        return ColInfo(name, ColumnType.DOUBLE)
    if bytes in kinds:
        return ColInfo(name, ColumnType.BLOB, BINARY_CHARSET)
    return ColInfo(name, ColumnType.VAR_STRING, TEXT_CHARSET)


def _tmp_base() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _install_functions(conn: sqlite3.Connection) -> None:
    functions.install(conn)


_TYPE_WIRE = {
    "int": ColumnType.LONGLONG,
    "float": ColumnType.DOUBLE,
    "date": ColumnType.DATE,
    "datetime": ColumnType.DATETIME,
    "time": ColumnType.TIME,
    "null": ColumnType.NULL,
}


def type_info(name: str, t: SqlType) -> ColInfo | None:
    """Wire metadata of a result column from its inferred MySQL type (None: unknown)."""
    if t.kind == "dec":
        return ColInfo(name, ColumnType.NEWDECIMAL, scale=t.scale)
    if t.kind == "str":
        return ColInfo(name, ColumnType.VAR_STRING, TEXT_CHARSET)
    if t.kind == "bytes":
        return ColInfo(name, ColumnType.BLOB, BINARY_CHARSET)
    wire = _TYPE_WIRE.get(t.kind)
    return None if wire is None else ColInfo(name, wire)


class Store:
    """The shared SQLite database of one fake, its catalog, plans and client sessions."""

    def __init__(self, database: str = "simdb", lock_wait_timeout: float = 10.0) -> None:
        self.database = database
        self.lock_wait_timeout = lock_wait_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="simdb-mysql-", dir=_tmp_base()))
        self.live_path = self.dir / "live.db"
        self.translator = Translator(database, catalog=self.table)
        self.tables: dict[str, Table] = {}
        self.lock = threading.RLock()
        self.sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self.engine = sa.create_engine(
            f"sqlite:///{self.live_path}",
            poolclass=NullPool,
            connect_args={"check_same_thread": False, "isolation_level": None, "timeout": 0},
        )
        sa.event.listen(self.engine, "connect", self._on_connect)
        self._admin_proxy, self._admin = self.raw_connection()
        self._admin.execute("PRAGMA journal_mode=WAL")
        self._template_path: Path | None = None
        self._template_tables: dict[str, Table] = {}
        self._generation = 0
        self.loaded_from: str | None = None
        self._save_template({})

    @staticmethod
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=OFF")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        _install_functions(dbapi_conn)

    def raw_connection(self) -> tuple[Any, sqlite3.Connection]:
        """A new SQLite connection to the live database, through the SQLAlchemy engine.

        Returns the pool proxy (keep it: closing it closes the connection) and the connection.
        """
        pooled = self.engine.raw_connection()
        conn = pooled.dbapi_connection
        assert isinstance(conn, sqlite3.Connection)
        return pooled, conn

    def close(self) -> None:
        """Close every connection and delete the database files."""
        with self.lock:
            for s in list(self.sessions):
                s.close()
            self._admin_proxy.close()
            self.engine.dispose()
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- loading and reset -------------------------------------------------------------------

    def _new_template(self) -> Path:
        self._generation += 1
        return self.dir / f"template-{self._generation}.db"

    def _save_template(self, tables: dict[str, Table]) -> None:
        path = self._new_template()
        with self.lock:
            dst = sqlite3.connect(path)
            try:
                self._admin.backup(dst)
            finally:
                dst.close()
            self._set_template(path, tables)

    def _set_template(self, path: Path, tables: dict[str, Table]) -> None:
        old = self._template_path
        self._template_path = path
        self._template_tables = tables
        if old is not None and old != path:
            old.unlink(missing_ok=True)

    def load(self, snapshot_dir: Path, part: str = "db") -> dict[str, int]:
        """Load the SQL part ``part`` atomically; returns rows per table."""
        path, tables, counts = self.stage(snapshot_dir, part)
        self.install(path, tables, str(snapshot_dir))
        return counts

    def stage(self, snapshot_dir: Path, part: str = "db") -> tuple[Path, dict[str, Table], dict[str, int]]:
        """Seed the SQL part into a new template file that nothing uses yet (see :meth:`install`).

        Returns the file, the catalog and rows per table; the caller deletes the file if unused.
        """
        sql_part = open_part(Path(snapshot_dir), part)
        path = self._new_template()
        eng = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)

        @sa.event.listens_for(eng, "connect")
        def _fast(dbapi_conn: Any, _r: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=OFF")
            dbapi_conn.execute("PRAGMA synchronous=OFF")
            dbapi_conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            dbapi_conn.execute("PRAGMA cache_size=-65536")
            functions.install_collation(dbapi_conn)

        try:
            with eng.begin() as conn:
                counts = seed_connection(conn, sql_part, collation=functions.COLLATION)
        except sa.exc.DBAPIError as exc:
            path.unlink(missing_ok=True)
            raise SnapshotError(
                f"rows do not fit the schema: {exc.orig}", str(sql_part.root / "sql" / part)
            ) from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        finally:
            eng.dispose()
        return path, {t.name.lower(): t for t in sql_part.tables}, counts

    def install(
        self, path: Path, tables: dict[str, Table], loaded_from: str | None, keep_old: bool = False
    ) -> tuple[Path | None, dict[str, Table], str | None]:
        """Make a staged template the loaded state and the live database a copy of it.

        Returns the previous (template, catalog, loaded_from); its file is deleted unless ``keep_old``.
        """
        with self.lock:
            old = (self._template_path, self._template_tables, self.loaded_from)
            if keep_old:
                self._template_path = None
            self._set_template(path, tables)
            self.loaded_from = loaded_from
            self._restore()
        return old

    def unload(self) -> None:
        """Forget the loaded snapshot: the loaded state becomes an empty database."""
        with self.lock:
            path = self._new_template()
            sqlite3.connect(path).close()
            self._set_template(path, {})
            self.loaded_from = None
            self._restore()

    def reset(self) -> None:
        """Return to the state of the last load (every open transaction is rolled back)."""
        with self.lock:
            self._restore()

    def _restore(self) -> None:
        for s in list(self.sessions):
            s.abort()
        assert self._template_path is not None
        src = sqlite3.connect(self._template_path)
        try:
            src.backup(self._admin)
        finally:
            src.close()
        self.tables = copy.deepcopy(self._template_tables)
        self.translator.clear()

    def row_counts(self) -> dict[str, int]:
        """Rows per table in the live database."""
        with self.lock:
            return {
                t.name: int(self._admin.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0])
                for t in self.tables.values()
            }

    def table(self, name: str) -> Table | None:
        """The catalog entry of ``name`` (case-insensitive)."""
        return self.tables.get(name.lower())

    def session(self) -> Session:
        """A new client session with its own SQLite connection."""
        s = Session(self)
        self.sessions.add(s)
        return s


_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
_NOT_NULL = re.compile(r"NOT NULL constraint failed: \w+\.(.+)$")
_NO_TABLE = re.compile(r"no such table: (?:\w+\.)?(.+)$")
_NO_COLUMN = re.compile(r"no such column: (.+)$")
_AMBIGUOUS = re.compile(r"ambiguous column name: (.+)$")
_NO_FUNCTION = re.compile(r"no such function: (.+)$")
_EXISTS = re.compile(r"table \"?(\w+)\"? already exists")


_CHECK = re.compile(r"CHECK constraint failed: simdb_(\d+)_(\d+)")


def _renamed(columns: list[ColInfo], templates: list[Any], params: list[Any]) -> list[ColInfo]:
    """Result columns named as MariaDB names them for this execution's literals."""
    out = []
    for i, c in enumerate(columns):
        name = names.resolve(templates[i], params) if i < len(templates) else None
        out.append(c if name is None else dataclasses.replace(c, name=name))
    return out


def _too_big() -> E.SqlError:
    return unsupported("integers beyond the signed 64-bit range (BIGINT UNSIGNED above 9223372036854775807)")


_NO_DB_KINDS = frozenset({"mimic", "noop", "begin", "commit", "rollback", "savepoint"})


class Session:
    """One client connection's view: its SQLite connection and transaction state."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._proxy, self.conn = store.raw_connection()
        self.conn.create_function("LAST_INSERT_ID", 0, lambda: self.last_insert_id)
        self.autocommit = True
        self.explicit = False
        self.txn = False
        self.last_insert_id = 0
        self.closed = False
        self.found_rows = False  # CLIENT_FOUND_ROWS: UPDATE reports matched rather than changed rows

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (SERVER_STATUS_IN_TRANS)."""
        return self.explicit or self.txn

    def close(self) -> None:
        """Roll back and release the SQLite connection."""
        if not self.closed:
            self.abort()
            self.closed = True
            self._proxy.close()
            self.store.sessions.discard(self)

    def abort(self) -> None:
        """Roll back whatever is open (used by reset and on disconnect)."""
        if self.txn or self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.txn = False
        self.explicit = False

    def set_autocommit(self, on: bool) -> None:
        """``SET autocommit=...``: turning it on commits the open transaction."""
        if on and not self.autocommit:
            self._commit()
        self.autocommit = on

    def _commit(self) -> None:
        if self.txn:
            self.conn.execute("COMMIT")
        self.txn = False
        self.explicit = False

    def _rollback(self) -> None:
        if self.txn:
            self.conn.execute("ROLLBACK")
        self.txn = False
        self.explicit = False

    def execute(self, sql: str, require_db: bool = True) -> Result:
        """Run one statement from the client (raises SqlError, Busy or NotMine).

        ``require_db=False`` (no database selected) refuses statements on tables with 1046.
        """
        with self.store.lock:
            if self.closed:
                raise E.SqlError(E.UNKNOWN, message="connection closed")
            plan, params = self.store.translator.plan(sql)
            if not require_db and plan.kind not in _NO_DB_KINDS and not plan.extra.get("tableless"):
                raise E.SqlError(E.NO_DB)
            return self.run(plan, params)

    def execute_waiting(self, sql: str, require_db: bool = True) -> Result:
        """Like :meth:`execute`, retrying while another connection holds the write lock."""
        deadline = time.monotonic() + self.store.lock_wait_timeout
        while True:
            try:
                return self.execute(sql, require_db)
            except Busy:
                if time.monotonic() >= deadline:
                    raise E.SqlError(E.LOCK_WAIT_TIMEOUT) from None
                time.sleep(0.005)

    def run(self, plan: Plan, params: list[Any]) -> Result:
        """Execute a translated statement."""
        kind = plan.kind
        if kind == "query":
            try:
                cur = self.conn.execute(plan.sql, plan.bind(params))
                rows = cur.fetchall()
            except sqlite3.Error as exc:
                raise self._map(exc, plan, params) from exc
            except OverflowError as exc:
                raise _too_big() from exc
            columns = plan.columns
            if columns is None:
                columns, complete = self._result_columns(plan, cur.description, rows)
                if complete:
                    plan.columns = columns
            templates = plan.extra.get("names")
            if templates is not None:
                columns = _renamed(columns, templates, params)
            return Result(columns, rows, plan=plan)
        if kind == "write" or kind == "lockread":
            self._begin_write()
            sql, bound = plan.sql, plan.bind(params)
            changed = plan.extra.get("changed")
            if changed is not None and not self.found_rows:
                order = changed[1]
                sql, bound = changed[0], bind_order(order, params)
            extra = plan.extra
            if extra.get("ignore") and plan.tree is not None and params:
                self.store.translator.check_ignore(plan.tree, params)
            auto_rows = extra.get("auto_rows", 0)
            upsert = extra.get("upsert", False)
            seq_before = self._sequence(plan.table) if auto_rows else None
            max_rowid = self._max_rowid(plan.table) if upsert else 0
            try:
                cur = self.conn.execute(sql, bound)
                rows = cur.fetchall() if kind == "lockread" or upsert else []
            except sqlite3.Error as exc:
                mapped = self._map(exc, plan, params)
                code = getattr(mapped, "code", None)
                # an upsert whose UPDATE failed had its value allocated: its VALUES were fine
                failed_update = upsert and code != E.DUP_ENTRY and self._first_violation(plan, params) is None
                if seq_before is not None and (
                    code == E.DUP_ENTRY or getattr(mapped, "row", 1) > 1 or failed_update
                ):
                    # InnoDB reserves the statement's values at its first row: a duplicate burns
                    # them, a strict-mode error burns them unless it was the first row's
                    self._burn(plan.table, seq_before + auto_rows)
                raise mapped from exc
            except OverflowError as exc:
                raise _too_big() from exc
            if kind == "lockread":
                columns, _ = self._result_columns(plan, cur.description, rows)
                return Result(columns, rows, plan=plan)
            if seq_before is not None:
                self._burn(plan.table, seq_before + auto_rows)
            if upsert:
                return self._upsert_result(plan, rows, max_rowid)
            return self._write_result(plan, cur)
        if kind == "begin":
            self._commit()
            self.explicit = True
            return Result()
        if kind == "commit":
            self._commit()
            return Result()
        if kind == "rollback":
            self._rollback()
            return Result()
        if kind == "savepoint":
            self._begin_write()
            try:
                self.conn.execute(plan.sql)
            except sqlite3.Error as exc:
                raise E.SqlError(E.UNKNOWN, message=f"SAVEPOINT does not exist: {exc}") from exc
            return Result()
        if kind == "mimic":
            raise NotMine()
        if kind == "noop":
            return Result()
        return self._ddl(plan)

    def _begin_write(self) -> None:
        if self.txn:
            return
        if self.explicit or not self.autocommit:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise Busy() from exc
                raise
            self.txn = True

    def _sequence(self, table: str | None) -> int | None:
        """The AUTO_INCREMENT counter of ``table`` (None when SQLite keeps none for it)."""
        t = self.store.table(table or "")
        if t is None or t.auto_increment is None or t.primary_key != (t.auto_increment.name,):
            return None
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (t.name,)).fetchone()
        return int(row[0]) if row else 0

    def _burn(self, table: str | None, at_least: int) -> None:
        """Advance the AUTO_INCREMENT counter as InnoDB does for failed and updating inserts."""
        t = self.store.table(table or "")
        if t is None:
            return
        cur = self.conn.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (at_least, t.name)
        )
        if cur.rowcount == 0:
            self.conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (t.name, at_least))

    def _max_rowid(self, table: str | None) -> int:
        t = self.store.table(table or "")
        if t is None:
            return 0
        row = self.conn.execute(f'SELECT max(rowid) FROM "{t.name}"').fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _upsert_result(self, plan: Plan, rows: list[tuple[Any, ...]], max_rowid: int) -> Result:
        """INSERT ... ON DUPLICATE KEY UPDATE: 1 per inserted row, 2 per changed row, and (with
        CLIENT_FOUND_ROWS) 1 per row found unchanged, as MariaDB counts them."""
        ids = [int(r[0]) for r in rows]
        inserted = [i for i in ids if i > max_rowid]
        updated = len(ids) - len(inserted)
        unchanged = max(int(plan.extra.get("rows", len(ids))) - len(ids), 0)
        affected = len(inserted) + 2 * updated + (unchanged if self.found_rows else 0)
        insert_id = 0
        table = self.store.table(plan.table or "")
        if table is not None and table.auto_increment is not None and ids:
            insert_id = inserted[0] if inserted else ids[-1]
            if inserted:
                self.last_insert_id = insert_id
        return Result(affected=affected, insert_id=insert_id, plan=plan)

    def _write_result(self, plan: Plan, cur: sqlite3.Cursor) -> Result:
        affected = cur.rowcount if cur.rowcount >= 0 else 0
        insert_id = 0
        if isinstance(plan.tree, exp.Insert) and affected > 0:
            table = self.store.table(plan.table or "")
            if table is not None and table.auto_increment is not None and cur.lastrowid:
                insert_id = (
                    int(cur.lastrowid) - affected + 1 if not plan.extra.get("upsert") else int(cur.lastrowid)
                )
                self.last_insert_id = insert_id
        return Result(affected=affected, insert_id=insert_id, plan=plan)

    def _result_columns(
        self, plan: Plan, description: Any, rows: list[tuple[Any, ...]]
    ) -> tuple[list[ColInfo], bool]:
        names = [d[0] for d in description or ()]
        tree = plan.tree
        select: Any = tree
        while isinstance(select, exp.SetOperation):
            select = select.left
        aliases: dict[str, Table] = {}
        ordered: list[Table] = []
        if tree is not None:
            for t in tree.find_all(exp.Table):
                found = self.store.table(t.name)
                if found is not None:
                    aliases[t.alias_or_name.lower()] = found
                    ordered.append(found)
        projections = list(select.expressions) if isinstance(select, exp.Select) else []
        has_star = any(
            isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
            for p in projections
        )
        out: list[ColInfo] = []
        complete = True
        inferred: list[SqlType] = plan.extra.get("types") or []
        for i, name in enumerate(names):
            info: ColInfo | None = None
            proj = projections[i] if not has_star and i < len(projections) else None
            if has_star:
                info = self._lookup(name, None, aliases, ordered)
            elif proj is not None:
                node: exp.Expression = proj.this if isinstance(proj, exp.Alias) else proj
                info = self._typed(name, node, aliases, ordered)
                if (info is None or not isinstance(node, exp.Column)) and i < len(inferred):
                    info = type_info(name, inferred[i]) or info
            if info is None:
                # Typed from the values: not cached, since other parameters may give other types.
                complete = False
                info = infer_info(name, [r[i] for r in rows])
            out.append(info)
        return out, complete

    def _lookup(
        self, name: str, qualifier: str | None, aliases: dict[str, Table], ordered: list[Table]
    ) -> ColInfo | None:
        candidates = [aliases[qualifier.lower()]] if qualifier and qualifier.lower() in aliases else ordered
        for t in candidates:
            col = t.column(name)
            if col is not None:
                return col_info(name, col, t.name)
        return None

    def _typed(
        self, name: str, node: exp.Expression, aliases: dict[str, Table], ordered: list[Table]
    ) -> ColInfo | None:
        if isinstance(node, exp.Column):
            info = self._lookup(node.name, node.table or None, aliases, ordered)
            return ColInfo(name, info.type, info.charset, info.scale, info.table) if info else None
        if isinstance(node, exp.Count):
            return ColInfo(name, ColumnType.LONGLONG)
        if isinstance(node, exp.Sum | exp.Avg):
            arg = node.this
            inner = self._typed(name, arg, aliases, ordered) if isinstance(arg, exp.Column) else None
            if inner is None:
                return None
            if inner.type in (ColumnType.DOUBLE, ColumnType.FLOAT):
                return ColInfo(name, ColumnType.DOUBLE)
            scale = inner.scale or 0
            if isinstance(node, exp.Avg):
                scale += 4
            return ColInfo(name, ColumnType.NEWDECIMAL, scale=scale)
        if isinstance(node, exp.Min | exp.Max) and isinstance(node.this, exp.Column):
            return self._typed(name, node.this, aliases, ordered)
        return None

    def _map(self, exc: sqlite3.Error, plan: Plan, params: list[Any]) -> Exception:
        msg = str(exc)
        if "user-defined function raised exception" in msg or "user-defined aggregate" in msg:
            what = functions.LAST_ERROR.error or "this function call"
            code = functions.LAST_ERROR.code
            functions.LAST_ERROR.error = None
            functions.LAST_ERROR.code = E.NOT_SUPPORTED
            if code != E.NOT_SUPPORTED:
                first = self._first_violation(plan, params) if code == 1292 else None
                return first or E.SqlError(code, text=what)
            return unsupported(what)
        m = _CHECK.search(msg)
        if m or (isinstance(exc, sqlite3.IntegrityError) and _NOT_NULL.search(msg)):
            first = self._first_violation(plan, params)
            if first is not None:
                return first
        if m:
            return self._strict_error(int(m.group(1)), int(m.group(2)), plan, params)
        if "database is locked" in msg or "database table is locked" in msg:
            return Busy()
        db = self.store.database
        if isinstance(exc, sqlite3.IntegrityError):
            m = _UNIQUE.search(msg)
            if m:
                return self._duplicate(plan, params, [c.split(".", 1)[-1] for c in m.group(1).split(", ")])
            m = _NOT_NULL.search(msg)
            if m:
                column = m.group(1)
                tree = plan.tree
                if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
                    listed = {c.name.lower() for c in tree.this.expressions}
                    if column.lower() not in listed:
                        return E.SqlError(E.NO_DEFAULT, column=column)
                return E.SqlError(E.BAD_NULL, column=column)
            if "FOREIGN KEY" in msg:
                code = E.ROW_IS_REFERENCED if isinstance(plan.tree, exp.Delete) else E.NO_REFERENCED_ROW
                return E.SqlError(code)
            return E.SqlError(E.UNKNOWN, message=msg)
        m = _NO_TABLE.search(msg)
        if m:
            return E.SqlError(E.NO_SUCH_TABLE, database=db, table=m.group(1))
        m = _NO_COLUMN.search(msg)
        if m:
            return E.SqlError(E.BAD_FIELD, column=m.group(1), where="field list")
        m = _AMBIGUOUS.search(msg)
        if m:
            return E.SqlError(E.AMBIGUOUS, column=m.group(1), where="field list")
        m = _NO_FUNCTION.search(msg)
        if m:
            return E.SqlError(E.NOT_SUPPORTED, feature=f"function {m.group(1).upper()}")
        m = _EXISTS.search(msg)
        if m:
            return E.SqlError(E.TABLE_EXISTS, table=m.group(1))
        log.info("SQLite refused a translated statement (%s): %s", msg, plan.sql[:200])
        return unsupported("this statement form (logged at INFO level as simdb.mysql)")

    def _first_violation(self, plan: Plan, params: list[Any]) -> E.SqlError | None:
        """MariaDB's error for an INSERT ... VALUES: the first violation by row, then by the
        statement's column order (SQLite checks NOT NULL before CHECKs, and in its own order)."""
        tree = plan.tree
        table = self.store.table(plan.table or "")
        if table is None or not isinstance(tree, exp.Insert) or not isinstance(tree.this, exp.Schema):
            return None
        values = tree.expression
        if not isinstance(values, exp.Values):
            return None
        cols = [table.column(c.name) for c in tree.this.expressions]
        for row, tup in enumerate(values.expressions, 1):
            items = tup.expressions if isinstance(tup, exp.Tuple) else []
            for col, item in zip(cols, items, strict=False):
                if col is None:
                    continue
                if isinstance(item, exp.Null) and not col.nullable and not col.auto_increment:
                    null_err = E.SqlError(E.BAD_NULL, column=col.name)
                    null_err.row = row
                    return null_err
                value = self._value(item, params)
                if col.base in ("date", "datetime", "timestamp") and value is not None:
                    where = f"`{self.store.database}`.`{table.name}`.`{col.name}` at row {row}"
                    try:
                        functions.store_temporal(value, "date" if col.base == "date" else "datetime", where)
                    except functions.UdfError as exc:
                        if exc.code != E.NOT_SUPPORTED:
                            return E.SqlError(exc.code, text=str(exc))
                code = strict_violation(col, value)
                if code is not None and code != E.NOT_SUPPORTED:
                    err = E.SqlError(
                        code,
                        column=col.name,
                        row=row,
                        kind="integer",
                        value=value,
                        database=self.store.database,
                        table=table.name,
                    )
                    err.row = row
                    return err
        return None

    def _strict_error(self, code: int, index: int, plan: Plan, params: list[Any]) -> E.SqlError:
        """The strict-mode error for a failed ``simdb_<code>_<column>`` CHECK, row number included."""
        table = self.store.table(plan.table or "")
        if table is None or index >= len(table.columns):
            return E.SqlError(code, column="?", row=1)
        col = table.columns[index]
        row = 1
        tree = plan.tree
        if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
            names = [c.name.lower() for c in tree.this.expressions]
            values = tree.expression
            if isinstance(values, exp.Values) and col.name.lower() in names:
                pos = names.index(col.name.lower())
                for i, tup in enumerate(values.expressions, 1):
                    items = tup.expressions if isinstance(tup, exp.Tuple) else []
                    if pos < len(items) and strict_violation(col, self._value(items[pos], params)) == code:
                        row = i
                        break
        value = None
        if code == E.BAD_VALUE and isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
            names = [c.name.lower() for c in tree.this.expressions]
            values = tree.expression
            if isinstance(values, exp.Values) and col.name.lower() in names and values.expressions:
                items = values.expressions[row - 1].expressions
                value = self._value(items[names.index(col.name.lower())], params)
        if code == E.NOT_SUPPORTED:
            return unsupported(
                f"storing a value MariaDB would round into column '{col.name}' ({col.type_sql})"
            )
        err = E.SqlError(
            code,
            column=col.name,
            row=row,
            kind="integer",
            value="" if value is None else value,
            database=self.store.database,
            table=table.name,
        )
        err.row = row
        return err

    def _duplicate(self, plan: Plan, params: list[Any], columns: list[str]) -> E.SqlError:
        table = self.store.table(plan.table or "")
        key = "PRIMARY"
        if table is not None:
            low = [c.lower() for c in columns]
            if [c.lower() for c in table.primary_key] != low:
                key = next(
                    (ix.name for ix in table.indexes if ix.unique and [c.lower() for c in ix.columns] == low),
                    key,
                )
        entry = "?"
        tree = plan.tree
        if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
            names = [c.name.lower() for c in tree.this.expressions]
            values = tree.expression
            if isinstance(values, exp.Values) and all(c.lower() in names for c in columns):
                pos = [names.index(c.lower()) for c in columns]
                for row in values.expressions:
                    vals = [self._value(row.expressions[p], params) for p in pos]
                    if vals and all(v is not None for v in vals):
                        where = " AND ".join(f'"{c}" = ?' for c in columns)
                        hit = self.conn.execute(
                            f'SELECT 1 FROM "{plan.table}" WHERE {where}', vals
                        ).fetchone()
                        if hit:
                            entry = "-".join(str(v) for v in vals)
                            break
        return E.SqlError(E.DUP_ENTRY, entry=entry, key=key)

    @staticmethod
    def _value(node: exp.Expression, params: list[Any]) -> Any:
        if isinstance(node, exp.Placeholder) and node.name[1:].isdigit():
            return params[int(node.name[1:])]
        if isinstance(node, exp.Literal):
            return node.to_py()
        return None

    # --- schema changes --------------------------------------------------------------------

    def _ddl(self, plan: Plan) -> Result:
        self._commit()
        tree = plan.tree
        store = self.store
        try:
            if plan.kind == "create" and isinstance(tree, exp.Create):
                table = table_from_create(tree)
                if store.table(table.name) is not None:
                    if tree.args.get("exists"):
                        return Result()
                    raise E.SqlError(E.TABLE_EXISTS, table=table.name)
                for stmt in render_sqlite(table, functions.COLLATION):
                    self.conn.execute(stmt)
                store.tables[table.name.lower()] = table
            elif plan.kind == "drop" and isinstance(tree, exp.Drop):
                targets = [tree.this, *tree.expressions] if tree.this else list(tree.expressions)
                names = [t.name for t in targets if isinstance(t, exp.Table)]
                missing = [n for n in names if store.table(n) is None]
                if missing and not tree.args.get("exists"):
                    raise E.SqlError(E.BAD_TABLE, table=",".join(f"{store.database}.{n}" for n in missing))
                for n in names:
                    if store.table(n) is not None:
                        self.conn.execute(f'DROP TABLE "{store.tables[n.lower()].name}"')
                        del store.tables[n.lower()]
            elif plan.kind == "truncate":
                table_def = store.table(plan.table or "")
                if table_def is None:
                    raise E.SqlError(E.NO_SUCH_TABLE, database=store.database, table=plan.table)
                self.conn.execute(f'DELETE FROM "{table_def.name}"')
                if table_def.auto_increment is not None:
                    self.conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table_def.name,))
            elif plan.kind == "ddl" and isinstance(tree, exp.Create) and isinstance(tree.this, exp.Index):
                index = tree.this
                target = index.args.get("table")
                table_def = store.table(target.name) if isinstance(target, exp.Table) else None
                if table_def is None:
                    raise E.SqlError(
                        E.NO_SUCH_TABLE, database=store.database, table=target.name if target else "?"
                    )
                params = index.args.get("params")
                cols = tuple(c.name for c in (params.args.get("columns") or [])) if params else ()
                unique = bool(tree.args.get("unique"))
                ix = Index(index.name, cols, unique)
                stmts = render_sqlite(
                    Table(table_def.name, table_def.columns, indexes=[ix]), functions.COLLATION
                )[1:]
                for stmt in stmts:
                    self.conn.execute(stmt)
                table_def.indexes.append(ix)
            else:
                raise E.SqlError(E.NOT_SUPPORTED, feature=f"{plan.kind.upper()} statement")
        except DdlError as exc:
            raise E.SqlError(E.NOT_SUPPORTED, feature=f"{exc}") from exc
        except sqlite3.Error as exc:
            raise self._map(exc, plan, []) from exc
        store.translator.clear()
        return Result()
