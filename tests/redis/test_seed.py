"""Seeding from a snapshot part into the fake engine and a real server; atomic loads; reset."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from simdb.errors import SnapshotError
from simdb.redis.fake import RedisConfig, RedisFake
from simdb.redis.records import RedisRecord
from simdb.snapshot.writer import SnapshotWriter
from tests.fixtures.common import require_program

RECORDS = {
    0: [
        RedisRecord.make(b"bin\xff\x00key", "string", b"\x00\x01\xfe"),
        RedisRecord.make(b"feat:1", "hash", {b"score": b"0.5", b"tags": b"a,b"}),
        RedisRecord.make(b"follow:1", "set", [b"2", b"3"]),
        RedisRecord.make(b"recent:1", "list", [b"p3", b"p1", b"p2"]),
        RedisRecord.make(b"session:1", "string", b"tok", ttl_ms=60_000),
        RedisRecord.make(b"top", "zset", {b"a": 1.5, b"b": float("-inf"), b"c": 3}, ttl_ms=120_000),
    ],
    3: [RedisRecord.make(b"other-db", "string", b"x")],
}


def write_snapshot(
    out: Path, records: dict[int, list[RedisRecord]], part: str = "cache", compress: bool = False
) -> Path:
    with SnapshotWriter(out, name="test", compress=compress) as w:
        for db, recs in records.items():
            f = w.open_file(part, "redis", f"redis/{part}/db{db}.jsonl")
            for rec in sorted(recs, key=lambda r: r.key):
                f.write(rec.to_json())
            w.add_file(part, f.close())
        return w.commit()


def dump(client: redis.Redis, dbs: tuple[int, ...] = (0, 3)) -> dict[tuple[int, bytes], Any]:
    """Everything in ``dbs``, type-aware, with TTLs rounded to minutes."""
    out: dict[tuple[int, bytes], Any] = {}
    for db in dbs:
        client.execute_command("SELECT", db)
        for key in client.scan_iter():
            kind = client.type(key)
            value: Any = {
                b"string": lambda k: client.get(k),
                b"hash": lambda k: client.hgetall(k),
                b"list": lambda k: client.lrange(k, 0, -1),
                b"set": lambda k: client.smembers(k),
                b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
            }[kind](key)
            ttl = client.pttl(key)
            out[(db, key)] = (kind, value, round(ttl / 60_000) if ttl > 0 else ttl)
    client.execute_command("SELECT", 0)
    return out


@pytest.fixture(
    scope="module",
    params=[pytest.param("fake", marks=pytest.mark.fake), pytest.param("real", marks=pytest.mark.real)],
)
def seeded_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisFake]:
    if request.param == "real":
        require_program("redis-server", "redis-server")
    snap = write_snapshot(tmp_path_factory.mktemp("snap") / "snap", RECORDS)
    fake = RedisFake(RedisConfig(name="cache", engine=request.param, admin_port=0, snapshot=snap))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def seeded(seeded_server: RedisFake) -> RedisFake:
    """A fake (or real) server holding exactly the snapshot, whatever the previous test did."""
    seeded_server.reset()
    return seeded_server


def client_of(fake: RedisFake) -> redis.Redis:
    return redis.Redis(host=fake.endpoint.host, port=fake.endpoint.port, single_connection_client=True)


EXPECTED = {
    (0, b"bin\xff\x00key"): (b"string", b"\x00\x01\xfe", -1),
    (0, b"feat:1"): (b"hash", {b"score": b"0.5", b"tags": b"a,b"}, -1),
    (0, b"follow:1"): (b"set", {b"2", b"3"}, -1),
    (0, b"recent:1"): (b"list", [b"p3", b"p1", b"p2"], -1),
    (0, b"session:1"): (b"string", b"tok", 1),
    (0, b"top"): (b"zset", [(b"b", float("-inf")), (b"a", 1.5), (b"c", 3.0)], 2),
    (3, b"other-db"): (b"string", b"x", -1),
}


def test_seed_all_types_dbs_ttls_binary(seeded: RedisFake) -> None:
    with client_of(seeded) as client:
        assert dump(client) == EXPECTED


def test_reset_returns_to_the_loaded_state(seeded: RedisFake) -> None:
    with client_of(seeded) as client:
        client.set("new", "1")
        client.delete("feat:1")
        client.lpush("recent:1", "p9")
        seeded.reset()
        assert dump(client) == EXPECTED


def test_reset_through_the_admin_api(seeded: RedisFake) -> None:
    import urllib.request

    with client_of(seeded) as client:
        client.flushall()
        url = f"http://{seeded.endpoint.host}:{seeded.endpoint.admin_port}/_simdb/reset"
        with urllib.request.urlopen(urllib.request.Request(
            url, method="POST", data=b"", headers={"Content-Type": "application/json"}
        )) as resp:
            assert json.loads(resp.read())["ok"] is True
        assert dump(client) == EXPECTED


@pytest.mark.parametrize("damage", ["bad-json", "bad-record", "checksum", "unsorted"])
def test_bad_part_is_refused_and_state_kept(seeded: RedisFake, tmp_path: Path, damage: str) -> None:
    records = {0: [RedisRecord.make(b"a", "string", b"1"), RedisRecord.make(b"b", "string", b"2")]}
    snap = write_snapshot(tmp_path / "bad", records)
    path = snap / "redis/cache/db0.jsonl"
    lines = path.read_text().splitlines()
    if damage == "bad-json":
        lines[1] = '{"key": "b", "type'
    elif damage == "bad-record":
        lines[1] = json.dumps({"key": "b", "type": "zset", "value": [["m", "high"]], "ttl_ms": None})
    elif damage == "unsorted":
        lines.reverse()
    else:  # checksum: valid content, but not what the manifest vouches for
        lines[1] = lines[1].replace('"2"', '"3"')
    path.write_text("\n".join(lines) + "\n")
    if damage != "checksum":  # keep the checksum right so the line check is what refuses it
        import yaml

        from simdb.snapshot.format import sha256_of

        manifest = yaml.safe_load((snap / "snapshot.yaml").read_text())
        manifest["parts"]["cache"]["files"][0]["sha256"] = sha256_of(path)
        (snap / "snapshot.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(SnapshotError) as info:
        seeded.load(snap)
    assert "db0.jsonl" in str(info.value)
    if damage in ("bad-json", "bad-record"):
        assert ":2:" in str(info.value)
    with client_of(seeded) as client:
        assert dump(client) == EXPECTED


@pytest.mark.fake
def test_missing_part_is_named(tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "s", {0: [RedisRecord.make(b"a", "string", b"1")]}, part="other")
    fake = RedisFake(RedisConfig(name="cache"))
    fake.start()
    try:
        with pytest.raises(SnapshotError, match=r"no part named 'cache'.*other"):
            fake.load(snap)
    finally:
        fake.stop()


@pytest.mark.fake
def test_compressed_part_loads(tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "gz", RECORDS, compress=True)
    fake = RedisFake(RedisConfig(name="cache", snapshot=snap))
    fake.start()
    try:
        with client_of(fake) as client:
            assert dump(client) == EXPECTED
    finally:
        fake.stop()


@pytest.mark.fake
def test_record_round_trip() -> None:
    for recs in RECORDS.values():
        for rec in recs:
            assert RedisRecord.from_json(json.loads(json.dumps(rec.to_json())), ("x", 1)) == rec


@pytest.mark.fake
@pytest.mark.parametrize("cut", range(1, 33))
def test_reply_counter_counts_across_chunks_and_reports_errors(cut: int) -> None:
    import socket

    from simdb.redis.seed_real import _ReplyCounter

    replies = b"+OK\r\n:1\r\n-ERR boom here\r\n+OK\r\n-ERR later\r\n"
    a, b = socket.socketpair()
    with a, b:
        counter = _ReplyCounter(a, 5)
        counter.feed(replies[:cut])
        counter.feed(replies[cut:])
    assert counter.seen == 5
    assert counter.failure == "ERR boom here"


def test_bad_line_after_thousands_streamed_keeps_state(seeded: RedisFake, tmp_path: Path) -> None:
    """The real engine streams while reading: a late bad line must still leave everything as it was."""
    records = {0: [RedisRecord.make(b"k%05d" % i, "string", b"v") for i in range(5000)]}
    snap = write_snapshot(tmp_path / "late", records)
    path = snap / "redis/cache/db0.jsonl"
    lines = path.read_text().splitlines()
    lines[4500] = '{"key": "k04500", "type": "string", "value": 5, "ttl_ms": null}'
    path.write_text("\n".join(lines) + "\n")
    import yaml

    from simdb.snapshot.format import sha256_of

    manifest = yaml.safe_load((snap / "snapshot.yaml").read_text())
    manifest["parts"]["cache"]["files"][0]["sha256"] = sha256_of(path)
    (snap / "snapshot.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(SnapshotError, match=":4501:"):
        seeded.load(snap)
    with client_of(seeded) as client:
        assert dump(client, dbs=tuple(range(16))) == EXPECTED
