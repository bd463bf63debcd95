"""The admin API's options, shared by every ``serve`` command."""

from __future__ import annotations

import typer

ADMIN_HOST = typer.Option(
    "127.0.0.1", "--admin-host", help="Address of the admin API (beyond loopback it needs a token)."
)
ADMIN_TOKEN = typer.Option(
    None, "--admin-token", envvar="SIMDB_ADMIN_TOKEN", help="Bearer token the admin API requires."
)
SNAPSHOT_ROOT = typer.Option(
    [], "--snapshot-root", help="Directory the admin API may load snapshots from (default: cwd)."
)
