"""Helpers for the wire-level Thrift tests: start a fake, make clients, send raw bytes."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory, TMultiplexedProtocolFactory
from thriftpy2.protocol.binary import TBinaryProtocol as PyBinaryProtocol
from thriftpy2.protocol.compact import TCompactProtocol as PyCompactProtocol
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TApplicationException
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

from simdb.thrift.fake import ThriftConfig, ThriftFake
from simdb.thrift.scan import CALL, EXCEPTION
from simdb.thrift.wire import encode_message

ROOT = Path(__file__).resolve().parents[2]
HOMEFEED = ROOT / "thrift" / "homefeed"
PINSTORE = HOMEFEED / "pinstore.thrift"
RANKER = HOMEFEED / "ranker.thrift"


@contextmanager
def running(
    idl: Path = PINSTORE, services: tuple[str, ...] = ("PinStore",), **kwargs: Any
) -> Iterator[ThriftFake]:
    """A started ThriftFake on a free port; stopped afterwards."""
    fake = ThriftFake(ThriftConfig(idl=idl, services=services, **kwargs))
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def client(fake: ThriftFake, service: str | None = None, *, timeout_ms: int = 5000) -> Any:
    """A thriftpy2 client speaking the fake's protocol and transport."""
    cfg = fake.config
    st = fake.state(service)
    proto: Any = TBinaryProtocolFactory() if cfg.protocol == "binary" else TCompactProtocolFactory()
    if cfg.multiplexed:
        proto = TMultiplexedProtocolFactory(proto, st.model.name)
    trans = TBufferedTransportFactory() if cfg.transport == "buffered" else TFramedTransportFactory()
    ep = fake.endpoint
    return make_client(st.model.thrift_service, ep.host, ep.port, proto_factory=proto, trans_factory=trans,
                       timeout=timeout_ms)


def connect(fake: ThriftFake, timeout: float = 5.0) -> socket.socket:
    """A raw socket to the fake."""
    sock = socket.create_connection((fake.endpoint.host, fake.endpoint.port), timeout=timeout)
    return sock


def call_bytes(fake: ThriftFake, name: str, args: Any, seqid: int = 1, mtype: int = CALL) -> bytes:
    """One request as the fake's protocol and transport put it on the wire."""
    data = encode_message(fake.config.protocol, name, mtype, seqid, args)
    return frame(data) if fake.config.transport == "framed" else data


def frame(data: bytes) -> bytes:
    """Framed-transport prefix."""
    return struct.pack(">i", len(data)) + data


def args_of(fake: ThriftFake, method: str, **values: Any) -> Any:
    """An ``<method>_args`` object of the (single) served service."""
    m = fake.state(None).model.methods[method]
    return m.args_cls(**values)


class _SockReader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError(f"connection closed after {len(out)} of {n} bytes")
            out += chunk
        return out


def read_reply(
    fake: ThriftFake, sock: socket.socket, result_cls: type | None = None
) -> tuple[str, int, int, Any]:
    """Read one reply: (name, message type, seqid, result struct or TApplicationException)."""
    reader = _SockReader(sock)
    if fake.config.transport == "framed":
        reader.read(4)
    proto: Any = PyBinaryProtocol(reader) if fake.config.protocol == "binary" else PyCompactProtocol(reader)
    name, mtype, seqid = proto.read_message_begin()
    if mtype == EXCEPTION:
        obj: Any = TApplicationException()
    else:
        assert result_cls is not None, f"unexpected reply type {mtype} for {name}"
        obj = result_cls()
    proto.read_struct(obj)
    return name, mtype, seqid, obj


def closed_by_peer(sock: socket.socket) -> bool:
    """True when the server closed (or reset) the connection."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
