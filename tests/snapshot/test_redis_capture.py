"""Capture from a real redis-server, load back, capture again: identical."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from simdb.errors import SnapshotError
from simdb.snapshot.capture_redis import capture_redis
from simdb.snapshot.diff import diff_snapshots
from simdb.snapshot.load_redis import load_redis
from simdb.snapshot.reader import iter_redis, open_snapshot
from simdb.snapshot.verify import verify_snapshot
from simdb.snapshot.writer import SnapshotWriter

pytestmark = pytest.mark.real


def fill(url: str) -> None:
    c = redis.Redis.from_url(url)
    c.set("user:1:name", "Ann")
    c.set(b"bin:\xff\x00", b"\x00\x01\xfe")
    c.set("session:abc", "tok", px=600_000)
    c.hset("user:1:features", mapping={"ctr": "0.12", "age": "31", b"\xfe": b"\xff"})
    c.rpush("feed:1", "1003", "1001", "1001", "1002")
    c.sadd("followees:1", "2", "3", "10")
    c.zadd("scores:1", {"1001": 0.5, "1002": float("inf"), "1003": -1.25, "1004": 0.5})
    c.xadd("events", {"a": "1"})
    for i in range(2500):
        c.set(f"k:{i:05d}", str(i))
    c1 = redis.Redis.from_url(url, db=3)
    c1.set("other-db", "x")


def capture(url: str, out: Path, chunk_keys: int = 1000, skipped: int = 1) -> Path:
    with SnapshotWriter(out, "t") as w:
        stats = capture_redis(w, "cache", url, chunk_keys=chunk_keys, batch=300)
        assert stats.skipped == ({"type stream not supported": skipped} if skipped else {})
        return w.commit()


def test_capture_is_type_aware_sorted_and_verifies(redis_url: str, tmp_path: Path) -> None:
    fill(redis_url)
    root = capture(redis_url, tmp_path / "s")
    assert verify_snapshot(root).ok
    snap = open_snapshot(root, verify_checksums=True)
    entries = {(e.db, e.key): e for e in iter_redis(snap, "cache")}
    assert len(entries) == 2500 + 7 + 1
    assert entries[(0, b"feed:1")].value == [b"1003", b"1001", b"1001", b"1002"]
    assert entries[(0, b"followees:1")].value == [b"10", b"2", b"3"]
    assert entries[(0, b"scores:1")].value == [
        (b"1003", -1.25),
        (b"1001", 0.5),
        (b"1004", 0.5),
        (b"1002", float("inf")),
    ]
    assert entries[(0, b"user:1:features")].type == "hash"
    assert entries[(0, b"bin:\xff\x00")].value == b"\x00\x01\xfe"
    ttl = entries[(0, b"session:abc")].ttl_ms
    assert ttl is not None and 0 < ttl <= 600_000
    assert entries[(3, b"other-db")].value == b"x"
    assert snap.manifest.captured_from["cache"] == redis_url


def test_round_trip_capture_load_capture_is_identical(redis_url: str, tmp_path: Path) -> None:
    fill(redis_url)
    c = redis.Redis.from_url(redis_url)
    c.persist("session:abc")  # a TTL ticks between captures; the rest must be byte-identical
    first = capture(redis_url, tmp_path / "a")
    c.flushall()
    c.xadd("events", {"a": "1"})
    c.set("junk", "to be flushed")
    assert load_redis(redis_url, first, "cache") == 2508
    assert c.get("junk") is None
    assert c.type("events") == b"none"  # the loaded databases are replaced wholesale
    second = capture(redis_url, tmp_path / "b", chunk_keys=100_000, skipped=0)
    assert diff_snapshots(first, second).same
    for rel in ("redis/cache/db0.jsonl", "redis/cache/db3.jsonl"):
        assert (first / rel).read_bytes() == (second / rel).read_bytes()


def test_patterns_select_keys(redis_url: str, tmp_path: Path) -> None:
    fill(redis_url)
    with SnapshotWriter(tmp_path / "s", "t") as w:
        capture_redis(w, "cache", redis_url, patterns=("user:*", "user:1:*"), dbs=[0])
        root = w.commit()
    keys = [e.key for e in iter_redis(open_snapshot(root), "cache")]
    assert keys == [b"user:1:features", b"user:1:name"]


def test_corrupt_snapshot_leaves_server_unchanged(redis_url: str, tmp_path: Path) -> None:
    fill(redis_url)
    root = capture(redis_url, tmp_path / "s")
    rel = root / "redis/cache/db0.jsonl"
    lines = rel.read_text().splitlines()
    lines[-1] = '{"key":"zzz","type":"set","value":["b","a"],"ttl_ms":null}'
    rel.write_text("\n".join(lines) + "\n")
    c = redis.Redis.from_url(redis_url)
    c.set("marker", "still here")
    with pytest.raises(SnapshotError, match="checksum mismatch"):
        load_redis(redis_url, root, "cache")
    from tests.snapshot.test_reader_verify import _rewrite

    _rewrite(root, "redis/cache/db0.jsonl", rel.read_text(), fix_checksum=True)
    with pytest.raises(SnapshotError, match=rf"db0\.jsonl:{len(lines)}: set members must be sorted"):
        load_redis(redis_url, root, "cache")
    assert c.get("marker") == b"still here"
    assert c.dbsize() == 2500 + 8 + 1


def test_interrupted_capture_leaves_nothing(redis_url: str, tmp_path: Path) -> None:
    fill(redis_url)
    out = tmp_path / "s"
    with pytest.raises(RuntimeError), SnapshotWriter(out, "t") as w:

        def boom(n: int) -> None:
            raise RuntimeError("interrupted")

        capture_redis(w, "cache", redis_url, progress=boom)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_pipeline_reader_matches_script_reader(redis_url: str, tmp_path: Path) -> None:
    fill(redis_url)
    redis.Redis.from_url(redis_url).persist("session:abc")
    a = capture(redis_url, tmp_path / "a")
    with SnapshotWriter(tmp_path / "b", "t") as w:
        capture_redis(w, "cache", redis_url, use_script=False, batch=100)
        b = w.commit()
    assert diff_snapshots(a, b).same
