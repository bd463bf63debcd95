"""Lua scripting: the fake answers EVAL/EVALSHA/SCRIPT as redis-server 7.0 does, in its sandbox."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest
import redis

from simdb.redis.fake import RedisFake
from simdb.redis.real import RealRedis

Outcome = tuple[str, object]


def outcome(client: redis.Redis, *args: object) -> Outcome:
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
        c.script_flush()
        c.set("s", "abc")
        c.rpush("l", "x")
    yield fake, real
    fake.close()
    real.close()


SAME = [
    ("return 1", 0),
    ("return redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v"),
    ("return {1, 'two', {3}, nil, 5}", 0),
    ("return {ok='fine'}", 0),
    ("return {err='MY custom'}", 0),
    ("return redis.error_reply('MY err')", 0),
    ("return 7.9", 0),
    ("return true", 0),
    ("return false", 0),
    ("return KEYS[1] .. ARGV[2]", 1, "a", "b", "c"),
    ("return redis.call('incr', KEYS[1])", 1, "s"),
    ("return redis.call('get', 'l')", 0),
    ("return nil + 1", 0),
    ("error('boom')", 0),
    ("local a = 1\nlocal b = 2\n\nreturn redis.call('incr', 'zz', 'x')", 0),
    ("local function f()\n  error('deep')\nend\n\nf()", 0),
    ("return redis.call('get')", 0),
    ("return redis.call()", 0),
    ("return redis.call('nosuch')", 0),
    ("return redis.pcall('nosuch')", 0),
    ("return redis.pcall('incr', 's')", 0),
    ("return redis.call('set', 'x', {})", 0),
    ("return redis.call('set', 'n', 12.5) .. redis.call('get', 'n')", 0),
    ("return redis.call('blpop', 'l', 0)", 0),
    ("return redis.call('eval', 'return 1', 0)", 0),
    ("return redis.call('multi')", 0),
    ("x(", 0),
    ("return 1", 3, "a"),
    ("return 1", -1),
    ("return os.exit()", 0),
    ("return io.popen('id')", 0),
    ("return debug.getinfo(1)", 0),
    ("return require('os')", 0),
    ("a = 5", 0),
    ("KEYS = {}", 0),
    ("string.x = 1", 0),
    ("redis.call = nil", 0),
    ("rawset(_G, 'x', 1) return 1", 0),
    ("local f = loadstring('y = 5'); return f()", 0),
    ("local f = loadstring('return 5'); return f()", 0),
    ("return type(getmetatable(_G))", 0),
    ("return type(loadstring) .. type(coroutine) .. type(unpack) .. type(string.dump)", 0),
    ("math.randomseed(7); return {math.random(100), math.random(1, 6), tostring(math.random())}", 0),
    ("return bit.tohex(255)..bit.tohex(-1, -4)..bit.band(255, 15) .. bit.lshift(1, 31) .. bit.bnot(9)", 0),
    ("return {bit.bxor(5, 3), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(1, 33), bit.bswap(1)}", 0),
    ("return redis.sha1hex('abc')", 0),
    ("return redis.sha1hex()", 0),
    ("redis.setresp(4)", 0),
    ("redis.setresp()", 0),
    ("redis.setresp(3); redis.call('hset', 'hh', 'a', '1'); return redis.call('hgetall', 'hh')", 0),
    ("redis.log(9, 'hi')", 0),
    ("redis.log(redis.LOG_WARNING)", 0),
    ("return cjson.decode('[1,2]')[2]", 0),
    ("return cjson.encode({1, 2, 'x'})", 0),
    ("return redis.REDIS_VERSION_NUM > 0", 0),
    ("error({err='MYCODE custom'})", 0),
]


@pytest.mark.real
@pytest.mark.parametrize("args", SAME, ids=[repr(a[0][:40]) for a in SAME])
def test_eval_answers_as_redis(pair: tuple[redis.Redis, redis.Redis], args: tuple[object, ...]) -> None:
    fake, real = pair
    assert outcome(fake, "EVAL", *args) == outcome(real, "EVAL", *args)
    assert sorted(fake.keys()) == sorted(real.keys())


@pytest.mark.real
def test_script_cache_commands_answer_as_redis(pair: tuple[redis.Redis, redis.Redis]) -> None:
    body = "return ARGV[1] .. '!'"
    sha = hashlib.sha1(body.encode()).hexdigest()
    steps: list[tuple[object, ...]] = [
        ("EVALSHA", sha, 0, "x"),
        ("SCRIPT", "EXISTS", sha, "00"),
        ("SCRIPT", "LOAD", body),
        ("SCRIPT", "EXISTS", sha, sha.upper()),
        ("EVALSHA", sha, 0, "x"),
        ("EVALSHA", sha.upper(), 0, "y"),
        ("EVALSHA_RO", sha, 0, "z"),
        ("EVAL_RO", "return redis.call('set', 'a', 'b')", 0),
        ("EVAL_RO", "return redis.call('get', 's')", 0),
        ("SCRIPT", "LOAD", "x("),
        ("SCRIPT", "EXISTS"),
        ("SCRIPT", "FLUSH", "bad"),
        ("SCRIPT", "FLUSH", "ASYNC"),
        ("SCRIPT", "EXISTS", sha),
        ("EVALSHA", sha, 0, "x"),
        ("SCRIPT", "KILL"),
        ("SCRIPT", "NOSUCH"),
    ]
    fake, real = pair
    for step in steps:
        assert outcome(fake, *step) == outcome(real, *step), step


@pytest.mark.real
def test_scripts_in_transactions_answer_as_redis(pair: tuple[redis.Redis, redis.Redis]) -> None:
    replies = []
    for client in pair:
        pipe = client.pipeline(transaction=True)
        pipe.eval("return redis.call('incr', KEYS[1])", 1, "counter")
        pipe.eval("return redis.call('incr', KEYS[1])", 1, "s")
        pipe.eval("return redis.call('get', KEYS[1])", 1, "counter")
        replies.append([repr(r) for r in pipe.execute(raise_on_error=False)])
    assert replies[0] == replies[1]


@pytest.mark.fake
def test_a_script_cannot_reach_the_host(fake_redis: RedisFake) -> None:
    """fakeredis's own Lua had os, io and python: a script could stop the fake or run programs."""
    with redis.Redis(host=fake_redis.endpoint.host, port=fake_redis.endpoint.port) as c:
        for body in ("os.exit(1)", "io.popen('id')", "python.eval('1')", "require('os')", "debug.sethook()"):
            with pytest.raises(redis.ResponseError, match="nonexistent global variable"):
                c.eval(body, 0)
        with pytest.raises(redis.ResponseError, match="readonly table"):
            c.eval("getmetatable('').__index.upper = nil", 0)
        assert c.eval("return ('abc'):upper()", 0) == b"ABC"
        assert c.eval("return loadstring(string.dump(function() return 1 end))", 0) is None
        assert c.ping()


