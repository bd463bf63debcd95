"""Hypothesis strategies for Thrift values of any type descriptor (shared by the thrift library tests)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from thriftpy2.thrift import TType

from simdb.thrift.codec import norm_desc
from simdb.thrift.idl import is_union
from simdb.thrift.model import field_models
from simdb.thrift.pywire import UUID

MAX_DEPTH = 3
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
INT_BOUNDS = {TType.BYTE: 7, TType.I16: 15, TType.I32: 31, TType.I64: 63}


def values(ttype: int, spec: Any, *, nan: bool = True, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values as thriftpy2 reads them off the wire (fields with IDL defaults are never unset)."""
    if ttype == TType.BOOL:
        return st.booleans()
    if ttype in INT_BOUNDS:
        if ttype == TType.I32 and isinstance(spec, type):
            return st.sampled_from(sorted(spec._VALUES_TO_NAMES))
        bits = INT_BOUNDS[ttype]
        return st.integers(-(2**bits), 2**bits - 1)
    if ttype == TType.DOUBLE:
        return st.floats(allow_nan=nan, allow_infinity=True)
    if ttype == TType.STRING:
        return TEXT
    if ttype == TType.BINARY:
        return st.binary(max_size=8)
    if ttype == UUID:
        return st.uuids()
    if ttype == TType.STRUCT:
        return structs(spec, nan=nan, depth=depth)
    size = 3 if depth < MAX_DEPTH else 0
    if ttype == TType.LIST:
        return st.lists(values(*norm_desc(spec), nan=nan, depth=depth + 1), max_size=size)
    if ttype == TType.SET:
        return st.sets(values(*norm_desc(spec), nan=nan, depth=depth + 1), max_size=size)
    if ttype == TType.MAP:
        keys = values(*norm_desc(spec[0]), nan=False, depth=depth + 1)
        return st.dictionaries(keys, values(*norm_desc(spec[1]), nan=nan, depth=depth + 1), max_size=size)
    raise AssertionError(f"no strategy for ttype {ttype}")


def structs(cls: type, *, nan: bool = True, depth: int = 0) -> st.SearchStrategy[Any]:
    fields = field_models(cls)
    defaults = dict(cls.default_spec)

    def field_strategy(f: Any) -> st.SearchStrategy[Any]:
        inner = st.deferred(lambda: values(f.ttype, f.spec, nan=nan, depth=depth + 1))
        if f.required or defaults.get(f.name) is not None:
            return inner
        if depth >= MAX_DEPTH:
            return st.none()
        return st.none() | inner

    if is_union(cls):
        candidates = [f for f in fields if depth < MAX_DEPTH or f.ttype != TType.STRUCT]

        def one(f: Any) -> st.SearchStrategy[Any]:
            inner = st.deferred(lambda: values(f.ttype, f.spec, nan=nan, depth=depth + 1))
            return inner.map(lambda v: _build(cls, {f.name: v}))

        return st.one_of([one(f) for f in candidates])
    return st.fixed_dictionaries({f.name: field_strategy(f) for f in fields}).map(lambda kw: _build(cls, kw))


def _build(cls: type, kw: dict[str, Any]) -> Any:
    obj = cls()
    for name, value in kw.items():
        setattr(obj, name, value)
    return obj
