"""The canonical JSON form of every Thrift value, used by stubs, the journal and the admin API.

=========================  ==============================================================
Thrift type                canonical JSON
=========================  ==============================================================
bool                       ``true`` / ``false``
i8, i16, i32, i64          a JSON integer (exact, also beyond 2**53)
double                     a JSON number (``-0.0`` written as ``0.0``, which it equals);
                           ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
string                     a JSON string
binary                     a base64 string (standard alphabet, padded)
uuid                       the standard hyphenated string (``"6ba7b810-9dad-11d1-80b4-00c04fd430c8"``)
enum                       the member's name (an undeclared value stays an integer)
struct, exception          an object by field name; unset (``None``) fields are left out
union                      an object with exactly one field
list                       an array
set                        an array, sorted (numbers by value, strings and enum names
                           by code point, anything else by its canonical JSON text)
map with string keys       an object
map with other keys        an array of ``[key, value]`` pairs sorted by key
=========================  ==============================================================

:func:`from_json` accepts a little more than the canonical form, for people
writing stubs by hand: maps with integer or enum keys may be written as objects
(``{"1001": {...}}``, YAML's ``{1001: ...}``), enums by number, doubles as
integers. A field left out takes its IDL default, as it would after a trip
over the wire. ``from_json(to_json(v))`` equals ``v`` for every value ``v`` as
read off the wire (NaN aside, which equals nothing), and ``to_json`` of that
again is identical.

thriftpy2 reads a ``set`` off the wire as a Python list; :func:`freezer` gives
hashable, order-free stand-ins that compare sets as sets (used for matching).

Codecs are compiled once per type descriptor and cached, so encoding on the
request path is a few dictionary lookups and function calls per field.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import operator
import uuid
import weakref
from collections.abc import Callable
from typing import Any

from thriftpy2.thrift import TType

from simdb.errors import ConfigError
from simdb.thrift.idl import is_union
from simdb.thrift.model import MethodModel, field_models
from simdb.thrift.pywire import UUID

__all__ = [
    "args_from_json",
    "args_key",
    "args_key_function",
    "args_to_json",
    "canonical_dumps",
    "decoder",
    "encoder",
    "freezer",
    "from_json",
    "is_identity_freezer",
    "norm_desc",
    "struct_from_json",
    "struct_to_json",
    "to_json",
    "type_name",
]

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any, str], Any]

_INT_RANGES = {
    TType.BYTE: (-(2**7), 2**7 - 1, "i8"),
    TType.I16: (-(2**15), 2**15 - 1, "i16"),
    TType.I32: (-(2**31), 2**31 - 1, "i32"),
    TType.I64: (-(2**63), 2**63 - 1, "i64"),
}
_BASE_NAMES = {
    TType.BOOL: "bool",
    TType.DOUBLE: "double",
    TType.STRING: "string",
    TType.BINARY: "binary",
    TType.VOID: "void",
    TType.BYTE: "i8",
    TType.I16: "i16",
    TType.I32: "i32",
    TType.I64: "i64",
    UUID: "uuid",
}


def norm_desc(desc: Any) -> tuple[int, Any]:
    """``(ttype, spec)`` from an element descriptor (a bare ttype int or a pair)."""
    if isinstance(desc, int):
        return desc, None
    return desc[0], desc[1]


def type_name(ttype: int, spec: Any) -> str:
    """The IDL spelling of a type descriptor, for messages: ``map<i64, Pin>``."""
    if ttype == TType.STRUCT or (ttype == TType.I32 and isinstance(spec, type)):
        return str(spec.__name__)
    if ttype == TType.LIST:
        return f"list<{type_name(*norm_desc(spec))}>"
    if ttype == TType.SET:
        return f"set<{type_name(*norm_desc(spec))}>"
    if ttype == TType.MAP:
        return f"map<{type_name(*norm_desc(spec[0]))}, {type_name(*norm_desc(spec[1]))}>"
    return _BASE_NAMES.get(ttype, f"ttype {ttype}")


def canonical_dumps(value: Any) -> str:
    """Compact JSON text with sorted keys: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sort_key(item: Any) -> tuple[int, Any, str]:
    if isinstance(item, bool):
        return (0, int(item), "")
    if isinstance(item, int | float):
        return (1, item, "")
    if isinstance(item, str):
        return (2, 0, item)
    return (3, 0, canonical_dumps(item))


