"""Read a snapshot's Redis part, and load it into the fake engine directly (no wire).

The part is read and checked completely first (checksums, every line, key order), so a bad part
leaves the running state untouched. It becomes a :data:`Template` (pristine values per database);
filling the engine copies the template into fakeredis's databases, and the same template serves
every later reset. Loading into a real server is :mod:`simdb.redis.seed_real`.

TTLs are the remaining milliseconds at snapshot time and are applied relative to load (or reset)
time, so seeded keys are never already expired.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import operator
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import sortedcontainers  # type: ignore[import-untyped]

from simdb.bulk import gc_paused
from simdb.errors import SnapshotError
from simdb.redis.fakeredis_compat import ExpiringMembersSet, Hash, Item, ZSet
from simdb.redis.records import RedisRecord
from simdb.snapshot.format import MANIFEST_NAME, read_manifest, verify_file

MAX_DB = 15
_FILE = re.compile(r"^redis/(?P<part>[^/]+)/db(?P<db>\d+)\.jsonl(?:\.gz)?$")

Entry = bytes | tuple[str, Any, int | None]
"""A plain string without TTL as its bytes; anything else as ``(type, value, ttl_ms)`` where value
is bytes (string), a tuple (list, set) or a dict (hash: field to value, zset: member to score)."""
Rich = tuple[str, Any, int | None]
PlainBatch = tuple[list[bytes], list[bytes]]
Template = dict[int, tuple[list[PlainBatch], dict[bytes, Rich]]]
"""Per database: batches of plain strings without TTL as ``(keys, values)``, and every other key.

