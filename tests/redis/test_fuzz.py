"""RESP fuzzing: hostile frames never stop the fake, and it answers them as redis-server does."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
import redis
from hypothesis import given

from simdb.redis.fake import RedisFake
from simdb.redis.real import RealRedis
from tests.redis.resp_frames import COMMANDS, encode, exchange, inputs

Servers = tuple[tuple[str, int], tuple[str, int]]

CORPUS = [  # past findings, replayed every run
    b"*2147483647\r\n",
    b"*1\r\n*2147483647\r\n",
    b"*2\r\n$3\r\nGET\r\n$99999999999\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\n\r\nSET pwned 1\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10485760\r\n" + b"x" * 1000,
    b'SET "unbalanced\r\n',
    b"\r\n\r\n*0\r\n*-1\r\nPING\r\n",
    b"\x001\r\n$4\r\nPING\r\n",  # a NUL hides the newline from Redis: it waits
    b"*\x00\r\n$4\r\nPING\r\n",
    b"*1\r\x00$4\r\nPING\r\n",  # Redis skips the byte after CR, whatever it is
    b"*-1\r\n$4\r\nPING\r\n",  # "$4" at the top is an inline command to Redis
    b"*1\r\n$4\r\nPING\r\n$-1\r\n",
    b"\x801\r\n",  # not UTF-8: echoed back byte for byte
    b"*02147483647\r\n",
    b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
    b"*1\r\n$4\r\nPING\r\n$0\r\n",  # a request not starting with "*" is inline, wherever it is
    b"*1\r\n+PING\r\n",  # hiredis reads a status as a string; Redis wants "$"
    b"*2\r\n$3\r\nGET\xda\x81-]\r\n$1\r\nk\r\n",  # the two bytes after a payload are skipped
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\n+\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",  # "\n+" in a value
]


def serves(host: str, port: int) -> bool:
    """A fresh client gets PONG within a second."""
    with socket.create_connection((host, port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(100) == b"+PONG\r\n"


class _Errors(logging.Handler):
    """Collects error records (a traceback from the server, asyncio's "Fatal error") while fuzzing."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_ERRORS = _Errors()


@pytest.fixture(scope="module")
def servers(fake_redis: RedisFake, real_redis: RealRedis) -> Iterator[Servers]:
    logging.getLogger().addHandler(_ERRORS)
    try:
        yield (fake_redis.endpoint.host, fake_redis.endpoint.port), (real_redis.host, real_redis.port)
    finally:
        logging.getLogger().removeHandler(_ERRORS)


def _both(servers: Servers, data: bytes) -> tuple[bytes, bytes]:
    replies = []
    for host, port in servers:
        with redis.Redis(host=host, port=port) as c:
            c.flushall()
        replies.append(exchange(host, port, data))
        assert serves(host, port), f"{host}:{port} stopped serving after {data!r}"
    assert not _ERRORS.records, [r.getMessage() for r in _ERRORS.records]
    return replies[0], replies[1]


@pytest.mark.real
@pytest.mark.parametrize("data", CORPUS, ids=[repr(c[:20]) for c in CORPUS])
def test_corpus_of_past_findings(servers: Servers, data: bytes) -> None:
    fake, real = _both(servers, data)
    assert fake == real


@pytest.mark.real
@given(inputs)
def test_malformed_frames_get_redis_answers(servers: Servers, data: bytes) -> None:
    fake, real = _both(servers, data)
    assert fake == real


@pytest.mark.fake
def test_every_split_of_a_pipeline_gets_the_same_answers(fake_redis: RedisFake) -> None:
    """A pipeline cut at every byte boundary into two TCP sends is answered as if sent at once."""
    data = b"".join(encode(c) for c in COMMANDS[:6]) + b"PING\r\n"
    host, port = fake_redis.endpoint.host, fake_redis.endpoint.port
    with redis.Redis(host=host, port=port) as c:
        c.flushall()
    whole = exchange(host, port, data)
    for cut in range(1, len(data)):
        with redis.Redis(host=host, port=port) as c:
            c.flushall()
        with socket.create_connection((host, port), timeout=5) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(data[:cut])
            s.sendall(data[cut:])
            s.shutdown(socket.SHUT_WR)
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        assert out == whole, cut
