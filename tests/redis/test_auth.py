"""A password-protected server: fake and real answer the same bytes before and after AUTH."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from simdb.redis.fake import RedisConfig, RedisFake
from simdb.redis.real import RealRedis
from tests.fixtures.common import require_program
from tests.fixtures.redis import RedisTarget
from tests.redis.test_protocol import EOF_MARK, exchange

PASSWORD = "s3cret"


@pytest.fixture(
    scope="module",
    params=[pytest.param("fake", marks=pytest.mark.fake), pytest.param("real", marks=pytest.mark.real)],
)
def locked(request: pytest.FixtureRequest) -> Iterator[RedisTarget]:
    if request.param == "real":
        require_program("redis-server", "redis-server")
        real = RealRedis(password=PASSWORD)
        real.start()
        yield RedisTarget("real", real.host, real.port)
        real.stop()
    else:
        fake = RedisFake(RedisConfig(password=PASSWORD))
        ep = fake.start()
        yield RedisTarget("fake", ep.host, ep.port)
        fake.stop()


NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
CASES = [
    (b"GET a\r\n", NOAUTH),
    (b"PING\r\n", NOAUTH),
    (b"*1\r\n$4\r\nPING\r\n", NOAUTH),
    (b"INFO\r\n", NOAUTH),
    (b"FOO\r\n", b"-ERR unknown command 'FOO', with args beginning with: \r\n"),
    (b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
    (b"AUTH\r\n", b"-ERR wrong number of arguments for 'auth' command\r\n"),
    (b"AUTH x\r\n", WRONGPASS),
    (b"AUTH bob " + PASSWORD.encode() + b"\r\n", WRONGPASS),
    (b"AUTH " + PASSWORD.encode() + b"\r\nGET a\r\n", b"+OK\r\n$-1\r\n"),
    (b"AUTH default " + PASSWORD.encode() + b"\r\nPING\r\n", b"+OK\r\n+PONG\r\n"),
    (
        b"HELLO 3\r\n",
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        b"HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
        b"protocol version at the same time\r\n",
    ),
    (b"HELLO 2 AUTH default x\r\n", WRONGPASS),
    (b"QUIT\r\n", b"+OK\r\n" + EOF_MARK),
    (
        b"*1\r\n$4\r\nPING\r\n*12\r\n",
        NOAUTH + b"-ERR Protocol error: unauthenticated multibulk length\r\n" + EOF_MARK,
    ),
    (
        b"*2\r\n$3\r\nGET\r\n$20000\r\n",
        b"-ERR Protocol error: unauthenticated bulk length\r\n" + EOF_MARK,
    ),
]


@pytest.mark.parametrize(("data", "reply"), CASES, ids=[repr(d[:20]) for d, _ in CASES])
def test_auth_gate(locked: RedisTarget, data: bytes, reply: bytes) -> None:
    assert exchange(locked, data, reply) == reply


def test_clients_with_the_password(locked: RedisTarget) -> None:
    with locked.client(retry=None) as anon, pytest.raises(redis.AuthenticationError):
        anon.get("x")
    with locked.client(password="wrong", retry=None) as bad, pytest.raises(redis.AuthenticationError):
        bad.ping()
    with locked.client(password=PASSWORD) as good:
        assert good.set("x", "1")
    with locked.client(password=PASSWORD, protocol=3) as good3:
        assert good3.get("x") == b"1"
