"""Generated values round-trip through the official Apache Thrift Python library and through simdb's codecs.

Every method of the demo services and of tests/contract/idl/everything.thrift: arguments and results
(return values and declared exceptions), binary and compact, Apache code from Debian's thrift compiler.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from thriftpy2.thrift import TType

from simdb.contract import ContractError, Options, args, for_type, result
from simdb.thrift import pywire, wire
from simdb.thrift.codec import from_json, norm_desc, to_json
from simdb.thrift.idl import is_union, load_idl
from simdb.thrift.model import MethodModel, field_models, service_model
from simdb.thrift.scan import CALL, REPLY, Limits, read_header
from tests.contract.apache import EVERYTHING, PROTOCOLS, apache_roundtrip, canonical, simdb_decode
from tests.interop.codegen import HOMEFEED, SERVICES

# Everything the strategies may produce: NaN, infinities and undeclared enum values included.
WIDE = Options(max_size=3, max_text=12, max_binary=12, max_depth=3, nan=True, infinity=True)

_EVERYTHING = load_idl(EVERYTHING)
_HOMEFEED = {idl: load_idl(HOMEFEED / f"{idl}.thrift") for idl in SERVICES}


def _cases() -> list[Any]:
    cases = []
    for idl, service in SERVICES.items():
        model = service_model(_HOMEFEED[idl], service)
        cases += [pytest.param(idl, model.method(m), id=f"{service}.{m}") for m in model.methods]
    model = service_model(_EVERYTHING, "Everything")
    cases += [pytest.param("everything", model.method(m), id=f"Everything.{m}") for m in model.methods]
    return cases


CASES = _cases()


def _apache_service(apache: dict[str, ModuleType], idl: str, method: MethodModel) -> ModuleType:
    """The Apache-generated module that declares ``method`` (inherited ones live in the base service's)."""
    if idl == "everything":
        return apache[method.service]
    return apache["base"] if method.service == "BaseService" else apache[idl]


def _check_roundtrips(protocol: str, name: str, mtype: int, obj: Any, apache_cls: type | None) -> None:
    expected = canonical(obj)
    cls = type(obj)
    # simdb's wire codec (thriftpy2's codecs, or simdb's own where thriftpy2 cannot) ...
    message = wire.encode_message(protocol, name, mtype, 7, obj)  # type: ignore[arg-type]
    assert canonical(simdb_decode(protocol, message, cls)) == expected
    # ... simdb's own codec for every value ...
    own = pywire.encode_message(protocol, name, mtype, 7, obj)  # type: ignore[arg-type]
    header = read_header(protocol, own, 0, Limits())  # type: ignore[arg-type]
    assert canonical(pywire.decode_struct(protocol, own[header.body_start :], cls())) == expected  # type: ignore[arg-type]
    # ... the canonical JSON codec ...
    assert canonical(from_json(TType.STRUCT, cls, to_json(TType.STRUCT, cls, obj), "value")) == expected
    # ... and the official Apache library (pure Python and C): decode, encode again, decode with simdb.
    if apache_cls is not None:
        for accelerated in (False, True):
            again = apache_roundtrip(protocol, apache_cls, message, accelerated)
            assert canonical(simdb_decode(protocol, again, cls)) == expected


def _apache_cls(apache: dict[str, ModuleType], idl: str, method: MethodModel, suffix: str) -> type:
    return getattr(_apache_service(apache, idl, method), f"{method.name}_{suffix}")  # type: ignore[no-any-return]


@pytest.mark.interop
@pytest.mark.parametrize(("idl", "method"), CASES)
def test_arguments_round_trip(
    apache_homefeed: dict[str, ModuleType],
    apache_everything: dict[str, ModuleType],
    idl: str,
    method: MethodModel,
) -> None:
    apache = apache_everything if idl == "everything" else apache_homefeed
    apache_cls = _apache_cls(apache, idl, method, "args")

    @given(args(method, options=WIDE))
    def roundtrip(value: Any) -> None:
        for protocol in PROTOCOLS:
            _check_roundtrips(protocol, method.name, CALL, value, apache_cls)

    roundtrip()


@pytest.mark.interop
@pytest.mark.parametrize(("idl", "method"), [c for c in CASES if not c.values[1].oneway])
def test_results_round_trip(
    apache_homefeed: dict[str, ModuleType],
    apache_everything: dict[str, ModuleType],
    idl: str,
    method: MethodModel,
) -> None:
    apache = apache_everything if idl == "everything" else apache_homefeed
    apache_cls = _apache_cls(apache, idl, method, "result")

    @given(result(method, options=WIDE))
    def roundtrip(value: Any) -> None:
        set_fields = [f.name for f in field_models(type(value)) if getattr(value, f.name) is not None]
        assert len(set_fields) <= 1
        if method.has_return:
            assert len(set_fields) == 1
        for protocol in PROTOCOLS:
            _check_roundtrips(protocol, method.name, REPLY, value, apache_cls)

    roundtrip()


_HASHED = service_model(_EVERYTHING, "HashedService").method("hashed")


@pytest.mark.fake
@given(st.one_of(args(_HASHED, options=WIDE), result(_HASHED, options=WIDE)))
def test_struct_and_container_keys_round_trip_through_simdb(value: Any) -> None:
    """Map keys and set elements that are structs, lists or sets: frozen values, simdb's codecs."""
    mtype = CALL if type(value) is _HASHED.args_cls else REPLY
    for protocol in PROTOCOLS:
        _check_roundtrips_wire_only(protocol, value, mtype)


def _check_roundtrips_wire_only(protocol: str, obj: Any, mtype: int) -> None:
    expected = canonical(obj)
    message = wire.encode_message(protocol, "hashed", mtype, 1, obj)  # type: ignore[arg-type]
    assert canonical(simdb_decode(protocol, message, type(obj))) == expected


@pytest.mark.interop
def test_apache_python_cannot_hash_struct_or_list_keys(apache_everything: dict[str, ModuleType]) -> None:
    """Why Hashed is checked against simdb only: Apache's generated Python cannot build those dicts/sets."""
    m = _EVERYTHING
    apache_args = apache_everything["HashedService"].hashed_args
    for hashed in (m.Hashed(byPoint={m.Point(x=1, y=2): "a"}), m.Hashed(byList={(1, 2): "a"})):
        message = wire.encode_message("binary", "hashed", CALL, 1, _HASHED.args_cls(h=hashed))
        with pytest.raises(TypeError, match="unhashable"):
            apache_roundtrip("binary", apache_args, message)


def _set_fields(obj: Any) -> list[str]:
    return [f.name for f in field_models(type(obj)) if getattr(obj, f.name) is not None]


@pytest.mark.fake
@given(for_type(_EVERYTHING, "Choice", WIDE), for_type(_EVERYTHING, "Failure", WIDE))
def test_unions_set_exactly_one_field(choice: Any, failure: Any) -> None:
    assert is_union(type(choice))
    assert len(_set_fields(choice)) == 1
    if failure.detail is not None:
        assert len(_set_fields(failure.detail)) == 1


def _tree_depth(tree: Any) -> int:
    below = [*(tree.children or ()), *(tree.named or {}).values(), *([tree.left] if tree.left else [])]
    return 1 + max((_tree_depth(t) for t in below), default=0)


@pytest.mark.fake
@pytest.mark.parametrize("max_depth", [0, 1, 2, 4])
def test_recursion_ends_within_max_depth(max_depth: int) -> None:
    deepest = 0

    @given(for_type(_EVERYTHING, "Tree", Options(max_depth=max_depth, max_size=2)))
    def bounded(tree: Any) -> None:
        nonlocal deepest
        depth = _tree_depth(tree)
        # A struct field takes one level (a list or map of children two): at most max_depth + 1 nodes.
        assert depth <= max_depth + 1
        deepest = max(deepest, depth)

    bounded()
    assert deepest >= min(2, max_depth + 1)


def _sizes(ttype: int, spec: Any, value: Any, out: dict[str, int]) -> None:
    if value is None:
        return
    if ttype == TType.STRING:
        out["text"] = max(out["text"], len(value))
    elif ttype == TType.BINARY:
        out["binary"] = max(out["binary"], len(value))
    elif ttype in (TType.LIST, TType.SET):
        out["size"] = max(out["size"], len(value))
        for item in value:
            _sizes(*norm_desc(spec), item, out)
    elif ttype == TType.MAP:
        out["size"] = max(out["size"], len(value))
        for key, item in value.items():
            _sizes(*norm_desc(spec[0]), key, out)
            _sizes(*norm_desc(spec[1]), item, out)
    elif ttype == TType.STRUCT:
        for f in field_models(spec):
            _sizes(f.ttype, f.spec, getattr(value, f.name), out)


BOUNDS = Options(max_size=2, max_text=3, max_binary=5, max_depth=4)


@pytest.mark.fake
@given(for_type(_EVERYTHING, "Containers", BOUNDS), for_type(_EVERYTHING, "Hashed", BOUNDS))
def test_sizes_are_bounded(containers: Any, hashed: Any) -> None:
    sizes = {"text": 0, "binary": 0, "size": 0}
    _sizes(TType.STRUCT, type(containers), containers, sizes)
    _sizes(TType.STRUCT, type(hashed), hashed, sizes)
    assert sizes["text"] <= 3
    assert sizes["binary"] <= 5
    assert sizes["size"] <= 2


@pytest.mark.fake
@given(for_type(_EVERYTHING, "Scalars"), for_type(_EVERYTHING, "Defaults"))
def test_declared_enums_and_defaults(scalars: Any, defaults: Any) -> None:
    assert scalars.color in (None, 1, 2, 7)
    assert scalars.sparse in (None, -5, 0, 2**31 - 1)
    assert not (isinstance(scalars.real, float) and (math.isnan(scalars.real) or math.isinf(scalars.real)))
    unset = [name for name in ("id", "limit", "name", "ratio", "tags", "color", "on", "names", "note")
             if getattr(defaults, name) is None]
    assert unset == []  # fields with a default (and required ones) are never unset


def _finds(strategy: st.SearchStrategy[Any], condition: Any) -> None:
    from hypothesis import find

    # No shrinking: only that some generated value meets the condition matters.
    find(strategy, condition, settings=settings(max_examples=2000, database=None, phases=[Phase.generate]))


@pytest.mark.fake
def test_full_ranges_and_options_are_reached() -> None:
    m = _EVERYTHING
    _finds(for_type(m, "i64"), lambda v: v >= 2**62)
    _finds(for_type(m, "i64"), lambda v: v <= -(2**62))
    _finds(for_type(m, "i8"), lambda v: v == -128)
    _finds(for_type(m, "string"), lambda s: any(ord(c) > 0xFFFF for c in s))
    _finds(for_type(m, "double", Options(nan=True)), lambda v: math.isnan(v))
    _finds(for_type(m, "double", Options(infinity=True)), lambda v: math.isinf(v))
    _finds(for_type(m, "Color", Options(undeclared_enums=True)), lambda v: v not in (1, 2, 7))
    _finds(for_type(m, "Defaults"), lambda d: d.tags == ["a", "b"] and d.limit == 25)
    _finds(for_type(m, "Defaults"), lambda d: d.tags != ["a", "b"])
    _finds(for_type(m, "Containers"), lambda c: bool(c.byDouble) and bool(c.deep) and bool(c.choices))


@pytest.mark.fake
def test_typedefs_resolve_to_their_types() -> None:
    m = _EVERYTHING
    _finds(for_type(m, "IdList"), lambda ids: len(ids) > 1 and all(isinstance(i, int) for i in ids))
    _finds(for_type(m, "Hue"), lambda color: color == 7)
    _finds(for_type(m, "NameIndex"), lambda index: any(isinstance(k, str) and k for k in index))


@pytest.mark.fake
def test_errors_name_what_is_wrong(tmp_path: Any) -> None:
    m = _EVERYTHING
    with pytest.raises(ContractError, match="no type 'Nope'"):
        for_type(m, "Nope")
    with pytest.raises(ContractError, match=r"has no method 'nope'.*methods: echoScalars"):
        args(m, "Everything.nope")
    with pytest.raises(ContractError, match="oneway"):
        result(m, "Everything.fire")
    loop = tmp_path / "loop.thrift"
    loop.write_text("struct Loop { 1: required i32 n, 2: required Loop next }\n")
    with pytest.raises(ContractError, match=r"Loop has no finite value: required field.s. 'next' nest"):
        _finds(for_type(load_idl(loop), "Loop"), lambda value: True)


_PINSTORE_FILE = str(HOMEFEED / "pinstore.thrift")


@pytest.mark.fake
@given(args(_PINSTORE_FILE, "PinStore.getPin"), for_type(_PINSTORE_FILE, "types.Pin"))
def test_an_idl_file_names_the_method_or_type(call: Any, pin: Any) -> None:
    """``@given(simdb.contract.args("pinstore.thrift", "PinStore.getPin"))`` in a user's own tests."""
    assert type(call).__name__ == "getPin_args" and isinstance(call.id, int)
    assert type(pin).__name__ == "Pin" and isinstance(pin.id, int) and isinstance(pin.ownerId, int)


@pytest.mark.fake
def test_a_missing_idl_file_is_named() -> None:
    with pytest.raises(ContractError, match=r"nope\.thrift: no such IDL file"):
        args("nope.thrift", "PinStore.getPin")
