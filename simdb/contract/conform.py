"""Does an encoded struct conform to the IDL? Walks the wire bytes against the declared types.

Decoders are lenient: thriftpy2 (like Apache's libraries) skips a field whose
wire type differs from the IDL's or whose id it does not know, and keeps any
i32 as an enum value. So a reply is checked here on the wire, before decoding,
and every deviation is reported with the path of the value:

* a field id the IDL does not declare (in a result: an undeclared exception);
* a field of another wire type than the IDL's (``name: i32 on the wire, the IDL says string``);
* a required field that is missing, a union without exactly one field;
* an enum value the enum does not declare, an integer out of its type's range,
  a string that is not UTF-8, container elements of the wrong type.

The bytes must be a complete, well-formed message body (as
:func:`simdb.thrift.scan.message_end` establishes): the walk trusts lengths.
"""

from __future__ import annotations

import struct
from typing import Any

from thriftpy2.thrift import TType

from simdb.thrift.codec import norm_desc, type_name
from simdb.thrift.idl import is_union
from simdb.thrift.model import field_models
from simdb.thrift.pywire import UUID

__all__ = ["check_struct"]

_B = struct.Struct(">b")
_H = struct.Struct(">h")
_I = struct.Struct(">i")
_Q = struct.Struct(">q")

