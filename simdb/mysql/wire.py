"""Strict checks of client packets before mysql-mimic's parser sees them.

mysql-mimic 3.0.5 reads NUL-terminated strings with a loop that never ends when the NUL is
missing (compiled, so it also blocks signals): every variable-length field is bounds-checked here
first, and a packet that does not hold together is refused with 1043 (Bad handshake).
"""

from __future__ import annotations

from mysql_mimic.types import Capabilities


class Malformed(ValueError):
    """The packet does not parse as the structure it claims to be."""


def _nul(data: bytes, pos: int) -> int:
    end = data.find(b"\x00", pos)
    if end < 0:
        raise Malformed("string without its terminating NUL")
    return end + 1


def _lenenc(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise Malformed("length past the end of the packet")
    first = data[pos]
    width = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first, 0)
    if first == 0xFF or first == 0xFB:
        raise Malformed("invalid length-encoded integer")
    if not width:
        return first, pos + 1
    if pos + 1 + width > len(data):
        raise Malformed("length past the end of the packet")
    return int.from_bytes(data[pos + 1 : pos + 1 + width], "little"), pos + 1 + width


def _skip(data: bytes, pos: int, n: int) -> int:
    if pos + n > len(data):
        raise Malformed("field longer than the packet")
    return pos + n


def check_handshake_response(data: bytes, server_caps: int) -> None:
    """Raise :class:`Malformed` unless ``data`` is a well-formed HandshakeResponse41."""
    if len(data) < 32:
        raise Malformed("shorter than a protocol 4.1 handshake response")
    caps = int.from_bytes(data[:4], "little") & server_caps
    if not caps & Capabilities.CLIENT_PROTOCOL_41 or any(data[9:32]):
        raise Malformed("not a protocol 4.1 handshake response")
    if len(data) == 32:
        raise Malformed("SSL request, but the fake does not offer SSL")
    pos = _nul(data, 32)
    if caps & Capabilities.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
        n, pos = _lenenc(data, pos)
    else:
        pos = _skip(data, pos, 1)
        n = data[pos - 1]
    pos = _skip(data, pos, n)
    if caps & Capabilities.CLIENT_CONNECT_WITH_DB:
        pos = _nul(data, pos)
    if caps & Capabilities.CLIENT_PLUGIN_AUTH:
        pos = _nul(data, pos)
    if caps & Capabilities.CLIENT_CONNECT_ATTRS:
        total, pos = _lenenc(data, pos)
        end = _skip(data, pos, total)
        while pos < end:
            for _ in range(2):
                n, pos = _lenenc(data, pos)
                pos = _skip(data, pos, n)
            if pos > end:
                raise Malformed("connect attributes longer than declared")
    try:
        data[32 : data.index(b"\x00", 32)].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed("user name is not valid UTF-8") from exc
