"""Fake-only behaviour of the RESP front end: blocked clients, stop, health."""

from __future__ import annotations

import asyncio
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
            json_post = urllib.request.Request(
                url, method="POST", data=b"", headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(json_post):
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


class _Transport(asyncio.Transport):
    """Collects what a connection writes (unit tests drive ``data_received`` directly)."""

    def __init__(self) -> None:
        super().__init__()
        self.data = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: object = None) -> tuple[str, int]:
        return ("127.0.0.1", 1)


def _connection() -> tuple[object, _Transport]:
    from simdb.redis.server import _Connection

    engine = RedisEngine()
    conn = _Connection(RespServer(engine))
    transport = _Transport()
    conn.connection_made(transport)
    return conn, transport


STREAM = (
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n"
    b"PING\r\n"
    b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    b"*0\r\n"
    b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
)
REPLIES = b"+OK\r\n+PONG\r\n$10\r\n0123456789\r\n:1\r\n"


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_every_split_point_gives_the_same_replies(cut: int) -> None:
    conn, transport = _connection()
    conn.data_received(STREAM[:cut])  # type: ignore[attr-defined]
    conn.data_received(STREAM[cut:])  # type: ignore[attr-defined]
    assert transport.data == REPLIES
    assert not transport.closed


def test_byte_by_byte() -> None:
    conn, transport = _connection()
    for i in range(len(STREAM)):
        conn.data_received(STREAM[i : i + 1])  # type: ignore[attr-defined]
    assert transport.data == REPLIES


def test_oversized_bulk_after_complete_requests_in_the_same_chunk() -> None:
    conn, transport = _connection()
    conn.data_received(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$999999999999\r\n")  # type: ignore[attr-defined]
    assert transport.data == b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
    assert transport.closed
