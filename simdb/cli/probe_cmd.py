"""``simdb probe URL``: exit 0 when the fake at URL answers its protocol (container health checks)."""

from __future__ import annotations

import os

import typer

ENV = "SIMDB_PROBE"
READY_FILE_ENV = "SIMDB_READY_FILE"  # simdb.cli.lifetime.READY_FILE_ENV (not imported: the probe stays light)


def probe(
    url: str = typer.Argument(
        "", help="thrift://HOST:PORT[?protocol=compact&transport=framed], redis://, mysql://"
    ),
    from_env: bool = typer.Option(False, "--from-env", help=f"Read the URL from ${ENV}."),
    timeout: float = typer.Option(2.0, "--timeout", help="Seconds to wait for the answer."),
) -> None:
    """Probe a fake over its own protocol; exit 0 if it answers, 1 if not, 2 on a bad URL.

    Examples:

      simdb probe redis://127.0.0.1:6379/0

      simdb probe 'thrift://127.0.0.1:9090?transport=framed'
    """
    from simdb.probe import ProbeError, parse
    from simdb.probe import probe as run_probe

    chosen = os.environ.get(ENV, "") if from_env else url
    if not chosen:
        typer.echo(f"error: give a URL, or --from-env with ${ENV} set", err=True)
        raise typer.Exit(2)
    try:
        parse(chosen)
    except ProbeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    ready_file = os.environ.get(READY_FILE_ENV, "") if from_env else ""
    if ready_file and not os.path.exists(ready_file):
        typer.echo(f"not ready: still starting or seeding (no {ready_file} yet)", err=True)
        raise typer.Exit(1)
    try:
        run_probe(chosen, timeout)
    except ProbeError as exc:
        typer.echo(f"not ready: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo("ready")
