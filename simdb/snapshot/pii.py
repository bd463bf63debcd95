"""``simdb snapshot verify --pii``: find what still looks like personal data after scrubbing.

Every text in a snapshot is searched (SQL cells, Redis key names, values, hash fields, list, set and
zset members, and every string and object key of Thrift stubs and recordings) for things that look
like an e-mail address, a phone number or an IP address. What cannot name a person is not reported:
addresses at the domains reserved for examples (``example.com``, ``.example``, ``.test``,
``.invalid``, ``.localhost``: what ``fake:email`` writes), IP addresses that are private, loopback,
link-local or reserved for documentation, and phone numbers in the fictional ``555-01xx`` range
(what ``fake:phone_number`` writes).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from simdb.snapshot.format import iter_jsonl
from simdb.snapshot.reader import (
    Snapshot,
    iter_recordings,
    iter_sql_rows,
    iter_stubs,
    parse_redis_record,
    redis_files,
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:.])")
_PHONE = re.compile(r"(?<![\w+.])\+?\(?\d[\d ().-]{6,}\d(?![\w.])")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_RESERVED_TLDS = ("example", "test", "invalid", "localhost")


@dataclass(frozen=True)
class PiiHit:
    """One thing that looks like personal data, and where."""

    kind: str
    """``e-mail``, ``phone number`` or ``IP address``."""
    shown: str
    """The match with its middle masked (the report never repeats the data)."""
    where: str
    path: str
    line: int


def _shown(text: str) -> str:
    if len(text) <= 6:
        return text[0] + "*" * (len(text) - 1)
    return text[:2] + "*" * (len(text) - 5) + text[-3:]


def find_pii(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, match)`` for every e-mail, phone number or IP address in ``text``."""
    taken: list[tuple[int, int]] = []
    for m in _EMAIL.finditer(text):
        domain = m.group(1).lower()
        taken.append(m.span())
        if domain in _RESERVED_DOMAINS or domain.rsplit(".", 1)[-1] in _RESERVED_TLDS:
            continue
        if any(domain.endswith("." + d) for d in _RESERVED_DOMAINS):
            continue
        yield "e-mail", m.group(0)
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            try:
                ip = ipaddress.ip_address(m.group(0))
            except ValueError:
                continue
            taken.append(m.span())
            if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified:
                continue
            if ip.is_multicast:
                continue
            yield "IP address", m.group(0)
    for m in _PHONE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        candidate = m.group(0)
        digits = re.sub(r"\D", "", candidate)
        separators = sum(candidate.count(c) for c in " -.")
        if not 7 <= len(digits) <= 15 or _DATE.match(candidate):
            continue
        if not (candidate.startswith("+") or "(" in candidate or separators >= 2):
            continue
        if "." in candidate and not candidate.startswith("+") and "-" not in candidate:
            continue  # 1.2.3.4567: a version or an id path more often than a phone number
        if re.search(r"55501\d\d$", digits):
            continue
        yield "phone number", candidate


def _masked(where: str) -> str:
    """``where`` (a key or field name may hold the data) with every PII-looking part masked."""
    for _kind, raw in list(find_pii(where)):
        where = where.replace(raw, _shown(raw))
    return where


def _hits(text: str, where: str, path: str, line: int) -> Iterator[PiiHit]:
    for kind, raw in find_pii(text):
        yield PiiHit(kind, _shown(raw), _masked(where), path, line)


def _texts(value: Any, at: str) -> Iterator[tuple[str, str]]:
    """Every string (and object key) inside a JSON value, with its path."""
    if isinstance(value, str):
        yield value, at
    elif isinstance(value, list):
        if len(value) == 0:
            return
        for i, v in enumerate(value):
            yield from _texts(v, f"{at}[{i}]")
    elif isinstance(value, dict) and set(value) != {"b64"}:
        for k, v in value.items():
            yield str(k), f"{at} (key {k!r})"
            yield from _texts(v, f"{at}.{k}")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _redis_texts(rtype: str, value: Any, db: int, key: str) -> Iterator[tuple[str, str]]:
    if rtype == "string":
        yield _text(value), f"db{db} value of key {key!r}"
    elif rtype == "hash":
        for f, v in value:
            field = _text(f)
            yield field, f"db{db} field name {field!r} of hash {key!r}"
            yield _text(v), f"db{db} field {field!r} of hash {key!r}"
    else:
        for item in value:
            member = item[0] if isinstance(item, tuple) else item
            yield _text(member), f"db{db} {rtype} member of key {key!r}"


def scan_part(snap: Snapshot, name: str) -> Iterator[PiiHit]:
    """Every PII-looking text in part ``name``."""
    part = snap.part(name)
    if part.kind == "redis":
        for db, entry in redis_files(snap, name):
            path = str(snap.path_of(entry))
            for line, obj in iter_jsonl(snap.path_of(entry)):
                rec = parse_redis_record(obj, db, path, line)
                key = _text(rec.key)
                texts = [(key, f"db{db} key name {key!r}"), *_redis_texts(rec.type, rec.value, db, key)]
                for text, where in texts:
                    yield from _hits(text, where, path, line)
    elif part.kind == "sql":
        for table in part.tables:
            entry_path = str(snap.root / f"sql/{name}/tables/{table}.jsonl")
            for line, row in iter_sql_rows(snap, name, table):
                for column, value in row.items():
                    if isinstance(value, str):
                        yield from _hits(value, f"table {table} column {column}", entry_path, line)
    else:
        for which, items in (("stub", iter_stubs(snap, name)), ("recording", iter_recordings(snap, name))):
            for path, line, obj in items:
                label = f"{which} {obj.get('id') or obj.get('method')!s}"
                for text, at in _texts(obj, ""):
                    yield from _hits(text, f"{label} at {at.lstrip('.') or '.'}", path, line)
