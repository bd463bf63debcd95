"""The fake's fault errors, byte for byte against a real redis-server made to produce them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import pytest
import redis

from simdb.redis.fake import RedisConfig, RedisFake
from simdb.redis.real import RealRedis
from tests.faults.support import raw_replies
from tests.fixtures.common import wait_until

pytestmark = pytest.mark.real

WRITE_IN_MULTI = [("SET", "k", "v"), ("MULTI",), ("SET", "k2", "v"), ("EXEC",), ("GET", "k2")]


@contextmanager
def oom(r: redis.Redis) -> Iterator[None]:
    r.set("filler", "x" * 1000)
    r.config_set("maxmemory", "1")
    try:
        yield
    finally:
        r.config_set("maxmemory", "0")


@contextmanager
def replica(r: redis.Redis) -> Iterator[None]:
    with socket.socket() as s:  # a master that never answers: the server stays a stale replica
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r.replicaof("127.0.0.1", port)
    try:
        yield
    finally:
        r.replicaof("NO", "ONE")


@contextmanager
def busy_script(r: redis.Redis) -> Iterator[None]:
    r.config_set("busy-reply-threshold", "50")
    runner = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                         port=r.connection_pool.connection_kwargs["port"])
    thread = threading.Thread(target=lambda: _swallow(lambda: runner.eval("while true do end", 0)))
    thread.start()
    host, port = r.connection_pool.connection_kwargs["host"], r.connection_pool.connection_kwargs["port"]
    wait_until(lambda: raw_replies(port, [("PING",)], host)[0].startswith(b"-BUSY"), 10, "a busy script")
    try:
        yield
    finally:
        with socket.create_connection((r.connection_pool.connection_kwargs["host"],
                                       r.connection_pool.connection_kwargs["port"]), timeout=5) as s:
            s.sendall(b"SCRIPT KILL\r\n")
            s.recv(100)
        thread.join(5)
        runner.close()
        r.config_set("busy-reply-threshold", "5000")


def _swallow(call: Callable[[], object]) -> None:
    with suppress(redis.RedisError):
        call()


@pytest.mark.parametrize(
    ("error", "situation", "commands"),
    [
        ("OOM", oom, [("SET", "k", "v")]),
        ("OOM", oom, WRITE_IN_MULTI),
        ("READONLY", replica, [("SET", "k", "v")]),
        ("READONLY", replica, WRITE_IN_MULTI),
        ("BUSY", busy_script, [("SET", "k", "v")]),
    ],
)
def test_fault_errors_match_redis_server(real_redis: RealRedis, error: str, situation: Callable[..., object],
                                         commands: list[tuple[str, ...]]) -> None:
    with redis.Redis(host=real_redis.host, port=real_redis.port) as r:
        r.flushall()
        with situation(r):  # type: ignore[attr-defined]
            real = raw_replies(real_redis.port, commands)
        r.flushall()
    fake = RedisFake(RedisConfig(faults=[{"match": {"command": "set"}, "error_rate": 1, "error": error}]))
    fake.start()
    try:
        got = raw_replies(fake.endpoint.port, commands)
    finally:
        fake.stop()
    assert got == real


def test_redis_cli_prints_the_same_error(real_redis: RealRedis) -> None:
    import subprocess

    from tests.fixtures.common import require_program

    cli = require_program("redis-cli", "redis-tools")

    def run(port: int) -> str:
        done = subprocess.run([cli, "-p", str(port), "SET", "k", "v"], capture_output=True, text=True,
                              timeout=30, check=False)
        return done.stdout + done.stderr

    with redis.Redis(host=real_redis.host, port=real_redis.port) as r:
        r.flushall()
        with oom(r):
            real = run(real_redis.port)
        r.flushall()
    fake = RedisFake(RedisConfig(faults=[{"match": {"command": "set"}, "error_rate": 1, "error": "OOM"}]))
    fake.start()
    try:
        assert run(fake.endpoint.port) == real
    finally:
        fake.stop()
    assert "OOM command not allowed" in real
