"""The MySQL wire front end: mysql-mimic's protocol handling with a fast path of our own.

Every ``COM_QUERY`` first goes to the store's digest-keyed plan cache; statements the fake
runs itself (SELECT/INSERT/UPDATE/DELETE, transactions, DDL) are answered directly with
pre-built column packets and rows framed into one buffer. Only what the fake leaves to
mysql-mimic (``SET``, ``SHOW``, ``SELECT @@var``, information_schema...) takes mysql-mimic's
middleware chain; ``SHOW CREATE TABLE`` is answered from the snapshot's DDL there.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import struct
import threading
from collections.abc import Sequence
from typing import Any

from mysql_mimic import packets
from mysql_mimic.auth import (
    AuthInfo,
    AuthState,
    Forbidden,
    IdentityProvider,
    NativePasswordAuthPlugin,
    Success,
    User,
)
from mysql_mimic.charset import CharacterSet
from mysql_mimic.connection import Connection
from mysql_mimic.constants import DEFAULT_SERVER_CAPABILITIES
from mysql_mimic.control import TooManyConnections
from mysql_mimic.errors import MysqlError
from mysql_mimic.results import ResultColumn, ResultSet
from mysql_mimic.server import MysqlServer
from mysql_mimic.session import Query, Session
from mysql_mimic.stream import MysqlStream
from mysql_mimic.types import Capabilities, ColumnType, ServerStatus
from mysql_mimic.utils import nonce
from mysql_mimic.variables import SYSTEM_VARIABLES, GlobalVariables, SessionVariables
from sqlglot import exp

from simdb.mysql import errors as E
from simdb.mysql.catalog import render_mysql
from simdb.mysql.engine import Busy, ColInfo, NotMine, Result, Store
from simdb.mysql.engine import Session as DbSession
from simdb.mysql.fault_hook import before_query, on_connect, send_paced
from simdb.mysql.faults import MySQLFaultPlan
from simdb.mysql.handshake import BadHandshake, check_handshake_response
from simdb.mysql.wire import WireLimits, read_packet

log = logging.getLogger("simdb.mysql")

SERVER_VERSION = "10.11.19-MariaDB-simdb"

_VARIABLES = dict(SYSTEM_VARIABLES)
_VARIABLES.update(
    {
        "sql_mode": (
            str,
            "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
            True,
        ),
        "version": (str, SERVER_VERSION, False),
        "version_comment": (str, "simdb MySQL fake", False),
        "transaction_isolation": (str, "REPEATABLE-READ", True),
        "tx_isolation": (str, "REPEATABLE-READ", True),
        "default_storage_engine": (str, "InnoDB", True),
        "default_tmp_storage_engine": (str, "InnoDB", True),
        "innodb_lock_wait_timeout": (int, 50, True),
        "lower_case_table_names": (int, 0, False),
        "sql_auto_is_null": (bool, False, True),
        "foreign_key_checks": (bool, True, True),
        "unique_checks": (bool, True, True),
        "sql_notes": (bool, True, True),
        "sql_quote_show_create": (bool, True, True),
        "time_zone": (str, "UTC", True),
        "system_time_zone": (str, "UTC", False),
        "character_set_filesystem": (str, "binary", True),
        "max_statement_time": (float, 0.0, True),
        "session_track_schema": (bool, True, True),
        "in_transaction": (int, 0, False),
        "warning_count": (int, 0, False),
        "error_count": (int, 0, False),
        "identity": (int, 0, False),
        "last_insert_id": (int, 0, True),
        "hostname": (str, "localhost", False),
        "port": (int, 3306, False),
    }
)
_GLOBALS = GlobalVariables(_VARIABLES)

_peer_host: contextvars.ContextVar[str] = contextvars.ContextVar("simdb_mysql_peer", default="localhost")

_AUTOCOMMIT = re.compile(
    r"^\s*SET\s+(?:SESSION\s+|@@(?:SESSION\.)?)?autocommit\s*=\s*(\w+)\s*;?\s*$", re.IGNORECASE
)
_BINARY = 63
# status flags by [autocommit][in transaction], precomputed (enum arithmetic is slow)
_STATUS = {
    False: {False: ServerStatus(0), True: ServerStatus.SERVER_STATUS_IN_TRANS},
    True: {
        False: ServerStatus.SERVER_STATUS_AUTOCOMMIT,
        True: ServerStatus.SERVER_STATUS_AUTOCOMMIT | ServerStatus.SERVER_STATUS_IN_TRANS,
    },
}
_MAX_PAYLOAD = 0xFFFFFF


class _Password(NativePasswordAuthPlugin):  # type: ignore[misc]
    """mysql_native_password, with MariaDB's exact "Access denied" text."""

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.auth_string = NativePasswordAuthPlugin.create_auth_string(password) if password else None

    async def auth(self, auth_info: AuthInfo | None = None) -> AuthState:
        if auth_info and auth_info.handshake_plugin_name == self.name and auth_info.handshake_auth_data:
            seed = auth_info.handshake_auth_data.rstrip(b"\x00")
        else:
            seed = nonce(20)
            auth_info = yield seed + b"\x00"
        assert auth_info is not None
        user = auth_info.user
        if user.name == self.user and self.password_matches(user, auth_info.data, seed):
            yield Success(user.name)
        else:
            using = "YES" if auth_info.data else "NO"
            yield Forbidden(
                f"Access denied for user '{auth_info.username}'@'{_peer_host.get()}' "
                f"(using password: {using})"
            )


