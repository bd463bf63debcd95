"""RESP2/RESP3 reply encoding, inline command parsing and request-header checks.

Replies arrive as fakeredis produces them (``bytes`` bulk strings, ``SimpleString``,
``SimpleError``, ``int``, ``float``, ``None``, lists, dicts, sets); :func:`encode`
writes them in the protocol the connection negotiated with ``HELLO``.
"""

from __future__ import annotations

from typing import Any

from simdb.redis import messages as msg
from simdb.redis.fakeredis_compat import Float, SimpleError, SimpleString

OK = b"+OK\r\n"
QUEUED = b"+QUEUED\r\n"
NULL2 = b"$-1\r\n"
NULL_ARRAY2 = b"*-1\r\n"
NULL3 = b"_\r\n"

MAX_BULK_LEN = 512 * 1024 * 1024  # proto-max-bulk-len's default (the live value: Limits)
MAX_MULTIBULK_LEN = 2**31 - 1  # INT_MAX
MAX_INLINE = 64 * 1024  # PROTO_INLINE_MAX_SIZE
MAX_UNAUTH_MULTIBULK = 10  # before AUTH, when a password is required
MAX_UNAUTH_BULK = 16384


class ProtocolViolation(Exception):
    """A request that breaks the protocol: the connection gets this error, then is closed."""


class CrossProtocolAttack(Exception):
    """A ``POST`` or ``Host:`` command: an HTTP request aimed at Redis. Closed without an answer."""


#: Command names redis-server takes for HTTP smuggled to its port (``securityWarningCommand``).
HTTP_COMMANDS = frozenset({b"post", b"host:"})


def check_cross_protocol(argv: list[bytes]) -> None:
    """Refuse HTTP sent to the Redis port, as redis-server does, before anything runs."""
    if argv and argv[0].lower() in HTTP_COMMANDS:
        raise CrossProtocolAttack(argv[0].decode("latin-1"))


def error(text: str) -> bytes:
    """An error reply; CR and LF become spaces, as Redis does."""
    return b"-" + text.replace("\r", " ").replace("\n", " ").encode("utf-8", "surrogateescape") + b"\r\n"


def bulk(data: bytes) -> bytes:
    """A bulk string reply."""
    return b"$%d\r\n%s\r\n" % (len(data), data)


def _double3(value: float) -> bytes:
    if value != value:
        return b",nan\r\n"
    if value in (float("inf"), float("-inf")):
        return b",inf\r\n" if value > 0 else b",-inf\r\n"
    return b"," + Float.encode(value, humanfriendly=False) + b"\r\n"


def encode(value: Any, proto: int, null: bytes | None = None) -> bytes:
    """Encode one reply. ``null`` overrides the top-level RESP2 null (``*-1`` for EXEC, BLPOP...)."""
    t = type(value)
    if t is bytes:
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if t is int:
        if -(2**63) <= value < 2**63:
            return b":%d\r\n" % value
        return b"(%d\r\n" % value if proto == 3 else bulk(b"%d" % value)
    if value is None:
        if proto == 3:
            return NULL3
        return null or NULL2
    if t is SimpleString or isinstance(value, SimpleString):
        return b"+" + bytes(value.value) + b"\r\n"
    if isinstance(value, SimpleError):
        return error(value.value)
    if t is list or t is tuple:
        parts = [b"*%d\r\n" % len(value)]
        parts.extend([encode(v, proto) for v in value])
        return b"".join(parts)
    if t is bool:
        if proto == 3:
            return b"#t\r\n" if value else b"#f\r\n"
        return b":1\r\n" if value else b":0\r\n"
    if t is float:
        return _double3(value) if proto == 3 else bulk(Float.encode(value, humanfriendly=False))
    if t is str:
        return bulk(value.encode())
    if isinstance(value, dict):
        flat = [item for pair in value.items() for item in pair]
        header = b"%%%d\r\n" % len(value) if proto == 3 else b"*%d\r\n" % len(flat)
        return header + b"".join(encode(v, proto) for v in flat)
    if isinstance(value, set | frozenset):
        header = b"~%d\r\n" if proto == 3 else b"*%d\r\n"
        return header % len(value) + b"".join(encode(v, proto) for v in value)
    if isinstance(value, int):  # int subclasses
        return b":%d\r\n" % int(value)
    if isinstance(value, bytes):
        return bulk(bytes(value))
    raise TypeError(f"cannot encode a reply of type {type(value).__name__}")


def encode_push(items: list[Any], proto: int) -> bytes:
    """A pub/sub message: a RESP3 push, or a plain array in RESP2."""
    if proto == 3:
        return b">%d\r\n" % len(items) + b"".join(encode(v, 3) for v in items)
    return encode(items, 2)


_WS = " \t\n\v\f\r"  # C isspace()
_ENDS = " \t\n\r"  # what ends an unquoted argument in sdssplitargs (not \v or \f)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}


