"""The canonical JSON form of Thrift values: exact round trips, the documented shapes, precise errors."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
from thriftpy2.thrift import TType
from thriftpy2.transport import TMemoryBuffer

from simdb.errors import ConfigError
from simdb.thrift.codec import (
    args_key,
    args_to_json,
    canonical_dumps,
    freezer,
    from_json,
    struct_from_json,
    to_json,
)
from simdb.thrift.idl import load_idl
from simdb.thrift.model import service_model
from tests.thrift.strategies import structs, values

pytestmark = pytest.mark.fake

IDL = Path(__file__).parent / "idl"
MODULE = load_idl(IDL / "rich.thrift", [IDL / "inc_a", IDL / "inc_b"])
SERVICE = service_model(MODULE, "RichService")
EVERYTHING = (TType.STRUCT, MODULE.Everything)


def roundtrip(ttype: int, spec: Any, value: Any) -> Any:
    data = to_json(ttype, spec, value)
    text = canonical_dumps(data)  # must be plain JSON: no NaN tokens, no bytes
    return from_json(ttype, spec, json.loads(text), "value")


# --- round trips (hypothesis) ------------------------------------------------------------------------------


@given(structs(MODULE.Everything, nan=False))
def test_everything_roundtrips_exactly(value: Any) -> None:
    assert roundtrip(*EVERYTHING, value) == value


@given(structs(MODULE.Everything, nan=True))
def test_canonical_text_is_stable_with_nan_and_infinities(value: Any) -> None:
    once = canonical_dumps(to_json(*EVERYTHING, value))
    again = canonical_dumps(to_json(*EVERYTHING, roundtrip(*EVERYTHING, value)))
    assert once == again


@given(structs(MODULE.Tree, nan=False))
def test_recursive_structs_roundtrip(value: Any) -> None:
    assert roundtrip(TType.STRUCT, MODULE.Tree, value) == value


@given(structs(MODULE.Value, nan=False))
def test_unions_roundtrip_with_one_field(value: Any) -> None:
    data = to_json(TType.STRUCT, MODULE.Value, value)
    assert len(data) == 1
    assert roundtrip(TType.STRUCT, MODULE.Value, value) == value


@pytest.mark.parametrize("name", sorted(SERVICE.methods))
def test_every_argument_list_and_return_type_roundtrips(name: str) -> None:
    method = SERVICE.methods[name]

    @given(structs(method.args_cls, nan=False))
    def args_roundtrip(args: Any) -> None:
        data = args_to_json(method, args)
        assert struct_from_json(method.args_cls, data, "args") == args

    args_roundtrip()
    if method.has_return:

        @given(values(method.return_ttype, method.return_spec, nan=False))
        def return_roundtrip(value: Any) -> None:
            assert roundtrip(method.return_ttype, method.return_spec, value) == value

        return_roundtrip()


@given(structs(MODULE.Everything, nan=False))
def test_decoded_values_survive_the_wire(value: Any) -> None:
    decoded = roundtrip(*EVERYTHING, value)
    for factory in (TBinaryProtocolFactory(), TCompactProtocolFactory()):
        out = TMemoryBuffer()
        decoded.write(factory.get_protocol(out))
        back = MODULE.Everything()
        back.read(factory.get_protocol(TMemoryBuffer(out.getvalue())))
        # thriftpy2 reads sets as lists: compare canonical forms and frozen values
        assert canonical_dumps(to_json(*EVERYTHING, back)) == canonical_dumps(to_json(*EVERYTHING, value))
        assert freezer(*EVERYTHING)(back) == freezer(*EVERYTHING)(value)


@given(st.sets(st.integers(-(2**63), 2**63 - 1), max_size=6), st.randoms())
def test_args_key_ignores_set_and_map_order(ids: set[int], rnd: Any) -> None:
    method = SERVICE.methods["lookup"]
    colors = [1, 2, 7]
    shuffled = list(colors)
    rnd.shuffle(shuffled)
    a = method.args_cls(ids=sorted(ids), colors=set(colors), inner=MODULE.Inner(a=1))
    b = method.args_cls(ids=sorted(ids), colors=set(shuffled), inner=MODULE.Inner(a=1))
    assert args_key(method, a) == args_key(method, b)


# --- the documented shapes -------------------------------------------------------------------------------


def test_canonical_shapes() -> None:
    value = MODULE.Everything(
        b=True,
        tiny=-3,
        large=2**63 - 1,
        real=math.inf,
        text="héllo",
        raw=b"\x00\xff",
        color=MODULE.common.Color.BLUE,
        ids={10, 2, 33},
        byNumber={3: "c", 1: "a"},
        byPoint={MODULE.Point(x=1, y=2): [{"b", "a"}]},
        colors={7, 1},
        weightsByColor={2: 0.5},
        byBytes={b"k": True},
        doubles=[math.nan, -math.inf, 1.5],
        value=MODULE.Value(raw=b"hi"),
        withDefault="dflt",
        weights={"w": 1.0},
    )
    data = to_json(*EVERYTHING, value)
    assert data == {
        "b": True,
        "tiny": -3,
        "large": 9223372036854775807,
        "real": "Infinity",
        "text": "héllo",
        "raw": "AP8=",
        "color": "BLUE",
        "ids": [2, 10, 33],
        "byNumber": [[1, "a"], [3, "c"]],
        "byPoint": [[{"x": 1, "y": 2}, [["a", "b"]]]],
        "colors": ["BLUE", "RED"],
        "weightsByColor": [["GREEN", 0.5]],
        "byBytes": [["aw==", True]],
        "doubles": ["NaN", "-Infinity", 1.5],
        "value": {"raw": "aGk="},
        "withDefault": "dflt",
        "weights": {"w": 1.0},
    }
    # i64 stays exact through JSON text
    assert json.loads(canonical_dumps(data))["large"] == 2**63 - 1


def test_sets_sort_numbers_by_value_and_strings_by_code_point() -> None:
    assert to_json(TType.SET, TType.I64, {10, -1, 2}) == [-1, 2, 10]
    assert to_json(TType.SET, TType.STRING, {"b", "B", "a"}) == ["B", "a", "b"]


def test_unset_fields_are_left_out_and_defaults_fill_in() -> None:
    assert to_json(TType.STRUCT, MODULE.Inner, MODULE.Inner(a=1)) == {"a": 1}
    decoded = from_json(*EVERYTHING, {}, "e")
    assert decoded.withDefault == "dflt" and decoded.color == MODULE.common.Color.GREEN
    assert decoded.text is None


def test_from_json_accepts_handwritten_forms() -> None:
    spec = MODULE.Everything
    decoded = from_json(
        TType.STRUCT,
        spec,
        {
            "byNumber": {"1": "a", "2": "b"},  # JSON object with integer keys
            "weightsByColor": {"RED": 1, "BLUE": 2},  # enum keys by name, doubles as integers
            "color": 7,  # enum by number
            "real": "-inf",
        },
        "e",
    )
    assert decoded.byNumber == {1: "a", 2: "b"}
    assert decoded.weightsByColor == {1: 1.0, 7: 2.0}
    assert decoded.color == 7 and decoded.real == -math.inf
    # YAML gives integer keys directly
    assert from_json(TType.MAP, (TType.I32, TType.STRING), {5: "x"}, "m") == {5: "x"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tiny": 128}, r"^e\.tiny: 128 is out of range for i8 \(-128\.\.127\)$"),
        ({"large": "12"}, r"^e\.large: expected an integer \(i64\), got \"12\"$"),
        ({"b": 1}, r"^e\.b: expected true or false, got 1$"),
        ({"real": "fast"}, r"^e\.real: expected a number \(double\)"),
        ({"text": 5}, r"^e\.text: expected a string, got 5$"),
        ({"raw": "not base64!"}, r"^e\.raw: not valid base64"),
        ({"color": "PURPLE"}, r"^e\.color: expected a member of enum Color \(RED, GREEN, BLUE\)"),
        ({"nope": 1}, r"^e: Everything has no field 'nope' \(fields: b, tiny, "),
        ({"strings": "a"}, r"^e\.strings: expected an array \(list\)"),
        ({"strings": ["a", 2]}, r"^e\.strings\[1\]: expected a string, got 2$"),
        ({"byName": {"k": {"b": "x"}}}, r"^e\.byName\['k'\]: required field 'a' of Inner is missing$"),
        ({"byNumber": [[1, "a", 3]]}, r"^e\.byNumber\[0\]: expected a \[key, value\] pair"),
        ({"byNumber": {"one": "a"}}, r"^e\.byNumber\['one'\] \(key\): expected a i32 map key"),
        (
            {"value": {"flag": True, "number": 1}},
            r"^e\.value: union Value takes exactly one field, got flag, number$",
        ),
        ({"value": {}}, r"^e\.value: union Value takes exactly one field, got none$"),
        (
            {"tree": {"children": [{"left": {"label": "x"}}]}},
            r"^e\.tree\.children\[0\]\.left\.label: expected an integer \(i32\)",
        ),
        ([1], r"^e: expected an object \(struct Everything\), got \[1\]$"),
    ],
)
def test_errors_name_the_path(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_json(*EVERYTHING, data, "e")


def test_void_takes_only_null() -> None:
    assert from_json(TType.VOID, None, None, "r") is None
    with pytest.raises(ConfigError, match=r"^r: expected null \(the method returns void\)"):
        from_json(TType.VOID, None, 1, "r")


def test_strings_that_are_not_utf8_survive_as_b64() -> None:
    # thriftpy2 hands undecodable strings over as bytes
    spec = (TType.MAP, (TType.STRING, TType.STRING))
    value = {b"\xff": b"\xfe", "ok": "fine"}
    data = to_json(*spec, value)
    assert data == [["ok", "fine"], [{"b64": "/w=="}, {"b64": "/g=="}]]
    assert from_json(*spec, json.loads(canonical_dumps(data)), "m") == value


def test_equal_values_have_equal_canonical_text() -> None:
    assert canonical_dumps(to_json(TType.DOUBLE, None, -0.0)) == canonical_dumps(
        to_json(TType.DOUBLE, None, 0.0)
    )
    method = SERVICE.methods["echo"]
    a = method.args_cls(e=MODULE.Everything(real=-0.0, ids={3, 1}, strings=["x"]))
    b = method.args_cls(
        e=MODULE.Everything(real=0.0, ids=[1, 3], strings=["x"])
    )  # a set as thriftpy2 reads it
    assert args_key(method, a) == args_key(method, b)
    assert args_key(method, b) == canonical_dumps(args_to_json(method, b))  # memoised text is the real one


@given(structs(MODULE.Everything, nan=False), st.booleans())
def test_fast_decoding_path_agrees_with_the_full_path(value: Any, perturb: bool) -> None:
    """Decoding takes a fast path for common JSON shapes; it must give what the full path gives."""
    from simdb.thrift import codec

    data = to_json(*EVERYTHING, value)
    if perturb:  # the same JSON with an unusual shape somewhere forces the full path
        data = json.loads(re.sub(r'": 0([,}\]])', r'": 0.0\1', json.dumps(data)))
    full = codec._struct_from_json(MODULE.Everything, data, "v")
    try:
        fast = codec._fast_struct(MODULE.Everything, data)
    except codec._Slow:
        fast = full
    assert fast == full
    assert codec.struct_from_json(MODULE.Everything, data, "v") == full
