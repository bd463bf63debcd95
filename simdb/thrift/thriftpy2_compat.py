"""Every reach into thriftpy2's private internals that simdb adds, in one place (pinned: thriftpy2 0.7.1).

thriftpy2's parser checks constant values loosely and builds them with plain
``dict``/``set`` calls, so IDL that the Apache compiler accepts fails to load
(``unhashable type: 'list'`` for a map keyed by lists or structs) and IDL that
it rejects loads (``E1 e = E2.Y``; ``list<i32> = ["a"]`` whose elements are
never checked). :func:`patched_parser` swaps in stricter, complete versions of
those functions while one :func:`~simdb.thrift.idl.load_idl` runs:

* a map key or set element that is itself a list, set, map or struct is kept
  in a hashable form (``tuple``, ``frozenset``, :class:`FrozenDict`, the struct);
* list, set and map elements are cast (and checked) like top-level values, so
  a ``list<Pin>`` constant holds ``Pin`` objects, not dicts;
* an enum-typed value written ``X.NAME`` is resolved as Apache does: NAME in
  the declared enum, whatever ``X`` is; an integer must be one of its values;
  a bare constant name is refused ("unqualified"); a mismatch is a type error
  on the line of the constant or field, as the Apache compiler reports it.
"""

from __future__ import annotations

import contextlib
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ply import yacc as _ply_yacc  # type: ignore[import-untyped]  # thriftpy2's parser generator
from thriftpy2.parser import lexer as _tp_lexer
from thriftpy2.parser import parser as _tp_parser
from thriftpy2.parser.exc import ThriftParserError

from simdb.thrift.pywire import UUID_MARKER

__all__ = [
    "FrozenDict",
    "build_parser",
    "check",
    "grammar_module",
    "parse_lock",
    "patched_parse",
    "patched_parser",
]


class FrozenDict(dict):  # type: ignore[type-arg]  # keys and values of any Thrift type
    """A map used as a map key or set element (a constant such as ``{{1: 2}: 3}``)."""

    def __hash__(self) -> int:  # type: ignore[override]  # hashable on purpose; never mutated once built
        return hash(frozenset((k, _hashable(v)) for k, v in self.items()))


class _EnumRef(int):
    """An enum value written ``Enum.NAME`` in a constant: remembers its name for the enum cast."""

    member = ""


