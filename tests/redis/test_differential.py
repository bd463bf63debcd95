"""Differential tests: the same random command sequences against the fake and a real redis-server.

Replies are normalised (unordered replies sorted; errors compared by kind, i.e. their first word
plus a coarse class) so that what differs is behaviour, not presentation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from simdb.redis.fake import RedisFake
from simdb.redis.real import RealRedis

pytestmark = pytest.mark.real

keys = st.sampled_from([b"k1", b"k2", b"k3", b"\xff\x00bin"])
fields = st.sampled_from([b"f1", b"f2", b"f3"])
values = st.one_of(st.sampled_from([b"0", b"1", b"-7", b"10", b"abc", b"", b"3.5"]), st.binary(max_size=6))
ints = st.integers(min_value=-5, max_value=5).map(lambda i: b"%d" % i)
scores = st.sampled_from([b"1", b"2.5", b"-3", b"inf", b"-inf", b"nan", b"x"])

UNORDERED = {b"SMEMBERS", b"HKEYS", b"HVALS", b"KEYS", b"SINTER", b"SUNION", b"SDIFF"}


def cmd(*parts: Any) -> st.SearchStrategy[tuple[bytes, ...]]:
    return st.tuples(*[st.just(p) if isinstance(p, bytes) else p for p in parts])


SCRIPTS = [
    b"return redis.call('INCR', KEYS[1])",
    b"local v = redis.call('GET', KEYS[1])\nif v then return redis.call('APPEND', KEYS[1], ARGV[1]) end\n"
    b"return redis.call('SET', KEYS[1], ARGV[1])",
    b"return redis.pcall('HSET', KEYS[1], ARGV[1], ARGV[1])",
    b"redis.call('RPUSH', KEYS[1], ARGV[1])\nreturn redis.call('LRANGE', KEYS[1], 0, -1)",
    b"return {redis.call('EXISTS', KEYS[1]), redis.call('TYPE', KEYS[1])}",
    b"return redis.call('ZADD', KEYS[1], ARGV[1], 'm')",
    b"return tonumber(redis.call('GET', KEYS[1]) or '0') * 2",
    b"return redis.call('nosuch', KEYS[1])",
    b"return undefined_global",
    b"redis.call('SET', KEYS[1], ARGV[1])\nreturn redis.call('INCR', KEYS[1])",
    b"return {err = 'MY failure'}",
    b"return redis.call('GET', KEYS[1], ARGV[1])",
]
scripts = st.sampled_from(SCRIPTS)
shas = st.sampled_from([hashlib.sha1(s).hexdigest().encode() for s in SCRIPTS])

lons = st.floats(min_value=-180, max_value=180).map(lambda f: b"%.6f" % f)
lats = st.floats(min_value=-85.05, max_value=85.05).map(lambda f: b"%.6f" % f)
places = st.sampled_from([b"p1", b"p2", b"p3"])
units = st.sampled_from([b"m", b"km", b"mi", b"ft"])

commands = st.one_of(
    cmd(b"GEOADD", keys, lons, lats, places),
    cmd(b"GEOADD", keys, b"CH", lons, lats, places, lons, lats, places),
    cmd(b"GEODIST", keys, places, places, units),
    cmd(b"GEOPOS", keys, places, places),
    cmd(b"GEOHASH", keys, places),
    cmd(b"ZSCORE", keys, places),
    cmd(b"GEOSEARCH", keys, b"FROMMEMBER", places, b"BYRADIUS", b"5000", b"km", b"ASC", b"WITHDIST"),
    cmd(b"EVAL", scripts, b"1", keys, values),
    cmd(b"EVAL_RO", scripts, b"1", keys, values),
    cmd(b"SCRIPT", b"LOAD", scripts),
    cmd(b"EVALSHA", shas, b"1", keys, values),
    cmd(b"SCRIPT", b"EXISTS", shas, shas),
    cmd(b"SET", keys, values),
    cmd(b"GET", keys),
    cmd(b"INCR", keys),
    cmd(b"DECRBY", keys, ints),
    cmd(b"APPEND", keys, values),
    cmd(b"STRLEN", keys),
    cmd(b"DEL", keys),
    cmd(b"EXISTS", keys, keys),
    cmd(b"TYPE", keys),
    cmd(b"MSET", keys, values, keys, values),
    cmd(b"MGET", keys, keys, keys),
    cmd(b"SETNX", keys, values),
    cmd(b"GETSET", keys, values),
    cmd(b"HSET", keys, fields, values),
    cmd(b"HGET", keys, fields),
    cmd(b"HDEL", keys, fields),
    cmd(b"HINCRBY", keys, fields, ints),
    cmd(b"HGETALL", keys),
    cmd(b"HLEN", keys),
    cmd(b"HKEYS", keys),
    cmd(b"LPUSH", keys, values, values),
    cmd(b"RPUSH", keys, values),
    cmd(b"LPOP", keys),
    cmd(b"RPOP", keys),
    cmd(b"LRANGE", keys, ints, ints),
    cmd(b"LLEN", keys),
    cmd(b"LINDEX", keys, ints),
    cmd(b"LREM", keys, ints, values),
    cmd(b"SADD", keys, values, values),
    cmd(b"SREM", keys, values),
    cmd(b"SMEMBERS", keys),
    cmd(b"SCARD", keys),
    cmd(b"SISMEMBER", keys, values),
    cmd(b"SINTER", keys, keys),
    cmd(b"ZADD", keys, scores, values),
    cmd(b"ZADD", keys, b"NX", scores, values),
    cmd(b"ZSCORE", keys, values),
    cmd(b"ZRANGE", keys, ints, ints, b"WITHSCORES"),
    cmd(b"ZINCRBY", keys, scores, values),
    cmd(b"ZCARD", keys),
    cmd(b"ZREM", keys, values),
    cmd(b"ZRANGEBYSCORE", keys, scores, scores),
    cmd(b"EXPIRE", keys, st.sampled_from([b"100", b"0", b"-1"])),
    cmd(b"PEXPIRE", keys, b"100000"),
    cmd(b"PSETEX", keys, st.sampled_from([b"100000", b"1500", b"0"]), values),
    cmd(b"PERSIST", keys),
    cmd(b"TTL", keys),
    cmd(b"PTTL", keys).map(lambda c: (b"TTL", c[1])),
    cmd(b"SET", keys, values, b"EX", b"100"),
    cmd(b"SET", keys, values, b"NX"),
    cmd(b"SET", keys, values, b"XX"),
    cmd(b"GET"),
    cmd(b"NOSUCHCMD", keys),
)


def normalise(cmd: tuple[bytes, ...], reply: Any) -> Any:
    if isinstance(reply, redis.ResponseError):
        text = str(reply)
        return (
            "error",
            text.split(" ")[0],
            "type"
            if "WRONGTYPE" in text
            else "int"
            if "integer" in text
            else "float"
            if "float" in text
            else "syntax"
            if "syntax" in text
            else "arity"
            if "arguments" in text
            else "other",
        )
    if isinstance(reply, list):
        items = [normalise(cmd, r) for r in reply]
        return sorted(items, key=repr) if cmd[0] in UNORDERED else items
    return reply


def run(client: redis.Redis, commands: list[tuple[bytes, ...]]) -> list[Any]:
    out = []
    for c in commands:
        try:
            out.append(normalise(c, client.execute_command(*c)))
        except redis.ResponseError as exc:
            out.append(normalise(c, exc))
    return out


def run_pipelined(client: redis.Redis, commands: list[tuple[bytes, ...]], transaction: bool) -> list[Any]:
    pipe = client.pipeline(transaction=transaction)
    for c in commands:
        pipe.execute_command(*c)
    try:
        replies = pipe.execute(raise_on_error=False)
    except redis.ResponseError as exc:  # EXECABORT: a command could not be queued
        return [normalise((b"EXEC",), exc)]
    return [normalise(c, r) for c, r in zip(commands, replies, strict=True)]


def scan_all(client: redis.Redis) -> list[bytes]:
    return sorted(client.scan_iter(count=3))


@pytest.fixture(scope="module", params=[2, 3], ids=["resp2", "resp3"])
def both(
    request: pytest.FixtureRequest, fake_redis: RedisFake, real_redis: RealRedis
) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    """A client of each, speaking RESP2 or RESP3 (``HELLO 3``)."""
    protocol = request.param
    fake = redis.Redis(host=fake_redis.endpoint.host, port=fake_redis.endpoint.port, protocol=protocol)
    real = redis.Redis(host=real_redis.host, port=real_redis.port, protocol=protocol)
    yield fake, real
    fake.close()
    real.close()


@given(st.lists(commands, min_size=1, max_size=40))
def test_command_sequences(both: tuple[redis.Redis, redis.Redis], seq: list[tuple[bytes, ...]]) -> None:
    fake, real = both
    for client in both:
        client.flushall()
        client.script_flush()
    assert run(fake, seq) == run(real, seq)
    assert scan_all(fake) == scan_all(real)


@given(st.lists(commands, min_size=1, max_size=15), st.booleans())
def test_pipelines_and_transactions(
    both: tuple[redis.Redis, redis.Redis], seq: list[tuple[bytes, ...]], transaction: bool
) -> None:
    fake, real = both
    for client in both:
        client.flushall()
        client.script_flush()
    assert run_pipelined(fake, seq, transaction) == run_pipelined(real, seq, transaction)
    assert scan_all(fake) == scan_all(real)


def test_pipelined_lpush_runs_match(both: tuple[redis.Redis, redis.Redis]) -> None:
    """LPUSH's fast path collects consecutive pushes to one list; every reply and read still matches."""
    script: list[tuple[bytes, ...]] = []
    for i in range(300):
        key = b"q1" if i % 50 < 40 else b"q2"
        script.append((b"LPUSH", key, b"%d" % i, b"x%d" % i))
        if i % 37 == 0:
            script.append((b"LRANGE", key, b"0", b"5"))
        if i % 53 == 0:
            script += [(b"LPOP", key), (b"RPUSH", key, b"tail"), (b"LLEN", key), (b"LINDEX", key, b"-1")]
    script += [(b"LRANGE", b"q1", b"0", b"-1"), (b"LRANGE", b"q2", b"0", b"-1")]
    fake, real = both
    for client in both:
        client.flushall()
    assert run_pipelined(fake, script, False) == run_pipelined(real, script, False)
