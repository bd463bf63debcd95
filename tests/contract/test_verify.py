"""``simdb contract verify``: a correct server passes; deliberately wrong servers fail, rightly named."""

from __future__ import annotations

import json
import re
import shlex
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from simdb.cli import app
from simdb.contract.props import load_properties
from simdb.contract.verify import Report, Target, VerifySettings, verify
from simdb.errors import SimdbError
from simdb.thrift.fake import ThriftConfig, ThriftFake
from simdb.thrift.idl import load_idl
from simdb.thrift.model import service_model
from tests.contract.servers import SHOP, raw_server, shop_server

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
HOMEFEED = ROOT / "thrift" / "homefeed"
STUBS = ROOT / "examples" / "homefeed-stubs"
SHOP_MODEL = service_model(load_idl(SHOP), "Shop")
QUICK = VerifySettings(examples=30, seed=11)


@pytest.fixture(scope="module")
def pinstore() -> Iterator[ThriftFake]:
    """The demo PinStore fake with its stubs (binary, buffered)."""
    fake = ThriftFake(
        ThriftConfig(
            idl=HOMEFEED / "pinstore.thrift", services=("PinStore",), stubs=(STUBS / "pinstore.yaml",)
        )
    )
    fake.start()
    yield fake
    fake.stop()


def _target(fake: ThriftFake) -> str:
    return f"{fake.endpoint.host}:{fake.endpoint.port}"


def _fake_report(
    idl: str, service: str, settings: VerifySettings = QUICK, **config: Any
) -> tuple[Report, ThriftFake]:
    fake = ThriftFake(ThriftConfig(idl=HOMEFEED / f"{idl}.thrift", services=(service,), **config))
    ep = fake.start()
    try:
        cfg = fake.config
        target = Target(ep.host, ep.port, cfg.protocol, cfg.transport, cfg.multiplexed)
        return verify(service_model(load_idl(HOMEFEED / f"{idl}.thrift"), service), target, settings), fake
    finally:
        fake.stop()


def _failure(report: Report, method: str) -> Any:
    (result,) = [m for m in report.methods if m.method == method]
    return result.failure


# --- the fakes keep their contract -------------------------------------------------------------------


def test_the_pinstore_fake_passes_every_method(pinstore: ThriftFake) -> None:
    model = service_model(load_idl(HOMEFEED / "pinstore.thrift"), "PinStore")
    ep = pinstore.endpoint
    report = verify(model, Target(ep.host, ep.port), QUICK)
    assert report.ok, report.to_dict()
    assert [m.method for m in report.methods] == list(model.methods)
    by_name = {m.method: m for m in report.methods}
    assert by_name["getPin"].examples >= 30
    assert by_name["health"].examples >= 1  # no arguments: one call is every call


@pytest.mark.parametrize(
    ("idl", "service", "protocol", "transport"),
    [("ranker", "Ranker", "compact", "framed"), ("usergraph", "UserGraph", "compact", "buffered")],
)
def test_fakes_pass_over_other_wire_settings(idl: str, service: str, protocol: str, transport: str) -> None:
    report, _ = _fake_report(idl, service, protocol=protocol, transport=transport)
    assert report.ok, report.to_dict()


def test_a_multiplexed_fake_passes() -> None:
    report, _ = _fake_report("candidates", "CandidateGenerator", multiplexed=True, transport="framed")
    assert report.ok, report.to_dict()


def test_an_application_error_fails_unless_allowed() -> None:
    faults = {"getFollowees": {"app_error_rate": 1.0, "app_error_message": "shard down"}}
    only = VerifySettings(examples=10, seed=1, methods=("getFollowees",))
    report, _ = _fake_report("usergraph", "UserGraph", only, faults=faults)
    failure = _failure(report, "getFollowees")
    assert failure is not None
    assert "TApplicationException INTERNAL_ERROR: shard down" in failure.problem
    allowed = VerifySettings(
        examples=10, seed=1, methods=("getFollowees",), allow_app_errors=frozenset({"getFollowees"})
    )
    report, _ = _fake_report("usergraph", "UserGraph", allowed, faults=faults)
    assert report.ok, report.to_dict()


def test_a_reset_connection_fails() -> None:
    faults = {"getUser": {"reset_rate": 1.0}}
    report, _ = _fake_report("usergraph", "UserGraph", VerifySettings(examples=5, seed=1), faults=faults)
    failure = _failure(report, "getUser")
    assert failure is not None and "connection" in failure.problem
    assert _failure(report, "getFollowees") is None  # a new connection for the next method


# --- deliberately wrong servers ----------------------------------------------------------------------

