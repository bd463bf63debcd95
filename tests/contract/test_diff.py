"""``simdb contract diff``: the same calls to two targets; differences found, shown and shrunk."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from simdb.cli import app
from simdb.contract.diff import DiffSettings, compare, diff, load_recordings
from simdb.contract.verify import Target
from simdb.errors import SimdbError
from simdb.thrift.fake import ThriftConfig, ThriftFake
from simdb.thrift.idl import load_idl
from simdb.thrift.model import service_model
from tests.contract.servers import SHOP, shop_server

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
PINSTORE = ROOT / "thrift" / "homefeed" / "pinstore.thrift"
STUBS = ROOT / "examples" / "homefeed-stubs" / "pinstore.yaml"
SHOP_MODEL = service_model(load_idl(SHOP), "Shop")
PIN_MODEL = service_model(load_idl(PINSTORE), "PinStore")


def _cli(*argv: str) -> Any:
    return CliRunner().invoke(app, ["contract", "diff", *argv], catch_exceptions=False)


# --- the normal form -----------------------------------------------------------------------------------


def test_compare_finds_each_difference_by_path() -> None:
    a = {"return": {"name": "x", "score": 1.0, "tags": ["a", "b"], "by": [[1, "one"], [2, "two"]]}}
    assert compare(a, json.loads(json.dumps(a))) == []
    b = {"return": {"name": "y", "score": 1.0 + 1e-12, "tags": ["a"], "by": [[2, "two"], [1, "uno"]]}}
    found = {d.path: (d.a, d.b) for d in compare(a, b)}
    assert found == {
        "return.name": ("x", "y"),
        "return.tags (length)": (2, 1),
        "return.by.1": ("one", "uno"),  # a map with non-string keys compares by key, not by order
    }
    assert compare(a, b, ignore=("return.name", "return.tags*", "*.by.*")) == []
    assert [d.path for d in compare(a, b, float_tolerance=0.0, ignore=("*.name", "*.tags*", "*.by*"))] == [
        "return.score"
    ]
    assert [d.path for d in compare({"return": 1}, {"exception": {"E": {}}})] == ["exception", "return"]
    assert [d.path for d in compare({"return": 1}, {"return": 1.0})] == []  # a double equal to an integer
    assert [d.path for d in compare({"return": True}, {"return": 1})] == ["return"]


# --- two live targets ------------------------------------------------------------------------------------


def test_identical_servers_show_no_difference(tmp_path: Path) -> None:
    with shop_server("correct", tmp_path) as (ha, pa), shop_server("correct", tmp_path) as (hb, pb):
        report = diff(SHOP_MODEL, Target(ha, pa), Target(hb, pb), DiffSettings(examples=30, seed=2))
    assert report.same, report.to_dict()
    assert [m.method for m in report.methods] == ["getItem", "count", "touch"]
    assert all(m.calls >= 30 for m in report.methods)


def test_a_deliberate_difference_is_found_shrunk_and_ignorable(tmp_path: Path) -> None:
    with shop_server("correct", tmp_path) as (ha, pa), shop_server("renamed", tmp_path) as (hb, pb):
        a, b = f"{ha}:{pa}", f"{hb}:{pb}"
        out = tmp_path / "diff.json"
        result = _cli(
            "--idl",
            str(SHOP),
            "--service",
            "Shop",
            "--a",
            a,
            "--b",
            b,
            "--examples",
            "30",
            "--seed",
            "4",
            "--json",
            str(out),
        )
        assert result.exit_code == 1, result.output
        assert "answers differ for getItem" in result.output
        methods = {m["method"]: m for m in json.loads(out.read_text())["methods"]}
        get_item = methods["getItem"]
        assert get_item["args"] == {"id": 0}
        assert get_item["differences"] == [{"path": "return.name", "a": "item 0", "b": "thing 0"}]
        assert methods["count"]["same"] and methods["touch"]["same"]
        again = _cli(*shlex.split(get_item["reproduce"])[3:])
        assert again.exit_code == 1 and "return.name" in again.output
        ignored = _cli(
            "--idl",
            str(SHOP),
            "--service",
            "Shop",
            "--a",
            a,
            "--b",
            b,
            "--examples",
            "30",
            "--ignore",
            "return.name",
        )
        assert ignored.exit_code == 0, ignored.output


def test_two_fakes_with_other_seeds_differ_and_with_the_same_seed_do_not() -> None:
    fakes = [
        ThriftFake(ThriftConfig(idl=PINSTORE, services=("PinStore",), stubs=(STUBS,), seed=s))
        for s in (1, 1, 2)
    ]
    targets = []
    for fake in fakes:
        ep = fake.start()
        targets.append(Target(ep.host, ep.port))
    try:
        settings = DiffSettings(examples=20, seed=3, methods=("getPin", "getPins"))
        assert diff(PIN_MODEL, targets[0], targets[1], settings).same
        other = diff(PIN_MODEL, targets[0], targets[2], settings)
        by_name = {m.method: m for m in other.methods}
        assert not other.same and by_name["getPins"].differences  # generated answers follow the seed
        assert by_name["getPins"].args == {"ids": [0], "includeEmbeddings": False}
    finally:
        for fake in fakes:
            fake.stop()


def _recordings(tmp_path: Path) -> Path:
    item = {"id": 5, "name": "item 5", "size": "M", "tags": ["a"]}
    lines = [
        {"method": "getItem", "args": {"id": 5}, "reply": {"return": item}, "latency_ms": 1.0},
        {"method": "count", "args": {"ids": [1, 2]}, "reply": {"return": 2}, "latency_ms": 1.0},
        {"method": "getItem", "args": {"id": 7}, "reply": {"return": {**item, "id": 7, "name": "old 7"}}},
        {"method": "count", "args": {"ids": []}, "reply": {"app_error": {"type": 6, "message": "boom"}}},
        {"method": "other", "args": {}, "reply": {"return": None}, "latency_ms": 1.0},
    ]
    recordings = tmp_path / "snap" / "thrift" / "shop" / "recordings.jsonl"
    recordings.parent.mkdir(parents=True)
    recordings.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return tmp_path / "snap"


def test_recorded_calls_replay_against_two_targets(tmp_path: Path) -> None:
    calls = load_recordings(_recordings(tmp_path), SHOP_MODEL)
    assert [(c.method, c.args) for c in calls] == [
        ("getItem", {"id": 5}),
        ("count", {"ids": [1, 2]}),
        ("getItem", {"id": 7}),
        ("count", {"ids": []}),
    ]
    assert calls[3].reply == {"app_error": "INTERNAL_ERROR: boom"}
    with shop_server("correct", tmp_path) as (ha, pa), shop_server("renamed", tmp_path) as (hb, pb):
        report = diff(SHOP_MODEL, Target(ha, pa), Target(hb, pb), DiffSettings(recordings=calls))
    by_name = {m.method: m for m in report.methods}
    assert list(by_name) == ["getItem", "count"]
    assert by_name["getItem"].args == {"id": 5}  # the first recorded call that differs
    assert by_name["getItem"].calls == 1
    assert by_name["count"].same and by_name["count"].calls == 2
    with pytest.raises(SimdbError, match=r"no recordings\.jsonl here"):
        load_recordings(tmp_path / "nowhere", SHOP_MODEL)


def test_a_target_against_the_recorded_replies(tmp_path: Path) -> None:
    snap = _recordings(tmp_path)
    with shop_server("correct", tmp_path) as (host, port):
        report = diff(
            SHOP_MODEL, Target(host, port), None, DiffSettings(recordings=load_recordings(snap, SHOP_MODEL))
        )
        by_name = {m.method: m for m in report.methods}
        assert report.b == "the recorded replies"
        assert by_name["getItem"].args == {"id": 7}
        assert [vars(d) for d in by_name["getItem"].differences] == [
            {"path": "return.name", "a": "item 7", "b": "old 7"}
        ]
        assert by_name["count"].args == {"ids": []}
        assert [d.path for d in by_name["count"].differences] == ["app_error", "return"]
        result = _cli(
            "--idl",
            str(SHOP),
            "--service",
            "Shop",
            "--a",
            f"{host}:{port}",
            "--from-recordings",
            str(snap),
            "--json",
            str(tmp_path / "r.json"),
        )
        assert result.exit_code == 1, result.output
        reproduce = json.loads((tmp_path / "r.json").read_text())["methods"][0]["reproduce"]
        assert reproduce.endswith(f"--from-recordings {snap} --method getItem")
        assert _cli(*shlex.split(reproduce)[3:]).exit_code == 1


def test_cli_diff_bad_input_exits_2(tmp_path: Path) -> None:
    base = ["--idl", str(SHOP), "--service", "Shop", "--a", "127.0.0.1:1"]
    assert _cli(*base, "--b", "nope").exit_code == 2
    assert _cli(*base).exit_code == 2  # neither --b nor --from-recordings
    bad = _cli(*base, "--b", "127.0.0.1:2", "--method", "nope")
    assert bad.exit_code == 2 and "no method 'nope'" in bad.output
    bad = _cli(*base, "--b", "127.0.0.1:2", "--from-recordings", str(tmp_path))
    assert bad.exit_code == 2 and "no recordings.jsonl" in bad.output


def test_a_recording_proxy_snapshot_replays_against_a_target(tmp_path: Path) -> None:
    """Record real calls with ``simdb thrift record``'s proxy, then compare servers with what it saw."""
    from thriftpy2.rpc import make_client

    from simdb.snapshot.record import RecordConfig, RecordingProxy

    snap = tmp_path / "snap"
    with shop_server("correct", tmp_path) as upstream:
        proxy = RecordingProxy(RecordConfig(upstream=upstream, idl=SHOP, service="Shop", out=snap)).start()
        client = make_client(SHOP_MODEL.thrift_service, "127.0.0.1", proxy.port, timeout=5000)
        try:
            assert client.getItem(5).name == "item 5"
            with pytest.raises(SHOP_MODEL.module.NoSuchItem):  # type: ignore[union-attr]
                client.getItem(-5000)
            assert client.count([1, 2]) == 2
        finally:
            client.close()
        proxy.stop()
        calls = load_recordings(snap, SHOP_MODEL)
        assert [c.method for c in calls] == ["getItem", "getItem", "count"]
        assert calls[1].reply == {"exception": {"NoSuchItem": {"id": -5000}}}
        report = diff(SHOP_MODEL, Target(*upstream), None, DiffSettings(recordings=calls))
        assert report.same, report.to_dict()
    with shop_server("renamed", tmp_path) as other:
        report = diff(SHOP_MODEL, Target(*other), None, DiffSettings(recordings=calls))
    by_name = {m.method: m for m in report.methods}
    assert by_name["getItem"].args == {"id": 5} and by_name["count"].same
