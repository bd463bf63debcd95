"""Fake-only behaviour of the RESP front end: blocked clients, stop, health."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from simdb.redis.engine import RedisEngine
from simdb.redis.fake import RedisConfig, RedisFake
from simdb.redis.server import RespServer
from tests.fixtures.common import wait_until

pytestmark = pytest.mark.fake


def test_disconnect_while_blocked_releases_the_worker() -> None:
    engine = RedisEngine()
    with RespServer(engine) as server:
        s = socket.create_connection((server.host, server.port))
        s.sendall(b"BLPOP q 0\r\n")
        wait_until(lambda: engine.blocked == 1, 5, "BLPOP to block")
        s.close()
        wait_until(lambda: engine.blocked == 0 and not engine.sessions, 5, "the blocked session to end")
        with redis.Redis(host=server.host, port=server.port) as client:
            assert client.rpush("q", "x") == 1  # nobody popped it: the dead client's BLPOP is gone


def test_stop_ends_blocked_clients() -> None:
    engine = RedisEngine()
    server = RespServer(engine)
    server.start()
    s = socket.create_connection((server.host, server.port))
    s.sendall(b"BLPOP q 0\r\n")
    wait_until(lambda: engine.blocked == 1, 5, "BLPOP to block")
    server.stop()
    wait_until(lambda: engine.blocked == 0, 5, "the worker to finish")
    s.close()


def test_health_and_flush_route() -> None:
    fake = RedisFake(RedisConfig(admin_port=0))
    ep = fake.start()
    try:
        with redis.Redis(host=ep.host, port=ep.port) as client:
            client.set("a", 1)
            health = fake.health()
            assert health.ok and health.stats["keys"] == 1
            import urllib.request

            url = f"http://{ep.host}:{ep.admin_port}/_simdb/flush"
            with urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b"")):
                pass
            assert client.dbsize() == 0
    finally:
        fake.stop()
    assert not fake.health().ok


def test_many_pipelined_commands_in_one_chunk() -> None:
    engine = RedisEngine()
    with RespServer(engine) as server, socket.create_connection((server.host, server.port)) as s:
        s.sendall(b"*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n" * 1000)
        s.settimeout(5)
        out = b""
        deadline = time.monotonic() + 5
        while out.count(b"\r\n") < 1000 and time.monotonic() < deadline:
            out += s.recv(65536)
        assert out.endswith(b":1000\r\n")