WRONG = [
    ("missing_required", "result.success: required field 'name' of Item is missing"),
    ("wrong_enum", "result.success.size: 4 is not a declared value of enum Size (S=1, M=2, L=3)"),
    (
        "undeclared_exception",
        "result: an exception getItem does not declare (field id 2, struct on the wire)",
    ),
    ("wrong_type", "result.success.name: i32 on the wire, the IDL says string"),
    ("app_error", "the server closed the connection without answering"),
]


def test_a_correct_server_passes(tmp_path: Path) -> None:
    for protocol, transport in (("binary", "buffered"), ("compact", "framed")):
        with shop_server("correct", tmp_path, protocol, transport) as (host, port):
            report = verify(SHOP_MODEL, Target(host, port, protocol, transport), QUICK)  # type: ignore[arg-type]
        assert report.ok, [m.failure for m in report.methods]


@pytest.mark.parametrize(("variant", "message"), WRONG, ids=[w[0] for w in WRONG])
def test_a_wrong_server_fails_with_the_right_message(tmp_path: Path, variant: str, message: str) -> None:
    with shop_server(variant, tmp_path) as (host, port):
        report = verify(SHOP_MODEL, Target(host, port), QUICK, ["simdb", "contract", "verify"])
    assert not report.ok
    failure = _failure(report, "getItem")
    assert failure.problem == message
    assert failure.args == {"id": 0}  # shrunk to the smallest id
    assert failure.reproduce == """simdb contract verify --method getItem --args '{"id":0}'"""
    assert _failure(report, "count") is None and _failure(report, "touch") is None


def test_a_reply_without_a_result_fails(tmp_path: Path) -> None:
    with shop_server("no_result", tmp_path) as (host, port):
        report = verify(SHOP_MODEL, Target(host, port), QUICK)
    failure = _failure(report, "count")
    assert failure.problem == "the result holds neither a return value nor a declared exception"
    assert failure.args == {"ids": []}
    assert _failure(report, "getItem") is None


def test_a_server_that_hangs_up_fails(tmp_path: Path) -> None:
    def hang_up(conn: socket.socket) -> None:
        conn.recv(1024)

    with raw_server(hang_up) as (host, port):
        report = verify(SHOP_MODEL, Target(host, port, timeout=2.0), VerifySettings(examples=3, seed=1))
    assert all(not m.ok for m in report.methods)
    assert "connection" in _failure(report, "getItem").problem
    assert "after the oneway call" in _failure(report, "touch").problem


def test_nothing_listening_is_a_failure_naming_the_target() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = verify(SHOP_MODEL, Target("127.0.0.1", port), VerifySettings(examples=2, seed=1))
    assert f"cannot connect to 127.0.0.1:{port}" in _failure(report, "getItem").problem


# --- the command line, user properties, JSON and JUnit reports ----------------------------------------


def _cli(*argv: str) -> Any:
    return CliRunner().invoke(app, ["contract", "verify", *argv], catch_exceptions=False)


