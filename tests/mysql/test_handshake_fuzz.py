"""Malformed handshake responses (the one that froze the server, and generated ones) get error 1043,
the connection closes, and the server goes on serving everyone else."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.mysql.fake import MySQLFake
from tests.mysql.helpers import run
from tests.mysql.test_bad_input import _drain, _read_packet

pytestmark = pytest.mark.fake

CAPS = (
    0x00000200  # PROTOCOL_41
    | 0x00008000  # SECURE_CONNECTION
    | 0x00000008  # CONNECT_WITH_DB
    | 0x00080000  # PLUGIN_AUTH
    | 0x00200000  # PLUGIN_AUTH_LENENC_CLIENT_DATA
    | 0x00100000  # CONNECT_ATTRS
)


def handshake_response(user: bytes = b"root", nul: bool = True, db: bytes = b"", attrs: bytes = b"") -> bytes:
    body = struct.pack("<IIB", CAPS, 1 << 24, 45) + b"\x00" * 23
    body += user + (b"\x00" if nul else b"")
    if nul:
        body += b"\x00" + db + b"\x00" + b"mysql_native_password\x00" + bytes([len(attrs)]) + attrs
    return body


def send_response(fake: MySQLFake, body: bytes) -> bytes:
    """Send ``body`` as the handshake response; return what the server answered before closing."""
    ep = fake.endpoint
    with socket.create_connection((ep.host, ep.port), timeout=5) as sock:
        assert _read_packet(sock)[0] == 10
        sock.sendall(len(body).to_bytes(3, "little") + b"\x01" + body)
        sock.settimeout(1)  # a response that asks for an auth switch waits for us: stop listening
        return _drain(sock)


def assert_serving(fake: MySQLFake) -> None:
    started = time.monotonic()
    assert run(fake, "SELECT 1") == [(1,)]
    assert time.monotonic() - started < 10


@pytest.fixture
def fake(mysql_fake_session: MySQLFake) -> MySQLFake:
    return mysql_fake_session


def test_a_user_name_without_its_nul_is_a_bad_handshake(fake: MySQLFake) -> None:
    body = handshake_response(user=b"r" * 60, nul=False)
    assert len(body) == 92
    reply = send_response(fake, body)
    assert reply[4:5] == b"\xff" and reply[5:7] == (1043).to_bytes(2, "little"), reply
    assert b"Bad handshake" in reply
    assert_serving(fake)


def test_a_well_formed_response_gets_past_the_check(fake: MySQLFake) -> None:
    reply = send_response(fake, handshake_response())
    # parsed and judged on its credentials (an empty scramble for a native-password login): not 1043
    assert reply[4:5] in (b"\x00", b"\xfe", b"\xff"), reply
    assert reply[4:5] != b"\xff" or reply[5:7] != (1043).to_bytes(2, "little"), reply
    assert_serving(fake)


@given(
    cut=st.integers(min_value=0, max_value=120),
    flips=st.lists(st.tuples(st.integers(0, 119), st.integers(0, 255)), max_size=4),
    attrs=st.binary(max_size=12),
)
def test_truncated_or_mutated_responses_never_hang_the_server(
    mysql_fake_session: MySQLFake, cut: int, flips: list[tuple[int, int]], attrs: bytes
) -> None:
    fake = mysql_fake_session
    body = bytearray(handshake_response(db=b"simdb", attrs=attrs))
    for at, value in flips:
        if at < len(body):
            body[at] = value
    reply = send_response(fake, bytes(body[:cut]) if cut < len(body) else bytes(body))
    if reply[4:5] == b"\xff":
        code = int.from_bytes(reply[5:7], "little")
        assert code in (1043, 1044, 1045, 1049, 1251), reply
    assert_serving(fake)