class _Identity(IdentityProvider):  # type: ignore[misc]
    def __init__(self, user: str, password: str) -> None:
        self.plugin = _Password(user, password)

    def get_plugins(self) -> Sequence[Any]:
        return [self.plugin]

    async def get_user(self, username: str) -> User | None:
        return User(name=username, auth_string=self.plugin.auth_string, auth_plugin=self.plugin.name)


def _frame(buf: bytearray, payload: bytes | bytearray, seq: int) -> int:
    buf += len(payload).to_bytes(3, "little")
    buf.append(seq & 0xFF)
    buf += payload
    return seq + 1


def _lenenc(n: int) -> bytes:
    if n < 251:
        return bytes((n,))
    if n < 1 << 16:
        return b"\xfc" + n.to_bytes(2, "little")
    if n < 1 << 24:
        return b"\xfd" + n.to_bytes(3, "little")
    return b"\xfe" + n.to_bytes(8, "little")


def _text_value(v: Any, scale: int | None) -> bytes:
    t = type(v)
    if t is int:
        return str(v).encode() if scale is None or scale == 0 else f"{v:.{scale}f}".encode()
    if t is str:
        return v.encode("utf-8", "surrogateescape")  # type: ignore[no-any-return]
    if t is bytes:
        return v  # type: ignore[no-any-return]
    if t is float:
        if scale is not None:
            return f"{v:.{scale}f}".encode()
        return str(int(v)).encode() if v.is_integer() and abs(v) < 1e15 else repr(v).encode()
    return str(v).encode()