def test_cli_passes_against_the_fake_with_reports(pinstore: ThriftFake, tmp_path: Path) -> None:
    junit, out = tmp_path / "junit.xml", tmp_path / "report.json"
    idl = str(HOMEFEED / "pinstore.thrift")
    result = _cli(
        "--idl",
        idl,
        "--service",
        "PinStore",
        "--target",
        _target(pinstore),
        "--examples",
        "20",
        "--seed",
        "3",
        "--junit",
        str(junit),
        "--json",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "all 5 methods passed" in result.output
    report = json.loads(out.read_text())
    assert report["ok"] is True and report["seed"] == 3
    names = {m["method"] for m in report["methods"]}
    assert names == {"getPin", "getPins", "getBoardPins", "health", "version"}
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("5", "0")
    assert [c.get("name") for c in suite.iter("testcase")] == [m["method"] for m in report["methods"]]


PROPS = """
from simdb.contract import prop

@prop("getPins")
def asks_for_few_pins(args, result):
    assert len(args.ids) < 3, "too many ids"

@prop("PinStore.getPin")
def the_pin_asked_for(args, result):
    return result.id == args.id or result.id > 0
"""


def test_a_failing_user_property_is_shrunk_and_reproducible(pinstore: ThriftFake, tmp_path: Path) -> None:
    props = tmp_path / "props.py"
    props.write_text(PROPS)
    junit, out = tmp_path / "junit.xml", tmp_path / "report.json"
    idl = str(HOMEFEED / "pinstore.thrift")
    result = _cli(
        "--idl",
        idl,
        "--service",
        "PinStore",
        "--target",
        _target(pinstore),
        "--examples",
        "40",
        "--seed",
        "5",
        "--properties",
        str(props),
        "--junit",
        str(junit),
        "--json",
        str(out),
    )
    assert result.exit_code == 1, result.output
    assert "property asks_for_few_pins failed: too many ids" in result.output
    methods = {m["method"]: m for m in json.loads(out.read_text())["methods"]}
    failure = methods["getPins"]["failure"]
    assert failure["args"] == {"ids": [0, 0, 0], "includeEmbeddings": False}
    assert methods["getPin"]["ok"] and methods["getPin"]["properties"] == ["the_pin_asked_for"]
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    failed = cases["getPins"].find("failure")
    assert failed is not None and "too many ids" in (failed.get("message") or "")
    assert all(cases[name].find("failure") is None for name in cases if name != "getPins")
    # the reproduction replays exactly that call, and fails again
    argv = shlex.split(failure["reproduce"])
    assert argv[:3] == ["simdb", "contract", "verify"]
    again = _cli(*argv[3:])
    assert again.exit_code == 1 and "too many ids" in again.output
    ok = _cli(*argv[3:-1], '{"ids": [1001], "includeEmbeddings": false}')
    assert ok.exit_code == 0, ok.output


def test_cli_bad_input_exits_2(pinstore: ThriftFake, tmp_path: Path) -> None:
    idl = str(HOMEFEED / "pinstore.thrift")
    target = _target(pinstore)
    assert _cli("--idl", idl, "--service", "PinStore", "--target", "nohost").exit_code == 2
    bad = _cli("--idl", idl, "--service", "Nope", "--target", target)
    assert bad.exit_code == 2 and "no service 'Nope'" in bad.output
    bad = _cli("--idl", idl, "--service", "PinStore", "--target", target, "--method", "nope")
    assert bad.exit_code == 2 and "no method 'nope'" in bad.output
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    bad = _cli("--idl", idl, "--service", "PinStore", "--target", target, "--properties", str(empty))
    assert bad.exit_code == 2 and "defines no properties" in bad.output


def test_load_properties_names_the_file_on_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_here\n")
    with pytest.raises(SimdbError, match=r"broken.py: cannot load properties: ModuleNotFoundError"):
        load_properties(broken)


EXAMPLE_PROPS = ROOT / "examples" / "contract" / "homefeed_props.py"


def test_the_documented_properties_run_against_the_demo_fakes(pinstore: ThriftFake) -> None:
    """docs/contracts.md: the fake's generated answers (no stub matched) know the types, not the rules."""
    props = tuple(load_properties(EXAMPLE_PROPS))
    assert [p.name for p in props] == [
        "every_pin_was_asked_for",
        "rank_returns_a_permutation",
        "not_found_names_the_id",
    ]
    settings = VerifySettings(examples=40, seed=1, properties=props)
    model = service_model(load_idl(HOMEFEED / "pinstore.thrift"), "PinStore")
    report = verify(model, Target(pinstore.endpoint.host, pinstore.endpoint.port), settings)
    assert _failure(report, "getPin") is None
    failure = _failure(report, "getPins")
    assert failure.problem.startswith("property every_pin_was_asked_for failed (at homefeed_props.py:")
    assert "assert set(result.pins or {}) <= set(args.ids)" in failure.problem
    assert len(failure.args["ids"]) == 1  # shrunk to a single id
    ranker, _ = _fake_report("ranker", "Ranker", settings, stubs=(STUBS / "ranker.yaml",))
    assert "rank_returns_a_permutation failed" in _failure(ranker, "rank").problem


def _answering(name: str | None, seqid_shift: int) -> Any:
    """A raw server answering every call with a correct getItem result, under another name or seqid."""
    from simdb.thrift import wire
    from simdb.thrift.scan import REPLY, Incomplete, Limits, message_end

    method = SHOP_MODEL.method("getItem")
    assert method is not None
    item = SHOP_MODEL.module.Item(id=1, name="x")  # type: ignore[union-attr]

    def serve(conn: socket.socket) -> None:
        buf = b""
        while True:
            try:
                header, end = message_end("binary", buf, 0, Limits())
            except Incomplete:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                continue
            buf = buf[end:]
            reply = method.result_cls(success=item)
            conn.sendall(
                wire.encode_message("binary", name or header.name, REPLY, header.seqid + seqid_shift, reply)
            )

    return serve


def test_a_reply_to_another_call_fails() -> None:
    settings = VerifySettings(examples=3, seed=1, methods=("getItem",))
    with raw_server(_answering(None, 7)) as (host, port):
        report = verify(SHOP_MODEL, Target(host, port, timeout=2.0), settings)
    problem = _failure(report, "getItem").problem
    found = re.fullmatch(r"the reply has sequence id (\d+), the call (\d+)", problem)
    assert found is not None and int(found[1]) == int(found[2]) + 7
    with raw_server(_answering("count", 0)) as (host, port):
        report = verify(SHOP_MODEL, Target(host, port, timeout=2.0), settings)
    assert _failure(report, "getItem").problem == "the reply is for method 'count', not 'getItem'"
