"""The demo seed is consistent across stores, fits its IDLs, and loads into the Thrift fakes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from thriftpy2.rpc import make_client

from simdb.errors import SnapshotError
from simdb.snapshot.reader import iter_redis, iter_sql_rows, iter_stubs, open_snapshot
from simdb.snapshot.verify import ThriftIdl, verify_snapshot
from simdb.thrift.fake import ThriftConfig, ThriftFake
from simdb.thrift.idl import load_idl
from tests.snapshot.test_reader_verify import _rewrite

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "homefeed"
IDL = ROOT / "thrift" / "homefeed"
SERVICES = {
    "pinstore": "PinStore",
    "usergraph": "UserGraph",
    "candidates": "CandidateGenerator",
    "ranker": "Ranker",
}


def test_seed_verifies_against_every_idl() -> None:
    idls = {part: ThriftIdl(IDL / f"{part}.thrift", svc, (IDL,)) for part, svc in SERVICES.items()}
    report = verify_snapshot(SEED, idls)
    assert report.ok, [str(f) for f in report.findings]
    assert all(r["missing"] == 0 for r in report.references.values())
    assert report.references["ranker"]["checked"] > 100


def test_seed_holds_the_demo_world() -> None:
    snap = open_snapshot(SEED, verify_checksums=True)
    ids = {t: [r["id"] for _, r in iter_sql_rows(snap, "db", t)] for t in ("users", "boards", "pins")}
    assert ids == {
        "users": list(range(1, 21)),
        "boards": list(range(101, 141)),
        "pins": list(range(1001, 1201)),
    }
    keys = {e.key for e in iter_redis(snap, "cache")}
    assert {b"followees:1", b"user:1:features", b"pin:1001:features"} <= keys
    cands = {
        s["args"]["req"]["userId"]: [c["pinId"] for c in s["reply"]["return"]["candidates"]]
        for _, _, s in iter_stubs(snap, "candidates")
    }
    ranked = {
        s["args"]["req"]["userId"]: [r["pinId"] for r in s["reply"]["return"]["ranked"]]
        for _, _, s in iter_stubs(snap, "ranker")
    }
    assert set(cands) == set(ranked) == set(range(1, 21))
    assert all(
        sorted(cands[u]) == sorted(ranked[u]) for u in cands
    )  # the ranker ranks exactly the candidates
    followees = {
        e.key: [int(m) for m, _ in e.value]
        for e in iter_redis(snap, "cache")  # type: ignore[misc]
        if e.key.startswith(b"followees:")
    }
    owners = {r["id"]: r["owner_id"] for _, r in iter_sql_rows(snap, "db", "pins")}
    for user, pins in cands.items():
        assert {owners[p] for p in pins} <= set(followees[f"followees:{user}".encode()])


def test_pinstore_fake_answers_from_the_seed_and_refuses_a_bad_stub(tmp_path: Path) -> None:
    fake = ThriftFake(
        ThriftConfig(
            idl=IDL / "pinstore.thrift",
            services=("PinStore",),
            name="pinstore",
            include_dirs=(IDL,),
            strict=True,
        )
    )
    ep = fake.start()
    try:
        fake.load(SEED)
        module = load_idl(IDL / "pinstore.thrift", [IDL])
        client = make_client(module.PinStore, ep.host, ep.port, timeout=5000)
        pin = client.getPin(1001)
        title = next(
            r["title"] for _, r in iter_sql_rows(open_snapshot(SEED), "db", "pins") if r["id"] == 1001
        )
        assert pin.title == title and pin.boardId == 101
        bad = Path(shutil.copytree(SEED, tmp_path / "bad"))
        rel = "thrift/pinstore/stubs.jsonl"
        lines = (bad / rel).read_text().splitlines()
        stub = json.loads(lines[0])
        stub["reply"]["return"]["id"] = "not a number"
        lines[0] = json.dumps(stub)
        _rewrite(bad, rel, "\n".join(lines) + "\n", fix_checksum=True)
        with pytest.raises(SnapshotError, match=r"stubs\.jsonl:1"):
            fake.load(bad)
        assert client.getPin(1001).title == title
        client.close()
    finally:
        fake.stop()
