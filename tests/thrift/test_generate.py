"""Generated answers: deterministic per (seed, method, args), bounded, and always of the declared type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
from thriftpy2.thrift import TType
from thriftpy2.transport import TMemoryBuffer

from simdb.thrift.codec import args_key, canonical_dumps, from_json, norm_desc, to_json
from simdb.thrift.generate import MAX_ITEMS, ValueGenerator
from simdb.thrift.idl import is_union, load_idl
from simdb.thrift.model import MethodModel, ServiceModel, field_models, service_model

pytestmark = pytest.mark.fake

ROOT = Path(__file__).parent.parent.parent
IDL = Path(__file__).parent / "idl"
RICH_MODULE = load_idl(IDL / "rich.thrift", [IDL / "inc_a", IDL / "inc_b"])
RICH = service_model(RICH_MODULE, "RichService")
HOMEFEED = [
    service_model(load_idl(ROOT / "thrift" / "homefeed" / f"{name}.thrift"), service)
    for name, service in [
        ("pinstore", "PinStore"),
        ("usergraph", "UserGraph"),
        ("candidates", "CandidateGenerator"),
        ("ranker", "Ranker"),
    ]
]
ALL_METHODS = [(s, m) for s in [RICH, *HOMEFEED] for m in s.methods.values() if m.has_return]


def method_id(item: tuple[ServiceModel, MethodModel]) -> str:
    return f"{item[0].name}.{item[1].name}"


def as_json(method: MethodModel, value: Any) -> str:
    return canonical_dumps(to_json(method.return_ttype, method.return_spec, value))


@pytest.mark.parametrize("item", ALL_METHODS, ids=[method_id(i) for i in ALL_METHODS])
def test_same_seed_and_args_give_equal_values_in_fresh_generators(
    item: tuple[ServiceModel, MethodModel],
) -> None:
    _, method = item
    for key in ['{"id":1}', '{"id":2}', "{}"]:
        first = ValueGenerator(42).return_value(method, key)
        second = ValueGenerator(42).return_value(method, key)
        assert as_json(method, first) == as_json(method, second)


@pytest.mark.parametrize("item", ALL_METHODS, ids=[method_id(i) for i in ALL_METHODS])
def test_values_fit_the_declared_type_on_the_wire(item: tuple[ServiceModel, MethodModel]) -> None:
    _, method = item
    for seed in range(15):
        value = ValueGenerator(seed).return_value(method, "{}")
        assert value is not None
        # canonical JSON round trip validates every field's type and range ...
        text = as_json(method, value)
        back = from_json(method.return_ttype, method.return_spec, json.loads(text), "generated")
        assert as_json(method, back) == text
        # ... and the value goes through both protocols inside the result struct
        for factory in (TBinaryProtocolFactory(), TCompactProtocolFactory()):
            out = TMemoryBuffer()
            method.result_cls(success=value).write(factory.get_protocol(out))
            read = method.result_cls()
            read.read(factory.get_protocol(TMemoryBuffer(out.getvalue())))
            assert as_json(method, read.success) == text


def test_different_seeds_and_different_args_give_different_values() -> None:
    method = HOMEFEED[0].methods["getPin"]
    by_seed = {as_json(method, ValueGenerator(seed).return_value(method, '{"id":1}')) for seed in range(10)}
    assert len(by_seed) == 10
    generator = ValueGenerator(7)
    by_args = {as_json(method, generator.return_value(method, f'{{"id":{i}}}')) for i in range(10)}
    assert len(by_args) == 10


def test_args_key_of_real_arguments_drives_the_value() -> None:
    method = HOMEFEED[0].methods["getPins"]
    generator = ValueGenerator(3)
    a = generator.return_value(method, args_key(method, method.args_cls(ids=[1, 2])))
    b = ValueGenerator(3).return_value(method, args_key(method, method.args_cls(ids=[1, 2])))
    c = generator.return_value(method, args_key(method, method.args_cls(ids=[1, 3])))
    assert as_json(method, a) == as_json(method, b) != as_json(method, c)


def test_values_are_the_same_in_another_process_with_another_hash_seed() -> None:
    method = HOMEFEED[0].methods["getBoardPins"]
    here = as_json(method, ValueGenerator(11).return_value(method, '{"boardId":5}'))
    script = (
        "from pathlib import Path\n"
        "from simdb.thrift.idl import load_idl\n"
        "from simdb.thrift.model import service_model\n"
        "from simdb.thrift.codec import canonical_dumps, to_json\n"
        "from simdb.thrift.generate import ValueGenerator\n"
        f"idl = Path({str(ROOT / 'thrift' / 'homefeed' / 'pinstore.thrift')!r})\n"
        "m = service_model(load_idl(idl), 'PinStore').methods['getBoardPins']\n"
        "v = ValueGenerator(11).return_value(m, '{\"boardId\":5}')\n"
        "print(canonical_dumps(to_json(m.return_ttype, m.return_spec, v)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == here


def depth_and_sizes(ttype: int, spec: Any, value: Any, depth: int = 0) -> int:
    """Max nesting depth of a value; asserts the generator's structural promises on the way."""
    if value is None:
        return depth
    if ttype == TType.STRUCT:
        fields = field_models(spec)
        set_fields = [f for f in fields if getattr(value, f.name) is not None]
        if is_union(spec):
            assert len(set_fields) == 1
        for f in fields:
            if f.required:
                assert getattr(value, f.name) is not None, f"required {spec.__name__}.{f.name} unset"
        return max(
            [
                depth,
                *(depth_and_sizes(f.ttype, f.spec, getattr(value, f.name), depth + 1) for f in set_fields),
            ]
        )
    if ttype in (TType.LIST, TType.SET):
        assert len(value) <= MAX_ITEMS
        et, es = norm_desc(spec)
        return max([depth, *(depth_and_sizes(et, es, v, depth + 1) for v in value)])
    if ttype == TType.MAP:
        assert len(value) <= MAX_ITEMS
        kt, ks = norm_desc(spec[0])
        vt, vs = norm_desc(spec[1])
        return max(
            [
                depth,
                *(
                    max(depth_and_sizes(kt, ks, k, depth + 1), depth_and_sizes(vt, vs, v, depth + 1))
                    for k, v in value.items()
                ),
            ]
        )
    return depth


