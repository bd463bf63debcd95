"""The message scanner delimits every valid message exactly and refuses what breaks a limit."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.thrift.generate import ValueGenerator
from simdb.thrift.idl import load_idl
from simdb.thrift.model import MethodModel, service_model
from simdb.thrift.scan import CALL, REPLY, Incomplete, Limits, ProtocolViolation, message_end, read_header
from simdb.thrift.wire import encode_message
from tests.thrift.serving import HOMEFEED

pytestmark = pytest.mark.fake

MODELS = {
    name: service_model(load_idl(HOMEFEED / f"{idl}.thrift"), name)
    for idl, name in [("pinstore", "PinStore"), ("ranker", "Ranker"), ("candidates", "CandidateGenerator"),
                      ("usergraph", "UserGraph")]
}
METHODS: list[MethodModel] = [m for model in MODELS.values() for m in model.methods.values()]
LIMITS = Limits()


def random_message(protocol: str, seed: int, which: int, reply: bool) -> tuple[bytes, MethodModel]:
    method = METHODS[which % len(METHODS)]
    gen = ValueGenerator(seed)
    rng = gen.rng_for("scan", method.name)
    if reply:
        obj: Any = method.result_cls()
        if method.has_return:
            obj.success = gen.value(method.return_ttype, method.return_spec, rng)
        mtype = REPLY
    else:
        obj = method.args_cls()
        for f in method.args:
            setattr(obj, f.name, gen.value(f.ttype, f.spec, rng))
        mtype = CALL
    return encode_message(protocol, method.name, mtype, seed % 1000, obj), method  # type: ignore[arg-type]


@given(seed=st.integers(0, 10_000), which=st.integers(0, 100), reply=st.booleans(),
       protocol=st.sampled_from(["binary", "compact"]))
def test_scanner_finds_the_exact_end_of_any_valid_message(seed: int, which: int, reply: bool,
                                                          protocol: str) -> None:
    data, method = random_message(protocol, seed, which, reply)
    header, end = message_end(protocol, data + b"\x00trailing", 0, LIMITS)  # type: ignore[arg-type]
    assert end == len(data)
    assert header.name == method.name and header.seqid == seed % 1000
    if protocol == "binary":
        assert int.from_bytes(data[header.seq_start:header.seq_end], "big", signed=True) == seed % 1000
    for cut in sorted({1, len(data) // 3, len(data) // 2, len(data) - 1}):
        with pytest.raises(Incomplete):
            message_end(protocol, data[:cut], 0, LIMITS)  # type: ignore[arg-type]


def test_tight_limits_are_violations_not_crashes() -> None:
    data, _ = random_message("binary", 5, METHODS.index(MODELS["Ranker"].methods["rank"]), reply=True)
    tiny = Limits(max_frame_size=len(data) - 1)
    with pytest.raises(ProtocolViolation, match="maximum"):
        message_end("binary", data, 0, tiny)


def test_header_offsets() -> None:
    method = MODELS["PinStore"].methods["getPin"]
    data = encode_message("binary", "getPin", CALL, 77, method.args_cls(id=5))
    h = read_header("binary", data, 0, LIMITS)
    assert (h.name, h.mtype, h.seqid) == ("getPin", CALL, 77)
    assert data[h.seq_start:h.seq_end] == (77).to_bytes(4, "big")
    data = encode_message("compact", "getPin", CALL, 300, method.args_cls(id=5))
    h = read_header("compact", data, 0, LIMITS)
    assert (h.name, h.seqid, h.seq_end - h.seq_start) == ("getPin", 300, 2)
