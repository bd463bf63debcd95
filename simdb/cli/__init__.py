"""The ``simdb`` command line. It only maps flags onto library calls.

Sub-commands are imported when they are run (or listed by ``--help``), not up
front: ``simdb thrift serve`` then never imports the Redis, MySQL, snapshot or
demo code and their dependencies, which keeps a fake's start-up short.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from simdb import __version__

#: name -> (module, attribute: a typer.Typer sub-app, or a function), in the order --help lists them.
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("simdb.cli.demo_cmd", "demo"),
    "init": ("simdb.cli.demo_cmd", "init"),
    "up": ("simdb.cli.stack_cmd", "up"),
    "down": ("simdb.cli.stack_cmd", "down"),
    "ps": ("simdb.cli.stack_cmd", "ps"),
    "logs": ("simdb.cli.stack_cmd", "logs"),
    "reset": ("simdb.cli.stack_cmd", "reset"),
    "check": ("simdb.cli.stack_cmd", "check"),
    "env": ("simdb.cli.stack_cmd", "env"),
    "config": ("simdb.cli.stack_admin_cmd", "config_app"),
    "stubs": ("simdb.cli.stack_admin_cmd", "stubs_app"),
    "faults": ("simdb.cli.stack_admin_cmd", "faults_app"),
    "latency": ("simdb.cli.latency_cmd", "app"),
    "thrift": ("simdb.cli.thrift_cmd", "app"),
    "redis": ("simdb.cli.redis_cmd", "app"),
    "mysql": ("simdb.cli.mysql_cmd", "app"),
    "snapshot": ("simdb.cli.snapshot_cmd", "app"),
    "probe": ("simdb.cli.probe_cmd", "probe"),
    "contract": ("simdb.cli.contract_cmd", "app"),
    "images": ("simdb.cli.images_cmd", "app"),
    "compose": ("simdb.cli.export_cmd", "compose_app"),
    "k8s": ("simdb.cli.export_cmd", "k8s_app"),
}


def _load_command(name: str) -> Any:
    """The click command of sub-command ``name``, importing its module now.

    Built inside a throw-away parent app exactly as ``add_typer``/``command`` would
    build it up front, so help, options and nesting are unchanged.
    """
    module_name, attr = _SUBCOMMANDS[name]
    target = getattr(importlib.import_module(module_name), attr)
    parent = typer.Typer(rich_markup_mode="rich")
    parent.callback()(_noop)
    if isinstance(target, typer.Typer):
        parent.add_typer(target, name=name)
    else:
        parent.command(name=name)(target)
    return typer.main.get_command(parent).commands[name]  # type: ignore[attr-defined]


def _noop() -> None:
    """(callback of the throw-away parent app)"""


class _LazyGroup(TyperGroup):
    """A typer group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*_SUBCOMMANDS, *(n for n in super().list_commands(ctx) if n not in _SUBCOMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in _SUBCOMMANDS and cmd_name not in self.commands:
            self.add_command(_load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="simdb",
    cls=_LazyGroup,
    help=(
        "Lightweight fakes of Thrift services, Redis and MySQL, seeded from snapshots.\n\n"
        "Examples:\n\n"
        "  simdb demo\n\n"
        "  simdb up -f examples/homefeed/simdb.yaml --detach\n\n"
        "  simdb thrift serve thrift/homefeed/pinstore.thrift --service PinStore --port 9090\n\n"
        "  simdb redis serve --port 6380 --snapshot seeds/homefeed\n\n"
        "  simdb snapshot verify seeds/homefeed"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


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
