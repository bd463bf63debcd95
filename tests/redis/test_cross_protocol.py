"""HTTP sent to the Redis port (cross-protocol scripting) is refused exactly as redis-server refuses it."""

from __future__ import annotations

import logging

import pytest

from tests.fixtures.redis import RedisTarget
from tests.redis.test_protocol import EOF_MARK, exchange

REQUESTS = [
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n\r\n"
    b"SET pwned_http 1\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost:6379\r\n\r\nSET pwned_http 1\r\n",
    b"*3\r\n$4\r\nPOST\r\n$1\r\n/\r\n$8\r\nHTTP/1.1\r\n*3\r\n$3\r\nSET\r\n$10\r\npwned_http\r\n$1\r\n1\r\n",
    b"host: x\r\nSET pwned_http 1\r\n",
]


@pytest.mark.parametrize("request_bytes", REQUESTS, ids=["post", "get-with-host", "resp-post", "host"])
def test_http_is_dropped_and_nothing_after_it_runs(
    redis_server: RedisTarget, request_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="simdb.redis")
    reply = exchange(redis_server, request_bytes, EOF_MARK)
    assert reply == EOF_MARK  # closed without an answer (redis-server drops what it had queued too)
    with redis_server.client() as client:
        assert client.get("pwned_http") is None
        assert client.ping() is True
    if redis_server.kind == "fake":
        assert any("Possible SECURITY ATTACK detected" in r.message for r in caplog.records)