Keys are unique because part files are strictly sorted, so plain batches need no dict of their own."""


def part_files(snapshot_dir: Path, part: str) -> list[tuple[int, Path]]:
    """The verified files of Redis part ``part`` as ``(db, path)``, in database order."""
    snapshot_dir = Path(snapshot_dir)
    manifest = read_manifest(snapshot_dir)
    found = manifest.parts.get(part)
    if found is None:
        have = ", ".join(f"{n} ({p.kind})" for n, p in sorted(manifest.parts.items())) or "none"
        raise SnapshotError(
            f"no part named {part!r} in this snapshot (parts: {have})", str(snapshot_dir / MANIFEST_NAME)
        )
    if found.kind != "redis":
        raise SnapshotError(
            f"part {part!r} is a {found.kind} part, not a redis part", str(snapshot_dir / MANIFEST_NAME)
        )
    files = []
    for entry in found.files:
        m = _FILE.match(entry.path)
        if m is None or m.group("part") != part:
            raise SnapshotError(
                f"unexpected file in redis part {part!r}: expected redis/{part}/db<N>.jsonl[.gz]",
                str(snapshot_dir / entry.path),
            )
        db = int(m.group("db"))
        if db > MAX_DB:
            raise SnapshotError(f"database {db} is out of range (0-{MAX_DB})", str(snapshot_dir / entry.path))
        verify_file(snapshot_dir, entry)
        files.append((db, snapshot_dir / entry.path))
    return sorted(files)


_BATCH = 2048  # lines parsed per json.loads call


def _iter_json(path: Path) -> Iterator[tuple[list[int] | range, list[Any]]]:
    """Like :func:`simdb.snapshot.format.iter_jsonl`, but batches of ``(line numbers, values)``.

    Lines are parsed ``_BATCH`` at a time with one ``orjson.loads`` call. A batch that does not
    parse is re-read line by line, so the error still names the exact line.
    """
    where = str(path)
    try:
        fh: io.BufferedIOBase = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise SnapshotError(f"cannot read file: {exc}", where) from exc
    number = 0
    try:
        with fh:
            while True:
                lines = list(itertools.islice(fh, _BATCH))
                if not lines:
                    return
                first = number + 1
                number += len(lines)
                numbers: list[int] | range = range(first, number + 1)
                try:
                    objs = orjson.loads(b"[" + b",".join(lines) + b"]")
                    if len(objs) != len(lines):
                        raise ValueError("a line holds more than one value")
                except ValueError:  # blank lines, or a bad one: go line by line
                    kept = [(n, ln) for n, ln in zip(numbers, lines, strict=True) if ln.strip()]
                    numbers = [n for n, _ in kept]
                    objs = [_parse_line(ln, where, n) for n, ln in kept]
                yield numbers, objs
    except (OSError, EOFError) as exc:
        raise SnapshotError(f"cannot read file: {exc}", where) from exc


def _parse_line(line: bytes, where: str, number: int) -> Any:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"not valid UTF-8: {exc.reason} at byte {exc.start}", where, number) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"not valid JSON: {exc.msg}", where, number) from exc


def iter_entry_batches(path: Path) -> Iterator[list[tuple[bytes, Entry]]]:
    """Stream batches of ``(key, entry)`` from one part file; errors name the file and line."""
    for keys, entries, _ in iter_batches(path):
        yield list(zip(keys, entries, strict=True))


def iter_batches(path: Path) -> Iterator[tuple[list[bytes], list[Entry], bool]]:
    """Batches as ``(keys, entries, all_plain)``: ``all_plain`` when every entry is bare bytes."""
    where = str(path)
    last = b""
    first = True
    for numbers, objs in _iter_json(path):
        plain = _plain_batch(objs)
        if plain is not None and (first or plain[0][0] > last):
            first = False
            last = plain[0][-1]
            yield plain[0], plain[1], True
            continue
        out_keys: list[bytes] = []
        out_entries: list[Entry] = []
        for line, obj in zip(numbers, objs, strict=True):
            # The common case (text key, text string value, no TTL) as bare bytes, no record built.
            entry: Entry
            # A text hash is built here too; anything unusual goes through the full record check.
            try:
                type_ = obj["type"]
                if len(obj) != 4:
                    raise TypeError
                key = obj["key"].encode()
                ttl = obj["ttl_ms"]
                if ttl is not None and not (type(ttl) is int and ttl > 0):
                    raise TypeError
                if type_ == "string":
                    value = obj["value"].encode()
                    entry = value if ttl is None else ("string", value, ttl)
                elif type_ == "hash":
                    entry = ("hash", _text_hash(obj["value"]), ttl)
                else:
                    raise TypeError
            except (TypeError, KeyError, AttributeError, ValueError):
                rec = RedisRecord.from_json(obj, (where, line))
                key = rec.key
                entry = _entry(rec)
            if key <= last and not first:
                raise SnapshotError(
                    f"key {key!r} is out of order or repeated (lines must be sorted by key bytes)",
                    where,
                    line,
                )
            first = False
            last = key
            out_keys.append(key)
            out_entries.append(entry)
        yield out_keys, out_entries, False


def _text_hash(raw: Any) -> dict[bytes, bytes]:
    """A hash value made only of text pairs, sorted by field; raises (to the full check) otherwise."""
    if type(raw) is not list or not raw or set(map(type, raw)) != {list} or set(map(len, raw)) != {2}:
        raise TypeError
    fields = [f.encode() for f, _ in raw]
    if not all(map(operator.lt, fields, fields[1:])):
        raise TypeError
    return dict(zip(fields, [v.encode() for _, v in raw], strict=True))


_TYPE = operator.itemgetter("type")
_TTL = operator.itemgetter("ttl_ms")
_KEY = operator.itemgetter("key")
_VALUE = operator.itemgetter("value")


def _plain_batch(objs: list[Any]) -> tuple[list[bytes], list[Entry]] | None:
    """A batch made only of sorted, TTL-less text strings, converted in bulk; else ``None``."""
    try:  # C-level passes only: this is the hot loop of a big load
        if (
            set(map(_TYPE, objs)) != {"string"}
            or set(map(_TTL, objs)) != {None}
            or set(map(len, objs)) != {4}
        ):
            return None
        keys = list(map(str.encode, map(_KEY, objs)))
        values: list[Entry] = list(map(str.encode, map(_VALUE, objs)))
    except (TypeError, KeyError, AttributeError):
        return None
    if not keys or not all(map(operator.lt, keys, keys[1:])):
        return None
    return keys, values


def iter_entries(path: Path) -> Iterator[tuple[bytes, Entry]]:
    """Stream ``(key, entry)`` from one part file; errors name the file and line."""
    for batch in iter_entry_batches(path):
        yield from batch


def _entry(rec: RedisRecord) -> Entry:
    if rec.type == "string" and rec.ttl_ms is None:
        assert isinstance(rec.value, bytes)
        return rec.value
    if rec.type in ("string", "list", "set"):
        return rec.type, rec.value, rec.ttl_ms
    return rec.type, dict(rec.value), rec.ttl_ms  # type: ignore[arg-type]


def read_template(snapshot_dir: Path, part: str) -> Template:
    """Read and check a whole Redis part into memory (for the fake engine)."""
    template: Template = {}
    with gc_paused():
        for db, path in part_files(snapshot_dir, part):
            plain, rich = template.setdefault(db, ([], {}))
            for keys, entries, all_plain in iter_batches(path):
                if all_plain:
                    plain.append((keys, entries))  # type: ignore[arg-type]
                    continue
                single_keys: list[bytes] = []
                single_values: list[bytes] = []
                for key, entry in zip(keys, entries, strict=True):
                    if type(entry) is bytes:
                        single_keys.append(key)
                        single_values.append(entry)
                    else:
                        rich[key] = entry  # type: ignore[assignment]
                plain.append((single_keys, single_values))
    return template


def _materialise(type_: str, value: Any) -> Any:
    if type_ == "string":
        return value
    if type_ == "list":
        return list(value)
    if type_ == "set":
        return ExpiringMembersSet(dict.fromkeys(value))
    if type_ == "hash":
        h = Hash()
        h._values = dict(value)
        return h
    z = ZSet()
    z._bylex = dict(value)
    z._byscore = sortedcontainers.SortedList((score, member) for member, score in value.items())
    return z


def fill_engine(dbs: Any, template: Template, now: float | None = None) -> int:
    """Replace the contents of fakeredis ``dbs`` with fresh copies of ``template``; return keys loaded.

    The caller holds the engine lock. Databases not in the template are emptied.
    """
    now = time.time() if now is None else now
    for index in list(dbs):
        _clear(dbs[index])
    with gc_paused():
        count = _fill(dbs, template, now)
    return count


def _clear(db: Any) -> None:
    """``Database.clear()`` without notifying every key: only watched keys can care (``WATCH``)."""
    for key in list(db._watches):
        if key in db._dict:
            db.notify_watch(key)
    db._dict.clear()
    db._expiry_heap.clear()


def _fill(dbs: Any, template: Template, now: float) -> int:
    count = 0
    for index, (plain, rich) in template.items():
        db = dbs[index]
        d = db._dict
        for keys, values in plain:
            d.update(zip(keys, map(Item, values), strict=True))
            count += len(keys)
        for key, (type_, value, ttl) in rich.items():
            item = Item(value if type_ == "string" else _materialise(type_, value))
            if ttl is not None:
                expireat = now + ttl / 1000.0
                item.expireat = expireat  # type: ignore[assignment]
                d[key] = item
                db.schedule_expiry(key, expireat)
            else:
                d[key] = item
        count += len(rich)
    return count
