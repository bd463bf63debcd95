"""Query buffer limits and timeouts: Redis's settings, errors and behaviour; memory stays bounded."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis

from simdb.redis.engine import RedisEngine
from simdb.redis.limits import MB, Limits, parse_memory
from simdb.redis.real import RealRedis
from simdb.redis.server import RespServer
from tests.fixtures.common import wait_until
from tests.fixtures.redis import RedisTarget


def _closed_without_reply(sock: socket.socket, within: float) -> bytes:
    """Read until the server closes the connection (``within`` seconds at most); return what came."""
    sock.settimeout(within)
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk
    except ConnectionResetError:
        return out
    except TimeoutError:
        raise AssertionError(f"connection still open after {within}s (got {out!r})") from None


@pytest.fixture()
def restore_limits(redis_server: RedisTarget) -> Iterator[RedisTarget]:
    """The parametrised server, with its limit settings put back after the test."""
    with redis_server.client() as c:
        names = ["client-query-buffer-limit", "proto-max-bulk-len", "timeout", "maxmemory-clients"]
        saved = {n: c.config_get(n)[n] for n in names}
    yield redis_server
    with redis_server.client() as c:
        for name, value in saved.items():
            c.config_set(name, value)


RANGE_1MB = "argument must be between 1048576 and 9223372036854775807 inclusive"
BAD_SETTINGS = [
    ("client-query-buffer-limit", "1000", RANGE_1MB),
    ("client-query-buffer-limit", "abc", "argument must be a memory value"),
    ("proto-max-bulk-len", "100", RANGE_1MB),
    ("proto-max-bulk-len", "x", "argument must be a memory value"),
    ("timeout", "-1", "argument must be between 0 and 2147483647 inclusive"),
    ("timeout", "abc", "argument couldn't be parsed into an integer"),
    ("timeout", "2147483648", "argument must be between 0 and 2147483647 inclusive"),
    ("maxmemory-clients", "abc", "argument must be a memory or percent value"),
]


@pytest.mark.parametrize(("name", "value", "why"), BAD_SETTINGS)
def test_config_set_refuses_bad_limits_in_redis_words(
    restore_limits: RedisTarget, name: str, value: str, why: str
) -> None:
    with restore_limits.client() as c:
        with pytest.raises(redis.ResponseError) as err:
            c.config_set(name, value)
        assert str(err.value) == f"CONFIG SET failed (possibly related to argument '{name}') - {why}"


def test_config_set_takes_units_and_get_reports_bytes(restore_limits: RedisTarget) -> None:
    with restore_limits.client() as c:
        assert c.config_set("client-query-buffer-limit", "2mb")
        assert c.config_set("proto-max-bulk-len", "1500k")
        assert c.config_get("client-query-buffer-limit") == {"client-query-buffer-limit": str(2 * MB)}
        assert c.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "1500000"}


def test_bulk_longer_than_proto_max_bulk_len_is_refused(restore_limits: RedisTarget) -> None:
    with restore_limits.client() as c:
        c.config_set("proto-max-bulk-len", "1mb")
    with socket.create_connection((restore_limits.host, restore_limits.port)) as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (MB + 1))
        assert _closed_without_reply(s, 5) == b"-ERR Protocol error: invalid bulk length\r\n"
    with socket.create_connection((restore_limits.host, restore_limits.port)) as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n" % (MB, b"v" * MB))
        s.settimeout(5)
        assert s.recv(100) == b"+OK\r\n"


def test_client_past_the_query_buffer_limit_is_closed_without_a_reply(restore_limits: RedisTarget) -> None:
    with restore_limits.client() as c:
        c.config_set("client-query-buffer-limit", "1mb")
    with socket.create_connection((restore_limits.host, restore_limits.port)) as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n")
        try:
            for _ in range(30):
                s.sendall(b"x" * 100_000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert _closed_without_reply(s, 5) == b""
    with restore_limits.client() as c:
        assert c.ping()


@pytest.mark.real
def test_redis_waits_on_a_huge_multibulk_header(real_redis: RealRedis) -> None:
    """Redis accepts ``*2147483647`` (it is INT_MAX) and waits for the arguments; one more is refused."""
    with socket.create_connection((real_redis.host, real_redis.port)) as s:
        s.sendall(b"*2147483647\r\n")
        s.settimeout(0.3)
        with pytest.raises(TimeoutError):
            s.recv(100)
    with socket.create_connection((real_redis.host, real_redis.port)) as s:
        s.sendall(b"*2147483648\r\n")
        assert _closed_without_reply(s, 5) == b"-ERR Protocol error: invalid multibulk length\r\n"


HUGE = [
    (b"*2147483647\r\n", b""),  # can never fit in the query buffer: closed as Redis would once it filled
    (b"PING\r\n*2147483647\r\n$3\r\n", b"+PONG\r\n"),
    (b"*1\r\n*2147483647\r\n", b"-ERR Protocol error: expected '$', got '*'\r\n"),
    (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
]


@pytest.mark.fake
@pytest.mark.parametrize(("data", "reply"), HUGE)
def test_huge_array_headers_are_refused_at_once(limited: RespServer, data: bytes, reply: bytes) -> None:
    with socket.create_connection((limited.host, limited.port)) as s:
        s.sendall(data)
        started = time.monotonic()
        assert _closed_without_reply(s, 5) == reply
        assert time.monotonic() - started < 0.4  # before the partial request timeout
    with socket.create_connection((limited.host, limited.port)) as s:  # a big count inside a value is data
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$11\r\n*2147483647\r\n")
        s.settimeout(5)
        assert s.recv(100) == b"+OK\r\n"


def test_idle_clients_are_closed_after_timeout(restore_limits: RedisTarget) -> None:
    with restore_limits.client() as c:
        c.config_set("timeout", "1")
        assert c.config_get("timeout") == {"timeout": "1"}
    with socket.create_connection((restore_limits.host, restore_limits.port)) as s:
        s.sendall(b"PING\r\n")
        s.settimeout(5)
        assert s.recv(100) == b"+PONG\r\n"
        started = time.monotonic()
        assert _closed_without_reply(s, 5) == b""
        assert time.monotonic() - started >= 0.9


@pytest.fixture()
def limited() -> Iterator[RespServer]:
    limits = Limits(maxmemory_clients=16 * MB, partial_request_timeout=0.5)
    with RespServer(RedisEngine(limits=limits)) as server:
        yield server


@pytest.mark.fake
def test_truncated_command_cannot_hold_a_connection(limited: RespServer) -> None:
    for partial in (b"*1000\r\n", b"*2\r\n$3\r\nGET\r\n$5\r\nab", b"SET k v"):
        with socket.create_connection((limited.host, limited.port)) as s:
            s.sendall(partial)
            started = time.monotonic()
            assert _closed_without_reply(s, 5) == b""
            assert 0.4 < time.monotonic() - started < 3
    wait_until(lambda: limited.buffered == 0, 5, "buffers to be freed")


@pytest.mark.fake
def test_trickling_a_request_does_not_reset_the_partial_timeout(limited: RespServer) -> None:
    with socket.create_connection((limited.host, limited.port)) as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\n")
        started = time.monotonic()
        s.settimeout(0.1)
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(100):
                s.sendall(b"x")
                try:
                    if s.recv(10) == b"":
                        raise ConnectionResetError
                except TimeoutError:
                    pass
        assert time.monotonic() - started < 4


@pytest.mark.fake
def test_partial_requests_from_many_clients_stay_within_maxmemory_clients() -> None:
    """20 clients each send 10 MB of an unfinished bulk: the server never holds more than its limit."""
    limits = Limits(maxmemory_clients=16 * MB, partial_request_timeout=0)
    with RespServer(RedisEngine(limits=limits)) as server:
        _many_partial_bulks(server)


def _many_partial_bulks(limited: RespServer) -> None:
    piece = b"x" * MB
    socks = [socket.create_connection((limited.host, limited.port)) for _ in range(20)]
    try:
        for s in socks:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (10 * MB + 1))
        for s in socks:
            try:
                for _ in range(10):
                    s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass
        # 16 MB hold 1.6 of the 10 MB requests
        wait_until(lambda: limited.engine.evicted_clients >= 18, 10, "eviction")
        # asyncio reads at most 256 KiB at a time: that is the most one read can go past the limit
        assert limited.peak_buffered <= 16 * MB + 256 * 1024
        assert limited.buffered <= 16 * MB
    finally:
        for s in socks:
            s.close()
    with redis.Redis(host=limited.host, port=limited.port) as c:
        assert c.ping()
    wait_until(lambda: limited.buffered == 0, 5, "buffers to be freed")


@pytest.mark.fake
def test_memory_units_parse_as_redis() -> None:
    assert parse_memory("1gb") == 1024**3
    assert parse_memory("1g") == 1000**3
    assert parse_memory("64MB") == 64 * MB
    assert parse_memory("12") == 12
    assert parse_memory("1.5mb") is None
    assert parse_memory("mb") is None


@pytest.mark.fake
def test_serve_refuses_a_bad_limit_flag() -> None:
    cmd = "import sys; from simdb.cli import main; sys.argv[0] = 'simdb'; main()"
    proc = subprocess.run(
        [sys.executable, "-c", cmd, "redis", "serve", "--port", "0", "--client-query-buffer-limit", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "not a memory size" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-c", cmd, "redis", "serve", "--port", "0", "--client-query-buffer-limit", "10"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "client-query-buffer-limit must be between 1048576" in proc.stderr
