"""``simdb demo`` (``simdb up`` of the demo stack, plus one home-feed request) and ``simdb init``."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from simdb.errors import SimdbError
from simdb.fake import Endpoint

console = Console()


def demo(
    file: Path | None = typer.Option(
        None, "--file", "-f", help="Stack file [default: the demo stack shipped with simdb]."
    ),
    once: bool = typer.Option(False, "--once", help="One home-feed request, then stop (scripts, CI)."),
    request: bool = typer.Option(True, "--request/--no-request", help="Run one home-feed request at start."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what the fakes do."),
) -> None:
    """Serve the demo home-feed stack (4 Thrift services, Redis, MySQL) seeded from seeds/homefeed.

    The same as ``simdb up -f examples/homefeed/simdb.yaml``, plus one home-feed request through
    the fakes. Endpoints go to .simdb/homefeed/ (endpoints.json, endpoints.env).

    Examples:

      simdb demo                      # serve until Ctrl-C

      simdb demo --once               # start, run one home-feed request, stop

      source .simdb/homefeed/endpoints.env     # point a service at the fakes
    """
    from simdb.cli.stack_cmd import fail, serve_stack
    from simdb.demo import demo_stack_file
    from simdb.stack.load import check_files, load_stack
    from simdb.stack.model import ThriftSpec
    from simdb.stack.state import read_state, stack_dir

    try:
        stack = load_stack(file if file is not None else demo_stack_file())
        check_files(stack)
    except SimdbError as exc:
        raise fail(exc, 2) from exc
    pinstore = stack.spec.fakes.get("pinstore")
    idl_dir = pinstore.idl.parent if isinstance(pinstore, ThriftSpec) else None
    directory = stack_dir(stack.name)
    running = read_state(directory)
    if running is not None:
        raise fail(f"stack {stack.name!r} is already running (pid {running.pid}); stop it with: simdb down")

    def show_request(endpoints: dict[str, Endpoint]) -> None:
        from simdb.demo import home_feed

        try:
            result = home_feed(endpoints, idl_dir)
        except Exception as exc:
            raise fail(f"the home-feed request failed: {exc}") from exc
        feed = Table(title="one home-feed request for user 1, through the fakes")
        feed.add_column("step")
        feed.add_column("answer", overflow="fold")
        for step, answer in result.items():
            feed.add_row(step, str(answer))
        console.print(feed)

    serve_stack(
        stack, directory, verbose=verbose, after_start=show_request if request or once else None, once=once
    )


def init(
    directory: Path = typer.Argument(Path("."), help="Where to write simdb.yaml and what it uses."),
) -> None:
    """Copy the demo home-feed stack (stack file, bindings, IDLs, snapshot) into DIRECTORY.

    Then ``simdb up`` (and down, ps, env ...) run it from there, and it is yours to edit.

    Examples:

      simdb init && simdb up

      simdb init my-stack && cd my-stack && simdb check
    """
    from simdb.cli.stack_cmd import fail
    from simdb.demo import demo_stack_file

    try:
        source = demo_stack_file().parent.parent.parent
    except SimdbError as exc:
        raise fail(exc, 2) from exc
    if directory.exists() and not directory.is_dir():
        raise fail(f"{directory} exists and is not a directory", 2)
    if not directory.resolve().parent.is_dir():
        raise fail(f"{directory}: the directory it goes in, {directory.resolve().parent}, does not exist", 2)
    items = {
        "examples/homefeed/simdb.yaml": "simdb.yaml",
        "examples/homefeed/bindings.yaml": "bindings.yaml",
        "thrift/homefeed": "thrift/homefeed",
        "seeds/homefeed": "seeds/homefeed",
    }
    existing = [str(directory / dst) for dst in items.values() if (directory / dst).exists()]
    if existing:
        raise fail(f"not overwriting {', '.join(existing)} (choose another directory)", 2)
    directory.mkdir(exist_ok=True)
    for src, dst in items.items():
        from_path, to_path = source / src, directory / dst
        if from_path.is_dir():
            shutil.copytree(from_path, to_path)
        else:
            to_path.write_text(_relocated(from_path.read_text(encoding="utf-8")), encoding="utf-8")
    console.print(f"wrote the demo stack to {directory.resolve()}/simdb.yaml; run: simdb up")


def _relocated(text: str) -> str:
    """The demo stack file with its paths relative to the directory ``init`` writes."""
    return text.replace("../../seeds/", "seeds/").replace("../../thrift/", "thrift/")
