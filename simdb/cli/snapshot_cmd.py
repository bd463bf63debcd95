"""`simdb snapshot ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="snapshot commands.", no_args_is_help=True)
