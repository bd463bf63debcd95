"""`simdb thrift ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="thrift commands.", no_args_is_help=True)
