"""Raw bytes on a socket: the fake answers exactly what redis-server answers, and keeps serving."""

from __future__ import annotations

import socket

import pytest

from tests.fixtures.redis import RedisTarget

EOF_MARK = b"<EOF>"


def exchange(target: RedisTarget, data: bytes, expect: bytes) -> bytes:
    """Send ``data``; read until as many bytes as ``expect`` arrived, the server closed, or 5 s passed."""
    with socket.create_connection((target.host, target.port)) as s:
        s.settimeout(5)
        s.sendall(data)
        out = b""
        try:
            while len(out) < len(expect):
                chunk = s.recv(65536)
                if not chunk:
                    return out + EOF_MARK
                out += chunk
            if expect.endswith(EOF_MARK):
                return out
            s.settimeout(0.05)  # anything beyond the expected reply is a failure too
            out += s.recv(65536)
        except TimeoutError:
            pass
        return out


CLOSING = [
    (b"*2\r\n$3\r\nGET\r\n$99999999999\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*2\r\n$3\r\nGET\r\n$600000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*99999999999\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b"*x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n$x\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$03\r\nfoo\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b'SET "unbalanced\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
]


@pytest.mark.parametrize(("data", "reply"), CLOSING, ids=[repr(d[:24]) for d, _ in CLOSING])
def test_protocol_errors_close_the_connection_with_redis_words(
    redis_server: RedisTarget, data: bytes, reply: bytes
) -> None:
    assert exchange(redis_server, data, reply + EOF_MARK) == reply + EOF_MARK
    # ... and the server keeps serving everyone else.
    assert exchange(redis_server, b"PING\r\n", b"+PONG\r\n") == b"+PONG\r\n"


ANSWERED = [
    (b"PING\r\n", b"+PONG\r\n"),
    (b"PING\n", b"+PONG\r\n"),
    (b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n"),
    (b"FOO bar\r\n", b"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n"),
    (b"+OK\r\n", b"-ERR unknown command '+OK', with args beginning with: \r\n"),
    (b"GET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
    (b"get a b c\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
    (b"*1\r\n$3\r\nGET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
    (b"CLIENT FOO\r\n", b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"),
    (
        b"CLIENT SETNAME 'a b'\r\n",
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
    ),
    (b"SELECT 99\r\n", b"-ERR DB index is out of range\r\n"),
    (b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n"),
    (b"EXEC\r\n", b"-ERR EXEC without MULTI\r\n"),
    (
        b"AUTH x\r\n",
        b"-ERR AUTH <password> called without any password configured for the default user. "
        b"Are you sure your configuration is correct?\r\n",
    ),
    (b"AUTH a b\r\n", b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
    (b'SET "a b" "c\\x41"\r\nGET "a b"\r\n', b"+OK\r\n$2\r\ncA\r\n"),
    (
        b"MULTI\r\nFOO\r\nEXEC\r\n",
        b"+OK\r\n-ERR unknown command 'FOO', with args beginning with: \r\n"
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    ),
    (
        b"MULTI\r\nSET a 1\r\nLPUSH a 1\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n"
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    ),
    (
        b"SUBSCRIBE c\r\nGET a\r\nPING\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n-ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
        b"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        b"*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    ),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n", b"+OK\r\n$1\r\nv\r\n"),
    (b"*0\r\n\r\nPING\r\n", b"+PONG\r\n"),
]


@pytest.mark.parametrize(("data", "reply"), ANSWERED, ids=[repr(d[:24]) for d, _ in ANSWERED])
def test_requests_get_redis_replies_and_the_connection_stays(
    redis_server: RedisTarget, data: bytes, reply: bytes
) -> None:
    assert exchange(redis_server, data, reply) == reply


def test_quit_replies_ok_then_closes(redis_server: RedisTarget) -> None:
    expect = b"+OK\r\n+OK\r\n" + EOF_MARK
    assert (
        exchange(redis_server, b"*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\nb\r\nQUIT\r\nPING\r\n", expect) == expect
    )


def test_request_split_across_packets(redis_server: RedisTarget) -> None:
    with socket.create_connection((redis_server.host, redis_server.port)) as s:
        s.settimeout(5)
        for piece in (
            b"*3\r\n$3\r\nSE",
            b"T\r\n$1\r\nk\r\n$5\r\nab",
            b"cde\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        ):
            s.sendall(piece)
        out = b""
        while not out.endswith(b"abcde\r\n"):
            out += s.recv(1024)
    assert out == b"+OK\r\n$5\r\nabcde\r\n"


def test_garbage_leaves_state_unchanged(redis_server: RedisTarget) -> None:
    with redis_server.client() as client:
        client.set("kept", "1")
        bad = b"-ERR Protocol error: invalid bulk length\r\n" + EOF_MARK
        assert exchange(redis_server, b"*2\r\n$3\r\nSET\r\n$99999999999\r\n", bad) == bad
        reply = exchange(redis_server, b"\xff\xfe garbage\r\nPING\r\n", b"-ERR unknown command '\xff\xfe'")
        assert reply.startswith(b"-ERR unknown command '") and reply.endswith(b"+PONG\r\n")
        assert client.get("kept") == b"1"
        assert client.dbsize() == 1