class _EnumName:
    """``X.NAME`` where ``X`` is no enum simdb knows (yet): only an enum-typed value can use it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.member = text.rsplit(".", 1)[-1]

    def __repr__(self) -> str:
        return self.text


class _ConstRef(int):
    """An integer constant referred to by name (``= LIMIT``): fine for an integer, not for an enum,
    where Apache wants ``Enum.NAME`` ("identifier LIMIT is unqualified")."""

    name = ""


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, set):
        return frozenset(value)
    if isinstance(value, dict) and not isinstance(value, FrozenDict):
        return FrozenDict((k, v) for k, v in value.items())
    return value


def _raw_key(value: Any) -> Any:
    """A parsed (not yet cast) constant made hashable, keeping lists and maps recognisable."""
    if isinstance(value, list):
        return tuple(_raw_key(v) for v in value)
    if isinstance(value, dict):
        return FrozenDict((k, v) for k, v in value.items())
    return value


def _cast_elem(ttype: Any, value: Any) -> Any:
    return _tp_parser._cast(ttype)(value)


def _cast_list(t: Any) -> Any:
    def cast(v: Any) -> Any:
        assert isinstance(v, (list, tuple))
        return [_cast_elem(t[1], e) for e in v]

    return cast


def _cast_set(t: Any) -> Any:
    def cast(v: Any) -> Any:
        if isinstance(v, dict) and not v:
            return set()
        assert isinstance(v, (list, tuple, set, frozenset))
        return {_hashable(_cast_elem(t[1], e)) for e in v}

    return cast


def _cast_map(t: Any) -> Any:
    def cast(v: Any) -> Any:
        assert isinstance(v, dict)
        ktype, vtype = t[1]
        out = FrozenDict() if isinstance(v, FrozenDict) else {}
        for key, value in v.items():
            out[_hashable(_cast_elem(ktype, key))] = _cast_elem(vtype, value)
        return out

    return cast


def _int_cast(real: Any) -> Any:
    def cast(v: Any) -> Any:
        out = real(v)
        return int(out) if isinstance(out, int) and not isinstance(out, bool) else out  # drop ref markers

    return cast


def _cast_enum(t: Any) -> Any:
    def cast(v: Any) -> Any:
        assert isinstance(v, (int, _EnumName)) and not isinstance(v, bool)
        if isinstance(v, _ConstRef):
            raise AssertionError(f"identifier {v.name} is unqualified (write {t[1].__name__}.NAME)")
        if isinstance(v, (_EnumRef, _EnumName)):
            # Apache resolves `Other.NAME` by NAME in the declared enum, whatever `Other` is.
            value = t[1]._NAMES_TO_VALUES.get(v.member)
            assert value is not None, f"no member {v.member} in enum {t[1].__name__}"
            return int(value)
        assert v in t[1]._VALUES_TO_NAMES, f"no value {v} in enum {t[1].__name__}"
        return int(v)

    return cast


def _cast_struct(t: Any) -> Any:
    cls = t[1]

    def cast(v: Any) -> Any:
        if isinstance(v, (cls, uuid.UUID)):
            return v
        if cls.__name__ == UUID_MARKER:  # a uuid constant, written as its string
            assert isinstance(v, str), "a uuid constant is a string"
            try:
                return uuid.UUID(v)
            except ValueError:
                raise AssertionError(f"{v!r} is not a uuid") from None
        assert isinstance(v, dict)
        tspec = cls._tspec
        out = {}
        for key, value in v.items():  # a required field may be left out: Apache accepts it in a constant
            assert key in tspec, f"no field named {key!r} in {cls.__name__}"
            out[key] = _tp_parser._cast(tspec[key][1])(value)
        return cls(**out)

    return cast


def p_const_map(p: Any) -> None:
    """const_map : '{' const_map_seq '}'"""
    p[0] = {_raw_key(k): v for k, v in p[2]}


def p_const_ref(p: Any) -> None:
    """const_ref : IDENTIFIER"""
    head, _, member = p[1].rpartition(".")
    try:
        _REAL["p_const_ref"](p)
    except ThriftParserError:
        if not head:
            raise
        p[0] = _EnumName(p[1])  # maybe an enum value; the enum cast decides
        return
    value = p[0]
    if isinstance(value, int) and not isinstance(value, bool):
        owner: Any = p.parser.context.thrift_stack[-1]
        for name in head.split(".") if head else ():
            owner = getattr(owner, name, None)
        if head and isinstance(owner, type) and hasattr(owner, "_VALUES_TO_NAMES"):
            ref = _EnumRef(value)
            ref.member = member
            p[0] = ref
        else:
            cref = _ConstRef(value)
            cref.name = p[1]
            p[0] = cref


def p_ref_type(p: Any) -> None:
    """ref_type : IDENTIFIER"""
    _REAL["p_ref_type"](p)
    head, _, _ = p[1].rpartition(".")
    if head and isinstance(p[0], int) and p[0] < 0:
        owner: Any = p.parser.context.thrift_stack[-1]
        for name in head.split("."):
            owner = getattr(owner, name, None)
        if isinstance(owner, types.ModuleType):  # an included file is complete: no later definition
            raise ThriftParserError(f"No type found: {p[1]!r}, at line {p.lineno(1)}")


def _incomplete(t: Any) -> bool:
    if isinstance(t, int):
        return t < 0
    if isinstance(t, tuple):
        return any(_incomplete(x) for x in t)
    return False


def _cast(t: Any, linno: int = 0) -> Any:
    # A constant or default whose type is declared further down: Apache refuses it ("Type not defined").
    assert not _incomplete(t), "a constant of a type declared further down the file"
    return _REAL["_cast"](t, linno)


def _fill_incomplete_ttype(tmodule: Any, definition: Any, incomplete_type: Any) -> Any:
    # thriftpy2 fills a service's argument and result specs field by field and gets a forward typedef
    # of a base type (AssertionError) or a container of one (left unresolved) wrong; they are structs,
    # so fill them the way it fills structs.
    real = _REAL["_fill_incomplete_ttype"]
    if hasattr(definition, "thrift_services"):
        for attr in list(definition.__dict__.values()):
            if hasattr(attr, "thrift_spec"):
                real(tmodule, attr, incomplete_type)
        return definition
    return real(tmodule, definition, incomplete_type)


_TYPE_KINDS = ("enums", "structs", "unions", "exceptions", "services")


def _add_thrift_meta(thrift: Any, key: str, val: Any) -> None:
    # thriftpy2 refuses a name defined twice only within one kind; Apache also across kinds
    # (a struct and a union of the same name).
    meta = getattr(thrift, "__thrift_meta__", None)
    if key in _TYPE_KINDS and meta is not None:
        for kind in _TYPE_KINDS:
            if kind != key and val.__name__ in [x.__name__ for x in meta.get(kind, ())]:
                raise ThriftParserError(f"'{val.__name__}' type is already defined in '{kind}'")
    _REAL["_add_thrift_meta"](thrift, key, val)


_REAL: dict[str, Any] = {
    "_add_thrift_meta": _tp_parser._add_thrift_meta,
    "_cast": _tp_parser._cast,
    "_fill_incomplete_ttype": _tp_parser._fill_incomplete_ttype,
    "p_const_ref": _tp_parser.p_const_ref,
    "p_ref_type": _tp_parser.p_ref_type,
}
_CASTS = {
    "_cast_byte": _int_cast(_tp_parser._cast_byte),
    "_cast_i16": _int_cast(_tp_parser._cast_i16),
    "_cast_i32": _int_cast(_tp_parser._cast_i32),
    "_cast_i64": _int_cast(_tp_parser._cast_i64),
    "_cast_bool": _int_cast(_tp_parser._cast_bool),
    "_add_thrift_meta": _add_thrift_meta,
    "_cast": _cast,
    "_fill_incomplete_ttype": _fill_incomplete_ttype,
    "_cast_list": _cast_list,
    "_cast_set": _cast_set,
    "_cast_map": _cast_map,
    "_cast_enum": _cast_enum,
    "_cast_struct": _cast_struct,
}


def grammar_module() -> types.ModuleType:
    """thriftpy2's grammar with the constant rules above, for building the PLY parser."""
    module = types.ModuleType("simdb_thriftpy2_grammar")
    for name in dir(_tp_parser):
        setattr(module, name, getattr(_tp_parser, name))
    module.p_const_map = p_const_map  # type: ignore[attr-defined]
    module.p_const_ref = p_const_ref  # type: ignore[attr-defined]
    module.p_ref_type = p_ref_type  # type: ignore[attr-defined]
    return module


