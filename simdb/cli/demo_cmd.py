"""`simdb demo`: the demo home-feed stack, embedded."""

from __future__ import annotations

import typer


def demo() -> None:
    """Serve the demo home-feed stack (Thrift services, Redis, MySQL) seeded from seeds/homefeed."""
    typer.echo("demo not yet implemented")
    raise typer.Exit(1)
