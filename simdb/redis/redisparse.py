"""redis-server 7.0's own request parser, ported: what it accepts, refuses and waits on.

hiredis (the fast path) parses canonical RESP strictly. Redis is laxer in places and stricter in
others: a CR may be followed by any byte, the two bytes after a bulk payload are not checked, any
negative count is an empty request, a NUL hides the CR or LF after it (Redis looks with ``strchr``)
so the request waits forever. When hiredis refuses input, the connection switches to this parser
(``processInlineBuffer`` and ``processMultibulkBuffer`` of ``networking.c``), which answers the
same bytes the way Redis does.
"""

from __future__ import annotations

from simdb.redis import messages as msg
from simdb.redis.resp import (
    MAX_INLINE,
    MAX_UNAUTH_BULK,
    MAX_UNAUTH_MULTIBULK,
    ProtocolViolation,
    split_inline,
)

_INT_MAX = 2**31 - 1
_LLONG_MAX = 2**63 - 1


def string2ll(raw: bytes) -> int | None:
    """Redis's strict integer parser (``util.c``): no sign but ``-``, no leading zeros, no spaces."""
    if not raw or len(raw) > 20:
        return None
    if raw == b"0":
        return 0
    digits = raw[1:] if raw[:1] == b"-" else raw
    if not digits or not digits.isdigit() or digits[:1] == b"0" or not digits.isascii():
        return None
    value = int(raw)
    return value if -(2**63) <= value <= _LLONG_MAX else None


def _strchr(buf: bytes | bytearray, char: bytes, start: int) -> int:
    """``strchr`` from ``start``: the first ``char``, or -1 if a NUL (or the end) comes first."""
    found = buf.find(char, start)
    nul = buf.find(b"\0", start, found if found >= 0 else len(buf))
    return -1 if nul >= 0 else found


def _got(byte: int) -> str:
    # "%c" of a NUL ends the C string: Redis's message stops right there.
    return bytes([byte]).decode("utf-8", "surrogateescape") + "'" if byte else ""


class RedisParser:
    """Incremental: :meth:`feed` bytes, then :meth:`next` until it returns ``None`` (needs more)."""

    def __init__(self, max_bulk: int, authenticated: bool = True) -> None:
        self.max_bulk = max_bulk
        self.authenticated = authenticated
        self.buf = bytearray()
        self.pos = 0
        self.multibulk = 0  # arguments still to read of the current RESP request
        self.bulk = -1  # length of the argument being read (-1: its header comes next)
        self.argv: list[bytes] = []
        self.inline: bool | None = None

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        if self.pos:
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += data

    @property
    def held(self) -> int:
        """Bytes held (the query buffer)."""
        return len(self.buf) - self.pos

    def next(self) -> list[bytes] | None:
        """The next request (``[]`` for an empty one), ``None`` to wait, or :class:`ProtocolViolation`."""
        while self.pos < len(self.buf):
            if self.inline is None:
                self.inline = self.buf[self.pos] != ord("*")
            argv = self._inline() if self.inline else self._multibulk()
            if argv is None:
                return None
            self.inline = None
            return argv
        return None

    def _inline(self) -> list[bytes] | None:
        buf, pos = self.buf, self.pos
        newline = _strchr(buf, b"\n", pos)
        if newline < 0:
            if len(buf) - pos > MAX_INLINE:
                raise ProtocolViolation(msg.PROTO_INLINE_TOO_BIG)
            return None
        end = newline - 1 if newline != pos and buf[newline - 1] == ord("\r") else newline
        self.pos = newline + 1
        return split_inline(bytes(buf[pos:end]))

    def _line(self, too_big: str) -> int | None:
        """End of the header line at ``pos`` (its CR), or ``None`` to wait."""
        buf, pos = self.buf, self.pos
        cr = _strchr(buf, b"\r", pos)
        if cr < 0:
            if len(buf) - pos > MAX_INLINE:
                raise ProtocolViolation(too_big)
            return None
        if cr - pos > len(buf) - pos - 2:  # the byte after the CR has not arrived
            return None
        return cr

    def _multibulk(self) -> list[bytes] | None:
        buf = self.buf
        if self.multibulk == 0:
            cr = self._line(msg.PROTO_MULTIBULK_TOO_BIG)
            if cr is None:
                return None
            count = string2ll(bytes(buf[self.pos + 1 : cr]))
            if count is None or count > _INT_MAX:
                raise ProtocolViolation(msg.PROTO_INVALID_MULTIBULK)
            if count > MAX_UNAUTH_MULTIBULK and not self.authenticated:
                raise ProtocolViolation(msg.PROTO_UNAUTH_MULTIBULK)
            self.pos = cr + 2
            if count <= 0:
                return []
            self.multibulk = count
            self.argv = []
        while self.multibulk:
            if self.bulk == -1:
                cr = self._line(msg.PROTO_BULK_TOO_BIG)
                if cr is None:
                    return None
                if buf[self.pos] != ord("$"):
                    raise ProtocolViolation("ERR Protocol error: expected '$', got '" + _got(buf[self.pos]))
                length = string2ll(bytes(buf[self.pos + 1 : cr]))
                if length is None or length < 0 or length > self.max_bulk:
                    raise ProtocolViolation(msg.PROTO_INVALID_BULK)
                if length > MAX_UNAUTH_BULK and not self.authenticated:
                    raise ProtocolViolation(msg.PROTO_UNAUTH_BULK)
                self.pos = cr + 2
                self.bulk = length
            if len(buf) - self.pos < self.bulk + 2:
                return None
            self.argv.append(bytes(buf[self.pos : self.pos + self.bulk]))
            self.pos += self.bulk + 2  # Redis does not look at the two bytes after the payload
            self.bulk = -1
            self.multibulk -= 1
        return self.argv
