"""`simdb mysql ...` commands."""

from __future__ import annotations

from pathlib import Path

import typer

from simdb.cli.admin_options import ADMIN_HOST, ADMIN_TOKEN, SNAPSHOT_ROOT
from simdb.cli.lifetime import StopSignals, clear_ready, mark_ready
from simdb.errors import SimdbError

app = typer.Typer(
    help=(
        "A MySQL fake (mysql-mimic over SQLite) or a real MariaDB, seeded from a snapshot.\n\n"
        "Examples:\n\n"
        "  simdb mysql serve --port 0 --snapshot seeds/homefeed --database homefeed\n\n"
        "  simdb mysql serve --engine real --port 3307 --snapshot seeds/homefeed"
    ),
    no_args_is_help=True,
)


@app.command("serve")
def serve(
    port: int = typer.Option(3306, "--port", help="MySQL port (0 for any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    snapshot: Path | None = typer.Option(None, "--snapshot", help="Snapshot directory to load."),
    part: str = typer.Option("db", "--part", help="SQL part of the snapshot to load."),
    database: str = typer.Option("simdb", "--database", help="Database name clients use."),
    user: str = typer.Option("root", "--user", help="User clients log in as."),
    password: str = typer.Option("", "--password", help="Password of --user (empty: none)."),
    engine: str = typer.Option("fake", "--engine", help="fake (embedded SQLite) or real (MariaDB child)."),
    admin_port: int | None = typer.Option(None, "--admin-port", help="Admin API port (/_simdb/...)."),
    admin_host: str = ADMIN_HOST,
    admin_token: str | None = ADMIN_TOKEN,
    snapshot_root: list[Path] = SNAPSHOT_ROOT,
    faults: str | None = typer.Option(
        None, "--faults", help="Fault rules: a YAML/JSON file (a list, or {seed, rules}), or inline JSON."
    ),
) -> None:
    """Serve a MySQL-compatible database. Example: simdb mysql serve --port 3307 --snapshot seeds/homefeed"""
    from simdb.admin_security import AdminPolicy
    from simdb.faults.files import read_fault_file
    from simdb.mysql.fake import MySQLConfig, MySQLFake

    try:
        config = MySQLConfig(
            engine=engine,  # type: ignore[arg-type]  # checked by MySQLConfig
            host=host,
            port=port,
            database=database,
            user=user,
            password=password,
            admin_port=admin_port,
            admin_host=admin_host,
            admin_policy=AdminPolicy.from_env(admin_token, tuple(snapshot_root)),
            snapshot=snapshot,
            part=part,
            faults=read_fault_file(faults) if faults is not None else None,
        )
        fake = MySQLFake(config)
        clear_ready()
        signals = StopSignals()  # before starting: a signal during start is kept
        ep = fake.start()
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    mark_ready()
    typer.echo(f"mysql ({engine}) ready on {ep.address}  url: {ep.url()}", err=False)
    if ep.admin_port is not None:
        typer.echo(f"admin API on http://{admin_host}:{ep.admin_port}/_simdb/health")
    try:
        signals.wait()
    finally:
        fake.stop()
