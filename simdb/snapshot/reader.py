"""Open and validate a snapshot; stream its parts record by record.

What the fakes call when they load (see :class:`simdb.fake.Fake`): every
function here raises :class:`simdb.errors.SnapshotError` naming the file and
line of the first problem, and never reads a whole part file into memory.

    snap = open_snapshot(Path("seeds/homefeed"))        # manifest + format check
    snap.verify_part("cache")                           # checksums of one part
    for entry in iter_redis(snap, "cache"):             # validated, sorted keys
        ...
    ddl = sql_schema(snap, "db"); tables = snap.part("db").tables
    for line, row in iter_sql_rows(snap, "db", "users"):
        ...
    for line, rec in iter_recordings(snap, "ranker"):
        ...
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from simdb.errors import SnapshotError
from simdb.snapshot.format import (
    FileEntry,
    Manifest,
    Part,
    PartKind,
    RedisType,
    decode_bytes,
    decode_score,
    iter_jsonl,
    read_manifest,
    verify_file,
)

REDIS_TYPES: frozenset[str] = frozenset({"string", "hash", "list", "set", "zset"})
_DB_FILE = re.compile(r"^redis/[^/]+/db(\d+)\.jsonl(\.gz)?$")
_TABLE_FILE = re.compile(r"^sql/[^/]+/tables/([^/]+)\.jsonl(\.gz)?$")

RedisValue = bytes | list[bytes] | list[tuple[bytes, bytes]] | list[tuple[bytes, float]]


@dataclass(frozen=True)
class Snapshot:
    """An opened snapshot: its root directory and validated manifest."""

    root: Path
    manifest: Manifest

    def part(self, name: str, kind: PartKind | None = None) -> Part:
        """The part called ``name`` (optionally checking its kind)."""
        part = self.manifest.parts.get(name)
        if part is None:
            known = ", ".join(sorted(self.manifest.parts)) or "none"
            raise SnapshotError(f"snapshot has no part {name!r} (parts: {known})", str(self.root))
        if kind is not None and part.kind != kind:
            raise SnapshotError(f"part {name!r} is a {part.kind} part, not {kind}", str(self.root))
        return part

    def path_of(self, entry: FileEntry) -> Path:
        """Absolute path of a part file."""
        return self.root / entry.path

    def verify_part(self, name: str) -> None:
        """Check that every file of part ``name`` exists and matches its checksum."""
        for entry in self.part(name).files:
            verify_file(self.root, entry)

    def verify_all(self) -> None:
        """Check the checksums of every file of every part."""
        for name in self.manifest.parts:
            self.verify_part(name)


def open_snapshot(path: Path, verify_checksums: bool = False) -> Snapshot:
    """Read the manifest (refusing unknown formats) and optionally check all checksums."""
    root = Path(path)
    manifest = read_manifest(root)
    for name, part in manifest.parts.items():
        for entry in part.files:
            _check_relpath(root, name, part.kind, entry.path)
    snap = Snapshot(root=root, manifest=manifest)
    if verify_checksums:
        snap.verify_all()
    return snap


def _check_relpath(root: Path, part: str, kind: str, relpath: str) -> None:
    rel = Path(relpath)
    if rel.is_absolute() or ".." in rel.parts or not relpath.startswith(f"{kind}/{part}/"):
        raise SnapshotError(
            f"manifest part {part!r} lists file {relpath!r} outside {kind}/{part}/",
            str(root / "snapshot.yaml"),
        )


def _counted(snapshot: Snapshot, entry: FileEntry) -> Iterator[tuple[int, Any]]:
    """Stream a file's records and check the count against the manifest at the end."""
    path = snapshot.path_of(entry)
    count = 0
    last_line = 0
    for number, value in iter_jsonl(path):
        count += 1
        last_line = number
        yield number, value
    if count != entry.records:
        raise SnapshotError(
            f"file has {count} records but the manifest says {entry.records} (truncated or edited?)",
            str(path),
            last_line or None,
        )


# --------------------------------------------------------------------------- Redis


@dataclass(frozen=True, slots=True)
class RedisEntry:
    """One Redis key of a snapshot, decoded.

    ``value`` by type: string -> bytes; list and set -> list of bytes;
    hash -> list of (field, value); zset -> list of (member, score).
    ``ttl_ms`` is the remaining time to live at capture, or None.
    """

    db: int
    key: bytes
    type: RedisType
    value: RedisValue
    ttl_ms: int | None


