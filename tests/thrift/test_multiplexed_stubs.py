"""Stub files in a multiplexed fake: each stub and fault rule goes to the service it is for.

The demo stub files (examples/homefeed-stubs/) are loaded, all of them, into one fake serving the
four demo services multiplexed, and called through thriftpy2's multiplexed protocol.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from thriftpy2.thrift import TApplicationException

from simdb.errors import ConfigError
from simdb.thrift.fake import ThriftConfig, ThriftFake
from tests.thrift.serving import HOMEFEED, PINSTORE, RANKER, ROOT, client, running

pytestmark = pytest.mark.fake

ALL_IDL = ROOT / "tests" / "interop" / "idl" / "homefeed_all.thrift"
EXAMPLES = ROOT / "examples" / "homefeed-stubs"
ALL_SERVICES = ("pinstore.PinStore", "usergraph.UserGraph", "candidates.CandidateGenerator", "ranker.Ranker")


def _umbrella(tmp_path: Path) -> Path:
    path = tmp_path / "two.thrift"
    path.write_text(f'include "{PINSTORE}"\ninclude "{RANKER}"\n')
    return path


def _two(tmp_path: Path, stubs: tuple[Path, ...], **kwargs: Any) -> ThriftFake:
    return ThriftFake(ThriftConfig(idl=_umbrella(tmp_path), services=("pinstore.PinStore", "ranker.Ranker"),
                                   multiplexed=True, include_dirs=(HOMEFEED,), stubs=stubs, **kwargs))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _http(fake: ThriftFake, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{fake.endpoint.admin_port}/_simdb{path}", data=data,
                                 method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_every_demo_stub_file_loads_into_one_multiplexed_fake() -> None:
    with running(idl=ALL_IDL, services=ALL_SERVICES, multiplexed=True, include_dirs=(HOMEFEED,),
                 stubs=(EXAMPLES,), transport="framed") as fake:
        pins, graph = client(fake, "PinStore"), client(fake, "UserGraph")
        cands, ranker = client(fake, "CandidateGenerator"), client(fake, "Ranker")
        try:
            # health is a method of every service: each file's health stub went to its own service.
            assert pins.health().detail == "demo pin store"
            assert graph.health().detail == "demo user graph"
            assert cands.health().detail == "demo candidate generator"
            assert ranker.health().detail == "demo ranker"
            assert pins.getPin(1001).title == "Weeknight lemon pasta"
            assert pins.getPin(4242).id == 4242  # the template stub
            with pytest.raises(Exception) as caught:
                pins.getPin(999999)
            assert type(caught.value).__name__ == "PinNotFound"
            for _ in range(2):  # followees-7-flaky: fails twice, then answers
                with pytest.raises(TApplicationException, match="graph shard 3 unavailable"):
                    graph.getFollowees(7, None, 10)
            assert graph.getFollowees(7, None, 10).followees == [1, 2, 3]
        finally:
            for c in (pins, graph, cands, ranker):
                c.close()
        sources = {(e.service, e.method): e.answered for e in fake.journal.entries()}
        assert sources[("PinStore", "health")] == "stub:health"
        assert sources[("Ranker", "health")] == "stub:health"
        # ranker-faults.yaml's rules went to Ranker only
        assert sorted(fake.states["Ranker"].plan.rules) == ["rank", "score"]
        assert not fake.states["PinStore"].plan.rules


def test_service_key_and_qualified_method_and_fault_keys(tmp_path: Path) -> None:
    stubs = _write(tmp_path, "s.yaml", """
stubs:
  - {id: pin-v, service: PinStore, method: version, reply: {return: pins-1}}
  - {id: rank-v, method: Ranker.version, reply: {return: ranker-1}}
  - {id: rank-v2, service: ranker.Ranker, method: ranker.Ranker.health, reply: {return: {state: SERVING}}}
faults:
  PinStore.getPins: {fixed_ms: 1}
  Ranker.*: {fixed_ms: 2}
  getPin: {fixed_ms: 3}
