"""The Thrift fake's admin HTTP API under /_simdb/: health, reset, stubs, faults, journal, metrics."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.thrift import TApplicationException

from simdb.thrift.fake import ThriftFake
from tests.thrift.serving import client, running

pytestmark = pytest.mark.fake

STUBS = """
stubs:
  - id: pin-1
    method: getPin
    args: {id: 1}
    reply: {return: {id: 1, ownerId: 10, title: "loaded"}}
"""


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[ThriftFake]:
    path = tmp_path / "stubs.yaml"
    path.write_text(STUBS)
    with running(stubs=(path,), admin_port=0) as f:
        yield f


def http(fake: ThriftFake, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    port = fake.endpoint.admin_port
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_simdb{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            raw = resp.read()
            ctype = resp.headers.get("Content-Type", "")
            return resp.status, json.loads(raw) if ctype.startswith("application/json") else raw.decode()
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_health(fake: ThriftFake) -> None:
    status, body = http(fake, "GET", "/health")
    assert status == 200
    assert body["ok"] is True and body["kind"] == "thrift" and body["name"] == "pinstore"
    assert body["stats"]["services"] == "PinStore"


def test_stubs_list_add_remove_change_answers_on_a_live_connection(fake: ThriftFake) -> None:
    c = client(fake)
    try:
        assert c.getPin(2).title != "added"
        status, body = http(fake, "GET", "/stubs")
        assert status == 200 and [s["id"] for s in body["stubs"]] == ["pin-1"]
        stub = {"id": "pin-2", "method": "getPin", "args": {"id": 2},
                "reply": {"return": {"id": 2, "ownerId": 3, "title": "added"}}}
        status, body = http(fake, "POST", "/stubs", stub)
        assert status == 201 and body["id"] == "pin-2"
        assert c.getPin(2).title == "added"  # the reply cache was cleared
        status, body = http(fake, "DELETE", "/stubs/pin-2")
        assert status == 200 and body["removed"] == "pin-2"
        assert c.getPin(2).title != "added"
        status, body = http(fake, "DELETE", "/stubs/pin-2")
        assert status == 404 and "pin-2" in body["error"]
    finally:
        c.close()


def test_bad_stub_is_refused_with_the_key_and_nothing_changes(fake: ThriftFake) -> None:
    status, body = http(fake, "POST", "/stubs", {"method": "getPin", "args": {"id": 2},
                                                 "reply": {"return": {"id": "two"}}})
    assert status == 400 and "id" in body["error"]
    status, body = http(fake, "POST", "/stubs", {"method": "nope", "reply": {"return": 1}})
    assert status == 400 and "nope" in body["error"]
    status, body = http(fake, "POST", "/stubs", ["not", "an", "object"])
    assert status == 400
    assert [s["id"] for s in http(fake, "GET", "/stubs")[1]["stubs"]] == ["pin-1"]


def test_faults_get_set_clear_at_runtime(fake: ThriftFake) -> None:
    c = client(fake)
    try:
        assert c.getPin(1).title == "loaded"
        status, body = http(fake, "PUT", "/faults", {"seed": 3, "rules": {"getPin": {"app_error_rate": 1.0}}})
        assert status == 200 and body["rules"]["getPin"]["app_error_rate"] == 1.0
        with pytest.raises(TApplicationException):
            c.getPin(1)  # cached before; the fault applies now
        status, body = http(fake, "GET", "/faults")
        assert status == 200 and body["seed"] == 3 and "getPin" in body["rules"]
        status, body = http(fake, "DELETE", "/faults")
        assert status == 200 and body["rules"] == {}
        assert c.getPin(1).title == "loaded"
    finally:
        c.close()


def test_bad_faults_are_refused_and_the_old_plan_stays(fake: ThriftFake) -> None:
    http(fake, "PUT", "/faults", {"rules": {"getPin": {"fixed_ms": 1}}})
    for bad, word in [
        ({"rules": {"getPin": {"exception_rate": 2}}}, "exception_rate"),
        ({"rules": {"noSuchMethod": {"fixed_ms": 1}}}, "noSuchMethod"),
        ({"rules": {"getPin": {"p50_ms": 5}}}, "p99_ms"),
        ({"rules": {"getPin": {"exception_rate": 1, "exception": "UserNotFound"}}}, "UserNotFound"),
        ("nonsense", "rules"),
    ]:
        status, body = http(fake, "PUT", "/faults", bad)
        assert status == 400, bad
        assert word in body["error"], body
    assert http(fake, "GET", "/faults")[1]["rules"] == {"getPin": {"latency": {"fixed_ms": 1.0}}}


def test_journal_read_filter_limit_clear(fake: ThriftFake) -> None:
    c = client(fake)
    try:
        c.getPin(1)
        c.getPin(5)
        c.version()
    finally:
        c.close()
    status, body = http(fake, "GET", "/journal")
    assert status == 200 and body["total"] == 3 and body["size"] == 1000
    assert [e["method"] for e in body["entries"]] == ["getPin", "getPin", "version"]
    first = body["entries"][0]
    assert first["args"] == {"id": 1} and first["answered"] == "stub:pin-1"
    assert first["service"] == "PinStore" and first["latency_ms"] >= 0 and first["time"].endswith("+00:00")
    assert body["entries"][1]["answered"] == "generated"
    status, body = http(fake, "GET", "/journal?method=version")
    assert [e["method"] for e in body["entries"]] == ["version"]
    status, body = http(fake, "GET", "/journal?method=PinStore.getPin&limit=1")
    assert [e["args"] for e in body["entries"]] == [{"id": 5}]
    status, body = http(fake, "GET", "/journal?limit=x")
    assert status == 400 and "limit" in body["error"]
    assert http(fake, "DELETE", "/journal")[0] == 200
    assert http(fake, "GET", "/journal")[1]["entries"] == []


def test_metrics_count_calls_errors_and_latency(fake: ThriftFake) -> None:
    http(fake, "PUT", "/faults", {"rules": {"version": {"app_error_rate": 1.0}}})
    c = client(fake)
    try:
        c.getPin(1)
        c.getPin(1)
        with pytest.raises(TApplicationException):
            c.version()
    finally:
        c.close()
    status, text = http(fake, "GET", "/metrics")
    assert status == 200
    labels = 'fake="pinstore",method="getPin",service="PinStore"'
    assert f"simdb_thrift_calls_total{{{labels}}} 2.0" in text
    assert f"simdb_thrift_errors_total{{{labels}}} 0.0" in text
    assert 'simdb_thrift_errors_total{fake="pinstore",method="version",service="PinStore"} 1.0' in text
    inf_bucket = ('simdb_thrift_latency_seconds_bucket'
                  '{fake="pinstore",le="+Inf",method="getPin",service="PinStore"}')
    assert f"{inf_bucket} 2.0" in text
    assert f"simdb_thrift_latency_seconds_count{{{labels}}} 2.0" in text


def test_reset_returns_stubs_faults_and_journal_to_the_loaded_state(fake: ThriftFake) -> None:
    http(fake, "POST", "/stubs", {"id": "extra", "method": "version", "reply": {"return": "x"}})
    http(fake, "DELETE", "/stubs/pin-1")
    http(fake, "PUT", "/faults", {"rules": {"getPin": {"reset_rate": 1.0}}})
    c = client(fake)
    try:
        assert c.version() == "x"
    finally:
        c.close()
    assert http(fake, "POST", "/reset")[0] == 200
    assert [s["id"] for s in http(fake, "GET", "/stubs")[1]["stubs"]] == ["pin-1"]
    assert http(fake, "GET", "/faults")[1]["rules"] == {}
    assert http(fake, "GET", "/journal")[1]["entries"] == []
    c = client(fake)
    try:
        assert c.getPin(1).title == "loaded"
        assert c.version() != "x"
    finally:
        c.close()


def test_unknown_admin_path_and_wrong_verb(fake: ThriftFake) -> None:
    assert http(fake, "GET", "/nope")[0] == 404
    status, body = http(fake, "POST", "/journal")
    assert status == 405 and "GET" in body["error"]
