"""The Thrift server loop: one thread, non-blocking sockets, a selector.

Why not thriftpy2's ``make_server``: it closes connections idle for a few
seconds (pooled clients break) and drops the connection when a handler
raises. Why one thread and not one per connection: with the GIL, a single
loop that answers every ready socket in turn serves more calls per second
than threads handing the GIL around (measured: see ``docs/thrift-serve.md``).

What the loop guarantees:

* idle connections stay open for as long as the client keeps them;
* a complete message is answered (or, for ``oneway``, journaled) in order,
  per connection; injected latency, a stall (never answered) or a bandwidth limit (the
  reply sent piece by piece at the rule's pace) affect only that connection;
* bad input (see :class:`~simdb.thrift.scan.Limits`) gets a
  ``TApplicationException(PROTOCOL_ERROR)`` when the message header could be
  read, and a log line; on a framed transport the connection then carries on
  with the next frame, on a buffered one it is closed (there is no way to find
  the next message); a message that stalls half-sent for longer than
  ``read_timeout_s`` closes its connection; every other connection is unaffected.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import select
import socket
import struct
import threading
import time
from typing import Any, Literal

from simdb.faults.timing import SPIN_S
from simdb.thrift.processor import Answer, Processor
from simdb.thrift.scan import (
    Incomplete,
    Limits,
    ProtocolViolation,
    has_signature,
    message_end,
    read_header,
)
from simdb.thrift.wire import encode_app_error

log = logging.getLogger("simdb.thrift.server")

TransportName = Literal["buffered", "framed"]

_I32 = struct.Struct(">i")
_LINGER_RESET = struct.pack("ii", 1, 0)
_RECV = 256 * 1024
_PROTOCOL_ERROR = 7
_MAX_HEADER = 65536 + 32
_ACCEPT_PAUSE = 0.5


_READ = select.POLLIN
_READ_ANY = select.POLLIN | select.POLLHUP | select.POLLERR
_WRITE = select.POLLOUT


class _Poller:
    """``epoll`` where there is one (Linux), else ``poll``; both with a timeout in seconds."""

    def __init__(self) -> None:
        self._epoll = hasattr(select, "epoll")
        self._impl: Any = select.epoll() if self._epoll else select.poll()

    def register(self, fd: int, events: int) -> None:
        self._impl.register(fd, events)

    def modify(self, fd: int, events: int) -> None:
        self._impl.modify(fd, events)

    def unregister(self, fd: int) -> None:
        self._impl.unregister(fd)

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        if self._epoll:
            result: list[tuple[int, int]] = self._impl.poll(-1 if timeout is None else timeout)
            return result
        return list(self._impl.poll(None if timeout is None else int(timeout * 1000) + 1))

    def close(self) -> None:
        if self._epoll:
            self._impl.close()


class _Conn:
    __slots__ = (
        "buf",
        "closing",
        "discard",
        "need",
        "out",
        "paced",
        "partial_since",
        "peer",
        "rate",
        "sock",
        "waiting",
        "writing",
    )

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.peer = peer
        self.buf: bytes | bytearray = b""
        self.out = b""
        self.discard = 0
        self.need = 0
        self.waiting = False
        self.writing = False
        self.closing = False
        self.partial_since = 0.0
        self.paced = b""
        self.rate = 0.0


_PACE = Answer(b"", b"")
"""Timer marker: send the next piece of a bandwidth-limited reply (``_Conn.paced``)."""
_PACE_TICK_S = 0.005


class ThriftServer:
    """Serve a :class:`Processor` on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self,
        processor: Processor,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        transport: TransportName = "buffered",
        limits: Limits | None = None,
    ) -> None:
        if transport not in ("buffered", "framed"):
            raise ValueError(f"transport must be buffered or framed, not {transport!r}")
        self.processor = processor
        self.protocol = processor.protocol
        self.transport = transport
        self.framed = transport == "framed"
        self._binary = self.protocol == "binary"
        self.limits = limits or Limits()
        self._listener = socket.create_server((host, port), backlog=1024, reuse_port=False)
        self._listener.setblocking(False)
        self._poller = _Poller()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._conns: dict[int, _Conn] = {}
        self._partial: set[_Conn] = set()
        self._accept_paused_until = 0.0
        self._timers: list[tuple[float, int, _Conn, Answer, bytes, float]] = []
        self._tick = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.connections_total = 0
        self.bad_input_total = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """The bound address."""
        return str(self._listener.getsockname()[0])

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._listener.getsockname()[1])

    @property
    def open_connections(self) -> int:
        """Connections currently open."""
        return len(self._conns)

    def start(self) -> ThriftServer:
        """Serve in a daemon thread; the socket is already listening, so clients can connect now."""
        self._poller.register(self._listener.fileno(), _READ)
        self._poller.register(self._wake_r.fileno(), _READ)
        self._thread = threading.Thread(target=self._run, name=f"simdb-thrift-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every connection; wait for the loop to end."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        else:
            self._close_all()

    def _close_all(self) -> None:
        for conn in list(self._conns.values()):
            self._close(conn)
        for s in (self._listener, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                s.close()
        with contextlib.suppress(OSError, ValueError):
            self._poller.close()

    # -- the loop ----------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            listen_fd = self._listener.fileno()
            wake_fd = self._wake_r.fileno()
            conns = self._conns
            poll = self._poller.poll
            while not self._stopping:
                busy = self._timers or self._partial or self._accept_paused_until
                timeout = self._timeout() if busy else None
                for fd, events in poll(timeout):
                    conn = conns.get(fd)
                    if conn is not None:
                        try:
                            if events & _WRITE:
                                self._flush(conn)
                            if events & _READ_ANY and conn.sock.fileno() >= 0:
                                self._read(conn)
                        except Exception:  # a bug must cost one connection, never the server
                            log.exception("thrift %s: unexpected error; closing the connection", conn.peer)
                            self._close(conn)
                    elif fd == listen_fd:
                        self._accept()
                    elif fd == wake_fd:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(4096)
                if self._timers or self._partial or self._accept_paused_until:
                    try:
                        self._due()
                    except Exception:
                        log.exception("thrift: unexpected error in a timer")
        except Exception:
            log.exception("thrift server loop failed")
        finally:
            self._close_all()

    def _timeout(self) -> float | None:
        # epoll rounds its timeout up to whole milliseconds: wake SPIN_S before a reply is due and
        # poll without waiting from then on, so injected latency ends on time (simdb.faults.timing).
        deadline: float | None = self._timers[0][0] - SPIN_S if self._timers else None
        partial = [c.partial_since for c in self._partial if c.partial_since]
        if partial:
            cut = min(partial) + self.limits.read_timeout_s
            deadline = cut if deadline is None else min(deadline, cut)
        if self._accept_paused_until:
            cut = self._accept_paused_until
            deadline = cut if deadline is None else min(deadline, cut)
        if deadline is None:
            return None
        return max(0.0, deadline - time.monotonic())

    def _due(self) -> None:
        now = time.monotonic()
        if self._accept_paused_until and self._accept_paused_until <= now:
            self._accept_paused_until = 0.0
            self._poller.register(self._listener.fileno(), _READ)
        while self._timers and self._timers[0][0] <= now:
            _, _, conn, answer, seq, _started = heapq.heappop(self._timers)
            if conn.sock.fileno() < 0:
                continue
            conn.waiting = False
            if answer is _PACE:
                self._pace(conn)
                if conn.waiting:
                    continue
            elif answer.reset:
                self._reset(conn)
                continue
            elif answer.stall:
                conn.waiting = True  # never answered: the client's timeout is what ends the call
                continue
            elif answer.has_reply:
                if answer.bandwidth > 0:
                    self._start_pace(conn, self._reply(answer, seq), answer.bandwidth)
                    if conn.waiting:
                        continue
                else:
                    self._send(conn, self._reply(answer, seq))
            if conn.buf and conn.sock.fileno() >= 0:
                self._drain(conn)
        cut = now - self.limits.read_timeout_s
        for conn in [c for c in self._partial if c.partial_since and c.partial_since <= cut]:
            self._bad(
                conn,
                f"message incomplete after {self.limits.read_timeout_s:g} s "
                f"({len(conn.buf)} bytes received); closing the connection",
            )
            self._close(conn)

    def _accept(self) -> None:
        while True:
            try:
                sock, addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # Out of file descriptors or similar: stop accepting for a moment rather than spin on
                # a listener that stays readable.
                log.warning(
                    "thrift: accept failed (%s); pausing new connections for %.1f s", exc, _ACCEPT_PAUSE
                )
                with contextlib.suppress(OSError, ValueError):
                    self._poller.unregister(self._listener.fileno())
                self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE
                return
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(sock, f"{addr[0]}:{addr[1]}" if isinstance(addr, tuple) else str(addr))
            self._conns[sock.fileno()] = conn
            self._poller.register(sock.fileno(), _READ)
            self.connections_total += 1

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if not data:
            if conn.buf:
                self._bad(conn, f"connection closed with {len(conn.buf)} bytes of an incomplete message")
            self._close(conn)
            return
        if conn.discard:
            if len(data) <= conn.discard:
                conn.discard -= len(data)
                return
            data = data[conn.discard :]
            conn.discard = 0
        if conn.buf:
            if isinstance(conn.buf, bytes):
                conn.buf = bytearray(conn.buf)  # grows in place from here on
            conn.buf += data
            if len(conn.buf) < conn.need:
                return  # the message is known to need more bytes than have arrived: do not rescan it
        else:
            conn.buf = data
            if not conn.waiting and self._fast(conn, data):
                return
        if not conn.waiting:
            self._drain(conn)

    def _fast(self, conn: _Conn, data: bytes) -> bool:
        """Answer ``data`` from the reply cache if it is exactly one known request (the hot path)."""
        n = len(data)
        off = 0
        if self.framed:
            if n < 4 or _I32.unpack_from(data, 0)[0] != n - 4:
                return False
            off = 4
        if self._binary:
            if n < off + 8 or data[off] != 0x80:
                return False
            a = off + 8 + _I32.unpack_from(data, off + 4)[0]
            b = a + 4
            if a < off + 8 or b > n:
                return False
        else:
            a = off + 2
            b = a
            while b < n and data[b] & 0x80:
                b += 1
            b += 1
            if b > n:
                return False
        started = time.perf_counter()
        hit = self.processor.cache.get(data[off:a] + data[b:])
        if hit is None or (hit.valid is not None and not hit.valid()):
            return False
        conn.buf = b""
        answer = hit.answer
        # Journal first, so a client that reads the journal after its reply always finds the call.
        self.processor.record_cached(hit, time.perf_counter() - started)
        if answer.has_reply:
            body = answer.prefix + data[a:b] + answer.suffix
            self._send(conn, _I32.pack(len(body)) + body if self.framed else body)
        return True

    def _reply(self, answer: Answer, seq: bytes) -> bytes:
        body = answer.prefix + seq + answer.suffix
        return _I32.pack(len(body)) + body if self.framed else body

    def _drain(self, conn: _Conn) -> None:
        """Answer every complete message in ``conn.buf`` (stops while a delayed reply is pending)."""
        limits = self.limits
        consumed = False
        while conn.buf and not conn.waiting and conn.sock.fileno() >= 0:
            buf = conn.buf
            if self.framed:
                if len(buf) < 4:
                    break
                size = _I32.unpack_from(buf, 0)[0]
                if size < 0 or size > limits.max_frame_size:
                    if not self._oversized_frame(conn, size):
                        break
                    continue
                if len(buf) < 4 + size:
                    conn.need = 4 + size
                    break
                msg = buf[4 : 4 + size]
                conn.buf = buf[4 + size :]
                try:
                    header, end = message_end(self.protocol, msg, 0, limits)
                    if end != len(msg):
                        raise ProtocolViolation(
                            f"{len(msg) - end} stray bytes after the message in its frame"
                        )
                except Incomplete:
                    self._protocol_error(conn, msg, "the frame ends before the message does", close=False)
                    continue
                except ProtocolViolation as exc:
                    self._protocol_error(conn, msg, str(exc), close=False)
                    continue
            else:
                try:
                    header, end = message_end(self.protocol, buf, 0, limits)
                except Incomplete as inc:
                    conn.need = inc.need
                    break
                except ProtocolViolation as exc:
                    self._protocol_error(conn, buf, str(exc), close=True)
                    return
                msg = buf[:end]
                conn.buf = buf[end:]
            consumed = True
            conn.need = 0
            started = time.perf_counter()
            answer = self.processor.process(bytes(msg), header, started)
            seq = msg[header.seq_start : header.seq_end]
            if answer.delay_s > 0:
                conn.waiting = True
                # Count the delay from when the request was read, not from when its answer was ready.
                due = time.monotonic() + answer.delay_s - (time.perf_counter() - started)
                heapq.heappush(self._timers, (due, next(self._tick), conn, answer, bytes(seq), started))
                break
            if answer.reset:
                self._reset(conn)
                return
            if answer.stall:
                conn.waiting = True  # never answered (later requests on this connection wait too)
                break
            if answer.has_reply:
                if answer.bandwidth > 0:
                    self._start_pace(conn, self._reply(answer, bytes(seq)), answer.bandwidth)
                    if conn.waiting:
                        break
                else:
                    self._send(conn, self._reply(answer, bytes(seq)))
        if conn.buf and not conn.waiting:
            if consumed or not conn.partial_since:
                conn.partial_since = time.monotonic()
                self._partial.add(conn)
        elif conn.partial_since:
            conn.partial_since = 0.0
            self._partial.discard(conn)

    def _start_pace(self, conn: _Conn, data: bytes, rate: float) -> None:
        """Send ``data`` at ``rate`` bytes per second; the connection's later requests wait for it."""
        conn.paced = data
        conn.rate = rate
        self._pace(conn)

    def _pace(self, conn: _Conn) -> None:
        """Send the next piece of a paced reply and schedule the one after (or finish)."""
        if conn.sock.fileno() < 0:
            conn.paced = b""
            return
        size = max(1, int(conn.rate * _PACE_TICK_S))
        piece, conn.paced = conn.paced[:size], conn.paced[size:]
        self._send(conn, piece)
        if conn.paced and conn.sock.fileno() >= 0:
            conn.waiting = True
            due = time.monotonic() + len(piece) / conn.rate
            heapq.heappush(self._timers, (due, next(self._tick), conn, _PACE, b"", 0.0))

    def _oversized_frame(self, conn: _Conn, size: int) -> bool:
        """Refuse a frame larger than allowed; returns True when the loop may go on."""
        if size < 0:
            self._bad(conn, f"negative frame size {size}; closing the connection")
            self._close(conn)
            return False
        buf = conn.buf
        try:
            header = read_header(self.protocol, buf[4:], 0, self.limits)
        except Incomplete:
            if len(buf) > _MAX_HEADER:
                self._bad(conn, "unreadable message header in an oversized frame; closing the connection")
                self._close(conn)
            return False
        except ProtocolViolation as exc:
            self._bad(
                conn,
                f"frame of {size} bytes exceeds the maximum of {self.limits.max_frame_size} "
                f"and its header is bad ({exc}); closing the connection",
            )
            self._close(conn)
            return False
        message = f"frame of {size} bytes exceeds the maximum frame size of {self.limits.max_frame_size}"
        self._bad(conn, f"{header.name}: {message}; skipping the frame")
        reply = encode_app_error(self.protocol, header.name, header.seqid, _PROTOCOL_ERROR, message)
        self._send(conn, self._frame(reply))
        have = len(buf) - 4
        if have >= size:
            conn.buf = buf[4 + size :]
        else:
            conn.discard = size - have
            conn.buf = b""
        return True

    def _frame(self, data: bytes) -> bytes:
        return _I32.pack(len(data)) + data if self.framed else data

    def _protocol_error(self, conn: _Conn, msg: bytes | bytearray, problem: str, *, close: bool) -> None:
        """A malformed message: answer PROTOCOL_ERROR when its header is readable, log, maybe close."""
        try:
            header = read_header(self.protocol, msg, 0, self.limits)
        except (Incomplete, ProtocolViolation) as exc:
            if close or not has_signature(self.protocol, msg):
                self._bad(conn, f"{problem}; closing the connection")
                self._close(conn)
                return
            # Framed, in this protocol, but the name or sequence id is unreadable (a negative name length):
            # the frame says where the next message starts, so answer without a name and go on.
            detail = str(exc) if isinstance(exc, ProtocolViolation) else "the header is cut short"
            message = f"bad message header: {detail}"
            self._bad(conn, message)
            self._send(conn, self._frame(encode_app_error(self.protocol, "", 0, _PROTOCOL_ERROR, message)))
            return
        message = f"bad request for {header.name}: {problem}"
        self._bad(conn, message + ("; closing the connection" if close else ""))
        reply = encode_app_error(self.protocol, header.name, header.seqid, _PROTOCOL_ERROR, message)
        self._send(conn, self._frame(reply))
        if close:
            conn.buf = b""
            self._close(conn, after_write=True)

    def _bad(self, conn: _Conn, message: str) -> None:
        self.bad_input_total += 1
        log.warning("thrift %s: %s", conn.peer, message)

    # -- writing -----------------------------------------------------------------------------------
    def _send(self, conn: _Conn, data: bytes) -> None:
        if conn.out:
            conn.out += data
            return
        try:
            sent = conn.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(conn)
            return
        if sent < len(data):
            conn.out = data[sent:]
            self._want_write(conn, True)

    def _flush(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        conn.out = conn.out[sent:]
        if not conn.out:
            self._want_write(conn, False)
            if conn.closing:
                self._close(conn)

    def _want_write(self, conn: _Conn, on: bool) -> None:
        if conn.sock.fileno() < 0:
            return
        # While replies are pending, stop reading more requests from this client (backpressure).
        conn.writing = on
        self._poller.modify(conn.sock.fileno(), _WRITE if on else _READ)

    def _reset(self, conn: _Conn) -> None:
        with contextlib.suppress(OSError):
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self._close(conn)

    def _close(self, conn: _Conn, after_write: bool = False) -> None:
        if after_write and conn.out:
            conn.closing = True  # close once the output is flushed
            conn.partial_since = 0.0
            return
        fd = conn.sock.fileno()
        if fd >= 0:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._poller.unregister(fd)
            self._conns.pop(fd, None)
        with contextlib.suppress(OSError):
            conn.sock.close()
        conn.buf = b""
        conn.need = 0
        conn.partial_since = 0.0
        self._partial.discard(conn)
