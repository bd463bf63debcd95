"""Packets as real networks and hostile clients deliver them: split headers, oversized packets,
half-sent packets, garbage before login."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pymysql
import pytest

from simdb.mysql.fake import MySQLConfig, MySQLFake
from simdb.mysql.wire import WireLimits
from tests.mysql.helpers import run
from tests.mysql.test_bad_input import _drain, _read_packet

pytestmark = pytest.mark.fake


@pytest.fixture(scope="module")
def limited() -> Iterator[MySQLFake]:
    fake = MySQLFake(MySQLConfig(wire=WireLimits(max_allowed_packet=1 << 20, connect_timeout=1.0,
                                                 net_read_timeout=1.0)))
    fake.start()
    yield fake
    fake.stop()


def logged_in(fake: MySQLFake) -> pymysql.connections.Connection:
    ep = fake.endpoint
    return pymysql.connect(host=ep.host, port=ep.port, user="root", password="", database="simdb")


def query_packet(sql: str, seq: int = 0) -> bytes:
    body = b"\x03" + sql.encode()
    return len(body).to_bytes(3, "little") + bytes([seq]) + body


def test_a_query_whose_header_arrives_in_pieces_is_answered(limited: MySQLFake) -> None:
    packet = query_packet("SELECT 41 + 1")
    for cut in range(1, len(packet)):
        conn = logged_in(limited)
        sock = conn._sock
        assert sock is not None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(packet[:cut])
        time.sleep(0.01)  # let the first piece arrive alone (the split is what is tested, not timing)
        sock.sendall(packet[cut:])
        sock.settimeout(5)
        conn._next_seq_id = 1
        conn._result = None
        result = pymysql.connections.MySQLResult(conn)
        result.read()
        assert result.rows == ((42,),), cut
        conn.close()


def test_a_packet_over_max_allowed_packet_is_refused_and_the_connection_closed(limited: MySQLFake) -> None:
    conn = logged_in(limited)
    with pytest.raises(pymysql.err.OperationalError) as info, conn.cursor() as cur:
        cur.execute("SELECT '" + "x" * (2 << 20) + "'")
    assert info.value.args[0] in (1153, 2013), info.value
    assert run(limited, "SELECT 1") == [(1,)]


def test_a_half_sent_packet_is_dropped_after_net_read_timeout(limited: MySQLFake) -> None:
    conn = logged_in(limited)
    sock = conn._sock
    assert sock is not None
    sock.sendall((0x0FFFFF).to_bytes(3, "little") + b"\x00" + b"\x03SELECT")  # announces 1 MB, sends 7 bytes
    sock.settimeout(10)
    started = time.monotonic()
    assert _drain(sock) == b""  # closed by the server
    assert time.monotonic() - started < 10
    assert run(limited, "SELECT 1") == [(1,)]


def test_silence_instead_of_a_handshake_is_dropped_after_connect_timeout(limited: MySQLFake) -> None:
    ep = limited.endpoint
    with socket.create_connection((ep.host, ep.port), timeout=10) as sock:
        assert _read_packet(sock)[0] == 10
        started = time.monotonic()
        reply = _drain(sock)  # closed, after at most a 1043 error packet
        assert time.monotonic() - started < 10
        assert reply == b"" or reply[4:7] == b"\xff" + (1043).to_bytes(2, "little"), reply


def test_garbage_with_a_wrong_sequence_before_login_is_a_bad_handshake(limited: MySQLFake) -> None:
    ep = limited.endpoint
    with socket.create_connection((ep.host, ep.port), timeout=5) as sock:
        assert _read_packet(sock)[0] == 10
        sock.sendall(b"\x05\x00\x00\x07hello")
        reply = _drain(sock)
    assert reply[4:5] == b"\xff" and reply[5:7] == (1043).to_bytes(2, "little"), reply
    assert b"Bad handshake" in reply


def test_connections_that_come_and_go_leave_no_file_handles(limited: MySQLFake) -> None:
    import os

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def churn(count: int) -> None:
        for i in range(count):
            conn = logged_in(limited)
            with conn.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("SELECT 1")
            if i % 2:
                conn.close()
            else:
                assert conn._sock is not None
                conn._sock.close()  # vanish without COM_QUIT, mid-transaction

    churn(20)  # warm the pools
    before = open_fds()
    churn(200)
    deadline = time.monotonic() + 10
    while open_fds() > before + 10 and time.monotonic() < deadline:
        time.sleep(0.05)  # the server notices closed sockets asynchronously
    assert open_fds() <= before + 10
