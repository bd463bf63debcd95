"""Structure-aware fuzzing of the MySQL fake's command phase (shared by the tests and bench/fuzz.py).

Inputs are valid command packets (COM_QUERY, COM_PING, COM_INIT_DB, COM_FIELD_LIST, COM_STMT_*),
mutated (bytes flipped, cut, lengths and sequence ids lied about) and sent on a logged-in connection,
in pieces split at arbitrary byte boundaries. After each input the fake must answer a valid query on a
fresh connection within a bound, log no traceback, and keep its data.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from hypothesis import strategies as st

from simdb.mysql.fake import MySQLFake
from tests.mysql.helpers import connect, run

COM_QUIT, COM_INIT_DB, COM_QUERY, COM_FIELD_LIST, COM_PING = 0x01, 0x02, 0x03, 0x04, 0x0E
COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_STMT_CLOSE, COM_STMT_RESET = 0x16, 0x17, 0x19, 0x1A
TABLE = "fuzz_rows"

VALID: list[bytes] = [
    bytes([COM_QUERY]) + b"SELECT 1",
    bytes([COM_QUERY]) + f"SELECT id, name FROM {TABLE} WHERE id IN (1, 2) ORDER BY id".encode(),
    bytes([COM_QUERY]) + b"SELECT 'x' AS a, 2 + 3 AS b",
    bytes([COM_PING]),
    bytes([COM_INIT_DB]) + b"simdb_test",
    bytes([COM_FIELD_LIST]) + TABLE.encode() + b"\x00",
    bytes([COM_STMT_PREPARE]) + f"SELECT name FROM {TABLE} WHERE id = ?".encode(),
    bytes([COM_STMT_EXECUTE]) + (1).to_bytes(4, "little") + b"\x00" + (1).to_bytes(4, "little")
    + b"\x00\x01" + b"\x08\x00" + (1).to_bytes(8, "little"),
    bytes([COM_STMT_RESET]) + (1).to_bytes(4, "little"),
    bytes([COM_STMT_CLOSE]) + (1).to_bytes(4, "little"),
]


def frame(body: bytes, seq: int = 0, length: int | None = None) -> bytes:
    """One packet: 3-byte little-endian length (``length`` may lie), sequence id, body."""
    size = len(body) if length is None else length
    return (size & 0xFFFFFF).to_bytes(3, "little") + bytes([seq & 0xFF]) + body


@st.composite
def hostile_inputs(draw: Any) -> tuple[bytes, list[int]]:
    """(bytes to send, where to split them): a mutated valid command, or a few of them."""
    packets = []
    for _ in range(draw(st.integers(1, 3))):
        body = bytearray(draw(st.sampled_from(VALID)))
        for _ in range(draw(st.integers(0, 4))):
            if body:
                body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            body = body[: draw(st.integers(0, len(body)))]
        if draw(st.integers(0, 4)) == 0:
            body = bytearray([draw(st.integers(0, 255))]) + body[1:]  # any command byte
        seq = draw(st.sampled_from([0, 0, 0, 1, 7, 255]))
        lie = draw(st.sampled_from([None, None, None, 0, 1, len(body) + 1, 0xFFFFFF]))
        packets.append(frame(bytes(body), seq, lie))
    data = b"".join(packets)
    cuts = sorted(set(draw(st.lists(st.integers(0, max(len(data) - 1, 0)), max_size=4))))
    return data, cuts


def logged_in(fake: MySQLFake) -> Any:
    """A PyMySQL connection whose socket the fuzzer then writes raw packets to."""
    return connect(fake, read_timeout=5, write_timeout=5)


def send_in_pieces(sock: socket.socket, data: bytes, cuts: list[int]) -> bytes:
    """Send ``data`` split at ``cuts``; return what the server answered within a short wait."""
    start = 0
    try:
        for cut in [*cuts, len(data)]:
            if cut > start:
                sock.sendall(data[start:cut])
                start = cut
    except (BrokenPipeError, ConnectionResetError):
        return b""  # the server closed the connection (as it may, after a bad packet)
    sock.settimeout(0.3)
    out = b""
    deadline = time.monotonic() + 5
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
            if time.monotonic() > deadline or len(out) > 4 << 20:
                break  # enough: whether the fake still serves everyone else is checked next
    except (TimeoutError, ConnectionResetError, BrokenPipeError):
        pass
    return out


def prepare(fake: MySQLFake) -> None:
    run(fake, f"DROP TABLE IF EXISTS {TABLE}",
        f"CREATE TABLE {TABLE} (id INT PRIMARY KEY, name VARCHAR(20))",
        f"INSERT INTO {TABLE} VALUES (1, 'one'), (2, 'two'), (3, 'three')")


def state(fake: MySQLFake) -> list[Any]:
    return run(fake, f"SELECT id, name FROM {TABLE} ORDER BY id")


def check_healthy(fake: MySQLFake, before: list[Any], bound_s: float = 10.0) -> None:
    """A fresh connection is answered within ``bound_s`` and the data is as it was."""
    started = time.monotonic()
    assert run(fake, "SELECT 1") == [(1,)]
    assert time.monotonic() - started < bound_s, "the fake took too long to answer after a hostile input"
    assert state(fake) == before
