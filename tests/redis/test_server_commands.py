"""OBJECT, WAIT, SLOWLOG, LATENCY and CLUSTER: the fake answers as a standalone redis-server 7.0."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from simdb.redis.fake import RedisFake
from simdb.redis.real import RealRedis


def outcome(client: redis.Redis, *args: object) -> tuple[str, object]:
    try:
        return ("ok", client.execute_command(*args))
    except redis.ResponseError as exc:
        return ("error", str(exc))


@pytest.fixture()
def pair(fake_redis: RedisFake, real_redis: RealRedis) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    fake = redis.Redis(host=fake_redis.endpoint.host, port=fake_redis.endpoint.port)
    real = real_redis.client()
    for c in (fake, real):
        c.flushall()
    yield fake, real
    fake.close()
    real.close()


def fill(c: redis.Redis) -> None:
    c.set("i", "12345")
    c.set("neg", "-42")
    c.set("big", "12345678901234567890123")
    c.set("s", "abc")
    c.set("l45", "x" * 45)
    c.append("s", "d")
    c.append("newa", "12")
    c.setrange("sr", 0, "a")
    c.setbit("bits", 3, 1)
    c.rpush("lst", "a")
    c.hset("h", "f", "v")
    c.sadd("si", 1, 2)
    c.sadd("ss", "a")
    c.zadd("z", {"m": 1})
    c.hset("hb", mapping={f"f{i}": "v" for i in range(520)})
    c.hdel("hb", *[f"f{i}" for i in range(515)])  # shrunk: stays a hashtable
    c.hset("hv", "f", "v" * 65)
    c.sadd("sb", *range(600))
    c.sadd("sm", 1, 2, "x")
    c.srem("sm", "x")  # converted to a hashtable for good
    c.zadd("zb", {"m" * 70: 1})
    c.zadd("zc", {f"m{i}": i for i in range(130)})
    c.zremrangebyrank("zc", 0, 120)
    c.xadd("st", {"a": "b"})
    c.incrbyfloat("fl", 1.5)
    c.incr("ic")
    c.eval("redis.call('hset', KEYS[1], 'x', string.rep('y', 100))", 1, "hl")
    pipe = c.pipeline()
    pipe.hset("hp", "a", "b" * 100)
    pipe.sadd("sp", "notint")
    pipe.execute()


KEYS = [
    *("i", "neg", "big", "s", "l45", "newa", "sr", "bits", "lst", "h", "si", "ss", "z", "hb", "hv"),
    *("sb", "sm", "zb", "zc", "st", "fl", "ic", "hl", "hp", "sp", "nokey"),
]


@pytest.mark.real
def test_object_encoding_follows_redis(pair: tuple[redis.Redis, redis.Redis]) -> None:
    fake, real = pair
    for c in pair:
        fill(c)
    for key in KEYS:
        assert outcome(fake, "OBJECT", "ENCODING", key) == outcome(real, "OBJECT", "ENCODING", key), key


SAME = [
    ("OBJECT", "REFCOUNT", "i"),
    ("OBJECT", "REFCOUNT", "s"),
    ("OBJECT", "REFCOUNT", "nokey"),
    ("OBJECT", "FREQ", "s"),
    ("OBJECT", "FREQ", "nokey"),
    ("OBJECT", "IDLETIME", "nokey"),
    ("OBJECT",),
    ("OBJECT", "ENCODING"),
    ("OBJECT", "ENCODING", "a", "b"),
    ("OBJECT", "FOO"),
    ("OBJECT", "HELP"),
    ("WAIT", 0, 0),
    ("WAIT", 1, 30),
    ("WAIT", "x", 0),
    ("WAIT", 1, "x"),
    ("WAIT", 1, -1),
    ("WAIT", 0),
    ("CLUSTER", "INFO"),
    ("CLUSTER",),
    ("CLUSTER", "FOO"),
    ("CLUSTER", "INFO", "x"),
    ("CLUSTER", "KEYSLOT", "a"),
    ("CLUSTER", "KEYSLOT"),
    ("CLUSTER", "SLOTS"),
    ("CLUSTER", "NODES"),
    ("CLUSTER", "SHARDS"),
    ("CLUSTER", "HELP"),
    ("READONLY",),
    ("READWRITE",),
    ("LATENCY", "LATEST"),
    ("LATENCY", "HISTORY", "command"),
    ("LATENCY", "HISTORY"),
    ("LATENCY", "RESET"),
    ("LATENCY", "RESET", "command"),
    ("LATENCY", "GRAPH", "command"),
    ("LATENCY", "HELP"),
    ("LATENCY",),
    ("LATENCY", "FOO"),
    ("SLOWLOG", "GET", "x"),
    ("SLOWLOG", "GET", "-2"),
    ("SLOWLOG", "GET", "1", "2"),
    ("SLOWLOG", "LEN", "x"),
    ("SLOWLOG", "RESET", "x"),
    ("SLOWLOG",),
    ("SLOWLOG", "FOO"),
    ("SLOWLOG", "HELP"),
    ("CONFIG", "GET", "*max-listpack*"),
    ("CONFIG", "GET", "set-max-intset-entries"),
    ("CONFIG", "GET", "latency-monitor-threshold"),
]


@pytest.mark.real
@pytest.mark.parametrize("args", SAME, ids=[" ".join(map(str, a)) for a in SAME])
def test_server_commands_answer_as_redis(
    pair: tuple[redis.Redis, redis.Redis], args: tuple[object, ...]
) -> None:
    fake, real = pair
    for c in pair:
        c.set("i", "5")
        c.set("s", "abc")
    assert outcome(fake, *args) == outcome(real, *args)


@pytest.mark.real
def test_latency_doctor_says_monitoring_is_off(pair: tuple[redis.Redis, redis.Redis]) -> None:
    fake, real = pair
    assert outcome(fake, "LATENCY", "DOCTOR") == outcome(real, "LATENCY", "DOCTOR")


@pytest.mark.real
def test_wait_for_a_replica_waits_its_timeout(pair: tuple[redis.Redis, redis.Redis]) -> None:
    for c in pair:
        started = time.monotonic()
        assert c.execute_command("WAIT", 1, 200) == 0  # no replica ever acknowledges
        assert time.monotonic() - started >= 0.19
        with c.pipeline(transaction=True) as pipe:  # inside MULTI it answers at once
            pipe.execute_command("WAIT", 1, 0)
            assert pipe.execute() == [0]


def _slowlog(c: redis.Redis) -> list[tuple[object, ...]]:
    c.config_set("slowlog-log-slower-than", 0)
    try:
        c.slowlog_reset()
        c.set("a", 1)
        c.execute_command("DEL", *[f"k{i}" for i in range(35)])
        c.set("v", "x" * 200)
        pipe = c.pipeline()
        pipe.set("q", 1)
        pipe.get("q")
        pipe.execute()
        c.eval("return redis.call('get', 'a')", 0)
        c.execute_command("PING")
        c.client_setname("me")
        c.get("a")
        entries = c.execute_command("SLOWLOG", "GET", -1)
        length = c.slowlog_len()
    finally:
        c.config_set("slowlog-log-slower-than", 10000)
        c.client_setname("")
    ids = [e[0] for e in entries]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert all(isinstance(e[1], int) and isinstance(e[2], int) for e in entries)
    # id, time and duration differ by nature; the client's port too (but not a script's "?:0")
    return [(e[3], e[4] == b"?:0", e[5]) for e in entries] + [("len", length)]


@pytest.mark.real
def test_slowlog_records_what_redis_records(pair: tuple[redis.Redis, redis.Redis]) -> None:
    fake, real = pair
    assert _slowlog(fake) == _slowlog(real)


@pytest.mark.real
def test_slowlog_keeps_slowlog_max_len(pair: tuple[redis.Redis, redis.Redis]) -> None:
    out = []
    for c in pair:
        c.config_set("slowlog-max-len", 3)
        c.config_set("slowlog-log-slower-than", 0)
        try:
            for i in range(6):
                c.set(f"k{i}", i)
            out.append([e[3] for e in c.execute_command("SLOWLOG", "GET")])
        finally:
            c.config_set("slowlog-log-slower-than", 10000)
            c.config_set("slowlog-max-len", 128)
            c.slowlog_reset()
    assert out[0] == out[1]


@pytest.mark.fake
def test_settings_the_fake_cannot_honour_are_refused(fake_redis: RedisFake) -> None:
    with redis.Redis(host=fake_redis.endpoint.host, port=fake_redis.endpoint.port) as c:
        with pytest.raises(redis.ResponseError, match="does not monitor latency"):
            c.config_set("latency-monitor-threshold", 5)
        with pytest.raises(redis.ResponseError, match="no per-command latency histograms"):
            c.config_set("latency-tracking", "yes")
        assert c.execute_command("LATENCY", "HISTOGRAM") == {}
        c.set("k", "v")
        assert c.object("idletime", "k") == 0
        c.config_set("maxmemory-policy", "allkeys-lfu")
        try:
            with pytest.raises(redis.ResponseError, match="does not count accesses"):
                c.object("freq", "k")
            with pytest.raises(redis.ResponseError, match="idle time not tracked"):
                c.object("idletime", "k")
        finally:
            c.config_set("maxmemory-policy", "noeviction")
