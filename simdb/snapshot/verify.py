"""``simdb snapshot verify``: everything that can be checked about a snapshot, streaming.

Checks, part by part: checksums and record counts; Redis records (shape, types,
order); SQL rows against the DDL (columns, types, NOT NULL, primary-key order
and uniqueness, foreign keys); Thrift stubs and recordings (shape, and against
the IDL when one is given for the part); and cross-store references (ids in
Redis keys and Thrift arguments/answers that name SQL rows) reported as warnings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from simdb.errors import SimdbError, SnapshotError
from simdb.snapshot.reader import (
    Snapshot,
    iter_recordings,
    iter_redis,
    iter_sql_rows,
    iter_stubs,
    open_snapshot,
    sql_schema,
    sql_schema_path,
    sql_table_files,
)
from simdb.snapshot.sqlschema import TableDef, check_value, parse_schema

Level = Literal["error", "warning", "info"]
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Finding:
    """One thing verify found: an error (the snapshot is unusable), a warning or a note."""

    level: Level
    part: str
    message: str
    path: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " if self.line else (f"{self.path}: " if self.path else "")
        return f"{self.level}: [{self.part}] {where}{self.message}"


@dataclass
class VerifyReport:
    """All findings plus per-part record counts."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    references: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(f.level == "error" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON data."""
        return {
            "snapshot": self.root,
            "ok": self.ok,
            "records": self.records,
            "references": self.references,
            "findings": [
                {"level": f.level, "part": f.part, "message": f.message, "path": f.path, "line": f.line}
                for f in self.findings
            ],
        }


@dataclass(frozen=True)
class ThriftIdl:
    """The IDL that a Thrift part's stubs and recordings are checked against."""

    idl: Path
    service: str
    include_dirs: tuple[Path, ...] = ()


_ENTITY_SUFFIX = re.compile(r"_?ids?$")
_ENTITY_KEY = re.compile(r"^[a-z][a-z0-9_]*?_?(?:id|ids)$")


def _entity_names(table: str) -> set[str]:
    low = table.lower()
    names = {low}
    if low.endswith("ies"):
        names.add(low[:-3] + "y")
    elif low.endswith("s"):
        names.add(low[:-1])
    return names


