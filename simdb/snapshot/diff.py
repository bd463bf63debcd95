"""``simdb snapshot diff A B``: what was added, removed and changed, per part and file.

Records are matched by identity: Redis keys by key; SQL rows by primary key
(from the DDL); Thrift stubs by ``id`` (else method and match); recordings by
method, arguments and occurrence. One side is indexed as identity -> digest
(a few dozen bytes per record), the other streamed against it.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simdb.snapshot.format import FileEntry, dump_line, iter_jsonl
from simdb.snapshot.reader import Snapshot, open_snapshot, sql_schema
from simdb.snapshot.sqlschema import parse_schema

MAX_EXAMPLES = 5


@dataclass
class FileDiff:
    """Counts and a few example identities for one file."""

    path: str
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0
    examples: dict[str, list[str]] = field(
        default_factory=lambda: {"added": [], "removed": [], "changed": []}
    )

    @property
    def differs(self) -> bool:
        """True if anything was added, removed or changed."""
        return bool(self.added or self.removed or self.changed)

    def note(self, what: str, ident: str) -> None:
        """Count one difference and keep it as an example if there is room."""
        setattr(self, what, getattr(self, what) + 1)
        ex = self.examples[what]
        if len(ex) < MAX_EXAMPLES:
            ex.append(ident)


@dataclass
class PartDiff:
    """Differences of one part."""

    name: str
    status: str  # "same", "changed", "added", "removed"
    kind: str
    files: list[FileDiff] = field(default_factory=list)
    text_diffs: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SnapshotDiff:
    """The differences between two snapshots."""

    a: str
    b: str
    parts: list[PartDiff] = field(default_factory=list)
    manifest: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        """True when the data is identical (the creation time is ignored)."""
        return all(p.status == "same" for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        """The diff as plain JSON data."""
        return {
            "a": self.a,
            "b": self.b,
            "same": self.same,
            "manifest": {k: list(v) for k, v in self.manifest.items()},
            "parts": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "status": p.status,
                    "files": [
                        {
                            "path": f.path,
                            "added": f.added,
                            "removed": f.removed,
                            "changed": f.changed,
                            "unchanged": f.unchanged,
                            "examples": f.examples,
                        }
                        for f in p.files
                    ],
                    "text": p.text_diffs,
                }
                for p in self.parts
            ],
        }

    def render(self) -> str:
        """A readable summary."""
        lines = [f"diff {self.a} -> {self.b}"]
        for key, (va, vb) in self.manifest.items():
            lines.append(f"  manifest {key}: {va!r} -> {vb!r}")
        for p in self.parts:
            if p.status in ("added", "removed"):
                lines.append(f"  {p.kind} part {p.name}: {p.status}")
                continue
            if p.status == "same":
                lines.append(f"  {p.kind} part {p.name}: unchanged")
                continue
            lines.append(f"  {p.kind} part {p.name}:")
            for f in p.files:
                if not f.differs:
                    continue
                lines.append(f"    {f.path}: +{f.added} -{f.removed} ~{f.changed} (={f.unchanged})")
                for what, sign in (("added", "+"), ("removed", "-"), ("changed", "~")):
                    for ex in f.examples[what]:
                        lines.append(f"      {sign} {ex}")
            for path, text in p.text_diffs.items():
                lines.append(f"    {path}:")
                lines.extend(f"      {t}" for t in text[:40])
        if self.same:
            lines.append("  snapshots hold the same data")
        return "\n".join(lines)


Identity = Callable[[Any, int], str]


def _digest(value: Any) -> bytes:
    return hashlib.blake2b(dump_line(value).encode("utf-8"), digest_size=16).digest()


def _identity_for(snap: Snapshot, part: str, kind: str, relpath: str) -> Identity:
    if kind == "redis":
        db = relpath.rsplit("/", 1)[-1].split(".")[0]
        return lambda obj, _n: f"{db} key {dump_line(obj.get('key')).strip()}"
    if kind == "sql":
        table = relpath.rsplit("/", 1)[-1].split(".")[0]
        try:
            pk = parse_schema(sql_schema(snap, part)).get(table)
        except Exception:
            pk = None
        cols = pk.primary_key if pk is not None else ()
        if cols:
            return lambda obj, _n: f"{table} " + ", ".join(f"{c}={obj.get(c)!r}" for c in cols)
        return lambda obj, _n: f"{table} row {dump_line(obj).strip()[:80]}"
    if relpath.endswith(("stubs.jsonl", "stubs.jsonl.gz")):

        def stub_id(obj: Any, _n: int) -> str:
            if isinstance(obj, dict) and "id" in obj:
                return f"stub {obj['id']}"
            if isinstance(obj, dict):
                rest = {k: v for k, v in obj.items() if k not in ("reply", "replies", "then", "response")}
                return f"stub {dump_line(rest).strip()[:100]}"
            return f"stub {obj!r}"

        return stub_id
    counts: dict[str, int] = {}

    def rec_id(obj: Any, _n: int) -> str:
        base = (
            dump_line({"method": obj.get("method"), "args": obj.get("args")}).strip()
            if isinstance(obj, dict)
            else ""
        )
        counts[base] = counts.get(base, 0) + 1
        return f"recording {base[:100]} #{counts[base]}"

    return rec_id


def _records(snap: Snapshot, entry: FileEntry) -> Iterator[Any]:
    for _n, obj in iter_jsonl(snap.path_of(entry)):
        yield obj


def _diff_file(
    sa: Snapshot, sb: Snapshot, part: str, kind: str, ea: FileEntry | None, eb: FileEntry | None, relpath: str
) -> FileDiff:
    fd = FileDiff(path=relpath)
    if ea is not None and eb is not None and ea.sha256 == eb.sha256:
        fd.unchanged = ea.records
        return fd
    if relpath.endswith(".sql"):
        return fd
    ident_a = _identity_for(sa, part, kind, relpath)
    ident_b = _identity_for(sb, part, kind, relpath)
    index: dict[str, bytes] = {}
    if ea is not None:
        for n, obj in enumerate(_records(sa, ea)):
            index[ident_a(obj, n)] = _digest(obj)
    if eb is not None:
        for n, obj in enumerate(_records(sb, eb)):
            ident = ident_b(obj, n)
            old = index.pop(ident, None)
            if old is None:
                fd.note("added", ident)
            elif old != _digest(obj):
                fd.note("changed", ident)
            else:
                fd.unchanged += 1
    for ident in index:
        fd.note("removed", ident)
    return fd


def _base(relpath: str) -> str:
    return relpath[:-3] if relpath.endswith(".gz") else relpath


def diff_snapshots(a: Path, b: Path) -> SnapshotDiff:
    """Compare two snapshots record by record."""
    sa, sb = open_snapshot(Path(a)), open_snapshot(Path(b))
    out = SnapshotDiff(a=str(a), b=str(b))
    for key in ("name", "description", "format", "captured_from", "scrub"):
        va, vb = getattr(sa.manifest, key), getattr(sb.manifest, key)
        if va != vb:
            out.manifest[key] = (va, vb)
    names = sorted(set(sa.manifest.parts) | set(sb.manifest.parts))
    for name in names:
        pa, pb = sa.manifest.parts.get(name), sb.manifest.parts.get(name)
        if pa is None or pb is None:
            kind = (pb or pa).kind  # type: ignore[union-attr]
            out.parts.append(PartDiff(name, "added" if pa is None else "removed", kind))
            continue
        pd = PartDiff(name, "same", pa.kind)
        if pa.kind != pb.kind:
            pd.status = "changed"
            pd.text_diffs["kind"] = [f"{pa.kind} -> {pb.kind}"]
            out.parts.append(pd)
            continue
        files_a = {_base(e.path): e for e in pa.files}
        files_b = {_base(e.path): e for e in pb.files}
        for rel in sorted(set(files_a) | set(files_b)):
            fd = _diff_file(sa, sb, name, pa.kind, files_a.get(rel), files_b.get(rel), rel)
            pd.files.append(fd)
            if fd.differs:
                pd.status = "changed"
            ea, eb = files_a.get(rel), files_b.get(rel)
            if rel.endswith(".sql") and (ea is None or eb is None or ea.sha256 != eb.sha256):
                ta = sa.path_of(ea).read_text(encoding="utf-8").splitlines() if ea else []
                tb = sb.path_of(eb).read_text(encoding="utf-8").splitlines() if eb else []
                pd.text_diffs[rel] = list(
                    difflib.unified_diff(ta, tb, "a/" + rel, "b/" + rel, lineterm="", n=1)
                )
                pd.status = "changed"
        if pa.tables != pb.tables:
            pd.status = "changed"
            pd.text_diffs["tables"] = [f"{list(pa.tables)} -> {list(pb.tables)}"]
        out.parts.append(pd)
    return out
