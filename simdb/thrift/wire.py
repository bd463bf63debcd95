"""Encode and decode one Thrift message body with thriftpy2 (binary: its Cython codec; compact)."""

from __future__ import annotations

import struct
from typing import Any

from thriftpy2.protocol import compact as _compact
from thriftpy2.protocol.cybin import TCyBinaryProtocol  # type: ignore[attr-defined]  # Cython, no stubs
from thriftpy2.thrift import TApplicationException
from thriftpy2.transport.memory import TCyMemoryBuffer  # type: ignore[attr-defined]  # Cython, no stubs

from simdb.thrift import pywire
from simdb.thrift.scan import EXCEPTION, ProtocolName

_I32 = struct.Struct(">i")
TCompactProtocol: Any = _compact.TCompactProtocol  # pure Python, untyped


class _Memory:
    """The pure-Python transport the compact protocol reads from and writes to."""

    __slots__ = ("data", "out", "pos")

    def __init__(self, data: bytes = b"") -> None:
        self.data = data
        self.pos = 0
        self.out: list[bytes] = []

    def read(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        return chunk

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def getvalue(self) -> bytes:
        return b"".join(self.out)


def decode_struct(protocol: ProtocolName, body: bytes, obj: Any) -> Any:
    """Fill ``obj`` (a thriftpy2 struct) from ``body``, the encoded struct."""
    if type(obj).__dict__.get("__simdb_own_codec__"):  # uuid, unhashable keys: simdb's own codec
        return pywire.decode_struct(protocol, body, obj)
    if protocol == "binary":
        TCyBinaryProtocol(TCyMemoryBuffer(body)).read_struct(obj)
    else:
        TCompactProtocol(_Memory(body)).read_struct(obj)
    return obj


def encode_message(protocol: ProtocolName, name: str, mtype: int, seqid: int, obj: Any) -> bytes:
    """A whole message: header for ``name``/``mtype``/``seqid`` then ``obj`` encoded."""
    if type(obj).__dict__.get("__simdb_own_codec__"):  # uuid, unhashable keys: simdb's own codec
        return pywire.encode_message(protocol, name, mtype, seqid, obj)
    if protocol == "binary":
        mem = TCyMemoryBuffer()
        proto: Any = TCyBinaryProtocol(mem)
    else:
        mem = _Memory()
        proto = TCompactProtocol(mem)
        seqid &= 0xFFFFFFFF  # compact sends the seqid as an unsigned varint (a negative one would never end)
    proto.write_message_begin(name, mtype, seqid)
    proto.write_struct(obj)
    proto.write_message_end()
    return bytes(mem.getvalue())


def encode_app_error(protocol: ProtocolName, name: str, seqid: int, error_type: int, message: str) -> bytes:
    """A ``TApplicationException`` reply."""
    return encode_message(protocol, name, EXCEPTION, seqid, TApplicationException(error_type, message))


def frame(data: bytes) -> bytes:
    """Prefix ``data`` with its 4-byte length (framed transport)."""
    return _I32.pack(len(data)) + data
