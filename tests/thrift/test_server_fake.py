"""ThriftFake as a simdb Fake: snapshot load (atomic), reset, health, endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simdb.errors import SimdbError, SnapshotError
from simdb.fake import Fake
from simdb.thrift.fake import ThriftConfig, ThriftFake
from tests.thrift.serving import HOMEFEED, PINSTORE, RANKER, client, running

pytestmark = pytest.mark.fake


def write_part(root: Path, part: str, stubs: list[dict[str, object]]) -> Path:
    d = root / "thrift" / part
    d.mkdir(parents=True, exist_ok=True)
    (d / "stubs.jsonl").write_text("".join(json.dumps(s) + "\n" for s in stubs))
    return root


def pin_stub(stub_id: str, pin_id: int, title: str) -> dict[str, object]:
    return {"id": stub_id, "method": "getPin", "args": {"id": pin_id},
            "reply": {"return": {"id": pin_id, "ownerId": 1, "title": title}}}


def test_is_a_fake_with_an_endpoint_and_health() -> None:
    fake = ThriftFake(ThriftConfig(idl=PINSTORE, services=("PinStore",)))
    assert fake.name == "pinstore" and fake.kind == "thrift"
    assert fake.health().ok is False
    with pytest.raises(SimdbError, match="not started"):
        _ = fake.endpoint
    ep = fake.start()
    try:
        assert isinstance(fake, Fake)  # checked once started: ``endpoint`` raises before
        assert ep.kind == "thrift" and ep.port > 0 and dict(ep.extra)["protocol"] == "binary"
        h = fake.health()
        assert h.ok and h.stats["connections"] == 0 and "PinStore" in h.detail
    finally:
        fake.stop()
    assert fake.health().ok is False


def test_load_snapshot_part_then_reset_returns_to_it(tmp_path: Path) -> None:
    snap = write_part(tmp_path / "snap", "pinstore", [pin_stub("s1", 1, "from snapshot")])
    with running() as fake:
        fake.load(snap)
        c = client(fake)
        try:
            assert c.getPin(1).title == "from snapshot"
            fake.state(None).stubs.add(pin_stub("live", 1, "live change") | {"priority": 5})
            fake.changed()
            assert c.getPin(1).title == "live change"
            fake.reset()
            assert c.getPin(1).title == "from snapshot"
        finally:
            c.close()


def test_bad_snapshot_keeps_the_previous_state(tmp_path: Path) -> None:
    good = write_part(tmp_path / "good", "pinstore", [pin_stub("s1", 1, "good")])
    bad = write_part(tmp_path / "bad", "pinstore", [pin_stub("s1", 1, "bad")])
    with (bad / "thrift" / "pinstore" / "stubs.jsonl").open("a") as fh:
        fh.write('{"id": "s2", "method": "getPin", "args": {"id": "two"}, "reply": {"return": {"id": 2}}}\n')
    with running() as fake:
        fake.load(good)
        with pytest.raises(SnapshotError) as info:
            fake.load(bad)
        assert "stubs.jsonl:2" in str(info.value)
        c = client(fake)
        try:
            assert c.getPin(1).title == "good"
        finally:
            c.close()
        with pytest.raises(SnapshotError, match="neither"):
            fake.load(tmp_path / "empty")


def test_multiplexed_fake_loads_a_directory_per_service(tmp_path: Path) -> None:
    umbrella = tmp_path / "all.thrift"
    umbrella.write_text(f'include "{PINSTORE}"\ninclude "{RANKER}"\n')
    snap = write_part(tmp_path / "snap", "feed/PinStore", [pin_stub("s1", 1, "muxed")])
    with running(idl=umbrella, services=("pinstore.PinStore", "ranker.Ranker"), multiplexed=True,
                 include_dirs=(HOMEFEED,), name="feed") as fake:
        fake.load(snap)
        c = client(fake, "PinStore")
        try:
            assert c.getPin(1).title == "muxed"
        finally:
            c.close()


def test_multiplexed_fake_without_any_part_is_a_snapshot_error(tmp_path: Path) -> None:
    umbrella = tmp_path / "all.thrift"
    umbrella.write_text(f'include "{PINSTORE}"\ninclude "{RANKER}"\n')
    (tmp_path / "snap" / "thrift").mkdir(parents=True)
    with running(idl=umbrella, services=("pinstore.PinStore", "ranker.Ranker"), multiplexed=True,
                 include_dirs=(HOMEFEED,), name="feed") as fake, \
            pytest.raises(SnapshotError, match=r"thrift/feed/PinStore/"):
        fake.load(tmp_path / "snap")
