"""Input limits and timeouts of the RESP front end, named and checked as redis-server's are.

Redis's own settings, with Redis's ``CONFIG SET`` ranges and error texts:

- ``client-query-buffer-limit``: a client whose unprocessed input grows past it is closed without a
  reply, logging ``Closing client that reached max query buffer length``;
- ``proto-max-bulk-len``: a longer bulk string header gets ``Protocol error: invalid bulk length``;
- ``maxmemory-clients``: when all clients' buffered input together passes it, the biggest clients are
  evicted (closed), as Redis 7.0 does;
- ``timeout``: a client idle that many seconds is closed (0: never), as Redis does.

simdb's defaults differ from Redis's where Redis's would let a few clients exhaust a test machine's
memory (:data:`DEFAULT_QUERY_BUFFER_LIMIT`, :data:`DEFAULT_MAXMEMORY_CLIENTS`). One setting is
simdb's own, since Redis has none: ``partial_request_timeout``, the longest a request may stay
incomplete (a truncated command, or a ``*2147483647`` header Redis accepts and waits on), however
slowly its bytes trickle in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simdb.errors import ConfigError

MB = 1024 * 1024
DEFAULT_QUERY_BUFFER_LIMIT = 64 * MB
"""Per client (Redis: 1gb)."""
DEFAULT_MAXMEMORY_CLIENTS = 128 * MB
"""All clients' buffered input together (Redis: 0, unlimited)."""
DEFAULT_PROTO_MAX_BULK_LEN = 512 * MB
"""As Redis."""
DEFAULT_PARTIAL_REQUEST_TIMEOUT = 30.0
"""Seconds a request may stay incomplete (simdb's own; 0: no limit)."""

_LLONG_MAX = 2**63 - 1
_INT_MAX = 2**31 - 1
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_MEMORY = re.compile(r"^(\d+)([a-z]*)$")


def parse_memory(text: str) -> int | None:
    """A Redis memory value (``1gb``, ``64m``, ``1048576``); ``None`` if Redis would not parse it."""
    m = _MEMORY.match(text.strip().lower())
    if m is None or m.group(2) not in _UNITS:
        return None
    return int(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class Limits:
    """The limits in force; ``CONFIG SET`` changes them while the server runs (see :func:`config_set`)."""

    query_buffer_limit: int = DEFAULT_QUERY_BUFFER_LIMIT
    proto_max_bulk_len: int = DEFAULT_PROTO_MAX_BULK_LEN
    maxmemory_clients: int = DEFAULT_MAXMEMORY_CLIENTS
    timeout: int = 0
    partial_request_timeout: float = DEFAULT_PARTIAL_REQUEST_TIMEOUT

    def __post_init__(self) -> None:
        checks = [
            ("client-query-buffer-limit", self.query_buffer_limit, MB, _LLONG_MAX),
            ("proto-max-bulk-len", self.proto_max_bulk_len, MB, _LLONG_MAX),
            ("maxmemory-clients", self.maxmemory_clients, 0, _LLONG_MAX),
            ("timeout", self.timeout, 0, _INT_MAX),
        ]
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise ConfigError(f"redis {name} must be between {low} and {high}, got {value}")
        if self.partial_request_timeout < 0:
            raise ConfigError(
                f"redis partial request timeout must be >= 0 s, got {self.partial_request_timeout}"
            )

    def config(self) -> dict[bytes, bytes]:
        """The ``CONFIG GET`` view of the Redis-named settings."""
        return {
            b"client-query-buffer-limit": b"%d" % self.query_buffer_limit,
            b"proto-max-bulk-len": b"%d" % self.proto_max_bulk_len,
            b"maxmemory-clients": b"%d" % self.maxmemory_clients,
            b"timeout": b"%d" % self.timeout,
        }


_FIELDS = {
    b"client-query-buffer-limit": ("query_buffer_limit", MB, _LLONG_MAX, True),
    b"proto-max-bulk-len": ("proto_max_bulk_len", MB, _LLONG_MAX, True),
    b"maxmemory-clients": ("maxmemory_clients", 0, _LLONG_MAX, True),
    b"timeout": ("timeout", 0, _INT_MAX, False),
}
SETTINGS = frozenset(_FIELDS)
"""The ``CONFIG SET`` names :func:`config_set` handles."""


def check_value(key: bytes, value: bytes) -> tuple[str, int] | str:
    """``(field, number)`` for a valid ``CONFIG SET key value``, or Redis's error text for a bad one."""
    field, low, high, memory = _FIELDS[key]
    text = value.decode("utf-8", "replace")
    prefix = f"ERR CONFIG SET failed (possibly related to argument '{key.decode()}') - "
    number: int | None
    if memory:
        if text.endswith("%") and key == b"maxmemory-clients":
            return prefix + "simdb does not support a percentage of maxmemory here; give a size"
        number = parse_memory(text)
        if number is None:
            kind = "a memory or percent value" if key == b"maxmemory-clients" else "a memory value"
            return prefix + "argument must be " + kind
    else:
        try:
            number = int(text)
        except ValueError:
            return prefix + "argument couldn't be parsed into an integer"
    if not low <= number <= high:
        return prefix + f"argument must be between {low} and {high} inclusive"
    return field, number


def config_set(limits: Limits, pairs: list[tuple[bytes, bytes]]) -> str | None:
    """Apply the limit settings among ``pairs`` all or none; Redis's error text if one is invalid."""
    changes: list[tuple[str, int]] = []
    for key, value in pairs:
        if key in _FIELDS:
            checked = check_value(key, value)
            if isinstance(checked, str):
                return checked
            changes.append(checked)
    for field, number in changes:
        setattr(limits, field, number)
    return None
