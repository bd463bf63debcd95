"""A strict check of the client's HandshakeResponse41 before mysql-mimic parses it.

mysql-mimic 3.0.5 reads NUL-terminated strings until it sees a NUL, so a user name (or database, or
plugin name) that runs to the end of the packet makes it loop forever at 100% CPU on the server's only
event loop. This walks the same fields, with the same capabilities, and refuses anything that does not
fit the packet with MariaDB's error 1043 (Bad handshake).
"""

from __future__ import annotations

import logging

from mysql_mimic.types import Capabilities

log = logging.getLogger("simdb.mysql")

#: The handshake response's fixed part: capabilities (4), max packet (4), charset (1), filler (23).
FIXED = 32


class BadHandshake(Exception):
    """The client's handshake response does not fit the protocol; the text says where."""


class _Walker:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = FIXED

    def null_terminated(self, what: str) -> None:
        end = self.data.find(b"\x00", self.at)
        if end < 0:
            raise BadHandshake(f"{what} has no terminating NUL")
        self.at = end + 1

    def fixed(self, n: int, what: str) -> None:
        if self.at + n > len(self.data):
            raise BadHandshake(f"{what} runs past the end of the packet ({n} bytes at {self.at})")
        self.at += n

    def lenenc_int(self, what: str) -> int:
        self.fixed(1, what)
        first = self.data[self.at - 1]
        size = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
        if first == 0xFF:
            raise BadHandshake(f"{what} has an invalid length prefix")
        if size is None:
            return first
        self.fixed(size, what)
        return int.from_bytes(self.data[self.at - size : self.at], "little")


def check_handshake_response(data: bytes, server_capabilities: Capabilities) -> None:
    """Raise :class:`BadHandshake` unless ``data`` is a complete protocol 4.1 handshake response
    (or an SSL request) as mysql-mimic will read it with ``server_capabilities``."""
    if len(data) < FIXED:
        raise BadHandshake(f"{len(data)} bytes, shorter than a handshake response")
    client = Capabilities(int.from_bytes(data[:4], "little"))
    if not client & Capabilities.CLIENT_PROTOCOL_41 or any(data[9:32]):
        raise BadHandshake("not a protocol 4.1 handshake response")
    from mysql_mimic.charset import Collation

    try:
        Collation(data[8])
    except ValueError:
        raise BadHandshake(f"unknown character set number {data[8]}") from None
    if len(data) == FIXED:
        return  # an SSL request
    caps = server_capabilities & client
    walk = _Walker(data)
    walk.null_terminated("the user name")
    if Capabilities.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA in caps:
        walk.fixed(walk.lenenc_int("the auth response length"), "the auth response")
    else:
        walk.fixed(1, "the auth response length")
        walk.fixed(data[walk.at - 1], "the auth response")
    if Capabilities.CLIENT_CONNECT_WITH_DB in caps:
        walk.null_terminated("the database name")
    if Capabilities.CLIENT_PLUGIN_AUTH in caps:
        walk.null_terminated("the auth plugin name")
    if Capabilities.CLIENT_CONNECT_ATTRS in caps:
        total = walk.lenenc_int("the connection attributes length")
        end = walk.at + total
        if end > len(data):
            raise BadHandshake("the connection attributes run past the end of the packet")
        while walk.at < end:
            walk.fixed(walk.lenenc_int("an attribute name length"), "an attribute name")
            walk.fixed(walk.lenenc_int("an attribute value length"), "an attribute value")
        if walk.at != end:
            raise BadHandshake("the connection attributes do not add up to their length")
    if Capabilities.CLIENT_ZSTD_COMPRESSION_ALGORITHM in caps:
        walk.fixed(1, "the zstd compression level")