@contextlib.contextmanager
def patched_parser() -> Iterator[None]:
    """Swap the stricter casts into thriftpy2's parser module (the caller holds the parse lock)."""
    saved = {name: getattr(_tp_parser, name) for name in _CASTS}
    for name, func in _CASTS.items():
        setattr(_tp_parser, name, func)
    try:
        yield
    finally:
        for name, func in saved.items():
            setattr(_tp_parser, name, func)


def build_parser() -> Any:
    """thriftpy2's PLY parser, with the grammar above, built once (tables only depend on the grammar)."""
    return _ply_yacc.yacc(module=grammar_module(), debug=False, write_tables=False)


def parse_lock() -> Any:
    """thriftpy2's own parse lock (its parser keeps module-level state)."""
    return _tp_parser._parse_lock


@contextlib.contextmanager
def patched_parse(
    open_file: Callable[..., Any],
    wrap_parse: Callable[[Callable[..., Any]], Callable[..., Any]],
    reserved: tuple[str, ...],
) -> Iterator[Callable[..., Any]]:
    """thriftpy2's ``parse`` with simdb's file opener, parse wrapper, reserved words and stricter
    casts swapped into its module globals, and an empty include cache; everything is put back after.
    The caller holds :func:`parse_lock`."""
    saved_cache = _tp_parser._thrift_cache
    real_parse = _tp_parser.parse
    saved_reserved = _tp_lexer.thrift_reserved_keywords
    _tp_parser._thrift_cache = {}
    _tp_lexer.thrift_reserved_keywords = reserved  # type: ignore[assignment]
    _tp_parser.open = open_file  # type: ignore[attr-defined]
    _tp_parser.parse = wrap_parse(real_parse)
    try:
        with patched_parser():
            yield _tp_parser.parse
    finally:
        _tp_parser._thrift_cache = saved_cache
        _tp_lexer.thrift_reserved_keywords = saved_reserved
        _tp_parser.parse = real_parse
        del _tp_parser.open  # type: ignore[attr-defined]


def check() -> None:
    """Raise AssertionError naming the internal of thriftpy2 that is gone or changed (the canary)."""
    import thriftpy2

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise AssertionError(f"thriftpy2 {thriftpy2.__version__} changed: {what}")

    for name in ("_parse_lock", "_thrift_cache", "parse", *_CASTS):
        need(hasattr(_tp_parser, name), f"thriftpy2.parser.parser.{name} is gone")
    need(
        isinstance(getattr(_tp_lexer, "thrift_reserved_keywords", None), tuple | list),
        "thriftpy2.parser.lexer.thrift_reserved_keywords is gone",
    )
    for rule in ("p_const_map", "p_const_ref", "p_ref_type"):
        need(callable(getattr(_tp_parser, rule, None)), f"the grammar rule {rule} is gone")
    build_parser()
