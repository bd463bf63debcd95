"""`simdb demo`: the demo home-feed stack, embedded."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from simdb.cli.lifetime import StopSignals
from simdb.errors import SimdbError

console = Console()


def demo(
    root: Path = typer.Option(Path("."), help="Repository root holding thrift/homefeed and seeds/homefeed."),
    snapshot: Path | None = typer.Option(None, help="Snapshot to seed from [default: ROOT/seeds/homefeed]."),
    host: str = typer.Option("127.0.0.1", help="Address the fakes bind to."),
    out: Path = typer.Option(Path(".simdb"), help="Where endpoints.json and endpoints.env are written."),
    once: bool = typer.Option(False, "--once", help="One home-feed request, then stop (scripts, CI)."),
    request: bool = typer.Option(True, "--request/--no-request", help="Run one home-feed request at start."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what the fakes do."),
) -> None:
    """Serve the demo home-feed stack (4 Thrift services, Redis, MySQL) seeded from seeds/homefeed.

    Examples:

      simdb demo                      # serve until Ctrl-C

      simdb demo --once               # start, run one home-feed request, stop

      source .simdb/endpoints.env     # point a service at the fakes
    """
    from simdb.demo import DemoPaths, build_fakes, home_feed
    from simdb.runner import EmbeddedStack, Started, write_endpoints

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(name)s: %(message)s")
    try:
        paths = DemoPaths.find(root.resolve(), snapshot)
        fakes = build_fakes(paths, host=host)
    except SimdbError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), console=console) as bar:
        task = bar.add_task("starting the home-feed stack", total=len(fakes))

        def started(item: Started) -> None:
            bar.update(task, advance=1, description=f"{item.name} ready ({item.seconds:.2f}s)")

        signals = StopSignals()  # before starting: a signal during start is kept
        stack = EmbeddedStack(fakes, snapshot=paths.snapshot, on_started=started)
        try:
            stack.start()
        except SimdbError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc

    try:
        endpoints = stack.endpoints()
        table = Table(title=f"simdb demo stack (snapshot {paths.snapshot})")
        for column in ("fake", "kind", "endpoint", "admin"):
            table.add_column(column, overflow="fold")
        for name, ep in endpoints.items():
            admin = f"http://{ep.host}:{ep.admin_port}/_simdb/" if ep.admin_port else "-"
            table.add_row(name, ep.kind, ep.url(), admin)
        console.print(table)
        js, env = write_endpoints(out, endpoints)
        console.print(f"endpoints written to {js} and {env}")

        if request or once:
            result = home_feed(endpoints, paths)
            feed = Table(title="one home-feed request for user 1, through the fakes")
            feed.add_column("step")
            feed.add_column("answer", overflow="fold")
            for step, answer in result.items():
                feed.add_row(step, str(answer))
            console.print(feed)
        if once:
            return
        console.print("serving; press Ctrl-C to stop")
        signals.wait()
    finally:
        stack.stop()