""")
    with running(idl=_umbrella(tmp_path), services=("pinstore.PinStore", "ranker.Ranker"), multiplexed=True,
                 include_dirs=(HOMEFEED,), stubs=(stubs,)) as fake:
        pins, ranker = client(fake, "PinStore"), client(fake, "Ranker")
        try:
            assert pins.version() == "pins-1"
            assert ranker.version() == "ranker-1"
        finally:
            pins.close()
            ranker.close()
        assert sorted(fake.states["PinStore"].plan.rules) == ["getPin", "getPins"]
        assert sorted(fake.states["Ranker"].plan.rules) == ["*"]
        assert [s["id"] for s in fake.states["Ranker"].stubs.list()] == ["rank-v", "rank-v2"]


def test_file_level_service_key(tmp_path: Path) -> None:
    stubs = _write(tmp_path, "r.yaml", "service: Ranker\nstubs:\n  - {method: version, reply: {return: r}}\n"
                                      "faults:\n  '*': {fixed_ms: 1}\n")
    fake = _two(tmp_path, (stubs,))
    assert len(fake.states["Ranker"].stubs) == 1 and len(fake.states["PinStore"].stubs) == 0
    assert sorted(fake.states["Ranker"].plan.rules) == ["*"] and not fake.states["PinStore"].plan.rules
    assert fake.states["Ranker"].stubs.list()[0]["id"] == "r.yaml#1"


def test_a_method_of_several_services_without_a_hint_names_the_candidates(tmp_path: Path) -> None:
    stubs = _write(tmp_path, "h.yaml", "stubs:\n  - {method: health, reply: {return: {state: SERVING}}}\n")
    with pytest.raises(ConfigError, match=r"h.yaml: stubs\[0\].method: 'health' .*PinStore, Ranker"):
        _two(tmp_path, (stubs,))
    mixed = _write(tmp_path, "m.yaml", "stubs:\n  - {method: getPin, reply: {raise: PinNotFound}}\n"
                                      "  - {method: score, reply: {return: {}}}\n"
                                      "  - {method: version, reply: {return: v}}\n")
    with pytest.raises(ConfigError, match=r"stubs\[2\].method: 'version' .*PinStore, Ranker"):
        _two(tmp_path, (mixed,))
    faults = _write(tmp_path, "f.yaml", "faults:\n  version: {fixed_ms: 1}\n")
    with pytest.raises(ConfigError, match=r"faults.version: .*PinStore.version"):
        _two(tmp_path, (faults,))


def test_a_method_no_served_service_has_is_named(tmp_path: Path) -> None:
    stubs = _write(tmp_path, "x.yaml", "stubs:\n  - {method: getFollowees, reply: {return: {}}}\n")
    with pytest.raises(ConfigError, match=r"x.yaml: stubs\[0\].method: no served service has a method "
                                          r"'getFollowees' \(served: PinStore, Ranker\)"):
        _two(tmp_path, (stubs,))
    faults = _write(tmp_path, "y.yaml", "faults:\n  nope: {fixed_ms: 1}\n")
    with pytest.raises(ConfigError, match=r"faults.nope: no served service has a method 'nope'"):
        _two(tmp_path, (faults,))


def test_a_stub_for_a_service_not_served_is_an_error(tmp_path: Path) -> None:
    stubs = _write(tmp_path, "u.yaml",
                   "stubs:\n  - {service: UserGraph, method: getUser, reply: {return: {}}}\n")
    with pytest.raises(ConfigError,
                       match=r"service 'UserGraph' is not served here \(served: PinStore, Ranker\)"):
        _two(tmp_path, (stubs,))
    single = _write(tmp_path, "one.yaml", "stubs:\n  - {method: Ranker.version, reply: {return: v}}\n")
    with pytest.raises(ConfigError,
                       match=r"stubs\[0\].method: the stub is for service 'Ranker', this is PinStore"):
        ThriftFake(ThriftConfig(idl=PINSTORE, services=("PinStore",), include_dirs=(HOMEFEED,),
                                stubs=(single,)))


def test_a_single_service_fake_accepts_its_own_service_name(tmp_path: Path) -> None:
    stubs = _write(tmp_path, "p.yaml", "service: PinStore\nstubs:\n"
                                      "  - {service: PinStore, method: PinStore.version,"
                                      " reply: {return: v}}\n"
                                      "faults:\n  PinStore.getPin: {fixed_ms: 1}\n")
    fake = ThriftFake(ThriftConfig(idl=PINSTORE, services=("PinStore",), include_dirs=(HOMEFEED,),
                                   stubs=(stubs,)))
    assert len(fake.states["PinStore"].stubs) == 1
    assert list(fake.states["PinStore"].plan.rules) == ["getPin"]


def test_admin_api_adds_and_removes_stubs_of_a_multiplexed_fake(tmp_path: Path) -> None:
    with running(idl=_umbrella(tmp_path), services=("pinstore.PinStore", "ranker.Ranker"), multiplexed=True,
                 include_dirs=(HOMEFEED,), admin_port=0) as fake:
        status, body = _http(fake, "POST", "/stubs", {"method": "getPin", "args": {"id": 5},
                                                      "reply": {"raise": "PinNotFound"}})
        assert (status, body["service"]) == (201, "PinStore")
        status, body = _http(fake, "POST", "/stubs", {"id": "rv", "method": "Ranker.version",
                                                      "reply": {"return": "from-api"}})
        assert (status, body["service"]) == (201, "Ranker")
        status, body = _http(fake, "POST", "/stubs", {"method": "health", "reply": {"return": {}}})
        assert status == 400 and "PinStore, Ranker" in body["error"]
        status, body = _http(fake, "POST", "/stubs", {"method": "nope", "reply": {"return": 1}})
        assert status == 400 and "'nope'" in body["error"]
        ranker = client(fake, "Ranker")
        try:
            assert ranker.version() == "from-api"
            status, _ = _http(fake, "DELETE", "/stubs/rv")
            assert status == 200
            assert ranker.version() != "from-api"
        finally:
            ranker.close()
        status, body = _http(fake, "DELETE", "/stubs/rv")
        assert status == 404 and "rv" in body["error"]
