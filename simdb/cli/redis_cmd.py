"""`simdb redis ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="redis commands.", no_args_is_help=True)
