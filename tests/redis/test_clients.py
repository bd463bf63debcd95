"""Official clients against the fake and the real server: redis-py, redis-cli, redis-benchmark."""

from __future__ import annotations

import subprocess

import pytest
import redis

from tests.fixtures.common import require_program
from tests.fixtures.redis import RedisTarget


def test_core_types_and_expiry(redis_server: RedisTarget) -> None:
    with redis_server.client() as r:
        assert r.set("s", "v") and r.get("s") == b"v"
        assert r.incr("n") == 1 and r.incrby("n", 41) == 42
        assert r.lpush("l", "a", "b") == 2 and r.rpush("l", "c") == 3
        assert r.lrange("l", 0, -1) == [b"b", b"a", b"c"]
        assert r.hset("h", mapping={"f": "1", "g": "2"}) == 2 and r.hget("h", "f") == b"1"
        assert r.sadd("set", "x", "y", "x") == 2 and r.smembers("set") == {b"x", b"y"}
        assert r.zadd("z", {"a": 1, "b": 2.5}) == 2
        assert r.zrange("z", 0, -1, withscores=True) == [(b"a", 1.0), (b"b", 2.5)]
        assert r.mget("s", "missing", "l") == [b"v", None, None]
        assert r.set("t", "v", px=100000) and 0 < r.pttl("t") <= 100000
        assert r.psetex("p", 1500, "v") and 1000 < r.pttl("p") <= 1500  # milliseconds, not whole seconds
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            r.lpush("s", "x")
        with pytest.raises(redis.ResponseError, match="not an integer"):
            r.incr("s")


def test_pipeline_and_transaction(redis_server: RedisTarget) -> None:
    with redis_server.client() as r:
        pipe = r.pipeline(transaction=False)
        for i in range(100):
            pipe.set(f"k{i}", i)
        pipe.get("k7")
        assert pipe.execute()[-1] == b"7"
        with r.pipeline(transaction=True) as tx:
            tx.incr("c").incr("c").get("c")
            assert tx.execute() == [1, 2, b"2"]


def test_expiry_in_the_past_deletes_at_once_even_inside_exec(redis_server: RedisTarget) -> None:
    # found by the differential tests: fakeredis kept the key until its (frozen) clock moved
    with redis_server.client() as r, r.pipeline(transaction=True) as p:
        p.set("k1", "v").expire("k1", 0).get("k1").exists("k1")
        p.set("k2", "v").pexpireat("k2", 1).get("k2")
        assert p.execute() == [True, True, None, 0, True, True, None]


def test_watch_aborts_exec(redis_server: RedisTarget) -> None:
    with redis_server.client() as r, redis_server.client() as other, r.pipeline() as p:
        p.watch("w")
        other.set("w", "changed")
        p.multi()
        p.set("w", "mine")
        with pytest.raises(redis.WatchError):
            p.execute()
        assert r.get("w") == b"changed"


def test_resp3_hello_and_client_commands(redis_server: RedisTarget) -> None:
    with redis_server.client(protocol=3) as r:
        r.hset("h", "f", "v")
        assert r.hgetall("h") == {b"f": b"v"}
        assert r.client_setname("worker-1")
        assert r.client_getname() == b"worker-1"
        assert isinstance(r.client_id(), int)
        assert any(c.get("name") == "worker-1" for c in r.client_list())
        assert r.config_get("maxmemory") == {"maxmemory": "0"}
        assert r.info("server")["redis_version"]
        r.select(3)
        r.set("in3", "x")
        assert r.dbsize() == 1


def test_pubsub(redis_server: RedisTarget) -> None:
    with redis_server.client() as r, redis_server.client() as sub_client:
        sub = sub_client.pubsub()
        sub.subscribe("chan")
        assert sub.get_message(timeout=5)["type"] == "subscribe"
        assert r.publish("chan", "hello") == 1
        msg = sub.get_message(timeout=5)
        assert msg is not None and msg["data"] == b"hello"
        sub.close()


def test_blocking_pop_is_woken_by_a_push(redis_server: RedisTarget) -> None:
    import threading

    with redis_server.client() as r, redis_server.client() as pusher:
        timer = threading.Timer(0.2, lambda: pusher.rpush("q", "job"))
        timer.start()
        assert r.blpop(["q"], timeout=10) == (b"q", b"job")
        timer.join()
        assert r.blpop(["q"], timeout=0.1) is None


def test_redis_cli_and_pipe(redis_server: RedisTarget) -> None:
    cli = require_program("redis-cli", "redis-tools")
    base = [cli, "-h", redis_server.host, "-p", str(redis_server.port)]
    assert subprocess.run([*base, "PING"], capture_output=True, timeout=30).stdout == b"PONG\n"
    assert subprocess.run([*base, "SET", "cli", "yes"], capture_output=True, timeout=30).stdout == b"OK\n"
    assert subprocess.run([*base, "GET", "cli"], capture_output=True, timeout=30).stdout == b"yes\n"
    resp = b"".join(
        b"*3\r\n$3\r\nSET\r\n$%d\r\npipe:%d\r\n$1\r\nv\r\n" % (len(b"pipe:%d" % i), i) for i in range(2000)
    )
    done = subprocess.run([*base, "--pipe"], input=resp + b"PING\r\n", capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert b"errors: 0, replies: 2001" in done.stdout
    with redis_server.client() as r:
        assert r.dbsize() == 2001


def test_redis_benchmark_smoke(redis_server: RedisTarget) -> None:
    bench = require_program("redis-benchmark", "redis-tools")
    done = subprocess.run(
        [
            bench,
            "-h",
            redis_server.host,
            "-p",
            str(redis_server.port),
            "-t",
            "set,get,lpush",
            "-n",
            "2000",
            "-c",
            "5",
            "-P",
            "4",
            "--csv",
        ],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().strip().splitlines()
    assert [line.split(",")[0].strip('"') for line in lines[1:]] == ["SET", "GET", "LPUSH"]


def test_client_kill_disconnects_the_victim(redis_server: RedisTarget) -> None:
    with redis_server.client() as killer, redis_server.client(single_connection_client=True) as victim:
        victim.client_setname("victim")
        victim_id = victim.client_id()
        assert killer.client_kill_filter(_id=victim_id) == 1
        names = [c.get("name") for c in killer.client_list()]
        assert "victim" not in names
        with pytest.raises(redis.ConnectionError):
            victim.connection.send_command("PING")  # type: ignore[union-attr]
            victim.connection.read_response()  # type: ignore[union-attr]
