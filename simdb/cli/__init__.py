"""The ``simdb`` command line. It only maps flags onto library calls."""

from __future__ import annotations

import typer

from simdb import __version__
from simdb.cli import demo_cmd, mysql_cmd, redis_cmd, snapshot_cmd, thrift_cmd

app = typer.Typer(
    name="simdb",
    help=(
        "Lightweight fakes of Thrift services, Redis and MySQL, seeded from snapshots.\n\n"
        "Examples:\n\n"
        "  simdb demo\n\n"
        "  simdb thrift serve thrift/homefeed/pinstore.thrift --service PinStore --port 9090\n\n"
        "  simdb redis serve --port 6380 --snapshot seeds/homefeed\n\n"
        "  simdb snapshot verify seeds/homefeed"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(thrift_cmd.app, name="thrift")
app.add_typer(redis_cmd.app, name="redis")
app.add_typer(mysql_cmd.app, name="mysql")
app.add_typer(snapshot_cmd.app, name="snapshot")
app.command(name="demo")(demo_cmd.demo)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"simdb {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """simdb: fakes for every dependency of a Thrift/Redis/MySQL service."""


def main() -> None:
    """Console-script entry point."""
    app()
