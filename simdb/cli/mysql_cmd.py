"""`simdb mysql ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="mysql commands.", no_args_is_help=True)
