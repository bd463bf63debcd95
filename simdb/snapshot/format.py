"""Snapshot format version 1: the manifest, the file layout and the value encoding.

A snapshot is a directory::

    snapshot.yaml                          the manifest (see :class:`Manifest`)
    redis/<part>/db<N>.jsonl[.gz]          one Redis key per line, sorted by key bytes
    sql/<part>/schema.sql                  the DDL as captured (MySQL dialect)
    sql/<part>/tables/<table>.jsonl[.gz]   one row per line, sorted by primary key
    thrift/<part>/stubs.jsonl              one stub per line (canonical JSON)
    thrift/<part>/recordings.jsonl         one recorded call per line

Binary-safe strings: a byte string that is valid UTF-8 is written as a JSON
string; any other is written as ``{"b64": "<base64>"}``. See ``docs/snapshots.md``.
"""

from __future__ import annotations

import base64
import difflib
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simdb.errors import SnapshotError

FORMAT_VERSION = 1
MANIFEST_NAME = "snapshot.yaml"

PartKind = Literal["redis", "sql", "thrift"]
RedisType = Literal["string", "hash", "list", "set", "zset"]

JsonBytes = str | dict[str, str]


def encode_bytes(value: bytes) -> JsonBytes:
    """Encode a byte string for a snapshot line: text if UTF-8, else ``{"b64": ...}``."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(value).decode("ascii")}


def decode_bytes(value: object) -> bytes:
    """Inverse of :func:`encode_bytes`. Raises ``ValueError`` on anything else."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str):
        return base64.b64decode(value["b64"], validate=True)
    raise ValueError(f"expected a string or {{'b64': ...}}, got {value!r}")


def encode_score(score: float) -> float | str:
    """Sorted-set scores: JSON has no infinities, so they are written as ``"inf"``/``"-inf"``."""
    if score == float("inf"):
        return "inf"
    if score == float("-inf"):
        return "-inf"
    return score


def decode_score(value: object) -> float:
    """Inverse of :func:`encode_score`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, 'inf' or '-inf', got {value!r}")
    return float(value)


class FileEntry(BaseModel):
    """One file of a part, with its record count and checksum."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    records: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Part(BaseModel):
    """One fake's share of the snapshot.

    ``tables`` (SQL parts only) gives the load order: parents before children.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PartKind
    files: tuple[FileEntry, ...] = ()
    tables: tuple[str, ...] = ()


class Manifest(BaseModel):
    """The contents of ``snapshot.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int
    name: str
    description: str = ""
    created_at: datetime
    captured_from: dict[str, str] = Field(default_factory=dict)
    scrub: dict[str, Any] | None = None
    parts: dict[str, Part] = Field(default_factory=dict)


def read_manifest(snapshot_dir: Path) -> Manifest:
    """Read and validate ``snapshot.yaml``; refuse formats newer than this reader knows."""
    path = Path(snapshot_dir) / MANIFEST_NAME
    if not path.is_file():
        raise SnapshotError(f"no {MANIFEST_NAME} here: not a snapshot directory", str(snapshot_dir))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"manifest is not valid YAML: {exc}", str(path)) from exc
    if not isinstance(raw, dict):
        raise SnapshotError("manifest must be a mapping", str(path))
    known = set(Manifest.model_fields)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(sorted(known))})"
        raise SnapshotError(f"unknown manifest key {unknown[0]!r}{hint}", str(path))
    if "format" not in raw:
        raise SnapshotError("manifest has no 'format' key (this reader knows format 1)", str(path))
    version = raw.get("format")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise SnapshotError(
            f"snapshot format {version} is newer than this simdb understands "
            f"(format {FORMAT_VERSION}); upgrade simdb to load it",
            str(path),
        )
    if version != FORMAT_VERSION:
        raise SnapshotError(f"unknown snapshot format {version!r} (expected {FORMAT_VERSION})", str(path))
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        extra = [e for e in errors if e["type"] == "extra_forbidden"]
        first = extra[0] if extra else errors[0]
        key = ".".join(str(p) for p in first["loc"])
        if extra:
            raise SnapshotError(f"unknown manifest key {key!r}{_hint(first['loc'])}", str(path)) from exc
        raise SnapshotError(f"manifest key {key!r}: {first['msg']}", str(path)) from exc


def _hint(loc: tuple[int | str, ...]) -> str:
    """`` (did you mean 'kind'?)`` for a misspelled key below ``parts``."""
    model: type[BaseModel] | None = None
    if len(loc) == 3 and loc[0] == "parts":
        model = Part
    elif len(loc) == 5 and loc[0] == "parts" and loc[2] == "files":
        model = FileEntry
    if model is None:
        return ""
    known = sorted(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"


def write_manifest(snapshot_dir: Path, manifest: Manifest) -> None:
    """Write ``snapshot.yaml`` in a stable, reviewable key order."""
    data = manifest.model_dump(mode="json", exclude_none=True)
    data["created_at"] = manifest.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    (Path(snapshot_dir) / MANIFEST_NAME).write_text(text, encoding="utf-8")


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes as stored (compressed files: of the compressed bytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(snapshot_dir: Path, entry: FileEntry) -> None:
    """Check that a part file exists and matches its manifest checksum."""
    path = Path(snapshot_dir) / entry.path
    if not path.is_file():
        raise SnapshotError("file listed in the manifest is missing", str(path))
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise SnapshotError(
            f"checksum mismatch: manifest says sha256 {entry.sha256[:12]}..., file has {actual[:12]}...",
            str(path),
        )


_SCAN_ONCE: Any = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Stream ``(line_number, value)`` from a JSON Lines file (``.gz`` transparently).

    Blank lines are skipped; a line that is not JSON raises :class:`SnapshotError`
    naming the file and line.
    """
    try:
        with _open_text(path) as fh:
            scan = _SCAN_ONCE
            for number, line in enumerate(fh, start=1):
                # fast path: the C scanner on a line that is exactly one JSON value
                try:
                    value, end = scan(line, 0)
                except (StopIteration, ValueError):
                    end = 0
                if end and not line[end:].strip():
                    yield number, value
                    continue
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SnapshotError(f"not valid JSON: {exc.msg}", str(path), number) from exc
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise SnapshotError("file is missing", str(path)) from exc
        raise SnapshotError(f"cannot read file: {exc}", str(path)) from exc


_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dump_line(value: Any) -> str:
    """One JSON Lines record, compact and with sorted keys, so diffs stay small."""
    return _LINE_ENCODER.encode(value) + "\n"


def now_utc() -> datetime:
    """The current time, UTC, whole seconds (what ``created_at`` records)."""
    return datetime.now(UTC).replace(microsecond=0)
