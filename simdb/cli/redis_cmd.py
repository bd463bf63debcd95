"""`simdb redis ...` commands."""

from __future__ import annotations

from pathlib import Path

import typer

from simdb.cli.admin_options import ADMIN_HOST, ADMIN_TOKEN, SNAPSHOT_ROOT
from simdb.cli.lifetime import StopSignals, clear_ready, mark_ready

app = typer.Typer(
    help=(
        "A Redis fake (fakeredis behind a RESP server) or a real redis-server, seeded from a snapshot.\n\n"
        "Examples:\n\n"
        "  simdb redis serve --port 0 --snapshot seeds/homefeed\n\n"
        "  simdb redis serve --engine real --port 6380 --snapshot seeds/homefeed"
    ),
    no_args_is_help=True,
)


@app.command("serve")
def serve(
    port: int = typer.Option(6379, "--port", help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    snapshot: Path | None = typer.Option(None, "--snapshot", help="Snapshot directory to load."),
    part: str = typer.Option("cache", "--part", help="Redis part of the snapshot to load (redis/<part>/)."),
    engine: str = typer.Option("fake", "--engine", help="fake (fakeredis, pip-only) or real (redis-server)."),
    password: str | None = typer.Option(None, "--password", help="Require AUTH with this password."),
    admin_port: int | None = typer.Option(None, "--admin-port", help="Serve the admin API (/_simdb/) here."),
    admin_host: str = ADMIN_HOST,
    admin_token: str | None = ADMIN_TOKEN,
    snapshot_root: list[Path] = SNAPSHOT_ROOT,
    faults: str | None = typer.Option(
        None, "--faults", help="Fault rules: a YAML/JSON file (a list, or {seed, rules}), or inline JSON."
    ),
) -> None:
    """Serve Redis on the fake or the real engine, seeded from a snapshot; Ctrl-C stops.

    Example: simdb redis serve --port 6380 --snapshot seeds/homefeed
    """
    from simdb.admin_security import AdminPolicy
    from simdb.errors import SimdbError
    from simdb.faults.files import read_fault_file
    from simdb.redis.fake import RedisConfig, RedisFake

    if engine not in ("fake", "real"):
        raise typer.BadParameter("must be 'fake' or 'real'", param_hint="--engine")
    try:
        fake = RedisFake(
            RedisConfig(
                name=part,
                engine=engine,  # type: ignore[arg-type]
                host=host,
                port=port,
                password=password,
                admin_port=admin_port,
                admin_host=admin_host,
                admin_policy=AdminPolicy.from_env(admin_token, tuple(snapshot_root)),
                snapshot=snapshot,
                faults=read_fault_file(faults) if faults is not None else None,
            )
        )
        clear_ready()
        signals = StopSignals()  # before starting: a signal during start is kept
        endpoint = fake.start()
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    mark_ready()
    typer.echo(
        f"redis ({engine}) ready at redis://{endpoint.host}:{endpoint.port}/0",
    )
    if endpoint.admin_port is not None:
        typer.echo(f"admin API at http://{admin_host}:{endpoint.admin_port}/_simdb/health")
    try:
        signals.wait()
    finally:
        fake.stop()