# IDL ttype -> binary wire type (binary goes as a string).
_BINARY_WIRE = {TType.BINARY: TType.STRING}
# compact type id -> binary wire type id (as names go: 1/2 bool, 8 binary/string ...).
_FROM_COMPACT = {
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
_WIRE_NAMES = {
    TType.BOOL: "bool",
    TType.BYTE: "i8",
    TType.I16: "i16",
    TType.I32: "i32",
    TType.I64: "i64",
    TType.DOUBLE: "double",
    TType.STRING: "string/binary",
    TType.STRUCT: "struct",
    TType.MAP: "map",
    TType.SET: "set",
    TType.LIST: "list",
    UUID: "uuid",
}
_RANGES = {TType.BYTE: 8, TType.I16: 16, TType.I32: 32, TType.I64: 64}


def _wire_of(ttype: int) -> int:
    return _BINARY_WIRE.get(ttype, ttype)


def _wire_name(wire: int) -> str:
    return _WIRE_NAMES.get(wire, f"type {wire}")


class _Walker:
    """Reads one protocol's encoding, checking each value against its IDL type."""

    def __init__(self, data: bytes, compact: bool, limit: int) -> None:
        self.data = data
        self.pos = 0
        self.compact = compact
        self.problems: list[str] = []
        self.limit = limit

    def problem(self, text: str) -> None:
        if len(self.problems) < self.limit:
            self.problems.append(text)

    # -- primitives --
    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) < n:
            raise ValueError("the message ends early")
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

    def elem_type(self, raw: int) -> int:
        if not self.compact:
            return raw
        wire = _FROM_COMPACT.get(raw)
        if wire is None:
            raise ValueError(f"unknown compact type id {raw}")
        return wire

    # -- structs --
    def struct(self, cls: type | None, path: str) -> None:
        """Walk one struct; ``cls`` None: skip it (a field the IDL does not know)."""
        fields = {f.id: f for f in field_models(cls)} if cls is not None else {}
        seen: set[int] = set()
        mistyped: set[int] = set()  # present, of the wrong type: not reported as missing too
        last = 0
        while True:
            head = self.byte()
            if head == 0:
                break
            if self.compact:
                ctype = head & 0x0F
                delta = head >> 4
                fid = last + delta if delta else self.zigzag()
                last = fid
                wire = self.elem_type(ctype)
                inline_bool: bool | None = (ctype == 1) if wire == TType.BOOL else None
            else:
                wire = head
                fid = _H.unpack(self.take(2))[0]
                inline_bool = None
            f = fields.get(fid)
            if cls is None:
                self.value(wire, None, path, wire, skip=True, inline_bool=inline_bool)
                continue
            if f is None:
                if cls.__name__.endswith("_result") and fid != 0:
                    self.problem(
                        f"{path}: an exception {cls.__name__[: -len('_result')]} does not declare "
                        f"(field id {fid}, {_wire_name(wire)} on the wire)"
                    )
                else:
                    self.problem(
                        f"{path}: field id {fid} ({_wire_name(wire)} on the wire) "
                        f"is not declared by {cls.__name__}"
                    )
                self.value(wire, None, path, wire, skip=True, inline_bool=inline_bool)
                continue
            where = f"{path}.{f.name}"
            if wire != _wire_of(f.ttype):
                self.problem(
                    f"{where}: {_wire_name(wire)} on the wire, the IDL says {type_name(f.ttype, f.spec)}"
                )
                self.value(wire, None, where, wire, skip=True, inline_bool=inline_bool)
                mistyped.add(fid)
                continue
            seen.add(fid)
            self.value(f.ttype, f.spec, where, wire, inline_bool=inline_bool)
        if cls is None:
            return
        if is_union(cls):
            if len(seen) != 1:
                given = ", ".join(fields[i].name for i in sorted(seen)) or "none"
                self.problem(f"{path}: union {cls.__name__} must have exactly one field set, got {given}")
            return
        for f in fields.values():
            if f.required and f.id not in seen and f.id not in mistyped:
                self.problem(f"{path}: required field {f.name!r} of {cls.__name__} is missing")

    # -- values --
    def value(
        self,
        ttype: int,
        spec: Any,
        path: str,
        wire: int,
        *,
        skip: bool = False,
        inline_bool: bool | None = None,
    ) -> None:
        c = self.compact
        if wire == TType.BOOL:
            if inline_bool is None:
                raw = self.byte()
                if not skip and raw not in ((0, 1, 2) if c else (0, 1)):
                    self.problem(f"{path}: bool encoded as {raw}")
            return
        if wire == TType.BYTE:
            self.take(1)
            return
        if wire in (TType.I16, TType.I32, TType.I64):
            if c:
                n = self.zigzag()
            else:
                fmt = {TType.I16: _H, TType.I32: _I, TType.I64: _Q}[wire]
                n = fmt.unpack(self.take(fmt.size))[0]
            if skip:
                return
            bits = _RANGES[ttype]
            if not -(2 ** (bits - 1)) <= n < 2 ** (bits - 1):
                self.problem(f"{path}: {n} is out of range for {type_name(ttype, None)}")
            elif ttype == TType.I32 and isinstance(spec, type):
                names: dict[int, str] = getattr(spec, "_VALUES_TO_NAMES", {})
                if n not in names:
                    declared = ", ".join(f"{v}={k}" for k, v in sorted(names.items())) or "none"
                    self.problem(f"{path}: {n} is not a declared value of enum {spec.__name__} ({declared})")
            return
        if wire == TType.DOUBLE:
            self.take(8)
            return
        if wire == UUID:
            self.take(16)
            return
        if wire == TType.STRING:
            size = self.varint() if c else _I.unpack(self.take(4))[0]
            text = self.take(size)
            if not skip and ttype == TType.STRING:
                try:
                    text.decode("utf-8")
                except UnicodeDecodeError as exc:
                    self.problem(f"{path}: string is not UTF-8 (byte {exc.start})")
            return
        if wire == TType.STRUCT:
            self.struct(None if skip else spec, path)
            return
        if wire in (TType.LIST, TType.SET):
            if c:
                head = self.byte()
                n = head >> 4
                if n == 15:
                    n = self.varint()
                elem = self.elem_type(head & 0x0F)
            else:
                elem = self.byte()
                n = _I.unpack(self.take(4))[0]
            et, es = norm_desc(spec) if not skip else (elem, None)
            wrong = not skip and n and elem != _wire_of(et)
            if wrong:
                self.problem(
                    f"{path}: elements are {_wire_name(elem)} on the wire, the IDL says {type_name(et, es)}"
                )
            for i in range(n):
                self.value(et, es, f"{path}[{i}]", elem, skip=skip or bool(wrong))
            return
        if wire == TType.MAP:
            if c:
                n = self.varint()
                kv = self.byte() if n else 0
                kw = self.elem_type(kv >> 4) if n else 0
                vw = self.elem_type(kv & 0x0F) if n else 0
            else:
                kw, vw = self.byte(), self.byte()
                n = _I.unpack(self.take(4))[0]
            if skip:
                (kt, ks), (vt, vs) = (kw, None), (vw, None)
            else:
                (kt, ks), (vt, vs) = norm_desc(spec[0]), norm_desc(spec[1])
            bad_key = not skip and n and kw != _wire_of(kt)
            bad_value = not skip and n and vw != _wire_of(vt)
            if bad_key:
                self.problem(
                    f"{path}: keys are {_wire_name(kw)} on the wire, the IDL says {type_name(kt, ks)}"
                )
            if bad_value:
                self.problem(
                    f"{path}: values are {_wire_name(vw)} on the wire, the IDL says {type_name(vt, vs)}"
                )
            for i in range(n):
                self.value(kt, ks, f"{path}<key {i}>", kw, skip=skip or bool(bad_key))
                self.value(vt, vs, f"{path}<value {i}>", vw, skip=skip or bool(bad_value))
            return
        raise ValueError(f"{path}: unknown wire type {wire}")


def check_struct(protocol: str, body: bytes, cls: type, path: str, limit: int = 20) -> list[str]:
    """Problems of the encoded struct ``body`` (binary or compact) against IDL class ``cls``, by path.

    An empty list means the value conforms. At most ``limit`` problems are listed.
    """
    walker = _Walker(bytes(body), protocol == "compact", limit)
    try:
        walker.struct(cls, path)
    except (ValueError, IndexError, struct.error) as exc:
        walker.problem(f"{path}: malformed encoding: {exc}")
    return walker.problems