def test_recursive_structs_end_and_structure_is_bounded() -> None:
    tree = RICH.methods["tree"]
    value_method = RICH.methods["value"]
    deepest = 0
    for seed in range(40):
        for method in (tree, value_method, RICH.methods["echo"]):
            value = ValueGenerator(seed).return_value(method, "{}")
            deepest = max(deepest, depth_and_sizes(method.return_ttype, method.return_spec, value))
    assert 2 <= deepest <= 12


def test_void_methods_generate_none_and_values_look_plausible() -> None:
    generator = ValueGenerator(0)
    assert generator.return_value(RICH.methods["nothing"], "{}") is None
    pin = generator.return_value(HOMEFEED[0].methods["getPin"], '{"id":5}')
    assert pin.id > 0 and pin.ownerId > 0
    assert pin.createdAtMs is None or pin.createdAtMs > 1_600_000_000_000
    for image in pin.images or []:
        assert image.url is None or image.url.startswith("https://")


def test_cached_values_are_returned_for_repeated_calls() -> None:
    method = HOMEFEED[0].methods["getPin"]
    generator = ValueGenerator(5)
    assert generator.return_value(method, '{"id":1}') is generator.return_value(method, '{"id":1}')


def test_value_for_args_objects_equals_return_value_of_their_key() -> None:
    method = HOMEFEED[2].methods["getCandidates"]
    module_req = method.args[0].spec
    generator = ValueGenerator(9)
    args = method.args_cls(req=module_req(userId=3, sources={1, 2}, features={}))
    expected = ValueGenerator(9).return_value(method, args_key(method, args))
    assert as_json(method, generator.value_for(method, args)) == as_json(method, expected)
    assert generator.value_for(method, args) is generator.value_for(method, args)
    assert generator.value_for(RICH.methods["nothing"], RICH.methods["nothing"].args_cls()) is None


def test_unhashable_container_types_still_generate_sendable_values() -> None:
    service = service_model(load_idl(IDL / "unhashable.thrift"), "OddService")
    for name in ("odd", "sets"):
        method = service.methods[name]
        for seed in range(10):
            value = ValueGenerator(seed).return_value(method, "{}")
            out = TMemoryBuffer()
            method.result_cls(success=value).write(TBinaryProtocolFactory().get_protocol(out))
            assert as_json(method, value).startswith(("{", "["))
