"""Bad input on the MySQL port: each gets the protocol's own error and the server keeps serving."""

from __future__ import annotations

import socket
import struct

import pymysql
import pytest

from simdb.mysql.fake import MySQLFake
from tests.mysql.helpers import connect, run


def _read_packet(sock: socket.socket) -> bytes:
    header = b""
    while len(header) < 4:
        chunk = sock.recv(4 - len(header))
        if not chunk:
            return b""
        header += chunk
    length = int.from_bytes(header[:3], "little")
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return body


def _drain(sock: socket.socket) -> bytes:
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_garbage_instead_of_handshake_response(mysql_server: MySQLFake) -> None:
    ep = mysql_server.endpoint
    with socket.create_connection((ep.host, ep.port), timeout=5) as sock:
        greeting = _read_packet(sock)
        assert greeting[0] == 10  # protocol version 10 handshake
        garbage = b"\x13\x37" * 20
        sock.sendall(struct.pack("<I", len(garbage) | (1 << 24)) + garbage)
        reply = _drain(sock)
    assert b"\xff" in reply[:5], reply  # an ERR packet, then the server closes
    assert run(mysql_server, "SELECT 1") == [(1,)]


def test_random_bytes_then_disconnect(mysql_server: MySQLFake) -> None:
    ep = mysql_server.endpoint
    for blob in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256)), b"\xff\xff\xff\x00"):
        with socket.create_connection((ep.host, ep.port), timeout=5) as sock:
            _read_packet(sock)
            try:
                sock.sendall(blob)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # MariaDB may already have closed on the first bad byte
            _drain(sock)
    assert run(mysql_server, "SELECT 1") == [(1,)]


def test_unknown_command_byte_gets_an_error(mysql_server: MySQLFake) -> None:
    with connect(mysql_server) as conn:
        conn._execute_command(0x42, b"")  # not a MySQL command
        with pytest.raises(pymysql.err.MySQLError) as err:
            conn._read_ok_packet()
        assert err.value.args[0] in (1047, 1064)
        with conn.cursor() as cur:
            cur.execute("SELECT 2")
            assert cur.fetchone() == (2,)


@pytest.mark.parametrize("sql", ["SELECT * FROM", "INSERT INTO t VALUES (", "DROP", "SELECT 'unterminated"])
def test_bad_sql_gets_1064_and_connection_survives(mysql_server: MySQLFake, sql: str) -> None:
    with connect(mysql_server) as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.ProgrammingError) as err:
            cur.execute(sql)
        assert err.value.args[0] == 1064
        cur.execute("SELECT 3")
        assert cur.fetchone() == (3,)


@pytest.mark.fake
def test_untranslatable_statement_names_the_construct(mysql_fake_session: MySQLFake) -> None:
    mysql_fake_session.unload()
    with connect(mysql_fake_session) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        with pytest.raises(pymysql.err.MySQLError) as err:
            cur.execute("ALTER TABLE t ADD COLUMN x INT")
        assert err.value.args[0] == 1235
        assert "ALTER" in err.value.args[1]
        with pytest.raises(pymysql.err.MySQLError) as func:
            cur.execute("SELECT SOUNDEX_NOT_A_FUNCTION(id) FROM t")
        assert "SOUNDEX_NOT_A_FUNCTION" in func.value.args[1]
        cur.execute("SELECT COUNT(*) FROM t")
        assert cur.fetchone() == (0,)
