"""Write a snapshot atomically: into a temporary sibling directory, renamed at the end."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from simdb.snapshot.format import (
    FORMAT_VERSION,
    FileEntry,
    Manifest,
    Part,
    PartKind,
    dump_line,
    now_utc,
    sha256_of,
    write_manifest,
)


class PartFileWriter:
    """Streams records of one part file; counts them. Records must arrive already sorted."""

    def __init__(self, root: Path, relpath: str) -> None:
        self.relpath = relpath
        self.path = root / relpath
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records = 0
        raw: io.TextIOBase
        if relpath.endswith(".gz"):
            raw = io.TextIOWrapper(
                gzip.open(  # noqa: SIM115 (closed in close())
                    self.path, "wb", compresslevel=6
                ),
                encoding="utf-8",
            )
        else:
            raw = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed in close())
        self._fh = raw

    def write(self, record: Any) -> None:
        """Append one record as a JSON line."""
        self._fh.write(dump_line(record))
        self.records += 1

    def write_line(self, line: str) -> None:
        """Append one record already serialised with :func:`dump_line` (ends with a newline)."""
        self._fh.write(line)
        self.records += 1

    def write_text(self, text: str) -> None:
        """Write a non-JSONL file (``schema.sql``); counts one record per statement given."""
        self._fh.write(text)

    def close(self) -> FileEntry:
        """Close the file and return its manifest entry."""
        self._fh.close()
        return FileEntry(path=self.relpath, records=self.records, sha256=sha256_of(self.path))


class SnapshotWriter:
    """Builds a snapshot directory; nothing appears at ``out`` until :meth:`commit`.

    Use as a context manager: leaving the block with an exception removes the
    temporary directory, so an interrupted capture leaves nothing half-written.
    """

    def __init__(self, out: Path, name: str, description: str = "", compress: bool = False) -> None:
        self.out = Path(out)
        self.name = name
        self.description = description
        self.compress = compress
        self.captured_from: dict[str, str] = {}
        self.scrub: dict[str, Any] | None = None
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", dir=self.out.parent))
        self._parts: dict[str, dict[str, Any]] = {}

    def open_file(self, part: str, kind: PartKind, relpath: str, jsonl: bool = True) -> PartFileWriter:
        """Open a file of ``part``; ``relpath`` is relative to the snapshot root.

        JSON Lines files get ``.gz`` appended when the writer compresses.
        """
        if jsonl and self.compress and not relpath.endswith(".gz"):
            relpath += ".gz"
        self._parts.setdefault(part, {"kind": kind, "files": [], "tables": []})
        return PartFileWriter(self.tmp, relpath)

    def declare_part(self, part: str, kind: PartKind) -> None:
        """Make sure ``part`` exists (for files copied in rather than written with :meth:`open_file`)."""
        self._parts.setdefault(part, {"kind": kind, "files": [], "tables": []})

    def add_file(self, part: str, entry: FileEntry) -> None:
        """Record a closed file in the manifest."""
        self._parts[part]["files"].append(entry)

    def set_tables(self, part: str, tables: list[str]) -> None:
        """Set an SQL part's table load order (parents first)."""
        self._parts[part]["tables"] = list(tables)

    def commit(self) -> Path:
        """Write the manifest and move the snapshot into place (replacing an older one)."""
        parts = {
            name: Part(
                kind=p["kind"],
                files=tuple(sorted(p["files"], key=lambda e: e.path)),
                tables=tuple(p["tables"]),
            )
            for name, p in sorted(self._parts.items())
        }
        manifest = Manifest(
            format=FORMAT_VERSION,
            name=self.name,
            description=self.description,
            created_at=now_utc(),
            captured_from=self.captured_from,
            scrub=self.scrub,
            parts=parts,
        )
        write_manifest(self.tmp, manifest)
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.out, old)
            os.replace(self.tmp, self.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.out)
        return self.out

    def abort(self) -> None:
        """Throw away everything written so far."""
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
