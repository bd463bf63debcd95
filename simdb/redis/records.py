"""One Redis key as a snapshot line: ``redis/<part>/db<N>.jsonl[.gz]``.

Line format (format v1)::

    {"key": B, "type": "string"|"hash"|"list"|"set"|"zset", "value": V, "ttl_ms": int|null}

``B`` is :func:`simdb.snapshot.format.encode_bytes` (text if UTF-8, else ``{"b64": ...}``).
``string``: V is B; ``hash``: ``[[field, value], ...]`` sorted by field; ``list``: ``[B, ...]``
in list order; ``set``: ``[B, ...]`` sorted; ``zset``: ``[[member, score], ...]`` sorted by
(score, member), scores through :func:`~simdb.snapshot.format.encode_score`. ``ttl_ms`` is the
remaining time to live when the snapshot was taken; loading applies it relative to load time.
Lines are sorted by key bytes; the database number comes from the file name.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from simdb.errors import SnapshotError
from simdb.snapshot.format import RedisType, decode_bytes, decode_score, encode_bytes, encode_score

Where = str | Path | tuple[str | Path, int] | None
"""Where a record came from, for error messages: a path, or ``(path, line)``."""

HashValue = tuple[tuple[bytes, bytes], ...]
ZSetValue = tuple[tuple[bytes, float], ...]
RecordValue = bytes | tuple[bytes, ...] | HashValue | ZSetValue

REDIS_TYPES: tuple[str, ...] = get_args(RedisType)
_FIELDS = {"key", "type", "value", "ttl_ms"}


def _fail(message: str, where: Where) -> SnapshotError:
    if isinstance(where, tuple):
        return SnapshotError(message, str(where[0]), where[1])
    return SnapshotError(message, None if where is None else str(where))


@dataclass(frozen=True)
class RedisRecord:
    """One key of a Redis snapshot part, in canonical order (see the module docstring).

    ``value`` is ``bytes`` for a string, a tuple of ``bytes`` for a list or set, a tuple of
    ``(field, value)`` pairs for a hash and of ``(member, score)`` pairs for a sorted set.
    """

    key: bytes
    type: RedisType
    value: RecordValue
    ttl_ms: int | None = None

    @classmethod
    def make(cls, key: bytes, type_: RedisType, value: Any, ttl_ms: int | None = None) -> RedisRecord:
        """Build a record from loose Python values, putting sets, hashes and zsets in canonical order."""
        canonical: RecordValue
        if type_ == "string":
            canonical = bytes(value)
        elif type_ == "list":
            canonical = tuple(bytes(v) for v in value)
        elif type_ == "set":
            canonical = tuple(sorted(bytes(v) for v in value))
        elif type_ == "hash":
            pairs = value.items() if isinstance(value, dict) else value
            canonical = tuple(sorted((bytes(f), bytes(v)) for f, v in pairs))
        elif type_ == "zset":
            pairs = value.items() if isinstance(value, dict) else value
            canonical = tuple(sorted(((bytes(m), float(s)) for m, s in pairs), key=lambda p: (p[1], p[0])))
        else:
            raise ValueError(f"unknown Redis type {type_!r}; expected one of {', '.join(REDIS_TYPES)}")
        return cls(bytes(key), type_, canonical, ttl_ms)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of one snapshot line (write it with ``dump_line``)."""
        value: Any
        raw: Any = self.value
        if self.type == "string":
            value = encode_bytes(raw)
        elif self.type == "list":
            value = [encode_bytes(v) for v in raw]
        elif self.type == "set":
            value = [encode_bytes(v) for v in sorted(raw)]
        elif self.type == "hash":
            value = [[encode_bytes(f), encode_bytes(v)] for f, v in sorted(raw)]
        else:
            pairs = sorted(raw, key=lambda p: (p[1], p[0]))
            value = [[encode_bytes(m), encode_score(s)] for m, s in pairs]
        return {"key": encode_bytes(self.key), "type": self.type, "value": value, "ttl_ms": self.ttl_ms}

    @classmethod
    def from_json(cls, obj: Any, where: Where = None) -> RedisRecord:
        """Parse one snapshot line; a :class:`SnapshotError` says what is wrong and ``where``."""
        if not isinstance(obj, dict):
            raise _fail(f"a Redis record must be a JSON object, got {type(obj).__name__}", where)
        missing = sorted(_FIELDS - set(obj) - {"ttl_ms"})  # a missing ttl_ms means no TTL
        extra = sorted(set(obj) - _FIELDS)
        if missing or extra:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown {', '.join(extra)}"] if extra else []
            )
            raise _fail(f"Redis record fields: {'; '.join(parts)}", where)
        try:
            key = decode_bytes(obj["key"])
        except ValueError as exc:
            raise _fail(f"field 'key': {exc}", where) from exc
        type_ = obj["type"]
        if type_ not in REDIS_TYPES:
            expected = ", ".join(REDIS_TYPES)
            raise _fail(f"key {key!r}: unknown type {type_!r}; expected one of {expected}", where)
        ttl = obj.get("ttl_ms")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
            raise _fail(f"key {key!r}: 'ttl_ms' must be a positive integer or null, got {ttl!r}", where)
        raw = obj["value"]
        try:
            value = _decode_value(type_, raw)
        except (ValueError, TypeError) as exc:
            raise _fail(f"key {key!r} ({type_}): bad 'value': {exc}", where) from exc
        problem = _order_problem(type_, value)
        if problem:
            raise _fail(f"{problem} (key {key!r})", where)
        return cls(key, type_, value, ttl)


def _order_problem(type_: str, value: Any) -> str | None:
    """What breaks the canonical order of a collection value (format v1), or ``None``."""
    if type_ == "set":
        if any(a >= b for a, b in itertools.pairwise(value)):
            return "set members must be sorted by bytes and unique"
    elif type_ == "hash":
        if any(a[0] >= b[0] for a, b in itertools.pairwise(value)):
            return "hash fields must be sorted by bytes and unique"
    elif type_ == "zset" and any((a[1], a[0]) >= (b[1], b[0]) for a, b in itertools.pairwise(value)):
        return "zset members must be sorted by (score, member) and unique"
    return None


def _decode_value(type_: str, raw: Any) -> RecordValue:
    if type_ == "string":
        return decode_bytes(raw)
    if not isinstance(raw, list):
        raise ValueError(f"expected a JSON array, got {type(raw).__name__}")
    if type_ in ("list", "set"):
        return tuple(decode_bytes(v) for v in raw)
    pairs: list[tuple[bytes, Any]] = []
    for item in raw:
        if not isinstance(item, list) or len(item) != 2:
            raise ValueError(
                f"expected [{'field, value' if type_ == 'hash' else 'member, score'}] pairs, got {item!r}"
            )
        first = decode_bytes(item[0])
        if type_ == "hash":
            pairs.append((first, decode_bytes(item[1])))
        else:
            score = decode_score(item[1])
            if math.isnan(score):
                raise ValueError(f"member {first!r}: score is NaN")
            pairs.append((first, score))
    return tuple(pairs)