def _pair_key(pair: list[Any]) -> tuple[int, Any, str]:
    return _sort_key(pair[0])


# --- encoders (Thrift value -> JSON) ----------------------------------------------------------------------

# Codec caches hold one entry per type in use; IDL reloads (--watch) add new classes, so each cache
# starts over when it grows past this size rather than grow without bound.
_CACHE_LIMIT = 20_000


def _bounded(cache: dict[Any, Any]) -> dict[Any, Any]:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    return cache


_ENCODERS: dict[tuple[int, Any], Encoder] = {}
_STRUCT_ENC: dict[type, tuple[tuple[str, Encoder], ...]] = {}


def _enc_double(value: Any) -> Any:
    value = float(value)
    if value == 0.0:
        return 0.0  # -0.0 == 0.0: equal values, one text
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _enc_string(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}
    return str(value)


def _enc_binary(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(bytes(value)).decode("ascii")


def _identity_int(value: Any) -> int:
    return int(value)


def _enc_bool(value: Any) -> bool:
    return bool(value)


def _struct_fields_enc(cls: type) -> tuple[tuple[str, Encoder], ...]:
    fields = _STRUCT_ENC.get(cls)
    if fields is None:
        fields = tuple((f.name, encoder(f.ttype, f.spec)) for f in field_models(cls))
        _bounded(_STRUCT_ENC)[cls] = fields
    return fields


def struct_to_json(obj: Any) -> dict[str, Any]:
    """A struct, union, exception or args object as a JSON object by field name."""
    out: dict[str, Any] = {}
    for name, enc in _struct_fields_enc(type(obj)):
        value = getattr(obj, name, None)
        if value is not None:
            out[name] = enc(value)
    return out


def _make_encoder(ttype: int, spec: Any) -> Encoder:
    if ttype == TType.BOOL:
        return _enc_bool
    if ttype in _INT_RANGES:
        if ttype == TType.I32 and isinstance(spec, type):
            names: dict[int, str] = getattr(spec, "_VALUES_TO_NAMES", {})
            return lambda v: names.get(v, v)
        return _identity_int
    if ttype == TType.DOUBLE:
        return _enc_double
    if ttype == TType.STRING:
        return _enc_string
    if ttype == TType.BINARY:
        return _enc_binary
    if ttype == UUID:
        return str
    if ttype == TType.STRUCT:
        return struct_to_json
    if ttype == TType.LIST:
        item = encoder(*norm_desc(spec))
        return lambda v: [item(x) for x in v]
    if ttype == TType.SET:
        item = encoder(*norm_desc(spec))
        return lambda v: sorted((item(x) for x in v), key=_sort_key)
    if ttype == TType.MAP:
        kt, ks = norm_desc(spec[0])
        kenc = encoder(kt, ks)
        venc = encoder(*norm_desc(spec[1]))

        def pairs(v: Any) -> list[list[Any]]:
            return sorted(([kenc(k), venc(x)] for k, x in v.items()), key=_pair_key)

        if kt == TType.STRING:

            def by_name(v: Any) -> Any:
                out: dict[str, Any] = {}
                for k, x in v.items():
                    key = kenc(k)
                    if not isinstance(key, str):  # a key that is not UTF-8: fall back to pairs
                        return pairs(v)
                    out[key] = venc(x)
                return out

            return by_name
        return pairs
    if ttype == TType.VOID:
        return lambda v: None
    raise ValueError(f"unsupported Thrift type {ttype}")


def encoder(ttype: int, spec: Any) -> Encoder:
    """The (cached) function turning a Thrift value of this type into canonical JSON."""
    key = (ttype, spec)
    enc = _ENCODERS.get(key)
    if enc is None:
        enc = _make_encoder(ttype, spec)
        _bounded(_ENCODERS)[key] = enc
    return enc


def to_json(ttype: int, spec: Any, value: Any) -> Any:
    """The canonical JSON form of ``value`` (``None`` stays ``None``)."""
    if value is None:
        return None
    return encoder(ttype, spec)(value)


# --- decoders (JSON -> Thrift value) ----------------------------------------------------------------------

_DECODERS: dict[tuple[int, Any], Decoder] = {}
_STRUCT_DEC: dict[type, tuple[dict[str, Decoder], bool, tuple[str, ...]]] = {}


def _fail(where: str, expected: str, data: Any) -> ConfigError:
    shown = json.dumps(data, default=repr)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ConfigError(f"{where}: expected {expected}, got {shown}")


def _dec_bool(data: Any, where: str) -> bool:
    if not isinstance(data, bool):
        raise _fail(where, "true or false", data)
    return data


def _int_decoder(ttype: int) -> Decoder:
    low, high, name = _INT_RANGES[ttype]

    def dec(data: Any, where: str) -> int:
        if type(data) is int and low <= data <= high:  # the common case, first
            return data
        if isinstance(data, bool) or not isinstance(data, int):
            if isinstance(data, float) and data.is_integer():
                data = int(data)
            else:
                raise _fail(where, f"an integer ({name})", data)
        if not low <= data <= high:
            raise ConfigError(f"{where}: {data} is out of range for {name} ({low}..{high})")
        return int(data)

    return dec


_SPECIAL_DOUBLES = {
    "NaN": math.nan,
    "nan": math.nan,
    "Infinity": math.inf,
    "inf": math.inf,
    "-Infinity": -math.inf,
    "-inf": -math.inf,
}


def _dec_double(data: Any, where: str) -> float:
    if isinstance(data, bool):
        raise _fail(where, "a number (double)", data)
    if isinstance(data, int | float):
        return float(data)
    if isinstance(data, str) and data in _SPECIAL_DOUBLES:
        return _SPECIAL_DOUBLES[data]
    raise _fail(where, 'a number (double), "NaN", "Infinity" or "-Infinity"', data)


def _dec_string(data: Any, where: str) -> Any:
    if type(data) is str or isinstance(data, str):
        return data
    if isinstance(data, dict) and set(data) == {"b64"} and isinstance(data["b64"], str):
        return _b64(data["b64"], where)
    raise _fail(where, "a string", data)


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{where}: not valid base64 ({exc})") from None


def _dec_binary(data: Any, where: str) -> bytes:
    if isinstance(data, str):
        return _b64(data, where)
    raise _fail(where, "a base64 string (binary)", data)


def _dec_uuid(data: Any, where: str) -> uuid.UUID:
    if not isinstance(data, str):
        raise _fail(where, "a uuid string", data)
    try:
        return uuid.UUID(data)
    except ValueError:
        raise _fail(where, 'a uuid such as "6ba7b810-9dad-11d1-80b4-00c04fd430c8"', data) from None


def _enum_decoder(cls: type) -> Decoder:
    names: dict[str, int] = getattr(cls, "_NAMES_TO_VALUES", {})
    values: dict[int, str] = getattr(cls, "_VALUES_TO_NAMES", {})

    def dec(data: Any, where: str) -> int:
        if isinstance(data, str) and data in names:
            return names[data]
        if isinstance(data, int) and not isinstance(data, bool) and data in values:
            return data
        if isinstance(data, str) and "." in data and data.rsplit(".", 1)[-1] in names:
            return int(names[data.rsplit(".", 1)[-1]])
        raise _fail(where, f"a member of enum {cls.__name__} ({', '.join(names)})", data)

    return dec


def _struct_fields_dec(cls: type) -> tuple[dict[str, Decoder], bool, tuple[str, ...]]:
    """(decoder by field name, is a union, names of required fields) of a struct class."""
    info = _STRUCT_DEC.get(cls)
    if info is None:
        models = field_models(cls)
        info = (
            {f.name: decoder(f.ttype, f.spec) for f in models},
            is_union(cls),
            tuple(f.name for f in models if f.required),
        )
        _bounded(_STRUCT_DEC)[cls] = info
    return info


def struct_from_json(cls: type, data: Any, where: str, *, check_required: bool = True) -> Any:
    """An instance of struct/union/exception class ``cls`` from its JSON object.

    Fields left out keep the IDL default (or ``None``); unknown fields and, when
    ``check_required``, unset ``required`` fields are errors naming ``where``.
    """
    try:
        return _fast_struct(cls, data, check_required)
    except _Slow:
        return _struct_from_json(cls, data, where, check_required=check_required)


def _struct_from_json(cls: type, data: Any, where: str, *, check_required: bool = True) -> Any:
    """:func:`struct_from_json` keeping track of where it is (for the error messages)."""
    if not isinstance(data, dict):
        raise _fail(where, f"an object (struct {cls.__name__})", data)
    fields, union, required = _struct_fields_dec(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        dec = fields.get(name)
        if dec is None:
            known = ", ".join(fields) or "none"
            raise ConfigError(f"{where}: {cls.__name__} has no field {name!r} (fields: {known})")
        kwargs[name] = None if value is None else dec(value, where + "." + name)
    obj = cls(**kwargs)
    if union:
        given = [n for n in fields if getattr(obj, n, None) is not None]
        if len(given) > 1 or (check_required and not given):
            raise ConfigError(
                f"{where}: union {cls.__name__} takes exactly one field, got {', '.join(given) or 'none'}"
            )
    elif check_required and required:
        for name in required:
            if getattr(obj, name, None) is None:
                raise ConfigError(f"{where}: required field {name!r} of {cls.__name__} is missing")
    return obj


def _list_decoder(spec: Any, as_set: bool) -> Decoder:
    item = decoder(*norm_desc(spec))

    def dec(data: Any, where: str) -> Any:
        if not isinstance(data, list):
            raise _fail(where, "an array (set)" if as_set else "an array (list)", data)
        items = [item(x, f"{where}[{i}]") for i, x in enumerate(data)]
        if as_set:
            try:
                return set(items)
            except TypeError:  # set<list<...>>: kept as a list, as thriftpy2 reads sets
                return items
        return items

    return dec


def _map_decoder(spec: Any) -> Decoder:
    kt, ks = norm_desc(spec[0])
    kdec = decoder(kt, ks)
    vdec = decoder(*norm_desc(spec[1]))
    text_key_ok = kt in _INT_RANGES or kt == TType.DOUBLE or kt == TType.BOOL

    def key_from_text(key: Any, where: str) -> Any:
        if (
            isinstance(key, str)
            and kt != TType.STRING
            and text_key_ok
            and not (kt == TType.I32 and isinstance(ks, type) and key in getattr(ks, "_NAMES_TO_VALUES", {}))
        ):
            try:
                key = json.loads(key)
            except json.JSONDecodeError:
                raise _fail(where, f"a {type_name(kt, ks)} map key", key) from None
        return kdec(key, where)

    def dec(data: Any, where: str) -> Any:
        out: dict[Any, Any] = {}
        try:
            if isinstance(data, dict):
                for k, v in data.items():
                    key = key_from_text(k, f"{where}[{k!r}] (key)")
                    out[key] = vdec(v, f"{where}[{k!r}]")
                return out
            if isinstance(data, list):
                for i, pair in enumerate(data):
                    if not isinstance(pair, list) or len(pair) != 2:
                        raise _fail(f"{where}[{i}]", "a [key, value] pair", pair)
                    key = kdec(pair[0], f"{where}[{i}][0]")
                    out[key] = vdec(pair[1], f"{where}[{i}][1]")
                return out
        except TypeError:
            raise ConfigError(f"{where}: map keys of this type cannot be hashed") from None
        expected = f"an object or an array of [key, value] pairs ({type_name(TType.MAP, spec)})"
        raise _fail(where, expected, data)

    return dec


def _make_decoder(ttype: int, spec: Any) -> Decoder:
    if ttype == TType.BOOL:
        return _dec_bool
    if ttype in _INT_RANGES:
        if ttype == TType.I32 and isinstance(spec, type):
            return _enum_decoder(spec)
        return _int_decoder(ttype)
    if ttype == TType.DOUBLE:
        return _dec_double
    if ttype == TType.STRING:
        return _dec_string
    if ttype == TType.BINARY:
        return _dec_binary
    if ttype == UUID:
        return _dec_uuid
    if ttype == TType.STRUCT:
        return lambda data, where: _struct_from_json(spec, data, where)
    if ttype == TType.LIST:
        return _list_decoder(spec, as_set=False)
    if ttype == TType.SET:
        return _list_decoder(spec, as_set=True)
    if ttype == TType.MAP:
        return _map_decoder(spec)
    if ttype == TType.VOID:

        def dec_void(data: Any, where: str) -> None:
            if data is not None:
                raise _fail(where, "null (the method returns void)", data)

        return dec_void
    raise ValueError(f"unsupported Thrift type {ttype}")


def decoder(ttype: int, spec: Any) -> Decoder:
    """The (cached) function turning canonical JSON into a Thrift value of this type."""
    key = (ttype, spec)
    dec = _DECODERS.get(key)
    if dec is None:
        dec = _make_decoder(ttype, spec)
        _bounded(_DECODERS)[key] = dec
    return dec


def from_json(ttype: int, spec: Any, data: Any, where: str) -> Any:
    """The Thrift value of this type that ``data`` describes; :class:`ConfigError` naming ``where``."""
    if data is None:
        return None
    try:
        return fast_decoder(ttype, spec)(data)
    except _Slow:
        return decoder(ttype, spec)(data, where)


# --- the fast path of decoding ---------------------------------------------------------------------------
# Stub files hold thousands of values, nearly all well-formed. The fast decoders below take the common
# shapes only and build no "where" strings; on anything else they raise _Slow and the caller decodes
# again with the decoders above, which accept every form and name the place of an error. So a value
# decodes to the same result either way, and errors read the same.


class _Slow(Exception):
    """The fast path does not handle this value: decode it again on the full path."""


_SLOW = _Slow()
FastDecoder = Callable[[Any], Any]
_FAST: dict[tuple[int, Any], FastDecoder] = {}
_STRUCT_FAST: dict[type, tuple[dict[str, FastDecoder], bool, tuple[str, ...]]] = {}


def _fast_struct_fields(cls: type) -> tuple[dict[str, FastDecoder], bool, tuple[str, ...]]:
    info = _STRUCT_FAST.get(cls)
    if info is None:
        models = field_models(cls)
        info = (
            {f.name: fast_decoder(f.ttype, f.spec) for f in models},
            is_union(cls),
            tuple(f.name for f in models if f.required),
        )
        _bounded(_STRUCT_FAST)[cls] = info
    return info


def _fast_struct(cls: type, data: Any, check_required: bool = True) -> Any:
    if type(data) is not dict:
        raise _SLOW
    fields, union, required = _fast_struct_fields(cls)
    try:
        kwargs = {name: None if value is None else fields[name](value) for name, value in data.items()}
    except KeyError:  # an unknown field (or anything else unusual): the full path names it
        raise _SLOW from None
    obj = cls(**kwargs)
    if union:
        given = sum(1 for n in fields if getattr(obj, n, None) is not None)
        if given > 1 or (check_required and not given):
            raise _SLOW
    elif check_required and required:
        for name in required:
            if getattr(obj, name, None) is None:
                raise _SLOW
    return obj


def _fast_bool(data: Any) -> Any:
    if type(data) is bool:
        return data
    raise _SLOW


def _fast_double(data: Any) -> Any:
    kind = type(data)
    if kind is float:
        return data
    if kind is int:
        return float(data)
    raise _SLOW


def _fast_string(data: Any) -> Any:
    if type(data) is str:
        return data
    raise _SLOW


def _fast_binary(data: Any) -> Any:
    if type(data) is str:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _SLOW


def _fast_int(ttype: int) -> FastDecoder:
    low, high, _ = _INT_RANGES[ttype]

    def dec(data: Any) -> Any:
        if type(data) is int and low <= data <= high:
            return data
        raise _SLOW

    return dec


def _fast_enum(cls: type) -> FastDecoder:
    names: dict[str, int] = getattr(cls, "_NAMES_TO_VALUES", {})
    values: dict[int, str] = getattr(cls, "_VALUES_TO_NAMES", {})

    def dec(data: Any) -> Any:
        kind = type(data)
        if kind is str and data in names:
            return names[data]
        if kind is int and data in values:
            return data
        raise _SLOW

    return dec


def _fast_list(spec: Any, as_set: bool) -> FastDecoder:
    item = fast_decoder(*norm_desc(spec))

    def dec(data: Any) -> Any:
        if type(data) is not list:
            raise _SLOW
        items = [item(x) for x in data]
        if as_set:
            try:
                return set(items)
            except TypeError:
                raise _SLOW from None
        return items

    return dec


def _fast_map(spec: Any) -> FastDecoder:
    kt, ks = norm_desc(spec[0])
    kdec = fast_decoder(kt, ks)
    vdec = fast_decoder(*norm_desc(spec[1]))
    string_keys = kt == TType.STRING

    def dec(data: Any) -> Any:
        kind = type(data)
        try:
            if kind is dict and string_keys:
                return {kdec(k): vdec(v) for k, v in data.items()}
            if kind is list:
                out: dict[Any, Any] = {}
                for pair in data:
                    if type(pair) is not list or len(pair) != 2:
                        raise _SLOW
                    out[kdec(pair[0])] = vdec(pair[1])
                return out
        except TypeError:
            raise _SLOW from None
        raise _SLOW

    return dec


def _fast_never(data: Any) -> Any:
    raise _SLOW


def _make_fast_decoder(ttype: int, spec: Any) -> FastDecoder:
    if ttype == TType.BOOL:
        return _fast_bool
    if ttype in _INT_RANGES:
        if ttype == TType.I32 and isinstance(spec, type):
            return _fast_enum(spec)
        return _fast_int(ttype)
    if ttype == TType.DOUBLE:
        return _fast_double
    if ttype == TType.STRING:
        return _fast_string
    if ttype == TType.BINARY:
        return _fast_binary
    if ttype == TType.STRUCT:
        return lambda data: _fast_struct(spec, data)
    if ttype == TType.LIST:
        return _fast_list(spec, as_set=False)
    if ttype == TType.SET:
        return _fast_list(spec, as_set=True)
    if ttype == TType.MAP:
        return _fast_map(spec)
    return _fast_never


def fast_decoder(ttype: int, spec: Any) -> FastDecoder:
    """The (cached) fast-path decoder of this type: common JSON shapes only, else it raises ``_Slow``."""
    key = (ttype, spec)
    dec = _FAST.get(key)
    if dec is None:
        dec = _make_fast_decoder(ttype, spec)
        _bounded(_FAST)[key] = dec
    return dec


# --- freezers (Thrift value -> hashable, order-free stand-in, for matching) ------------------------------

Freezer = Callable[[Any], Any]
_FREEZERS: dict[tuple[int, Any], Freezer] = {}
_STRUCT_FREEZE: dict[type, tuple[tuple[str, Freezer], ...]] = {}


def _same(value: Any) -> Any:
    return value


def _freeze_struct(obj: Any) -> Any:
    cls = type(obj)
    fields = _STRUCT_FREEZE.get(cls)
    if fields is None:
        fields = tuple((f.name, freezer(f.ttype, f.spec)) for f in field_models(cls))
        _bounded(_STRUCT_FREEZE)[cls] = fields
    return (cls, tuple(None if (v := getattr(obj, name, None)) is None else fr(v) for name, fr in fields))


def _make_freezer(ttype: int, spec: Any) -> Freezer:
    if ttype == TType.STRUCT:
        return _freeze_struct
    if ttype == TType.LIST:
        item = freezer(*norm_desc(spec))
        if item is _same:
            return tuple
        return lambda v: tuple(item(x) for x in v)
    if ttype == TType.SET:
        item = freezer(*norm_desc(spec))
        if item is _same:
            return frozenset
        return lambda v: frozenset(item(x) for x in v)
    if ttype == TType.MAP:
        kf = freezer(*norm_desc(spec[0]))
        vf = freezer(*norm_desc(spec[1]))
        return lambda v: frozenset((kf(k), vf(x)) for k, x in v.items())
    if ttype == TType.BINARY:
        return lambda v: v.encode("utf-8") if isinstance(v, str) else bytes(v)
    return _same


def freezer(ttype: int, spec: Any) -> Freezer:
    """The (cached) function mapping a value to a hashable stand-in equal for equal Thrift values.

    thriftpy2 reads a ``set`` off the wire as a Python list, and structs hash by
    their mutable fields; frozen values compare sets as sets, maps as maps and
    structs field by field, whatever Python container holds them.
    """
    key = (ttype, spec)
    fr = _FREEZERS.get(key)
    if fr is None:
        fr = _make_freezer(ttype, spec)
        _bounded(_FREEZERS)[key] = fr
    return fr


def is_identity_freezer(fr: Freezer) -> bool:
    """True when values of this type are already hashable and compare correctly as they are."""
    return fr is _same


_ARGS_KEY_FUNCTIONS: weakref.WeakKeyDictionary[MethodModel, Callable[[Any], Any]] = (
    weakref.WeakKeyDictionary()
)


def args_key_function(method: MethodModel) -> Callable[[Any], Any]:
    """Function from an args object to a hashable key, equal for equal arguments (cached per method).

    Cheaper than :func:`args_key` (no JSON), but only stable within one process.
    """
    fn = _ARGS_KEY_FUNCTIONS.get(method)
    if fn is None:
        fn = _ARGS_KEY_FUNCTIONS[method] = _make_args_key_function(method)
    return fn


def _make_args_key_function(method: MethodModel) -> Callable[[Any], Any]:
    names = [f.name for f in method.args]
    if not names:
        return lambda args: ()
    getter = operator.attrgetter(*names)
    freezers = [freezer(f.ttype, f.spec) for f in method.args]
    if all(is_identity_freezer(fr) for fr in freezers):
        return getter
    if len(names) == 1:
        only = freezers[0]
        return lambda args: None if (v := getter(args)) is None else only(v)
    pairs = tuple(zip(names, freezers, strict=True))
    return lambda args: tuple(None if (v := getattr(args, n)) is None else fr(v) for n, fr in pairs)


# --- method arguments --------------------------------------------------------------------------------------


def args_to_json(method: MethodModel, args_obj: Any) -> dict[str, Any]:
    """The arguments of one call as a JSON object by argument name."""
    return struct_to_json(args_obj)


def args_from_json(method: MethodModel, data: Any, where: str) -> Any:
    """An ``<method>_args`` object from a JSON object by argument name (unset args stay default)."""
    return struct_from_json(method.args_cls, data if data is not None else {}, where, check_required=False)


_ARGS_KEYS: dict[tuple[MethodModel, Any], str] = {}


def args_key(method: MethodModel, args_obj: Any) -> str:
    """A stable canonical string for the arguments of one call (equal args, equal keys).

    Memoised by the arguments' hashable form (equal forms have equal canonical JSON), so
    repeated calls skip the JSON.
    """
    try:
        memo = (method, args_key_function(method)(args_obj))
        text = _ARGS_KEYS.get(memo)
    except TypeError:  # unhashable argument values: no memo
        return canonical_dumps(struct_to_json(args_obj))
    if text is None:
        text = canonical_dumps(struct_to_json(args_obj))
        _bounded(_ARGS_KEYS)[memo] = text
    return text