def redis_files(snapshot: Snapshot, part: str) -> list[tuple[int, FileEntry]]:
    """The database number and file entry of each file of a Redis part, by database."""
    out: list[tuple[int, FileEntry]] = []
    for entry in snapshot.part(part, "redis").files:
        m = _DB_FILE.match(entry.path)
        if m is None:
            raise SnapshotError(
                f"Redis part file {entry.path!r} is not named redis/{part}/db<N>.jsonl[.gz]",
                str(snapshot.root / "snapshot.yaml"),
            )
        out.append((int(m.group(1)), entry))
    out.sort(key=lambda t: t[0])
    return out


def _bytes(value: object, what: str, path: str, line: int) -> bytes:
    try:
        return decode_bytes(value)
    except ValueError as exc:
        raise SnapshotError(f"{what}: {exc}", path, line) from exc


def parse_redis_record(obj: Any, db: int, path: str, line: int) -> RedisEntry:
    """Validate one decoded JSON line of a Redis part file."""
    if not isinstance(obj, dict):
        raise SnapshotError("a Redis record must be a JSON object", path, line)
    extra = set(obj) - {"key", "type", "value", "ttl_ms"}
    if extra or "key" not in obj or "type" not in obj or "value" not in obj:
        raise SnapshotError(
            "a Redis record needs exactly key, type, value and ttl_ms"
            + (f" (unknown: {', '.join(sorted(extra))})" if extra else ""),
            path,
            line,
        )
    key = _bytes(obj["key"], "key", path, line)
    rtype = obj["type"]
    if rtype not in REDIS_TYPES:
        raise SnapshotError(
            f"unknown Redis type {rtype!r} (expected one of {sorted(REDIS_TYPES)})", path, line
        )
    ttl = obj.get("ttl_ms")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
        raise SnapshotError(f"ttl_ms must be a positive integer or null, got {ttl!r}", path, line)
    raw = obj["value"]
    value: RedisValue
    if rtype == "string":
        value = _bytes(raw, "string value", path, line)
    else:
        if not isinstance(raw, list):
            raise SnapshotError(f"a {rtype} value must be a JSON list", path, line)
        if rtype in ("list", "set"):
            items = [_bytes(v, f"{rtype} element", path, line) for v in raw]
            if rtype == "set" and any(a >= b for a, b in itertools.pairwise(items)):
                raise SnapshotError("set members must be sorted by bytes and unique", path, line)
            value = items
        elif rtype == "hash":
            pairs: list[tuple[bytes, bytes]] = []
            for item in raw:
                if not isinstance(item, list) or len(item) != 2:
                    raise SnapshotError("a hash value is a list of [field, value] pairs", path, line)
                pairs.append(
                    (_bytes(item[0], "hash field", path, line), _bytes(item[1], "hash value", path, line))
                )
            if any(a[0] >= b[0] for a, b in itertools.pairwise(pairs)):
                raise SnapshotError("hash fields must be sorted by bytes and unique", path, line)
            value = pairs
        else:
            zpairs: list[tuple[bytes, float]] = []
            for item in raw:
                if not isinstance(item, list) or len(item) != 2:
                    raise SnapshotError("a zset value is a list of [member, score] pairs", path, line)
                member = _bytes(item[0], "zset member", path, line)
                try:
                    score = decode_score(item[1])
                except ValueError as exc:
                    raise SnapshotError(f"zset score: {exc}", path, line) from exc
                if math.isnan(score):
                    raise SnapshotError("zset score must not be NaN", path, line)
                zpairs.append((member, score))
            if any((a[1], a[0]) >= (b[1], b[0]) for a, b in itertools.pairwise(zpairs)):
                raise SnapshotError("zset members must be sorted by (score, member)", path, line)
            if len({m for m, _ in zpairs}) != len(zpairs):
                raise SnapshotError("zset members must be unique", path, line)
            value = zpairs
        if not value:
            raise SnapshotError(f"an empty {rtype} cannot exist in Redis", path, line)
    return RedisEntry(db=db, key=key, type=cast(RedisType, rtype), value=value, ttl_ms=ttl)


def iter_redis(snapshot: Snapshot, part: str) -> Iterator[RedisEntry]:
    """Stream every key of a Redis part, validated, database by database, in key order.

    Checks record shape, key order and uniqueness, and the record count.
    """
    for db, entry in redis_files(snapshot, part):
        path = str(snapshot.path_of(entry))
        last: bytes | None = None
        for line, obj in _counted(snapshot, entry):
            rec = parse_redis_record(obj, db, path, line)
            if last is not None and rec.key <= last:
                raise SnapshotError("keys must be sorted by bytes and unique", path, line)
            last = rec.key
            yield rec


# --------------------------------------------------------------------------- SQL