class _RefIndex:
    """Integer primary keys of SQL tables, for cross-store reference checks."""

    def __init__(self) -> None:
        self.keys: dict[str, set[int]] = {}  # entity name -> ids
        self.stats: dict[str, dict[str, int]] = {}
        self.examples: dict[str, list[str]] = {}

    def add_table(self, table: str, ids: set[int]) -> None:
        for name in _entity_names(table):
            self.keys[name] = ids

    def check(self, part: str, entity: str, value: int, where: str) -> None:
        ids = self.keys.get(entity)
        if ids is None:
            return
        s = self.stats.setdefault(part, {"checked": 0, "missing": 0})
        s["checked"] += 1
        if value not in ids:
            s["missing"] += 1
            ex = self.examples.setdefault(part, [])
            if len(ex) < 5:
                ex.append(f"{where} -> {entity} {value}")

    def walk_json(self, part: str, value: Any, where: str, entity: str | None = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                key = re.sub(r"(?<!^)(?=[A-Z])", "_", str(k)).lower()
                ent = _ENTITY_SUFFIX.sub("", key) if _ENTITY_KEY.match(key) else None
                self.walk_json(part, v, where, ent)
        elif isinstance(value, list):
            for v in value:
                self.walk_json(part, v, where, entity)
        elif entity and isinstance(value, int) and not isinstance(value, bool):
            self.check(part, entity, value, where)


def verify_snapshot(
    path: Path,
    idls: Mapping[str, ThriftIdl] | None = None,
    progress: Progress | None = None,
    max_findings: int = 200,
    pii: bool = False,
) -> VerifyReport:
    """Check everything in the snapshot at ``path``; never raises for snapshot problems.

    With ``pii``, anything that still looks like an e-mail, a phone number or an IP address is an
    error naming file, line and where in the part (:mod:`simdb.snapshot.pii`).
    """
    report = VerifyReport(root=str(path))
    try:
        snap = open_snapshot(Path(path))
    except SnapshotError as exc:
        report.findings.append(Finding("error", "-", str(exc)))
        return report
    refs = _RefIndex()
    order = sorted(
        snap.manifest.parts.items(), key=lambda kv: ({"sql": 0, "redis": 1, "thrift": 2}[kv[1].kind], kv[0])
    )
    for name, part in order:
        try:
            snap.verify_part(name)
        except SnapshotError as exc:
            report.findings.append(Finding("error", name, str(exc)))
            continue
        try:
            if part.kind == "redis":
                report.records[name] = _verify_redis(snap, name, refs, progress)
            elif part.kind == "sql":
                report.records[name] = _verify_sql(snap, name, report, refs, progress, max_findings)
            else:
                idl = (idls or {}).get(name)
                report.records[name] = _verify_thrift(snap, name, idl, report, refs, progress)
        except SnapshotError as exc:
            report.findings.append(Finding("error", name, str(exc)))
            continue
        if pii:
            _verify_pii(snap, name, report, max_findings)
    for part_name, stats in refs.stats.items():
        report.references[part_name] = dict(stats)
        if stats["missing"]:
            examples = "; ".join(refs.examples.get(part_name, []))
            report.findings.append(
                Finding(
                    "warning",
                    part_name,
                    f"{stats['missing']} of {stats['checked']} ids referring to SQL rows "
                    "are not in the snapshot "
                    f"(e.g. {examples})",
                )
            )
    return report


def _verify_pii(snap: Snapshot, name: str, report: VerifyReport, max_findings: int) -> None:
    from simdb.snapshot.pii import scan_part

    found = 0
    for hit in scan_part(snap, name):
        found += 1
        if found <= max_findings:
            report.findings.append(
                Finding(
                    "error", name, f"looks like {hit.kind} ({hit.shown}) in {hit.where}", hit.path, hit.line
                )
            )
    if found > max_findings:
        report.findings.append(
            Finding("error", name, f"{found - max_findings} more PII-looking values not listed")
        )


def _verify_redis(snap: Snapshot, name: str, refs: _RefIndex, progress: Progress | None) -> int:
    count = 0
    for entry in iter_redis(snap, name):
        count += 1
        segments = entry.key.split(b":")
        for i, seg in enumerate(segments[:-1]):
            nxt = segments[i + 1]
            if nxt.isdigit():
                refs.check(
                    name,
                    seg.decode("utf-8", "replace").lower(),
                    int(nxt),
                    entry.key.decode("utf-8", "replace"),
                )
        if progress is not None and count % 10000 == 0:
            progress(name, 10000)
    if progress is not None:
        progress(name, count % 10000)
    return count


def _verify_sql(
    snap: Snapshot,
    name: str,
    report: VerifyReport,
    refs: _RefIndex,
    progress: Progress | None,
    max_findings: int,
) -> int:
    schema_where = str(sql_schema_path(snap, name))
    tables = parse_schema(sql_schema(snap, name), schema_where)
    part = snap.part(name)
    files = sql_table_files(snap, name)
    for t in part.tables:
        if t not in tables:
            report.findings.append(
                Finding("error", name, f"table {t!r} is in the manifest but not in the DDL", schema_where)
            )
    for t in files:
        if t not in part.tables:
            report.findings.append(
                Finding("error", name, f"rows file for table {t!r} not in the manifest's tables")
            )
    seen_keys: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {}
    needed: set[tuple[str, tuple[str, ...]]] = set()
    for tdef in tables.values():
        for fk in tdef.foreign_keys:
            needed.add((fk.ref_table, fk.ref_columns))
    total = 0
    position = {t: i for i, t in enumerate(part.tables)}
    for tname in part.tables:
        table = tables.get(tname)
        if table is None:
            continue
        for fk in table.foreign_keys:
            if fk.ref_table != tname and position.get(fk.ref_table, -1) > position[tname]:
                report.findings.append(
                    Finding("error", name, f"table {tname!r} is loaded before its parent {fk.ref_table!r}")
                )
        count = _verify_table(snap, name, table, report, seen_keys, needed, max_findings)
        total += count
        if progress is not None:
            progress(name, count)
        if len(table.primary_key) == 1:
            col = table.column(table.primary_key[0])
            ids = seen_keys.get((tname, table.primary_key))
            if col is not None and ids is not None and col.type.endswith("INT"):
                refs.add_table(tname, {k[0] for k in ids if isinstance(k[0], int)})
    return total


def _verify_table(
    snap: Snapshot,
    part: str,
    table: TableDef,
    report: VerifyReport,
    seen_keys: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]],
    needed: set[tuple[str, tuple[str, ...]]],
    max_findings: int,
) -> int:
    files = sql_table_files(snap, part)
    path = str(snap.root / files[table.name].path) if table.name in files else None
    columns = {c.name: c for c in table.columns}
    required = [c for c in table.columns if not c.nullable and not c.has_default and not c.auto_increment]
    collect = [cols for (t, cols) in needed if t == table.name]
    if table.primary_key and (table.name, table.primary_key) not in needed:
        collect.append(table.primary_key)
    for cols in collect:
        seen_keys[(table.name, cols)] = set()
    pk_seen: set[tuple[Any, ...]] = set()
    last_pk: tuple[Any, ...] | None = None
    count = 0
    errors = 0

    def problem(message: str, line: int, level: Level = "error") -> None:
        nonlocal errors
        errors += 1
        if errors <= max_findings:
            report.findings.append(Finding(level, part, f"table {table.name}: {message}", path, line))

    for line, row in iter_sql_rows(snap, part, table.name):
        count += 1
        for col_name, value in row.items():
            col = columns.get(col_name)
            if col is None:
                problem(f"unknown column {col_name!r}", line)
                continue
            msg = check_value(col, value)
            if msg:
                problem(msg, line)
        for col in required:
            if col.name not in row:
                problem(f"missing NOT NULL column {col.name!r}", line)
        if table.primary_key:
            pk = table.row_key(row)
            if pk in pk_seen:
                problem(f"duplicate primary key {list(pk)}", line)
            pk_seen.add(pk)
            try:
                if last_pk is not None and pk < last_pk:
                    problem(
                        f"rows are not sorted by primary key ({list(pk)} after {list(last_pk)})",
                        line,
                        "warning",
                    )
            except TypeError:
                pass
            last_pk = pk
        for fk in table.foreign_keys:
            if fk.ref_table == table.name:
                continue  # self references: checked after the whole table, below
            values = tuple(row.get(c) for c in fk.columns)
            if any(v is None for v in values):
                continue
            parent = seen_keys.get((fk.ref_table, fk.ref_columns))
            if parent is None:
                problem(
                    f"foreign key {list(fk.columns)} references table {fk.ref_table!r}, "
                    "which the snapshot does not hold",
                    line,
                )
            elif values not in parent:
                problem(
                    f"foreign key {dict(zip(fk.columns, values, strict=False))} has no row in {fk.ref_table}",
                    line,
                )
        for cols in collect:
            seen_keys[(table.name, cols)].add(tuple(row.get(c) for c in cols))
    self_fks = [fk for fk in table.foreign_keys if fk.ref_table == table.name]
    if self_fks:
        for line, row in iter_sql_rows(snap, part, table.name):
            for fk in self_fks:
                values = tuple(row.get(c) for c in fk.columns)
                if None not in values and values not in seen_keys[(table.name, fk.ref_columns)]:
                    problem(
                        f"foreign key {dict(zip(fk.columns, values, strict=False))} has no row in "
                        f"{table.name}",
                        line,
                    )
    return count


