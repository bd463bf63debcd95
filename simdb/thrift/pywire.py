"""simdb's own struct codec for the binary and compact protocols, for the types thriftpy2's cannot do.

Apache Thrift 0.19+ sends ``uuid`` as its own wire type (binary: type 16 and
16 raw bytes; compact: type 13 and 16 raw bytes), which thriftpy2's codecs
cannot read or write; and thriftpy2 fails to read a map keyed by lists, sets
or maps, or a set of them (it cannot hash the keys). :func:`simdb.thrift.idl.load_idl`
marks every struct that holds either, at any depth (:func:`needs_own_codec`),
and :mod:`simdb.thrift.wire` encodes and decodes those with this module
(such keys become tuples); every other struct keeps thriftpy2's faster codecs.
Values are what thriftpy2 would give: ``str`` for ``string``, ``bytes`` for
``binary``, ``list`` for ``set``, and :class:`uuid.UUID` for ``uuid``.

The input was already walked by :mod:`simdb.thrift.scan` (complete, within
limits), so the reader may trust the lengths; a field of an unexpected type is
skipped, as thriftpy2 does.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any

from thriftpy2.thrift import TType

from simdb.thrift.scan import ProtocolName

__all__ = ["UUID", "UUID_MARKER", "decode_struct", "encode_message", "has_uuid", "needs_own_codec"]

UUID = 16
"""The ``ttype`` of a uuid in simdb's type descriptors and on the binary wire (Apache's TType.UUID)."""
UUID_MARKER = "SimdbUuid__"
"""The placeholder struct ``uuid`` is parsed as (see :func:`simdb.thrift.idl.preprocess`)."""

_B = struct.Struct(">b")
_H = struct.Struct(">h")
_I = struct.Struct(">i")
_Q = struct.Struct(">q")
_D = struct.Struct(">d")
_DL = struct.Struct("<d")

# thriftpy2 ttype -> binary wire type (BINARY is a STRING on the wire).
_BIN_WIRE = {TType.BINARY: TType.STRING}
# thriftpy2 ttype -> compact type id.
_COMPACT = {
    TType.BOOL: 1,
    TType.BYTE: 3,
    TType.I16: 4,
    TType.I32: 5,
    TType.I64: 6,
    TType.DOUBLE: 7,
    TType.STRING: 8,
    TType.BINARY: 8,
    TType.LIST: 9,
    TType.SET: 10,
    TType.MAP: 11,
    TType.STRUCT: 12,
    UUID: 13,
}
_COMPACT_BACK = {
    1: TType.BOOL,
    2: TType.BOOL,
    3: TType.BYTE,
    4: TType.I16,
    5: TType.I32,
    6: TType.I64,
    7: TType.DOUBLE,
    8: TType.STRING,
    9: TType.LIST,
    10: TType.SET,
    11: TType.MAP,
    12: TType.STRUCT,
    13: UUID,
}


def _desc(d: Any) -> tuple[int, Any]:
    return (d, None) if isinstance(d, int) else (d[0], d[1])


def _fields(cls: type) -> dict[int, tuple[int, str, Any]]:
    out = {}
    for fid, entry in getattr(cls, "thrift_spec", {}).items():
        out[fid] = (entry[0], entry[1], entry[2] if len(entry) == 4 else None)
    return out


_CONTAINERS = (TType.LIST, TType.SET, TType.MAP)


def has_uuid(ttype: int, spec: Any, seen: set[int] | None = None) -> bool:
    """True if a value of this type can hold a uuid anywhere inside."""
    return _any(ttype, spec, lambda t, s: t == UUID, set() if seen is None else seen)


def needs_own_codec(ttype: int, spec: Any) -> bool:
    """True if thriftpy2's codecs cannot handle this type: it holds a uuid, or a map key or set element
    that is a list, set or map (thriftpy2 puts those in a Python dict or set and fails to hash them)."""

    def bad(t: int, s: Any) -> bool:
        if t == UUID:
            return True
        if t == TType.MAP:
            return _desc(s[0])[0] in _CONTAINERS
        return t == TType.SET and _desc(s)[0] in _CONTAINERS

    return _any(ttype, spec, bad, set())


def _any(ttype: int, spec: Any, pred: Any, seen: set[int]) -> bool:
    if pred(ttype, spec):
        return True
    if ttype in (TType.LIST, TType.SET):
        return _any(*_desc(spec), pred, seen)
    if ttype == TType.MAP:
        return _any(*_desc(spec[0]), pred, seen) or _any(*_desc(spec[1]), pred, seen)
    if ttype == TType.STRUCT:
        if id(spec) in seen:
            return False
        seen.add(id(spec))
        return any(_any(t, s, pred, seen) for t, _n, s in _fields(spec).values())
    return False


# -- writing ---------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, compact: bool) -> None:
        self.compact = compact
        self.out: list[bytes] = []
        self.last_fid = [0]

    def varint(self, n: int) -> None:
        n &= 0xFFFFFFFFFFFFFFFF
        buf = bytearray()
        while n > 0x7F:
            buf.append((n & 0x7F) | 0x80)
            n >>= 7
        buf.append(n)
        self.out.append(bytes(buf))

    def zigzag(self, n: int, bits: int) -> None:
        self.varint((n << 1) ^ (n >> (bits - 1)))

    def message_begin(self, name: str, mtype: int, seqid: int) -> None:
        raw = name.encode("utf-8")
        if self.compact:
            self.out.append(bytes([0x82, (mtype << 5) | 1]))
            self.varint(seqid & 0xFFFFFFFF)
            self.varint(len(raw))
            self.out.append(raw)
        else:
            self.out.append(_I.pack(-2147418112 | mtype) + _I.pack(len(raw)) + raw + _I.pack(seqid))

    def struct(self, cls: type, obj: Any) -> None:
        if self.compact:
            self.last_fid.append(0)
        for fid, (ttype, _name, spec) in sorted(_fields(cls).items()):
            value = getattr(obj, _name, None)
            if value is None:
                continue
            self.field(fid, ttype, value)
            if not (self.compact and ttype == TType.BOOL):
                self.value(ttype, spec, value)
        if self.compact:
            self.last_fid.pop()
        self.out.append(b"\x00")

    def field(self, fid: int, ttype: int, value: Any) -> None:
        if not self.compact:
            self.out.append(bytes([_BIN_WIRE.get(ttype, ttype)]) + _H.pack(fid))
            return
        ctype = (1 if value else 2) if ttype == TType.BOOL else _COMPACT[ttype]
        delta = fid - self.last_fid[-1]
        if 0 < delta <= 15:
            self.out.append(bytes([(delta << 4) | ctype]))
        else:
            self.out.append(bytes([ctype]))
            self.zigzag(fid, 16)
        self.last_fid[-1] = fid

    def value(self, ttype: int, spec: Any, v: Any) -> None:
        out = self.out
        c = self.compact
        if ttype == TType.BOOL:
            out.append(b"\x01" if v else (b"\x02" if c else b"\x00"))
        elif ttype == TType.BYTE:
            out.append(_B.pack(v))
        elif ttype in (TType.I16, TType.I32, TType.I64):
            if c:
                self.zigzag(v, 64 if ttype == TType.I64 else 32)
            else:
                out.append({TType.I16: _H, TType.I32: _I, TType.I64: _Q}[ttype].pack(v))
        elif ttype == TType.DOUBLE:
            out.append((_DL if c else _D).pack(v))
        elif ttype in (TType.STRING, TType.BINARY):
            raw = v.encode("utf-8") if isinstance(v, str) else bytes(v)
            if c:
                self.varint(len(raw))
            else:
                out.append(_I.pack(len(raw)))
            out.append(raw)
        elif ttype == UUID:
            out.append((v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))).bytes)
        elif ttype == TType.STRUCT:
            self.struct(spec, v)
        elif ttype in (TType.LIST, TType.SET):
            et, es = _desc(spec)
            items = list(v)
            if c:
                n = len(items)
                if n < 15:
                    out.append(bytes([(n << 4) | _COMPACT[et]]))
                else:
                    out.append(bytes([0xF0 | _COMPACT[et]]))
                    self.varint(n)
            else:
                out.append(bytes([_BIN_WIRE.get(et, et)]) + _I.pack(len(items)))
            for item in items:
                self.value(et, es, item)
        elif ttype == TType.MAP:
            (kt, ks), (vt, vs) = _desc(spec[0]), _desc(spec[1])
            if c:
                self.varint(len(v))
                if v:
                    out.append(bytes([(_COMPACT[kt] << 4) | _COMPACT[vt]]))
            else:
                out.append(bytes([_BIN_WIRE.get(kt, kt), _BIN_WIRE.get(vt, vt)]) + _I.pack(len(v)))
            for key, val in v.items():
                self.value(kt, ks, key)
                self.value(vt, vs, val)
        else:
            raise ValueError(f"cannot encode ttype {ttype}")


def encode_message(protocol: ProtocolName, name: str, mtype: int, seqid: int, obj: Any) -> bytes:
    """A whole message: the header, then ``obj`` (a thriftpy2 struct) encoded."""
    w = _Writer(protocol == "compact")
    w.message_begin(name, mtype, seqid)
    w.struct(type(obj), obj)
    return b"".join(w.out)


# -- reading ---------------------------------------------------------------------------------------------
class _Reader:
    def __init__(self, data: bytes, compact: bool) -> None:
        self.data = data
        self.pos = 0
        self.compact = compact

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) < n:
            raise ValueError("message ends early")
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def struct(self, cls: type) -> Any:
        obj = cls()
        fields = _fields(cls)
        last = 0
        while True:
            head = self.byte()
            if head == 0:
                return obj
            if self.compact:
                ctype = head & 0x0F
                delta = head >> 4
                fid = last + delta if delta else self.zigzag()
                last = fid
                wire = _COMPACT_BACK.get(ctype)
                if wire is None:
                    raise ValueError(f"unknown compact type {ctype}")
                if wire == TType.BOOL:
                    value: Any = ctype == 1
                    f = fields.get(fid)
                    if f is not None and f[0] == TType.BOOL:
                        setattr(obj, f[1], value)
                    continue
            else:
                wire = head
                fid = _H.unpack(self.take(2))[0]
            f = fields.get(fid)
            if f is None or _BIN_WIRE.get(f[0], f[0]) != _BIN_WIRE.get(wire, wire):
                self.value(wire, None, skip=True)
                continue
            setattr(obj, f[1], self.value(f[0], f[2]))

    def _elem_type(self, t: int) -> int:
        if not self.compact:
            return t
        wire = _COMPACT_BACK.get(t)
        if wire is None:
            raise ValueError(f"unknown compact type {t}")
        return wire

    def value(self, ttype: int, spec: Any, skip: bool = False) -> Any:
        c = self.compact
        if ttype == TType.BOOL:
            return self.byte() == 1
        if ttype == TType.BYTE:
            return _B.unpack(self.take(1))[0]
        if ttype in (TType.I16, TType.I32, TType.I64):
            if c:
                return self.zigzag()
            st = {TType.I16: _H, TType.I32: _I, TType.I64: _Q}[ttype]
            return st.unpack(self.take(st.size))[0]
        if ttype == TType.DOUBLE:
            return (_DL if c else _D).unpack(self.take(8))[0]
        if ttype in (TType.STRING, TType.BINARY):
            n = self.varint() if c else _I.unpack(self.take(4))[0]
            raw = self.take(n)
            if ttype == TType.BINARY or skip:
                return raw
            return raw.decode("utf-8", errors="replace")
        if ttype == UUID:
            return uuid.UUID(bytes=self.take(16))
        if ttype == TType.STRUCT:
            if skip or spec is None:
                self._skip_struct()
                return None
            return self.struct(spec)
        if ttype in (TType.LIST, TType.SET):
            if c:
                head = self.byte()
                n = head >> 4
                if n == 15:
                    n = self.varint()
                wire = self._elem_type(head & 0x0F)
            else:
                wire = self.byte()
                n = _I.unpack(self.take(4))[0]
            et, es = _desc(spec) if spec is not None else (wire, None)
            mismatch = skip or _BIN_WIRE.get(et, et) != _BIN_WIRE.get(wire, wire)
            rt, rs = (wire, None) if mismatch else (et, es)
            items = [self.value(rt, rs, mismatch) for _ in range(n)]
            return None if mismatch else items
        if ttype == TType.MAP:
            if c:
                n = self.varint()
                kv = self.byte() if n else 0
                kw, vw = self._elem_type(kv >> 4) if n else 0, self._elem_type(kv & 0x0F) if n else 0
            else:
                kw, vw = self.byte(), self.byte()
                n = _I.unpack(self.take(4))[0]
            if spec is None or skip:
                for _ in range(n):
                    self.value(kw, None, True)
                    self.value(vw, None, True)
                return None
            (kt, ks), (vt, vs) = _desc(spec[0]), _desc(spec[1])
            out: dict[Any, Any] = {}
            for _ in range(n):
                key = self.value(kt, ks)
                out[_hashable(key)] = self.value(vt, vs)
            return out
        raise ValueError(f"unknown type {ttype}")

    def _skip_struct(self) -> None:
        last = 0
        while True:
            head = self.byte()
            if head == 0:
                return
            if self.compact:
                ctype = head & 0x0F
                if not head >> 4:
                    self.zigzag()
                last += 1
                if ctype in (1, 2):
                    continue
                self.value(self._elem_type(ctype), None, True)
            else:
                self.take(2)
                self.value(head, None, True)


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((_hashable(k), _hashable(v)) for k, v in value.items()))
    return value


def decode_struct(protocol: ProtocolName, body: bytes, obj: Any) -> Any:
    """Fill ``obj`` (a thriftpy2 struct) from ``body``, the encoded struct."""
    filled = _Reader(bytes(body), protocol == "compact").struct(type(obj))
    obj.__dict__.update(filled.__dict__)
    return obj