def split_inline(line: bytes) -> list[bytes]:
    """Split an inline command the way Redis's ``sdssplitargs`` does (quotes, ``\\xHH`` escapes).

    Raises :class:`ProtocolViolation` on unbalanced quotes.
    """
    # Redis splits a C string: an embedded NUL ends the line.
    text = line.split(b"\0", 1)[0].decode("latin-1")
    args: list[bytes] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WS:
            i += 1
        if i >= n:
            return args
        cur: list[str] = []
        in_dq = in_sq = False
        while True:
            if in_dq:
                if i >= n:
                    raise ProtocolViolation(msg.PROTO_UNBALANCED_QUOTES)
                c = text[i]
                if c == "\\" and i + 3 < n and text[i + 1] == "x" and _ishex(text[i + 2 : i + 4]):
                    cur.append(chr(int(text[i + 2 : i + 4], 16)))
                    i += 3
                elif c == "\\" and i + 1 < n:
                    i += 1
                    cur.append(_ESCAPES.get(text[i], text[i]))
                elif c == '"':
                    if i + 1 < n and text[i + 1] not in _WS:
                        raise ProtocolViolation(msg.PROTO_UNBALANCED_QUOTES)
                    in_dq = False
                    i += 1
                    break
                else:
                    cur.append(c)
            elif in_sq:
                if i >= n:
                    raise ProtocolViolation(msg.PROTO_UNBALANCED_QUOTES)
                c = text[i]
                if c == "\\" and i + 1 < n and text[i + 1] == "'":
                    i += 1
                    cur.append("'")
                elif c == "'":
                    if i + 1 < n and text[i + 1] not in _WS:
                        raise ProtocolViolation(msg.PROTO_UNBALANCED_QUOTES)
                    in_sq = False
                    i += 1
                    break
                else:
                    cur.append(c)
            else:
                if i >= n:
                    break
                c = text[i]
                if c in _ENDS:
                    break
                if c == '"':
                    in_dq = True
                elif c == "'":
                    in_sq = True
                else:
                    cur.append(c)
            i += 1
        args.append("".join(cur).encode("latin-1"))


def _ishex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


class HeaderWalker:
    """Follows the headers of one incomplete request, so oversized lengths fail at once.

    hiredis would wait for a 100 GB bulk string; Redis refuses the header. The walker is fed
    only the bytes of a request that hiredis has not completed yet (see the server), so its
    cost is one step per header, and payloads are skipped by length.
    """

    __slots__ = ("_args", "_line", "_max_bulk", "_skip", "_started", "_unauthenticated")

    def __init__(self, unauthenticated: bool = False, max_bulk: int = MAX_BULK_LEN) -> None:
        self._unauthenticated = unauthenticated
        self._max_bulk = max_bulk
        self._started = False
        self._args = 0
        self._skip = 0
        self._line = b""

    def at_element_header(self) -> bool:
        """Whether the next byte starts an argument's header (where Redis wants ``$``)."""
        return self._started and self._args > 0 and not self._skip and not self._line

    def feed(self, data: bytes) -> None:
        """Walk ``data``; raise :class:`ProtocolViolation` on a header Redis would refuse."""
        pos, n = 0, len(data)
        while pos < n:
            if self._skip:
                step = min(self._skip, n - pos)
                self._skip -= step
                pos += step
                continue
            end = data.find(b"\n", pos)
            if end < 0:
                self._line += data[pos:]
                if len(self._line) > 32:
                    raise ProtocolViolation(
                        msg.PROTO_BULK_TOO_BIG if self._started else msg.PROTO_MULTIBULK_TOO_BIG
                    )
                return
            line = self._line + data[pos:end]
            self._line = b""
            pos = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not self._started:
                self._started = True
                count = _parse_len(line[1:])
                if count is None or count > MAX_MULTIBULK_LEN:
                    raise ProtocolViolation(msg.PROTO_INVALID_MULTIBULK)
                if self._unauthenticated and count > MAX_UNAUTH_MULTIBULK:
                    raise ProtocolViolation(msg.PROTO_UNAUTH_MULTIBULK)
                self._args = count
                continue
            if self._args <= 0:  # the request is complete; hiredis takes it from here
                return
            if not line.startswith(b"$"):
                raise ProtocolViolation(msg.PROTO_EXPECTED_DOLLAR.format(chr(line[0]) if line else " "))
            length = _parse_len(line[1:])
            if length is None or length > self._max_bulk:
                raise ProtocolViolation(msg.PROTO_INVALID_BULK)
            if self._unauthenticated and length > MAX_UNAUTH_BULK:
                raise ProtocolViolation(msg.PROTO_UNAUTH_BULK)
            self._args -= 1
            self._skip = length + 2


def _parse_len(digits: bytes) -> int | None:
    if not digits or not digits.isdigit() or (len(digits) > 1 and digits[:1] == b"0"):
        return None
    return int(digits)


def request_size(argv: list[bytes]) -> int:
    """Bytes of a request in canonical RESP (the only encoding Redis and hiredis accept)."""
    n = len(argv)
    size = (1 if n < 10 else len(str(n))) + 3 + 5 * n
    for a in argv:
        la = len(a)
        size += la + (1 if la < 10 else 2 if la < 100 else len(str(la)))
    return size


def check_unauthenticated(argv: list[bytes]) -> None:
    """Redis's limits on requests before ``AUTH`` (when a password is required)."""
    if len(argv) > MAX_UNAUTH_MULTIBULK:
        raise ProtocolViolation(msg.PROTO_UNAUTH_MULTIBULK)
    if any(len(a) > MAX_UNAUTH_BULK for a in argv):
        raise ProtocolViolation(msg.PROTO_UNAUTH_BULK)


def check_request(req: Any) -> list[bytes]:
    """Check that what hiredis parsed is an array of bulk strings, as a request must be."""
    if type(req) is not list:
        raise ProtocolViolation(msg.PROTO_INVALID_MULTIBULK)
    for item in req:
        if type(item) is not bytes:
            kind = {int: ":", list: "*", str: "+"}.get(type(item), "$")
            if item is None:
                raise ProtocolViolation(msg.PROTO_INVALID_BULK)
            raise ProtocolViolation(msg.PROTO_EXPECTED_DOLLAR.format(kind))
    return req
