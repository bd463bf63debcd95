"""load_redis replaces only the part's databases, reports progress, and refuses cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from simdb.redis.seed import MAX_DB
from simdb.snapshot.capture_redis import capture_redis
from simdb.snapshot.load_redis import RedisLoadError, load_redis
from simdb.snapshot.writer import SnapshotWriter

pytestmark = pytest.mark.real


def _snapshot(url: str, out: Path) -> Path:
    """A part with 300 keys in db 0 (one hash) and one key in db 3, then an empty server."""
    c0, c3 = redis.Redis.from_url(url, db=0), redis.Redis.from_url(url, db=3)
    for i in range(299):
        c0.set(f"k:{i:03d}", str(i))
    c0.hset("h", mapping={"a": "1", "b": "2"})
    c3.set("three", "3")
    with SnapshotWriter(out, "t") as w:
        capture_redis(w, "cache", url, dbs=[0, 3])
        root = w.commit()
    c0.flushall()
    return root


def _sizes(url: str) -> dict[int, int]:
    sizes = {}
    for db in range(MAX_DB + 1):
        with redis.Redis.from_url(url, db=db) as c:
            if n := c.dbsize():
                sizes[db] = n
    return sizes


def test_replaces_only_the_parts_databases(redis_url: str, tmp_path: Path) -> None:
    root = _snapshot(redis_url, tmp_path / "s")
    redis.Redis.from_url(redis_url, db=0).set("junk", "replaced")
    redis.Redis.from_url(redis_url, db=5).set("keep", "me")
    seen: list[int] = []
    assert load_redis(redis_url, root, "cache", progress=seen.append) == 301
    assert _sizes(redis_url) == {0: 300, 3: 1, 5: 1}  # no scratch database left behind
    assert redis.Redis.from_url(redis_url, db=0).get("junk") is None
    assert redis.Redis.from_url(redis_url, db=0).hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert sum(seen) >= 301


def test_without_free_databases_still_leaves_the_others_alone(redis_url: str, tmp_path: Path) -> None:
    root = _snapshot(redis_url, tmp_path / "s")
    for db in range(MAX_DB + 1):
        redis.Redis.from_url(redis_url, db=db).set(f"old:{db}", "x")
    assert load_redis(redis_url, root, "cache") == 301
    sizes = _sizes(redis_url)
    assert sizes == {db: 300 if db == 0 else 1 for db in range(MAX_DB + 1)}
    assert redis.Redis.from_url(redis_url, db=3).get("old:3") is None
    assert redis.Redis.from_url(redis_url, db=7).get("old:7") == b"x"


def test_a_refusal_raises_and_leaves_the_visible_data(redis_url: str, tmp_path: Path) -> None:
    root = _snapshot(redis_url, tmp_path / "s")
    c = redis.Redis.from_url(redis_url)
    c.set("marker", "still here")
    old = c.config_get("maxmemory")["maxmemory"]
    c.config_set("maxmemory", 1)  # every write is refused with OOM
    try:
        with pytest.raises(RedisLoadError, match="OOM"):
            load_redis(redis_url, root, "cache")
    finally:
        c.config_set("maxmemory", old)
    assert _sizes(redis_url) == {0: 1}
    assert c.get("marker") == b"still here"


def test_only_redis_urls(tmp_path: Path) -> None:
    with pytest.raises(RedisLoadError, match="only redis:// URLs"):
        load_redis("mysql://localhost", tmp_path, "cache")