@pytest.mark.fake
def test_a_runaway_script_is_stopped_and_the_fake_serves_on(fake_redis: RedisFake) -> None:
    with redis.Redis(host=fake_redis.endpoint.host, port=fake_redis.endpoint.port) as c:
        c.config_set("busy-reply-threshold", 200)
        try:
            started = time.monotonic()
            with pytest.raises(redis.ResponseError, match=r"^BUSY simdb stopped the script after"):
                c.eval("local i = 0 while true do i = i + 1 end", 0)
            assert time.monotonic() - started < 3
            assert c.config_get("lua-time-limit") == {"lua-time-limit": "200"}
            assert c.eval("return 5", 0) == 5
        finally:
            c.config_set("busy-reply-threshold", 5000)


@pytest.mark.fake
def test_functions_are_refused_not_run_unsandboxed(fake_redis: RedisFake) -> None:
    """fakeredis runs FUNCTION LOAD code in its own Lua, which can reach the host: refused."""
    with redis.Redis(host=fake_redis.endpoint.host, port=fake_redis.endpoint.port) as c:
        body = "#!lua name=evil\nredis.register_function('f', function() return os.exit(1) end)"
        calls = [("FUNCTION", "LOAD", body), ("FCALL", "f", 0), ("FCALL_RO", "f", 0), ("FUNCTION", "LIST")]
        for args in calls:
            with pytest.raises(redis.ResponseError, match=r"Redis functions .* are not supported"):
                c.execute_command(*args)
        assert c.ping()
