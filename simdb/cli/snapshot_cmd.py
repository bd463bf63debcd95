"""`simdb snapshot ...` commands."""

from __future__ import annotations

import functools
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from simdb.errors import SimdbError

if TYPE_CHECKING:
    from simdb.snapshot.reader import Snapshot

app = typer.Typer(
    help=(
        "Capture, scrub, verify, diff, synthesise and load seed snapshots.\n\n"
        "Examples:\n\n"
        "  simdb snapshot capture --out snap --redis redis://localhost:6379 --redis-match 'user:*' "
        "--sql mysql+pymysql://root@localhost/app --table pins --where 'pins:id <= 1200' "
        "--scrub rules.yaml\n\n"
        "  simdb snapshot verify seeds/homefeed\n\n"
        "  simdb snapshot diff old/ new/ --json\n\n"
        "  simdb snapshot load seeds/homefeed --endpoints .simdb/endpoints.json"
    ),
    no_args_is_help=True,
)
console = Console(stderr=True)


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(2)


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A rich progress display; yields ``advance(label, n, total)``."""
    tasks: dict[str, int] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:

        def advance(label: str, n: int, total: int | None = None) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=total)
            progress.advance(tasks[label], n)  # type: ignore[arg-type]

        yield advance


@app.command()
def capture(
    out: Path = typer.Option(..., "--out", help="Snapshot directory to write (replaced atomically)."),
    name: str = typer.Option("", help="Snapshot name (default: the directory name)."),
    description: str = typer.Option("", help="One line saying what the snapshot holds."),
    redis_url: list[str] = typer.Option(
        [], "--redis", help="Redis URL to capture (repeatable: PART=URL or URL)."
    ),
    redis_match: list[str] = typer.Option(
        [], "--redis-match", help="SCAN pattern (repeatable; default '*')."
    ),
    redis_db: list[int] = typer.Option([], "--redis-db", help="Database number (repeatable; default: all)."),
    sql_url: list[str] = typer.Option([], "--sql", help="SQLAlchemy URL to capture (PART=URL or URL)."),
    table: list[str] = typer.Option([], "--table", help="Table to capture (repeatable; default: all)."),
    where: list[str] = typer.Option([], "--where", help="Row filter TABLE:CONDITION (repeatable)."),
    limit: list[str] = typer.Option(
        [], "--limit", help="Row limit N (every --table) or TABLE:N (repeatable)."
    ),
    scrub: Path | None = typer.Option(None, "--scrub", help="Scrub rules file (YAML) applied before commit."),
    compress: bool = typer.Option(False, help="gzip the JSON Lines files."),
) -> None:
    """Capture live Redis and SQL databases into a snapshot directory.

    Referenced rows are followed through foreign keys, so a --where/--limit subset stays intact.
    Example: simdb snapshot capture --out snap --redis redis://localhost:6379 --sql sqlite:///app.db
    """
    from simdb.snapshot.capture_redis import capture_redis
    from simdb.snapshot.capture_sql import capture_sql, parse_limits, parse_where
    from simdb.snapshot.writer import SnapshotWriter

    if not redis_url and not sql_url:
        raise _fail(SimdbError("nothing to capture: give --redis URL and/or --sql URL"))
    started = time.monotonic()
    summary = Table("part", "kind", "records", "detail", title=f"captured {out}")
    try:
        wheres = parse_where(where)
        default_limit, limits = parse_limits(limit)
        rules = None
        if scrub is not None:
            from simdb.snapshot.scrub import load_rules

            rules = load_rules(scrub)
        target = out if rules is None else out.with_name(f".{out.name}.unscrubbed")
        with (
            SnapshotWriter(target, name or out.name, description, compress=compress) as writer,
            _progress() as adv,
        ):
            for item in redis_url:
                part, url = _part_url(item, "cache")
                stats = capture_redis(
                    writer,
                    part,
                    url,
                    patterns=redis_match or ("*",),
                    dbs=redis_db or None,
                    progress=functools.partial(_adv_redis, adv, part),
                )
                skipped = ", ".join(f"{v} {k}" for k, v in stats.skipped.items()) or "-"
                summary.add_row(
                    part, "redis", str(stats.total), f"dbs {sorted(stats.keys)}; skipped: {skipped}"
                )
            for item in sql_url:
                part, url = _part_url(item, "db")
                sql_stats = capture_sql(
                    writer,
                    part,
                    url,
                    tables=table,
                    where=wheres,
                    limit=default_limit,
                    limits=limits,
                    progress=functools.partial(_adv_sql, adv, part),
                )
                detail = ", ".join(f"{t} {n}" for t, n in sql_stats.rows.items())
                summary.add_row(part, "sql", str(sql_stats.total), detail)
            writer.commit()
        if rules is not None:
            from simdb.snapshot.scrub import scrub_snapshot, secret_from_env

            secret, custom = secret_from_env()
            if not custom:
                console.print(
                    "[yellow]warning:[/yellow] SIMDB_SCRUB_KEY is not set; hash/fake use a public default key"
                )
            try:
                scrub_snapshot(target, out, rules, secret)
            finally:  # the unscrubbed capture never stays on disk
                shutil.rmtree(target, ignore_errors=True)
    except SimdbError as exc:
        raise _fail(exc) from exc
    console.print(summary)
    console.print(f"wrote {out} in {time.monotonic() - started:.1f}s")


def _adv_redis(adv: Callable[[str, int, int | None], None], part: str, n: int) -> None:
    adv(f"redis {part}", n, None)


def _adv_sql(adv: Callable[[str, int, int | None], None], part: str, table: str, n: int) -> None:
    adv(f"sql {part}.{table}", n, None)


def _part_url(item: str, default: str) -> tuple[str, str]:
    name, sep, url = item.partition("=")
    if sep and "://" not in name and name:
        return name, url
    return default, item


@app.command("scrub")
def scrub_cmd(
    snapshot: Path = typer.Argument(..., help="Snapshot directory to scrub."),
    rules: Path = typer.Option(..., "--rules", help="Scrub rules file (YAML)."),
    out: Path | None = typer.Option(None, "--out", help="Write here (default: replace the snapshot)."),
) -> None:
    """Scrub personal data with keep|null|mask|hash|fake rules; deterministic under SIMDB_SCRUB_KEY.

    Example: SIMDB_SCRUB_KEY=... simdb snapshot scrub snap --rules scrub.yaml --out snap-clean
    """
    from simdb.snapshot.scrub import load_rules, scrub_snapshot, secret_from_env

    try:
        parsed = load_rules(rules)
        secret, custom = secret_from_env()
        if not custom:
            console.print(
                "[yellow]warning:[/yellow] SIMDB_SCRUB_KEY is not set; hash/fake use a public default key"
            )
        with _progress() as adv:
            target = scrub_snapshot(
                snapshot, out or snapshot, parsed, secret, progress=lambda p, n: adv(f"scrub {p}", n, None)
            )
    except SimdbError as exc:
        raise _fail(exc) from exc
    console.print(f"scrubbed snapshot written to {target}")


@app.command()
def verify(
    snapshot: Path = typer.Argument(..., help="Snapshot directory."),
    idl: list[str] = typer.Option(
        [], "--idl", help="PART=IDL_FILE:Service to check a Thrift part's stubs against."
    ),
    include_dir: list[Path] = typer.Option([], "--include-dir", help="IDL include directory (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    pii: bool = typer.Option(
        False, "--pii", help="Also report anything that looks like an e-mail, phone number or IP address."
    ),
) -> None:
    """Check checksums, format, records, SQL rows against the DDL, stubs against IDL, cross-references.

    Exit 1 when anything is an error (with --pii: also when personal data is found).

    Example: simdb snapshot verify seeds/homefeed --idl ranker=thrift/homefeed/ranker.thrift:Ranker
    """
    from simdb.snapshot.format import MANIFEST_NAME
    from simdb.snapshot.verify import ThriftIdl, verify_snapshot

    if not (snapshot / MANIFEST_NAME).is_file():  # a wrong path is a usage error, not a failed check
        raise _fail(SimdbError(f"{snapshot}: not a snapshot directory (no {MANIFEST_NAME} in it)"))
    idls = {}
    for item in idl:
        part, sep, rest = item.partition("=")
        path, sep2, service = rest.rpartition(":")
        if not sep or not sep2:
            raise _fail(SimdbError(f"--idl {item!r}: expected PART=IDL_FILE:Service"))
        idls[part] = ThriftIdl(Path(path), service, tuple(include_dir))
    with _progress() as adv:
        report = verify_snapshot(snapshot, idls, progress=lambda p, n: adv(f"verify {p}", n, None), pii=pii)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        for finding in report.findings:
            color = {"error": "red", "warning": "yellow"}.get(finding.level, "blue")
            console.print(f"[{color}]{finding}[/{color}]", markup=True, highlight=False)
        t = Table("part", "records", "references checked", "missing", title=f"verify {snapshot}")
        for part, n in report.records.items():
            ref = report.references.get(part, {})
            t.add_row(part, str(n), str(ref.get("checked", "-")), str(ref.get("missing", "-")))
        console.print(t)
        console.print("[green]OK[/green]" if report.ok else "[red]FAILED[/red]")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def diff(
    a: Path = typer.Argument(..., help="Old snapshot."),
    b: Path = typer.Argument(..., help="New snapshot."),
    as_json: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
) -> None:
    """What was added, removed and changed per part (exit 1 when they differ).

    Example: simdb snapshot diff seeds/homefeed /tmp/new-capture
    """
    from simdb.snapshot.diff import diff_snapshots

    try:
        d = diff_snapshots(a, b)
    except SimdbError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps(d.to_json(), indent=2, sort_keys=True) if as_json else d.render())
    if not d.same:
        raise typer.Exit(1)


@app.command()
def load(
    snapshot: Path = typer.Argument(..., help="Snapshot directory."),
    admin: list[str] = typer.Option([], "--admin", help="NAME=ADMIN_URL of a running fake (repeatable)."),
    endpoints: Path | None = typer.Option(None, "--endpoints", help="A stack's endpoints.json (admin URLs)."),
    redis_url: list[str] = typer.Option(
        [], "--redis", help="PART=redis://... real server to load (repeatable)."
    ),
    sql_url: list[str] = typer.Option(
        [], "--sql", help="PART=SQLAlchemy URL of a real database (repeatable)."
    ),
    reset: bool = typer.Option(False, "--reset", help="Only reset the fakes back to their loaded snapshot."),
) -> None:
    """Load a snapshot into running fakes (admin API) or real servers; --reset returns fakes to it.

    Example: simdb snapshot load seeds/homefeed --admin cache=http://127.0.0.1:7001 --sql db=mysql+pymysql://root@127.0.0.1:3306/app
    """
    from simdb.snapshot.load import (
        admins_from_endpoints,
        check_names,
        load_all,
        parse_targets,
        reset_fakes,
    )
    from simdb.snapshot.reader import open_snapshot

    try:
        named = parse_targets(admin, "--admin")
        admins = dict(named)
        if endpoints is not None:
            admins = {**admins_from_endpoints(endpoints), **admins}
        if reset:
            results = reset_fakes(admins)
        else:
            snap = open_snapshot(snapshot)
            check_names(snap, named, "--admin")  # a name given by hand must be a part
            # a stack's other fakes (no part in this snapshot) are left alone
            admins = {k: v for k, v in admins.items() if k in named or _has_part(snap, k)}
            results = load_all(
                snapshot, admins, parse_targets(redis_url, "--redis"), parse_targets(sql_url, "--sql")
            )
    except SimdbError as exc:
        raise _fail(exc) from exc
    if not results:
        raise _fail(SimdbError("nothing loaded: give --admin, --endpoints, --redis or --sql"))
    t = Table("part", "target", "result", title=("reset" if reset else f"loaded {snapshot}"))
    for r in results:
        t.add_row(r.part, r.target, r.detail)
    console.print(t)


def _has_part(snap: Snapshot, name: str) -> bool:
    return any(p == name or p.startswith(name + "/") for p in snap.manifest.parts)


@app.command()
def synth(
    out: Path = typer.Option(..., "--out", help="Snapshot directory to write."),
    idl: list[str] = typer.Option(
        [], "--idl", help="PART=IDL_FILE:Service to generate stubs for (repeatable)."
    ),
    include_dir: list[Path] = typer.Option([], "--include-dir", help="IDL include directory (repeatable)."),
    sql_schema: Path | None = typer.Option(None, "--sql-schema", help="MySQL DDL file to generate rows for."),
    sql_part: str = typer.Option("db", help="Name of the SQL part."),
    rows: int = typer.Option(100, "--rows", help="Rows per table (and stubs per method)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same snapshot."),
) -> None:
    """Generate a synthetic snapshot from IDL and SQL schema with hypothesis, deterministic for a seed.

    Example: simdb snapshot synth --idl ranker=thrift/homefeed/ranker.thrift:Ranker
    --sql-schema schema.sql --rows 50 --seed 7 --out synth
    """
    from simdb.snapshot.synth import synth_snapshot

    idls = []
    for item in idl:
        part, sep, rest = item.partition("=")
        path, sep2, service = rest.rpartition(":")
        if not sep or not sep2:
            raise _fail(SimdbError(f"--idl {item!r}: expected PART=IDL_FILE:Service"))
        idls.append((part, Path(path), service))
    try:
        result = synth_snapshot(
            out,
            idls=idls,
            include_dirs=include_dir,
            sql_schema=sql_schema,
            sql_part=sql_part,
            rows=rows,
            seed=seed,
        )
    except SimdbError as exc:
        raise _fail(exc) from exc
    t = Table("part", "records", title=f"synthesised {out} (seed {seed})")
    for part, n in result.items():
        t.add_row(part, str(n))
    console.print(t)