def _lenenc_str(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _lenenc(len(raw)) + raw


_BINARY_FLAG = 128


def column_definition(schema: str, c: ColInfo) -> bytes:
    """A ColumnDefinition41 payload for a result column."""
    flags = _BINARY_FLAG if c.charset == _BINARY else 0
    length = (
        20
        if c.charset == _BINARY and c.type not in (ColumnType.BLOB, ColumnType.VAR_STRING, ColumnType.STRING)
        else 1020
    )
    return b"".join(
        (
            _lenenc_str("def"),
            _lenenc_str(schema),
            _lenenc_str(c.table),
            _lenenc_str(c.table),
            _lenenc_str(c.name),
            _lenenc_str(c.name),
            b"\x0c",
            int(c.charset).to_bytes(2, "little"),
            length.to_bytes(4, "little"),
            bytes((int(c.type),)),
            flags.to_bytes(2, "little"),
            bytes((c.scale or 0,)),
            b"\x00\x00",
        )
    )


class CheckedStream:
    """mysql-mimic's packet stream (compiled, so wrapped) with a strict packet reader
    (:func:`simdb.mysql.wire.read_packet`) and a check that the first packet is a real handshake
    response."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        capabilities: Capabilities,
        limits: WireLimits,
    ) -> None:
        self.inner = MysqlStream(reader, writer)
        self.reader = reader
        self.check_next = True
        self.capabilities = capabilities
        self.limits = limits
        self.commands = False
        """Set once the command phase starts: an empty packet is then a command (COM_SLEEP)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def read(self) -> bytes:
        first = self.check_next
        self.check_next = False
        data = await read_packet(self.reader, self.inner.seq, self.limits, first)
        if first:
            try:
                check_handshake_response(data, self.capabilities)
            except BadHandshake as exc:
                log.warning("bad handshake (%d bytes): %s", len(data), exc)
                raise MysqlError("Bad handshake", 1043) from None
        if self.commands and not data:
            return b"\x00"  # MariaDB reads an empty command as COM_SLEEP: "Unknown command" (1047)
        return data


class FakeSession(Session):  # type: ignore[misc]
    """mysql-mimic session bound to one :class:`simdb.mysql.engine.Session`."""

    def __init__(self, server: FakeServer) -> None:
        super().__init__(SessionVariables(_GLOBALS))
        self.server = server
        self.db: DbSession = server.store.session()
        self.middlewares.insert(0, self._simdb_middleware)

    async def close(self) -> None:
        await super().close()
        with self.server.store.lock:
            self.db.close()

    async def use(self, database: str) -> None:
        if not self.server.has_database(database):
            raise E.SqlError(E.BAD_DB, database=database)
        self.database = database

    async def schema(self) -> dict[str, Any]:
        store = self.server.store
        return {
            store.database: {
                t.name: {c.name: c.type_sql.upper() for c in t.columns} for t in store.tables.values()
            }
        }

    async def _simdb_middleware(self, q: Query) -> Any:
        expr = q.expression
        if isinstance(expr, exp.Show) and expr.name.upper() == "CREATE TABLE":
            target = expr.args.get("target")
            name = target.name if target is not None else ""
            table = self.server.store.table(name)
            if table is None:
                raise E.SqlError(
                    E.NO_SUCH_TABLE, database=self.database or self.server.store.database, table=name
                )
            return [(table.name, render_mysql(table))], ["Table", "Create Table"]
        try:
            return await q.next()
        finally:
            self.db.set_autocommit(bool(self.variables.get("autocommit")))

    async def query(self, expression: exp.Expression, sql: str, attrs: dict[str, str]) -> Any:
        """End of mysql-mimic's chain: what its middlewares did not answer."""
        if isinstance(expression, exp.Create) and str(expression.args.get("kind", "")).upper() == "DATABASE":
            name = expression.this.name if expression.this is not None else ""
            if self.server.has_database(name) and expression.args.get("exists"):
                return None
            raise E.SqlError(E.NOT_SUPPORTED, feature="CREATE DATABASE (simdb fake serves one database)")
        if isinstance(expression, exp.Select):
            # A table-less SELECT mysql-mimic's static handling did not take (e.g. with WHERE):
            # it runs on the engine like every other statement, or is refused.
            plan, _ = self.server.store.translator.translate_tree(expression.copy())
            if plan.kind != "mimic":
                return self._as_result_set(await self.server.run_plan(self.db, plan))
            raise E.not_supported(f"this table-less SELECT: {sql[:60]}")
        raise E.SqlError(E.NOT_SUPPORTED, feature=f"{type(expression).__name__.upper()} statement")

    @staticmethod
    def _as_result_set(result: Result) -> Any:
        if result.columns is None:
            return None
        cols = [
            ResultColumn(
                c.name,
                ColumnType(c.type),
                CharacterSet.binary if c.charset == _BINARY else CharacterSet.utf8mb4,
            )
            for c in result.columns
        ]
        return ResultSet(result.rows or [], cols)


def _change_user_is_whole(data: bytes, caps: Capabilities) -> bool:
    """Every NUL-terminated string of a COM_CHANGE_USER body ends inside it (user, database, plugin)."""
    end = data.find(b"\x00")
    if end < 0:
        return False
    at = end + 1
    if Capabilities.CLIENT_SECURE_CONNECTION in caps:
        if at >= len(data):
            return False
        at += 1 + data[at]
    else:
        end = data.find(b"\x00", at)
        if end < 0:
            return False
        at = end + 1
    end = data.find(b"\x00", at)  # the database
    if end < 0:
        return False
    at = end + 1 + 2  # and the character set
    if Capabilities.CLIENT_PLUGIN_AUTH in caps and at < len(data):
        return data.find(b"\x00", at) >= 0
    return True


class FakeConnection(Connection):  # type: ignore[misc]
    """A client connection: the fast query path, exact errors, autocommit in the handshake."""

    def __init__(self, server: FakeServer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fake = server
        self.status_flags = ServerStatus.SERVER_STATUS_AUTOCOMMIT
        self._handshake = False
        self._reject = False
        self._query_attributes = False
        self._deprecate_eof = False
        self._eof_cache: dict[int, bytes] = {}

    async def connection_phase(self) -> None:
        peer = self.stream.writer.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) else "localhost"
        _peer_host.set("localhost" if host in ("127.0.0.1", "::1") else str(host))
        self._handshake = True
        try:
            await super().connection_phase()
        finally:
            self._handshake = False

    def ok(self, **kwargs: Any) -> bytes:
        if self._handshake and self.session.username is not None:
            db = self.session.database
            if db and not self.fake.has_database(db):
                self._reject = True
                log.info("connection refused: unknown database %r", db)
                return E.make_error_packet(E.BAD_DB, f"Unknown database '{db}'")
        return super().ok(**kwargs)  # type: ignore[no-any-return]

    def error(self, msg: Any = "", code: int = E.UNKNOWN, **_: Any) -> bytes:
        if isinstance(msg, MysqlError):
            msg, code = msg.msg, msg.code
        return E.make_error_packet(int(code), str(msg))

    async def command_phase(self) -> None:
        if self._reject or self.session.username is None:
            return
        self.session.db.found_rows = Capabilities.CLIENT_FOUND_ROWS in self.capabilities
        self._query_attributes = Capabilities.CLIENT_QUERY_ATTRIBUTES in self.capabilities
        self._deprecate_eof = Capabilities.CLIENT_DEPRECATE_EOF in self.capabilities
        if hasattr(self.stream, "commands"):
            self.stream.commands = True
        try:
            await super().command_phase()
        except MysqlError as exc:  # from the packet reader: too big, out of order; the connection ends
            log.warning("mysql connection %s: %s (%s); closing it", self.connection_id, exc.msg, exc.code)
            await self.stream.write(self.error(exc))

    # Commands whose packets mysql-mimic parses itself: a cut or garbled one must be MariaDB's
    # "Malformed communication packet" (1835), not a parser's traceback in the log.
    async def handle_stmt_prepare(self, data: bytes) -> None:
        await self._parsed(super().handle_stmt_prepare, data)

    async def handle_stmt_send_long_data(self, data: bytes) -> None:
        await self._parsed(super().handle_stmt_send_long_data, data)

    async def handle_stmt_execute(self, data: bytes) -> None:
        await self._parsed(super().handle_stmt_execute, data)

    async def handle_stmt_fetch(self, data: bytes) -> None:
        await self._parsed(super().handle_stmt_fetch, data)

    async def handle_stmt_reset(self, data: bytes) -> None:
        await self._parsed(super().handle_stmt_reset, data)

    async def handle_stmt_close(self, data: bytes) -> None:
        await self._parsed(super().handle_stmt_close, data)

    async def handle_field_list(self, data: bytes) -> None:
        # mysql-mimic reads the table name up to a NUL and spins forever when there is none (the
        # whole server with it): a name without its NUL is a malformed packet.
        if b"\x00" not in data:
            raise MysqlError("Malformed communication packet", E.MALFORMED_PACKET)
        try:
            await self._parsed(super().handle_field_list, data)
        except MysqlError:
            raise
        except (
            Exception
        ) as exc:  # a table name mysql-mimic's SHOW COLUMNS cannot take (a NUL, a control byte)
            table = data[: data.index(b"\x00")].decode("utf-8", "replace")
            log.warning("mysql connection %s: COM_FIELD_LIST %r: %s", self.connection_id, table, exc)
            raise MysqlError(
                f"Table '{self.session.database}.{table}' doesn't exist", E.NO_SUCH_TABLE
            ) from None

    async def handle_change_user(self, data: bytes) -> None:
        if not _change_user_is_whole(data, self.capabilities):  # see handle_field_list
            raise MysqlError("Malformed communication packet", E.MALFORMED_PACKET)
        await self._parsed(super().handle_change_user, data)

    async def handle_init_db(self, data: bytes) -> None:
        await self._parsed(super().handle_init_db, data)

    async def _parsed(self, handler: Any, data: bytes) -> None:
        try:
            await handler(data)
        except (struct.error, IndexError, UnicodeDecodeError) as exc:
            log.info("mysql connection %s: malformed packet (%s)", self.connection_id, exc)
            raise MysqlError("Malformed communication packet", E.MALFORMED_PACKET) from None

    def _sync_status(self, db: DbSession) -> None:
        self.status_flags = _STATUS[db.autocommit][db.in_transaction]

    async def handle_query(self, data: bytes) -> None:
        try:
            await self._handle_query(data)
        except UnicodeError as exc:  # bytes that are not UTF-8 where the statement needs text
            log.info("mysql connection %s: statement is not valid UTF-8 (%s)", self.connection_id, exc)
            raise MysqlError(
                f"Invalid utf8mb4 character string in the statement ({getattr(exc, 'reason', exc)})", E.PARSE
            ) from None

    async def _handle_query(self, data: bytes) -> None:
        session: FakeSession = self.session
        db = session.db
        if self._query_attributes:
            sql = packets.parse_com_query(self.capabilities, self.client_charset, data).sql
        else:
            sql = data.decode("utf-8", "surrogateescape")
        fault = None
        faults = self.fake.faults
        if faults:
            fault = await before_query(self, faults, sql)
            if fault is None:
                return
        m = _AUTOCOMMIT.match(sql)
        try:
            if m:
                value = m.group(1).upper() in ("1", "ON", "TRUE")
                with self.fake.store.lock:
                    db.set_autocommit(value)
                session.variables.set("autocommit", value)
                result = Result()
            else:
                try:
                    result = db.execute(sql, require_db=session.database is not None)
                except Busy:
                    result = await asyncio.get_running_loop().run_in_executor(
                        None, db.execute_waiting, sql, session.database is not None
                    )
        except NotMine:
            await super().handle_query(data)
            self._sync_status(db)
            return
        self._sync_status(db)
        self.fake.queries += 1
        if result.columns is None:
            await self.stream.write(self.ok(affected_rows=result.affected, last_insert_id=result.insert_id))
            return
        self._write_rows(result)
        if fault is not None and fault.bandwidth:
            await send_paced(self, fault.bandwidth)
        await self.stream.drain()

    def _write_rows(self, result: Result) -> None:
        assert result.columns is not None
        plan = result.plan
        caps = self.capabilities
        header: list[bytes] | None = None
        cached = plan.extra.get("wire") if plan is not None and plan.columns is result.columns else None
        if cached is not None and cached[0] == caps:
            header = cached[1]
        if header is None:
            header = [packets.make_column_count(caps, len(result.columns))]
            header += [self._column_def(c) for c in result.columns]
            if plan is not None and plan.columns is result.columns:
                plan.extra["wire"] = (caps, header)
        buf = self.stream.inner._buffer
        seq = 1
        for payload in header:
            seq = _frame(buf, payload, seq)
        deprecate = self._deprecate_eof
        eof = b""
        if not deprecate:
            cached_eof = self._eof_cache.get(self.status_flags)
            if cached_eof is None:
                cached_eof = self._eof_cache[self.status_flags] = self.eof()
            eof = cached_eof
            seq = _frame(buf, eof, seq)
        scales = [c.scale for c in result.columns]
        for row in result.rows or ():
            rowbuf = bytearray()
            for v, scale in zip(row, scales, strict=False):
                if v is None:
                    rowbuf.append(0xFB)
                    continue
                b = _text_value(v, scale)
                n = len(b)
                if n < 251:
                    rowbuf.append(n)
                else:
                    rowbuf += _lenenc(n)
                rowbuf += b
            if len(rowbuf) >= _MAX_PAYLOAD:
                raise E.SqlError(
                    E.UNKNOWN, message="row larger than 16 MB is not supported by the simdb fake"
                )
            seq = _frame(buf, rowbuf, seq)
        n_rows = len(result.rows or ())
        final = self.ok(eof=True, affected_rows=n_rows) if deprecate else eof
        seq = _frame(buf, final, seq)
        self.stream.inner.seq.value = seq & 0xFF

    def _column_def(self, c: ColInfo) -> bytes:
        return column_definition(self.fake.store.database if c.table else "", c)


class FakeServer(MysqlServer):  # type: ignore[misc]
    """mysql-mimic server over a :class:`Store`, with authentication and one database."""

    def __init__(
        self, store: Store, user: str = "root", password: str = "", limits: WireLimits | None = None
    ) -> None:
        self.limits = limits or WireLimits()
        super().__init__(
            session_factory=lambda: FakeSession(self),
            identity_provider=_Identity(user, password),
            capabilities=DEFAULT_SERVER_CAPABILITIES | Capabilities.CLIENT_TRANSACTIONS,
        )
        self.store = store
        self.queries = 0
        self.connections = 0
        self.faults: MySQLFaultPlan | None = None
        """Fault rules (``docs/faults.md``); None or empty: no fault hook at all."""

    def has_database(self, name: str) -> bool:
        """Whether ``name`` is a database this server has."""
        return name.lower() in (self.store.database.lower(), "information_schema")

    async def run_plan(self, db: DbSession, plan: Any) -> Result:
        """Run a plan for mysql-mimic's slow path."""
        with self.store.lock:
            return db.run(plan, [])

    async def _client_connected_cb(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = CheckedStream(reader, writer, self.capabilities, self.limits)
        try:
            session = self.session_factory()
            connection = FakeConnection(
                self,
                stream=stream,
                session=session,
                control=self.control,
                server_capabilities=self.capabilities,
                identity_provider=self.identity_provider,
                ssl=self.ssl,
            )
        except Exception:
            log.exception("cannot set up a MySQL connection")
            writer.close()
            return
        if self.faults and await on_connect(self.faults, stream):
            writer.close()
            await session.close()
            return
        try:
            connection_id = await self.control.add(connection)
            connection.connection_id = connection_id
        except TooManyConnections:
            await stream.write(connection.error(msg="Too many connections", code=1040))
            writer.close()
            await session.close()
            return
        self.connections += 1
        try:
            await connection.start()
        except asyncio.CancelledError:
            log.info("connection %s closed: server stopping", connection_id)
        except (ConnectionError, asyncio.IncompleteReadError, EOFError) as exc:
            log.info("connection %s ended: %s", connection_id, exc)
        except Exception as exc:
            log.warning("connection %s dropped after a protocol error: %s", connection_id, exc)
        finally:
            writer.close()
            await session.close()  # also when the handshake failed: release the SQLite connection
            await self.control.remove(connection_id)


class ServerThread:
    """Runs a :class:`FakeServer` on its own event loop in a daemon thread."""

    def __init__(self, server: FakeServer, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = server
        self.host = host
        self.port = port
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="simdb-mysql", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start_server(host=self.host, port=self.port))
            self.port = int(self.server.sockets()[0].getsockname()[1])
        except BaseException as exc:
            self._error = exc
            self.loop.close()  # now, not from the collector at exit (which prints an ignored traceback)
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.server.close()
        self.loop.run_until_complete(self.server.wait_closed())
        self.loop.close()

    def start(self) -> int:
        """Start serving; returns the bound port."""
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self.port

    def stop(self) -> None:
        """Close the listener, cancel every connection (rolling back its session), join the thread."""
        if not self._thread.is_alive():
            return

        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=10)
        except Exception as exc:  # still stop the loop below
            log.warning("mysql server shutdown: %s", exc)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
