"""A raw Thrift client for contract checks: sends one call, returns the reply's bytes undecoded.

Unlike a generated client it keeps the reply as it came (the verifier checks
it on the wire before decoding) and tells apart the ways a server can fail:
no connection, the connection closed before or after an answer, no answer in
time, a reply to another method or sequence id.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any, Literal

from simdb.thrift import wire
from simdb.thrift.scan import CALL, ONEWAY, Header, Incomplete, Limits, ProtocolName, ProtocolViolation
from simdb.thrift.scan import message_end as scan_message_end

__all__ = ["Connection", "ConnectionProblem", "Reply", "TransportName"]

TransportName = Literal["buffered", "framed"]
_I32 = struct.Struct(">i")
_LIMITS = Limits()


class ConnectionProblem(Exception):
    """The call could not be made or answered; the message says how (for the report)."""


@dataclass(frozen=True)
class Reply:
    """One reply message: its header and the encoded struct that follows it."""

    header: Header
    body: bytes


class Connection:
    """One TCP connection to a Thrift server speaking ``protocol`` over ``transport``."""

    def __init__(
        self,
        host: str,
        port: int,
        protocol: ProtocolName = "binary",
        transport: TransportName = "buffered",
        timeout: float = 5.0,
    ) -> None:
        self.host, self.port = host, port
        self.protocol: ProtocolName = protocol
        self.transport = transport
        self.timeout = timeout
        self.seqid = 0
        self.sock: socket.socket | None = None
        self.buf = bytearray()

    def open(self) -> None:
        """Connect (again); raises :class:`ConnectionProblem` when nothing listens."""
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ConnectionProblem(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.buf.clear()

    def close(self) -> None:
        """Close the connection (if open)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self) -> Connection:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, name: str, args: Any, oneway: bool = False) -> int:
        """Send a call of ``name`` (``Service:method`` when multiplexed); returns its sequence id."""
        if self.sock is None:
            self.open()
        assert self.sock is not None
        self.seqid = (self.seqid + 1) & 0x7FFFFFFF
        data = wire.encode_message(self.protocol, name, ONEWAY if oneway else CALL, self.seqid, args)
        if self.transport == "framed":
            data = wire.frame(data)
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.close()
            raise ConnectionProblem(f"the connection broke while sending the call: {exc}") from None
        return self.seqid

    def receive(self) -> Reply:
        """The next reply message; :class:`ConnectionProblem` when it does not come or is malformed."""
        assert self.sock is not None
        try:
            if self.transport == "framed":
                size = _I32.unpack(self._read_exactly(4))[0]
                if size < 0 or size > _LIMITS.max_frame_size:
                    raise ConnectionProblem(f"the reply frame claims {size} bytes")
                message = self._read_exactly(size)
                header, _end = scan_message_end(self.protocol, message, 0, _LIMITS)
                return Reply(header, message[header.body_start :])
            while True:
                try:
                    header, end = scan_message_end(self.protocol, self.buf, 0, _LIMITS)
                except Incomplete:
                    self._fill()
                    continue
                message = bytes(self.buf[:end])
                del self.buf[:end]
                return Reply(header, message[header.body_start :])
        except ProtocolViolation as exc:
            self.close()
            raise ConnectionProblem(f"the reply is not a valid {self.protocol} message: {exc}") from None
        except TimeoutError:
            self.close()
            raise ConnectionProblem(f"no answer within {self.timeout:g} s") from None
        except OSError as exc:
            self.close()
            raise ConnectionProblem(f"the connection broke while waiting for the answer: {exc}") from None

    def closed_by_peer(self) -> bool:
        """True if the server has closed the connection (checked without waiting)."""
        if self.sock is None:
            return True
        if self.buf:
            return False
        try:
            self.sock.setblocking(False)
            data = self.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            if self.sock is not None:
                self.sock.settimeout(self.timeout)
        return data == b""

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            self.close()
            raise ConnectionProblem("the server closed the connection without answering")
        self.buf += chunk

    def _read_exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data