def _verify_thrift(
    snap: Snapshot,
    name: str,
    idl: ThriftIdl | None,
    report: VerifyReport,
    refs: _RefIndex,
    progress: Progress | None,
) -> int:
    count = 0
    for _path, line, stub in iter_stubs(snap, name):
        count += 1
        refs.walk_json(name, stub, f"stub line {line}")
    for _path, line, rec in iter_recordings(snap, name):
        count += 1
        refs.walk_json(name, {"args": rec["args"], "reply": rec["reply"]}, f"recording line {line}")
    if idl is not None:
        for message in _check_against_idl(snap, name, idl):
            report.findings.append(Finding("error", name, message))
    if progress is not None:
        progress(name, count)
    return count


def _check_against_idl(snap: Snapshot, name: str, idl: ThriftIdl) -> Iterator[str]:
    """Load the part into a :class:`StubSet` for the IDL: every stub and recording must fit."""
    try:
        from simdb.thrift.idl import load_idl
        from simdb.thrift.model import service_model
        from simdb.thrift.stubs import StubSet
    except ImportError as exc:  # pragma: no cover - the Thrift engine ships with simdb
        yield f"cannot check against the IDL: {exc}"
        return
    try:
        module = load_idl(idl.idl, idl.include_dirs)
        service = service_model(module, idl.service)
        StubSet.load_part(service, snap.root, name)
    except SimdbError as exc:
        yield str(exc)
