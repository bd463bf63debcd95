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
    query_buffer_limit: str = typer.Option(
        "64mb",
        "--client-query-buffer-limit",
        help="Close a client holding more unprocessed input (Redis: 1gb).",
    ),
    proto_max_bulk_len: str = typer.Option(
        "512mb", "--proto-max-bulk-len", help="Longest bulk string accepted."
    ),
    maxmemory_clients: str = typer.Option(
        "128mb",
        "--maxmemory-clients",
        help="Evict the biggest clients past this much input in all (0: no limit).",
    ),
    timeout: int = typer.Option(0, "--timeout", help="Close clients idle this many seconds (0: never)."),
    partial_timeout: float = typer.Option(
        30.0,
        "--partial-request-timeout",
        help="Close a client whose request stays incomplete this long (0: never).",
    ),
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
    from simdb.redis.limits import Limits, parse_memory

    if engine not in ("fake", "real"):
        raise typer.BadParameter("must be 'fake' or 'real'", param_hint="--engine")
    sizes = {}
    for hint, text in (
        ("--client-query-buffer-limit", query_buffer_limit),
        ("--proto-max-bulk-len", proto_max_bulk_len),
        ("--maxmemory-clients", maxmemory_clients),
    ):
        size = parse_memory(text)
        if size is None:
            raise typer.BadParameter(f"not a memory size (like 64mb or 1048576): {text!r}", param_hint=hint)
        sizes[hint] = size
    try:
        limits = Limits(
            query_buffer_limit=sizes["--client-query-buffer-limit"],
            proto_max_bulk_len=sizes["--proto-max-bulk-len"],
            maxmemory_clients=sizes["--maxmemory-clients"],
            timeout=timeout,
            partial_request_timeout=partial_timeout,
        )
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
                limits=limits,
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