def sql_schema_path(snapshot: Snapshot, part: str) -> Path:
    """Path of ``sql/<part>/schema.sql`` (checked to be listed in the manifest)."""
    rel = f"sql/{part}/schema.sql"
    if not any(e.path == rel for e in snapshot.part(part, "sql").files):
        raise SnapshotError(
            f"SQL part {part!r} has no {rel} in the manifest", str(snapshot.root / "snapshot.yaml")
        )
    return snapshot.root / rel


def sql_schema(snapshot: Snapshot, part: str) -> str:
    """The DDL of an SQL part (MySQL dialect), as text."""
    path = sql_schema_path(snapshot, part)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"cannot read schema: {exc}", str(path)) from exc


def sql_table_entry(snapshot: Snapshot, part: str, table: str) -> FileEntry | None:
    """The file entry holding ``table``'s rows, or None if the table has no rows file."""
    for entry in snapshot.part(part, "sql").files:
        m = _TABLE_FILE.match(entry.path)
        if m is not None and m.group(1) == table:
            return entry
    return None


def sql_table_files(snapshot: Snapshot, part: str) -> dict[str, FileEntry]:
    """Table name -> rows file entry for an SQL part."""
    out: dict[str, FileEntry] = {}
    for entry in snapshot.part(part, "sql").files:
        m = _TABLE_FILE.match(entry.path)
        if m is not None:
            out[m.group(1)] = entry
    return out


def iter_sql_rows(snapshot: Snapshot, part: str, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream ``(line, row)`` of one table; each row is a JSON object column -> value."""
    entry = sql_table_entry(snapshot, part, table)
    if entry is None:
        return
    path = str(snapshot.path_of(entry))
    for line, obj in _counted(snapshot, entry):
        if not isinstance(obj, dict):
            raise SnapshotError(f"a row of table {table!r} must be a JSON object", path, line)
        yield line, obj


def split_sql(text: str) -> list[str]:
    """Split a DDL script into statements on ``;`` outside quotes and comments (MySQL's rules)."""
    from simdb.mysql.catalog import split_statements

    return split_statements(text)


# --------------------------------------------------------------------------- Thrift

ThriftFile = Literal["stubs", "recordings"]


def thrift_entry(snapshot: Snapshot, part: str, which: ThriftFile) -> FileEntry | None:
    """The ``stubs.jsonl`` or ``recordings.jsonl`` entry of a Thrift part, if present."""
    for entry in snapshot.part(part, "thrift").files:
        name = entry.path.rsplit("/", 1)[-1]
        if name in (f"{which}.jsonl", f"{which}.jsonl.gz"):
            return entry
    return None


def iter_stubs(snapshot: Snapshot, part: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Stream ``(path, line, stub)`` of a Thrift part's stubs (shape checked lightly).

    Full validation against the IDL is :meth:`simdb.thrift.stubs.StubSet.load_part`.
    """
    entry = thrift_entry(snapshot, part, "stubs")
    if entry is None:
        return
    path = str(snapshot.path_of(entry))
    for line, obj in _counted(snapshot, entry):
        if not isinstance(obj, dict) or not isinstance(obj.get("method"), str):
            raise SnapshotError("a stub must be a JSON object with a string 'method'", path, line)
        yield path, line, obj


def parse_recording(obj: Any, path: str, line: int) -> dict[str, Any]:
    """Validate the shape of one recording: ``{method, args, reply, latency_ms}``."""
    if not isinstance(obj, dict):
        raise SnapshotError("a recording must be a JSON object", path, line)
    extra = set(obj) - {"method", "args", "reply", "latency_ms"}
    if extra:
        raise SnapshotError(f"unknown recording keys: {', '.join(sorted(extra))}", path, line)
    if not isinstance(obj.get("method"), str) or not obj["method"]:
        raise SnapshotError("a recording needs a string 'method'", path, line)
    if not isinstance(obj.get("args"), dict):
        raise SnapshotError("a recording needs 'args', an object of argument name -> value", path, line)
    reply = obj.get("reply")
    if (
        not isinstance(reply, dict)
        or len(reply) != 1
        or next(iter(reply)) not in ("return", "raise", "app_error")
    ):
        raise SnapshotError(
            "a recording's 'reply' must be one of {return: V}, {raise: ...}, {app_error: ...}", path, line
        )
    latency = obj.get("latency_ms")
    if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
        raise SnapshotError(f"latency_ms must be a number >= 0, got {latency!r}", path, line)
    return obj


def iter_recordings(snapshot: Snapshot, part: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Stream ``(path, line, recording)`` of a Thrift part's recordings, shape-checked."""
    entry = thrift_entry(snapshot, part, "recordings")
    if entry is None:
        return
    path = str(snapshot.path_of(entry))
    for line, obj in _counted(snapshot, entry):
        yield path, line, parse_recording(obj, path, line)
