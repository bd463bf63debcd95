"""Find where a Thrift message ends, checking it against size limits, without decoding it.

thriftpy2's decoders trust the length prefixes on the wire: a string that claims
2 GiB is allocated before it is read, and a list that claims a billion elements
is read element by element from whatever follows. So every message is walked
here first, in the wire format alone (binary or compact), and only a message
that is complete, well formed and within :class:`Limits` reaches a decoder.

The walk also delimits messages on a buffered (unframed) transport, where the
only way to know that a request is complete is to parse it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

ProtocolName = Literal["binary", "compact"]

# Message types (both protocols).
CALL = 1
REPLY = 2
EXCEPTION = 3
ONEWAY = 4

_BIN_VERSION_MASK = -65536  # 0xffff0000 as a signed i32
_BIN_VERSION_1 = -2147418112  # 0x80010000 as a signed i32
_COMPACT_ID = 0x82

_I32 = struct.Struct(">i")
_I16 = struct.Struct(">h")

# Binary protocol type ids and fixed widths (0 = variable).
_BIN_WIDTH = {2: 1, 3: 1, 4: 8, 6: 2, 8: 4, 10: 8, 16: 16, 11: 0, 12: 0, 13: 0, 14: 0, 15: 0}
# Compact protocol element type ids: 1/2 bool, 3 byte, 4 i16, 5 i32, 6 i64, 7 double,
# 8 binary, 9 list, 10 set, 11 map, 12 struct, 13 uuid.
_COMPACT_TYPES = frozenset(range(1, 14))


@dataclass(frozen=True)
class Limits:
    """Bounds on what a client may send. Defaults suit real services; all are configurable."""

    max_frame_size: int = 16 * 1024 * 1024
    """Largest message (framed: the frame; buffered: the whole message) in bytes."""
    max_string_size: int = 8 * 1024 * 1024
    """Largest string or binary value in bytes."""
    max_container_length: int = 1_000_000
    """Most elements in one list, set or map."""
    max_depth: int = 64
    """Deepest nesting of structs and containers."""
    read_timeout_s: float = 10.0
    """How long a half-sent message may stall before the connection is closed."""


class Incomplete(Exception):
    """More bytes are needed to finish the message: at least ``need`` in all (from the message start)."""

    def __init__(self, need: int = 0) -> None:
        super().__init__(need)
        self.need = need


class ProtocolViolation(Exception):
    """The bytes are not a valid Thrift message or break a limit. The message says which."""


@dataclass(frozen=True)
class Header:
    """The start of a message: name, type, sequence id, and where things are."""

    name: str
    mtype: int
    seqid: int
    seq_start: int
    """Offset of the encoded sequence id (relative to the message start)."""
    seq_end: int
    body_start: int
    """Offset where the argument struct begins."""


def read_header(protocol: ProtocolName, buf: bytes | bytearray, pos: int, limits: Limits) -> Header:
    """Parse the message header at ``pos``; offsets in the result are relative to ``pos``."""
    if protocol == "binary":
        return _binary_header(buf, pos, limits)
    return _compact_header(buf, pos, limits)


def has_signature(protocol: ProtocolName, buf: bytes | bytearray) -> bool:
    """True when ``buf`` starts like a message of ``protocol`` (version word or id byte), whatever follows."""
    if protocol == "binary":
        return len(buf) >= 4 and _I32.unpack_from(buf, 0)[0] & _BIN_VERSION_MASK == _BIN_VERSION_1
    return len(buf) >= 2 and buf[0] == _COMPACT_ID and buf[1] & 0x1F == 1


def message_end(
    protocol: ProtocolName, buf: bytes | bytearray, pos: int, limits: Limits
) -> tuple[Header, int]:
    """Header and end offset (absolute) of the complete message starting at ``pos``.

    Raises :class:`Incomplete` when ``buf`` holds only part of it and
    :class:`ProtocolViolation` when it is malformed or breaks a limit.
    """
    header = read_header(protocol, buf, pos, limits)
    walker = _BinaryWalker(buf, limits, pos) if protocol == "binary" else _CompactWalker(buf, limits, pos)
    end = walker.struct(pos + header.body_start, limits.max_depth)
    if end - pos > limits.max_frame_size:
        raise ProtocolViolation(
            f"message of {end - pos} bytes exceeds the maximum of {limits.max_frame_size}"
        )
    return header, end


def _need(buf: bytes | bytearray, end: int, start: int, limits: Limits) -> None:
    if end > len(buf):
        if end - start > limits.max_frame_size:
            raise ProtocolViolation(
                f"message needs at least {end - start} bytes, "
                f"more than the maximum of {limits.max_frame_size}"
            )
        raise Incomplete(end - start)


def _binary_header(buf: bytes | bytearray, pos: int, limits: Limits) -> Header:
    _need(buf, pos + 4, pos, limits)
    first = _I32.unpack_from(buf, pos)[0]
    if first < 0:
        if first & _BIN_VERSION_MASK != _BIN_VERSION_1:
            raise ProtocolViolation(
                f"bad binary protocol version 0x{first & 0xFFFFFFFF:08x} (is the client using compact?)"
            )
        mtype = first & 0xFF
        _need(buf, pos + 8, pos, limits)
        size = _I32.unpack_from(buf, pos + 4)[0]
        name_start = pos + 8
    else:  # old non-strict form: name length, name, type byte
        size = first
        name_start = pos + 4
        mtype = -1
    if size < 0:
        raise ProtocolViolation(f"negative method name length {size}")
    if size > min(limits.max_string_size, 65536):
        raise ProtocolViolation(f"method name of {size} bytes is too long")
    name_end = name_start + size
    if mtype == -1:
        _need(buf, name_end + 1, pos, limits)
        mtype = buf[name_end]
        name_end += 1
        raw_name = bytes(buf[name_start : name_end - 1])
    else:
        raw_name = bytes(buf[name_start:name_end])
    _need(buf, name_end + 4, pos, limits)
    seqid = _I32.unpack_from(buf, name_end)[0]
    try:
        name = raw_name.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolViolation(f"method name is not UTF-8: {raw_name!r}") from exc
    if mtype not in (CALL, REPLY, EXCEPTION, ONEWAY):
        raise ProtocolViolation(f"unknown message type {mtype}")
    return Header(name, mtype, seqid, name_end - pos, name_end + 4 - pos, name_end + 4 - pos)


def _varint(buf: bytes | bytearray, pos: int, start: int, limits: Limits) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        _need(buf, pos + 1, start, limits)
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtocolViolation(f"varint longer than 10 bytes at byte {pos - start}")


def _compact_header(buf: bytes | bytearray, pos: int, limits: Limits) -> Header:
    _need(buf, pos + 2, pos, limits)
    if buf[pos] != _COMPACT_ID:
        raise ProtocolViolation(f"bad compact protocol id 0x{buf[pos]:02x} (is the client using binary?)")
    ver_type = buf[pos + 1]
    if ver_type & 0x1F != 1:
        raise ProtocolViolation(f"bad compact protocol version {ver_type & 0x1F}")
    mtype = (ver_type >> 5) & 0x07
    seqid, after_seq = _varint(buf, pos + 2, pos, limits)
    if seqid > 0xFFFFFFFF:
        raise ProtocolViolation(f"sequence id {seqid} does not fit in 32 bits")
    size, name_start = _varint(buf, after_seq, pos, limits)
    if 1 << 31 <= size < 1 << 32:  # a negative i32 as the unsigned varint Apache's writers send
        raise ProtocolViolation(f"negative method name length {size - (1 << 32)}")
    if size > min(limits.max_string_size, 65536):
        raise ProtocolViolation(f"method name of {size} bytes is too long")
    _need(buf, name_start + size, pos, limits)
    raw_name = bytes(buf[name_start : name_start + size])
    try:
        name = raw_name.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolViolation(f"method name is not UTF-8: {raw_name!r}") from exc
    if mtype not in (CALL, REPLY, EXCEPTION, ONEWAY):
        raise ProtocolViolation(f"unknown message type {mtype}")
    signed = seqid - (1 << 32) if seqid >= 1 << 31 else seqid
    return Header(name, mtype, signed, 2, after_seq - pos, name_start + size - pos)


class _BinaryWalker:
    def __init__(self, buf: bytes | bytearray, limits: Limits, start: int) -> None:
        self.buf = buf
        self.limits = limits
        self.start = start

    def _size(self, pos: int, what: str, limit: int) -> int:
        _need(self.buf, pos + 4, self.start, self.limits)
        size: int = _I32.unpack_from(self.buf, pos)[0]
        if size < 0:
            raise ProtocolViolation(f"negative {what} length {size} at byte {pos - self.start}")
        if size > limit:
            raise ProtocolViolation(
                f"{what} length {size} at byte {pos - self.start} exceeds the maximum of {limit}"
            )
        return size

    def struct(self, pos: int, depth: int) -> int:
        if depth <= 0:
            raise ProtocolViolation(f"nesting deeper than {self.limits.max_depth} at byte {pos - self.start}")
        buf = self.buf
        while True:
            _need(buf, pos + 1, self.start, self.limits)
            ttype = buf[pos]
            if ttype == 0:
                return pos + 1
            pos = self.value(ttype, pos + 3, depth)

    def value(self, ttype: int, pos: int, depth: int) -> int:
        width = _BIN_WIDTH.get(ttype)
        if width is None:
            raise ProtocolViolation(f"unknown field type {ttype} at byte {pos - self.start}")
        if width:
            end = pos + width
            _need(self.buf, end, self.start, self.limits)
            return end
        if ttype == 11:
            size = self._size(pos, "string", self.limits.max_string_size)
            end = pos + 4 + size
            _need(self.buf, end, self.start, self.limits)
            return end
        if ttype == 12:
            return self.struct(pos, depth - 1)
        if ttype == 13:
            _need(self.buf, pos + 2, self.start, self.limits)
            ktype, vtype = self.buf[pos], self.buf[pos + 1]
            size = self._size(pos + 2, "map", self.limits.max_container_length)
            return self.elements((ktype, vtype), size, pos + 6, depth)
        _need(self.buf, pos + 1, self.start, self.limits)
        etype = self.buf[pos]
        size = self._size(pos + 1, "list" if ttype == 15 else "set", self.limits.max_container_length)
        return self.elements((etype,), size, pos + 5, depth)

    def elements(self, types: tuple[int, ...], size: int, pos: int, depth: int) -> int:
        if depth <= 1:
            raise ProtocolViolation(f"nesting deeper than {self.limits.max_depth} at byte {pos - self.start}")
        widths = []
        for t in types:
            w = _BIN_WIDTH.get(t)
            if w is None:
                raise ProtocolViolation(f"unknown element type {t} at byte {pos - self.start}")
            widths.append(w)
        if size and all(widths):
            end = pos + size * sum(widths)
            _need(self.buf, end, self.start, self.limits)
            return end
        for _ in range(size):
            for t in types:
                pos = self.value(t, pos, depth - 1)
        return pos


_COMPACT_FIXED = {1: 0, 2: 0, 3: 1, 7: 8, 13: 16}


class _CompactWalker:
    def __init__(self, buf: bytes | bytearray, limits: Limits, start: int) -> None:
        self.buf = buf
        self.limits = limits
        self.start = start

    def struct(self, pos: int, depth: int) -> int:
        if depth <= 0:
            raise ProtocolViolation(f"nesting deeper than {self.limits.max_depth} at byte {pos - self.start}")
        buf = self.buf
        while True:
            _need(buf, pos + 1, self.start, self.limits)
            header = buf[pos]
            pos += 1
            if header == 0:
                return pos
            ctype = header & 0x0F
            if header >> 4 == 0:  # long form: zigzag varint field id follows
                _, pos = _varint(buf, pos, self.start, self.limits)
            if ctype in (1, 2):  # booleans live in the field header
                continue
            pos = self.value(ctype, pos, depth)

    def value(self, ctype: int, pos: int, depth: int) -> int:
        if ctype not in _COMPACT_TYPES:
            raise ProtocolViolation(f"unknown compact type {ctype} at byte {pos - self.start}")
        fixed = _COMPACT_FIXED.get(ctype)
        if fixed is not None:
            width = fixed or 1  # a bool inside a container takes one byte
            _need(self.buf, pos + width, self.start, self.limits)
            return pos + width
        if ctype in (4, 5, 6):
            return _varint(self.buf, pos, self.start, self.limits)[1]
        if ctype == 8:
            size, pos = _varint(self.buf, pos, self.start, self.limits)
            if size > self.limits.max_string_size:
                raise ProtocolViolation(
                    f"string length {size} at byte {pos - self.start} exceeds the maximum of "
                    f"{self.limits.max_string_size}"
                )
            _need(self.buf, pos + size, self.start, self.limits)
            return pos + size
        if ctype == 12:
            return self.struct(pos, depth - 1)
        if ctype == 11:
            size, pos = _varint(self.buf, pos, self.start, self.limits)
            self._check_length("map", size, pos)
            if size == 0:
                return pos
            _need(self.buf, pos + 1, self.start, self.limits)
            kv = self.buf[pos]
            return self.elements((kv >> 4, kv & 0x0F), size, pos + 1, depth)
        _need(self.buf, pos + 1, self.start, self.limits)
        head = self.buf[pos]
        pos += 1
        size = head >> 4
        if size == 15:
            size, pos = _varint(self.buf, pos, self.start, self.limits)
        self._check_length("list" if ctype == 9 else "set", size, pos)
        return self.elements((head & 0x0F,), size, pos, depth)

    def _check_length(self, what: str, size: int, pos: int) -> None:
        if size > self.limits.max_container_length:
            raise ProtocolViolation(
                f"{what} length {size} at byte {pos - self.start} exceeds the maximum of "
                f"{self.limits.max_container_length}"
            )

    def elements(self, types: tuple[int, ...], size: int, pos: int, depth: int) -> int:
        if depth <= 1:
            raise ProtocolViolation(f"nesting deeper than {self.limits.max_depth} at byte {pos - self.start}")
        for t in types:
            if t not in _COMPACT_TYPES:
                raise ProtocolViolation(f"unknown element type {t} at byte {pos - self.start}")
        widths = [_COMPACT_FIXED.get(t) for t in types]
        if size and all(w is not None for w in widths):
            end = pos + size * sum((w or 1) for w in widths if w is not None)
            _need(self.buf, end, self.start, self.limits)
            return end
        for _ in range(size):
            for t in types:
                pos = self.value(t, pos, depth - 1)
        return pos
