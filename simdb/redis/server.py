"""The RESP front end: an asyncio server on its own thread, hiredis parsing the requests.

Per connection, every chunk that arrives is parsed (inline commands by
:func:`~simdb.redis.resp.split_inline`, RESP arrays by ``hiredis.Reader``), all complete
commands are run under the engine lock, and their replies are written back in one
``write``. Protocol violations get Redis's own error, a log line, and the connection is
closed, as Redis does; the server keeps serving everyone else. Commands that may block
(``BLPOP`` and friends) run on a worker thread while the connection waits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import threading
import time
from typing import Any

import hiredis

from simdb.redis import messages as msg
from simdb.redis.engine import BLOCKING_COMMANDS, RedisEngine, Session
from simdb.redis.fault_hook import ANSWERED, HELD, fault_hook
from simdb.redis.redisparse import RedisParser
from simdb.redis.resp import (
    MAX_INLINE,
    MAX_MULTIBULK_LEN,
    CrossProtocolAttack,
    HeaderWalker,
    ProtocolViolation,
    check_cross_protocol,
    check_request,
    check_unauthenticated,
    error,
    request_size,
    split_inline,
)

log = logging.getLogger("simdb.redis")

MIN_ARG_BYTES = 6
"""The shortest an argument can be on the wire (``$0\r\n\r\n``)."""
_COUNT = re.compile(rb"\*(\d{7,})")
"""An array header with a count worth a look before hiredis sees it (hiredis allocates the list at once)."""


class _Connection(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: RespServer) -> None:
        self.server = server
        self.engine = server.engine
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        self.reader = hiredis.Reader()
        self.unconsumed = 0  # bytes fed to hiredis and not yet returned as requests
        self.walker: HeaderWalker | None = None
        self.slow: RedisParser | None = None  # Redis's own parser, once hiredis refused the input
        self.inline = b""
        self.blocked = False
        self.backlog: list[bytes] = []
        self.out: list[bytes] | None = None
        self.peer = "?"
        self.lost = False
        self.paused = False  # a fault holds this connection (latency, stall): input waits in backlog
        self.exec_delay = 0.0  # latency faults of commands queued in MULTI, paid at EXEC
        self.dropped = False  # closed for a limit: what still arrives is discarded
        self.buffered = 0  # bytes of input held (incomplete requests, backlog while blocked)
        self.backlog_bytes = 0
        self.progress = False  # a request completed in the chunk being processed
        self.last_io = time.monotonic()
        self.partial_since: float | None = None  # when the incomplete request (if any) started

    # -- asyncio callbacks -------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername") or ("?", 0)
        local = transport.get_extra_info("sockname") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"
        # No engine lock here: fakeredis takes it itself to number the client.
        self.session = self.engine.session(self._push, self.peer, f"{local[0]}:{local[1]}")
        self.session.on_kill = self._killed
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.lost = True
        self._release()
        if self.session is None:
            return
        if self.paused:  # a fault holds the connection: nothing else will close the session
            self.paused = False
            with self.engine.lock:
                self.session.close()
            return
        if self.blocked:  # wake the worker; _unblock closes the session when it returns
            self.wake()
            return
        with self.engine.lock:
            self.session.close()

    def _killed(self) -> None:
        """``CLIENT KILL`` picked this connection: close it (after any reply being assembled)."""
        if self.out is None and self.transport is not None:
            self.transport.close()

    def wake(self) -> None:
        """End a blocking command early, as ``CLIENT UNBLOCK ... TIMEOUT`` would."""
        assert self.session is not None
        with self.engine.lock:
            sock = self.session.sock
            if sock._blocked and sock._db is not None:
                sock._unblock_reason = b"timeout"
                sock._db.wake_all()

    def data_received(self, data: bytes) -> None:
        if self.dropped:
            return
        if data:
            self.last_io = time.monotonic()
        if self.blocked:
            self.backlog.append(data)
            self.backlog_bytes += len(data)
            self._account()
            return
        self.progress = False
        transport = self.transport
        assert transport is not None and self.session is not None
        out: list[bytes] = []
        self.out = out
        try:
            with self.engine.lock:
                try:
                    self._guarded(data, out)
                finally:
                    self.engine.flush_heads()
        except ProtocolViolation as exc:
            log.warning("redis client %s: %s; closing the connection", self.peer, exc)
            out.append(error(str(exc)))
            self.session.closing = True
        except CrossProtocolAttack:
            log.warning("redis client %s: %s", self.peer, msg.SECURITY_ATTACK)
            out.clear()  # redis-server frees the client without flushing what it had queued
            self.session.closing = True
        except Exception as exc:  # a simdb bug: say so to this client, keep serving the others
            log.exception("redis client %s: internal error; closing the connection", self.peer)
            out.append(error(msg.INTERNAL.format("request", f"{type(exc).__name__}: {exc}")))
            self.session.closing = True
        finally:
            self.out = None
        if out:
            transport.write(b"".join(out))
        if self.session.closing:
            transport.close()
        self._account()

    # -- limits ------------------------------------------------------------------------------------
    def _account(self) -> None:
        """Count the input held for this client; enforce the query buffer limits (see ``limits.py``)."""
        size = self.unconsumed + len(self.inline) + self.backlog_bytes + (self.slow.held if self.slow else 0)
        server = self.server
        server.buffered += size - self.buffered
        self.buffered = size
        if server.buffered > server.peak_buffered:
            server.peak_buffered = server.buffered
        if not size:
            self.partial_since = None
        elif self.partial_since is None or self.progress:
            self.partial_since = time.monotonic()
        limits = self.engine.limits
        if size > limits.query_buffer_limit:
            log.warning(
                "redis client %s: Closing client that reached max query buffer length: qbuf=%d, "
                "client-query-buffer-limit=%d",
                self.peer,
                size,
                limits.query_buffer_limit,
            )
            self.drop()
        elif limits.maxmemory_clients and server.buffered > limits.maxmemory_clients:
            server.evict()

    def drop(self) -> None:
        """Close at once without a reply, as Redis frees a client, and free its input."""
        self.dropped = True
        self._release()
        if self.transport is not None:
            self.transport.abort()

    def _release(self) -> None:
        self.reader = hiredis.Reader()
        self.unconsumed = 0
        self.inline = b""
        self.walker = None
        self.backlog, self.backlog_bytes = [], 0
        self.slow = None
        self.server.buffered -= self.buffered
        self.buffered = 0
        self.partial_since = None

    def check_timeouts(self, now: float) -> None:
        """Close this client if idle past ``timeout`` or stuck in one request past the partial timeout."""
        if self.dropped or self.lost or self.session is None:
            return
        limits = self.engine.limits
        since = self.partial_since
        if (
            limits.partial_request_timeout
            and since is not None
            and now - since > limits.partial_request_timeout
        ):
            log.warning(
                "redis client %s: closing it: a request stayed incomplete for %.1f s "
                "(%d bytes held; simdb's partial request timeout)",
                self.peer,
                now - since,
                self.buffered,
            )
            self.drop()
        elif (
            limits.timeout
            and not self.blocked
            and not self.session.sock._pubsub
            and now - self.last_io > limits.timeout
        ):
            log.info("redis client %s: Closing idle client", self.peer)
            self.drop()

    # -- parsing and running -----------------------------------------------------------------------
    def _guarded(self, data: bytes, out: list[bytes]) -> None:
        """:meth:`_process`, but no array header that can never complete reaches hiredis.

        hiredis allocates an array's list as soon as it reads the header: ``*2147483647`` would cost
        16 GB of address space and seconds to free. A request of ``N`` arguments needs at least
        ``6 N`` bytes of query buffer, so one whose count cannot fit in ``client-query-buffer-limit``
        is closed at once, as Redis closes it once the buffer fills; an array header where an argument
        belongs gets Redis's ``expected '$'`` error.
        """
        if self.slow is not None:  # Redis's own parser allocates nothing ahead: no need to look
            self._process(data, out)
            return
        most = self.engine.limits.query_buffer_limit // MIN_ARG_BYTES
        done = 0
        for m in _COUNT.finditer(data):
            digits = m.group(1)
            if m.start() < done or (int(digits) <= most and digits[:1] != b"0"):
                continue
            self._process(data[done : m.start()], out)
            done = m.start()
            if self.session is None or self.session.closing or self.dropped:
                return
            if self.blocked:
                break
            if self.slow is not None:
                self._process(data[done:], out)
                return
            if self.inline:
                continue  # inside an inline command's line
            walker = self.walker
            if not self.unconsumed:
                if int(digits) > MAX_MULTIBULK_LEN or digits[:1] == b"0":  # Redis: no leading zeros
                    raise ProtocolViolation(msg.PROTO_INVALID_MULTIBULK)
                if int(digits) <= most:
                    continue
                if int(m.group(1)) > MAX_MULTIBULK_LEN:
                    raise ProtocolViolation(msg.PROTO_INVALID_MULTIBULK)
                if not self.session.authed:
                    raise ProtocolViolation(msg.PROTO_UNAUTH_MULTIBULK)
                log.warning(
                    "redis client %s: Closing client that reached max query buffer length: a request of "
                    "%s arguments cannot fit in client-query-buffer-limit=%d",
                    self.peer,
                    m.group(1).decode(),
                    self.engine.limits.query_buffer_limit,
                )
                if out and self.transport is not None:  # the replies to the requests before it
                    self.transport.write(b"".join(out))
                    out.clear()
                self.drop()
                return
            if walker is not None and walker.at_element_header():
                raise ProtocolViolation(msg.PROTO_EXPECTED_DOLLAR.format("*"))
        if self.blocked:
            self.backlog.append(data[done:])
            self.backlog_bytes += len(data) - done
            return
        self._process(data[done:], out)

    def _slow_process(self, out: list[bytes]) -> None:
        """Run the requests :class:`RedisParser` finds (after hiredis refused this connection's input)."""
        session, parser = self.session, self.slow
        assert session is not None and parser is not None
        while True:
            parser.authenticated = session.authed
            argv = parser.next()
            if argv is None:
                return
            self.progress = True
            if not argv:
                continue
            check_cross_protocol(argv)
            if argv[0].lower() in BLOCKING_COMMANDS and session.sock._transaction is None:
                self._block(argv)
                return
            out.append(session.execute(argv))
            if session.closing:
                return

    def _slow_from(self, data: bytes, out: list[bytes]) -> None:
        """Hand ``data`` (starting at a request boundary) and all that follows to Redis's own parser."""
        assert self.session is not None
        self.reader = hiredis.Reader()
        self.unconsumed = 0
        self.walker = None
        self.slow = RedisParser(self.engine.limits.proto_max_bulk_len, self.session.authed)
        self.slow.feed(data)
        self._slow_process(out)

    def _process(self, data: bytes, out: list[bytes]) -> None:
        session = self.session
        assert session is not None
        if self.slow is not None:
            self.slow.feed(data)
            self._slow_process(out)
            return
        if self.inline or (not self.unconsumed and data and data[:1] != b"*"):
            data = self._inline(data, out)
            if not data:
                return
        # hiredis hands "+x" inside an array over as if it were "$1 x"; Redis refuses it. Where one may
        # be, Redis's own parser takes over (a rare pattern: values containing "\n+" only cost speed).
        status = b"\n+" in data
        if status and not self.unconsumed:
            self._slow_from(data, out)
            return
        reader = self.reader
        if data:
            reader.feed(data)
            self.unconsumed += len(data)
        completed = False
        while True:
            if status and completed and self.unconsumed:
                start = len(data) - self.unconsumed
                if 0 <= start < len(data):
                    self._slow_from(data[start:], out)
                    return
            try:
                req = reader.gets()
            except hiredis.ProtocolError:
                rest = self._pending(data)
                if rest is None:  # the request began in an earlier read: say what Redis would say
                    HeaderWalker(max_bulk=self.engine.limits.proto_max_bulk_len).feed(data)
                    raise ProtocolViolation(msg.PROTO_INVALID_MULTIBULK) from None
                # Input hiredis refuses: from here on this connection is parsed as Redis parses it.
                self.reader = hiredis.Reader()
                self.unconsumed = 0
                self.walker = None
                self.slow = RedisParser(self.engine.limits.proto_max_bulk_len, session.authed)
                self.slow.feed(rest)
                self._slow_process(out)
                return
            if req is False:
                break
            self.progress = True
            # where this request began: only needed when it is refused below
            start = -1 if type(req) is list else len(data) - self.unconsumed
            if req is None and (start < 0 or data[start : start + 1] == b"*"):
                self.unconsumed -= 5  # *-1: a null request, which Redis skips as it does *0
                completed = True
                continue
            if type(req) is not list and start >= 0:
                # "$4", "+x", ":1" at the top: hiredis reads a reply, Redis an inline command.
                self.reader = hiredis.Reader()
                self.unconsumed = 0
                self.walker = None
                self.slow = RedisParser(self.engine.limits.proto_max_bulk_len, session.authed)
                self.slow.feed(data[start:])
                self._slow_process(out)
                return
            try:
                argv = check_request(req)
            except ProtocolViolation:
                start = len(data) - self.unconsumed
                if start < 0:
                    raise
                # Not an array of bulk strings: Redis's parser says exactly what it would.
                self.reader = hiredis.Reader()
                self.unconsumed = 0
                self.walker = None
                self.slow = RedisParser(self.engine.limits.proto_max_bulk_len, session.authed)
                self.slow.feed(data[start:])
                self._slow_process(out)
                return
            check_cross_protocol(argv)
            if not session.authed:
                check_unauthenticated(argv)
            # Exact: Redis and hiredis accept only the canonical encoding of a request.
            self.unconsumed -= request_size(argv)
            completed = True
            if not argv:
                continue
            faults = self.server.faults
            if faults is not None and (self.exec_delay or faults.watches(argv[0])):
                hook = fault_hook(self, faults, argv, out)
                if hook is HELD:
                    self.walker = None
                    return
                if hook is ANSWERED:
                    continue
            if argv[0].lower() in BLOCKING_COMMANDS and session.sock._transaction is None:
                self.walker = None
                self._block(argv)
                return
            out.append(session.execute(argv))
            if session.closing:
                return
        if not self.unconsumed:
            self.walker = None
            return
        if completed:
            start = len(data) - self.unconsumed
            if 0 <= start < len(data) and data[start] != 42:  # not "*": Redis reads this one inline
                self.reader = hiredis.Reader()
                self.unconsumed = 0
                self.walker = None
                self._process(data[start:], out)
                return
        # hiredis waits for the rest of a request: check its headers now (oversized lengths).
        if completed or self.walker is None:
            tail = self._pending(data)
            if tail is None:
                return
            self.walker = HeaderWalker(
                unauthenticated=not session.authed, max_bulk=self.engine.limits.proto_max_bulk_len
            )
            data = tail
        self.walker.feed(data)

    def _pending(self, data: bytes) -> bytes | None:
        """The bytes of the incomplete request, if it starts within ``data`` (``None`` if not)."""
        if self.unconsumed > len(data):
            return None
        return data[len(data) - self.unconsumed :]

    def _inline(self, data: bytes, out: list[bytes]) -> bytes:
        """Run inline commands; return what follows them from the first RESP array on."""
        session = self.session
        assert session is not None
        buf = self.inline + data if self.inline else data
        self.inline = b""
        while buf:
            if buf[:1] == b"*":
                return buf
            nl = buf.find(b"\n")
            if buf.find(b"\0", 0, nl if nl >= 0 else len(buf)) >= 0:
                nl = -1  # Redis looks for the newline with strchr: a NUL before it hides it for good
            if nl < 0:
                if len(buf) > MAX_INLINE:
                    raise ProtocolViolation(msg.PROTO_INLINE_TOO_BIG)
                self.inline = buf
                return b""
            line = buf[:nl]
            buf = buf[nl + 1 :]
            if len(line) > MAX_INLINE:
                raise ProtocolViolation(msg.PROTO_INLINE_TOO_BIG)
            self.progress = True
            argv = split_inline(line)
            if not argv:
                continue
            check_cross_protocol(argv)
            faults = self.server.faults
            if faults is not None and (self.exec_delay or faults.watches(argv[0])):
                hook = fault_hook(self, faults, argv, out)
                if hook is HELD:
                    self.inline = buf
                    return b""
                if hook is ANSWERED:
                    continue
            if argv[0].lower() in BLOCKING_COMMANDS and session.sock._transaction is None:
                self.inline = buf
                self._block(argv)
                return b""
            out.append(session.execute(argv))
            if session.closing:
                return b""
        return b""

    # -- blocking commands -------------------------------------------------------------------------
    def _block(self, argv: list[bytes]) -> None:
        assert self.transport is not None
        self.blocked = True  # keep reading (to notice a disconnect); data_received queues the input
        loop = self.server.loop
        assert loop is not None
        fut = loop.run_in_executor(self.server.executor, self._run_blocking, argv)
        fut.add_done_callback(self._unblock)

    def _run_blocking(self, argv: list[bytes]) -> bytes:
        session = self.session
        assert session is not None
        with self.engine.lock:
            self.engine.blocked += 1
            try:
                return session.execute(argv)
            finally:
                self.engine.blocked -= 1

    def resume(self) -> None:
        """Go on with the input that arrived while a fault or a blocking command held the connection."""
        self.blocked = False
        backlog, self.backlog = self.backlog, []
        self.backlog_bytes = 0
        self.data_received(b"")
        for chunk in backlog:
            self.data_received(chunk)

    def _unblock(self, fut: asyncio.Future[bytes]) -> None:
        transport = self.transport
        assert transport is not None and self.session is not None
        if self.lost or transport.is_closing():
            self.blocked = False
            with self.engine.lock:
                self.session.close()
            return
        try:
            reply = fut.result()
        except Exception as exc:  # pragma: no cover - execute() turns errors into replies
            log.exception("blocking command failed")
            reply = error(msg.INTERNAL.format("blocking command", exc))
        transport.write(reply)
        self.resume()

    # -- pushes (pub/sub) --------------------------------------------------------------------------
    def _push(self, data: bytes) -> None:
        if threading.get_ident() != self.server.thread_id:
            loop = self.server.loop
            if loop is not None:
                loop.call_soon_threadsafe(self._push, data)
            return
        if self.out is not None:
            self.out.append(data)
        elif self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


CRON_INTERVAL = 0.1
"""Seconds between checks of the clients' timeouts (Redis's clientsCron runs at ``hz`` 10)."""


class RespServer:
    """A RESP server for one :class:`RedisEngine`, on an event loop in a daemon thread.

    :attr:`buffered` is the input held for all clients now, :attr:`peak_buffered` the most it has been:
    the limits in :attr:`RedisEngine.limits` keep both bounded.
    """

    def __init__(self, engine: RedisEngine, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine = engine
        self.host = host
        self.port = port
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread_id: int | None = None
        self.connections: set[_Connection] = set()
        self.faults: Any = None
        """The fake's :class:`~simdb.redis.faults.RedisFaultPlan`; None: no fault hook at all."""
        self.buffered = 0
        self.peak_buffered = 0
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=64, thread_name_prefix="simdb-redis-block"
        )
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> tuple[str, int]:
        """Bind and serve; return ``(host, port)`` once accepting connections."""
        self._thread = threading.Thread(target=self._run, name="simdb-redis", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise self._error
        return self.host, self.port

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        self.thread_id = threading.get_ident()
        try:
            self._server = loop.run_until_complete(
                loop.create_server(
                    lambda: _Connection(self), self.host, self.port, reuse_address=True, backlog=511
                )
            )
            sock = self._server.sockets[0]
            self.port = int(sock.getsockname()[1])
            self.engine.port = self.port
            self.engine.config[b"port"] = str(self.port).encode()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.call_later(CRON_INTERVAL, self._cron)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _cron(self) -> None:
        now = time.monotonic()
        self.engine.objects.tick()
        for conn in list(self.connections):
            conn.check_timeouts(now)
        if self.loop is not None and self.loop.is_running():
            self.loop.call_later(CRON_INTERVAL, self._cron)

    def evict(self) -> None:
        """Close the clients holding the most input until all together fit in ``maxmemory-clients``."""
        limit = self.engine.limits.maxmemory_clients
        for conn in sorted(self.connections, key=lambda c: c.buffered, reverse=True):
            if self.buffered <= limit or not conn.buffered:
                return
            log.warning(
                "redis client %s: Evicting client: qbuf=%d, all clients %d > maxmemory-clients %d",
                conn.peer,
                conn.buffered,
                self.buffered,
                limit,
            )
            self.engine.evicted_clients += 1
            conn.drop()

    def stop(self) -> None:
        """Close every connection and the listening socket; stop the loop thread."""
        loop = self.loop
        if loop is None or self._thread is None:
            return

        async def _shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for conn in list(self.connections):
                if conn.blocked:
                    conn.wake()
                if conn.transport is not None:
                    conn.transport.close()
            await asyncio.sleep(0)
            loop.stop()

        if loop.is_running():
            asyncio.run_coroutine_threadsafe(_shutdown(), loop)
        self._thread.join(timeout=10)
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.loop = None

    def __enter__(self) -> RespServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
