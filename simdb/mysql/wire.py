"""Reading MySQL packets strictly: whole headers however the bytes arrive, MariaDB's size limit and
timeouts, and MariaDB's errors for what breaks them.

mysql-mimic's stream reads a packet header with one ``read(4)``, which returns fewer bytes when a header
is split across TCP segments (the connection then died with "unpack requires a buffer of 4 bytes"), has
no size limit (two 16 MB packets grew the server by 128 MB) and no timeouts (a client that announced a
16 MB packet and sent 10 bytes held its connection forever).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from mysql_mimic.errors import MysqlError
from mysql_mimic.stream import ConnectionClosed

MAX_PAYLOAD = 0xFFFFFF


@dataclass(frozen=True)
class WireLimits:
    """MariaDB 10.11's defaults: ``max_allowed_packet``, ``connect_timeout``, ``net_read_timeout``,
    ``wait_timeout`` (seconds)."""

    max_allowed_packet: int = 16 * 1024 * 1024
    connect_timeout: float = 10.0
    net_read_timeout: float = 30.0
    wait_timeout: float = 28800.0


class PacketTooBig(MysqlError):  # type: ignore[misc]
    """A packet over ``max_allowed_packet``: answered with 1153, then the connection closes."""

    def __init__(self) -> None:
        super().__init__("Got a packet bigger than 'max_allowed_packet' bytes", 1153)


async def _exactly(reader: asyncio.StreamReader, n: int, timeout: float) -> bytes:
    try:
        async with asyncio.timeout(timeout):  # no extra task per read, unlike wait_for
            return await reader.readexactly(n)
    except asyncio.IncompleteReadError:
        raise ConnectionClosed() from None
    except TimeoutError:
        raise ConnectionClosed() from None


async def read_packet(
    reader: asyncio.StreamReader,
    sequence: Iterator[int],
    limits: WireLimits,
    first: bool,
) -> bytes:
    """One logical packet (joined across 16 MB continuation packets), checking sequence ids.

    ``first``: the handshake response, which must come within ``connect_timeout`` and whose wrong
    sequence id is a bad handshake (1043), as MariaDB answers garbage before login.
    """
    data = bytearray()
    idle = limits.connect_timeout if first else limits.wait_timeout
    body = min(limits.connect_timeout, limits.net_read_timeout) if first else limits.net_read_timeout
    while True:
        header = await _exactly(reader, 4, idle if not data else body)
        value = int.from_bytes(header, "little")
        length, sequence_id = value & MAX_PAYLOAD, value >> 24
        expected = next(sequence)
        if sequence_id != expected:
            if first:
                raise MysqlError("Bad handshake", 1043)
            raise MysqlError("Got packets out of order", 1156)
        if len(data) + length > limits.max_allowed_packet:
            raise PacketTooBig()
        if length:
            data += await _exactly(reader, length, body)
        if length < MAX_PAYLOAD:
            return bytes(data)
