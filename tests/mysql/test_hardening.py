"""Hostile handshakes over a real socket: refused with 1043, the server keeps serving (issue 11)."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.mysql.fake import MySQLConfig, MySQLFake
from simdb.mysql.wire import WireLimits
from tests.mysql.helpers import run
from tests.mysql.test_bad_input import _read_packet as _recv_packet

pytestmark = pytest.mark.fake

_CAPS = 0x000FA68D | 0x00080000 | 0x00100000  # PROTOCOL_41, SECURE, PLUGIN_AUTH, CONNECT_ATTRS...


@pytest.fixture(scope="module")
def fake() -> Iterator[MySQLFake]:
    server = MySQLFake(MySQLConfig(user="u", password="p", database="d"))
    server.start()
    yield server
    server.stop()


def _send_handshake(server: MySQLFake, payload: bytes) -> bytes:
    ep = server.endpoint
    with socket.create_connection((ep.host, ep.port), timeout=10) as sock:
        assert _recv_packet(sock)[0] == 10
        sock.sendall(struct.pack("<I", len(payload) | (1 << 24)) + payload)
        return _recv_packet(sock)


def _valid_response(user: bytes = b"u") -> bytes:
    fixed = struct.pack("<IIB", _CAPS, 1 << 24, 45) + bytes(23)
    return fixed + user + b"\x00" + b"\x14" + bytes(20) + b"d\x00" + b"mysql_native_password\x00"


def test_92_byte_handshake_without_user_nul_is_bad_handshake(fake: MySQLFake) -> None:
    payload = struct.pack("<IIB", _CAPS, 1 << 24, 45) + bytes(23) + b"A" * 60
    assert len(payload) == 92
    reply = _send_handshake(fake, payload)
    assert reply[:3] == b"\xff" + (1043).to_bytes(2, "little"), reply
    assert b"Bad handshake" in reply
    assert run(fake, "SELECT 1") == [(1,)]


def test_disconnected_clients_release_file_handles(fake: MySQLFake) -> None:
    run(fake, "SELECT 1")
    before = len(os.listdir("/proc/self/fd"))
    for i in range(200):
        if i % 2:
            run(fake, "SELECT 1")
        else:
            _send_handshake(fake, b"garbage" * 10)
    run(fake, "SELECT 1")
    assert len(os.listdir("/proc/self/fd")) <= before + 5


@given(
    cut=st.integers(min_value=0, max_value=200),
    flips=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4),
)
def test_mutated_handshakes_never_freeze(fake: MySQLFake, cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(_valid_response())
    for pos, value in flips:
        if pos < len(data):
            data[pos] = value
    with contextlib.suppress(OSError):
        _send_handshake(fake, bytes(data[: cut or len(data)]))
    assert run(fake, "SELECT 1") == [(1,)]


def test_query_header_split_across_segments(fake: MySQLFake) -> None:
    import pymysql

    conn = pymysql.connect(host=fake.endpoint.host, port=fake.endpoint.port, user="u", password="p")
    try:
        sock = conn._sock
        assert sock is not None
        packet = b"\x03SELECT 7"
        frame = struct.pack("<I", len(packet)) + packet
        for cut in range(1, len(frame)):
            sock.sendall(frame[:cut])
            sock.sendall(frame[cut:])
            conn._next_seq_id = 1
            result = conn._read_query_result()
            assert result == 1
            assert conn._result is not None and conn._result.rows == ((7,),)
    finally:
        conn.close()


def test_huge_length_with_short_body_is_closed_after_connect_timeout() -> None:
    fake = MySQLFake(MySQLConfig(user="u", password="p", database="d", wire=WireLimits(connect_timeout=0.5)))
    fake.start()
    try:
        ep = fake.endpoint
        with socket.create_connection((ep.host, ep.port), timeout=20) as sock:
            assert _recv_packet(sock)[0] == 10
            sock.sendall(b"\xff\xff\xff\x01" + b"x" * 10)
            reply = _recv_packet(sock)  # at most an error, then the server closes: not left hanging
            assert reply[:1] in (b"\xff", b""), reply
            assert sock.recv(100) == b""
        assert run(fake, "SELECT 1") == [(1,)]
    finally:
        fake.stop()
