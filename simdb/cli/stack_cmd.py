"""``simdb up/down/ps/logs/reset/check/env``: run a stack file and look at it (``docs/stacks.md``)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from simdb.errors import SimdbError
from simdb.fake import Endpoint
from simdb.stack.load import Stack, load_stack
from simdb.stack.state import StackState, read_state, stack_dir

console = Console()
err_console = Console(stderr=True)

FILE_OPTION = typer.Option(None, "--file", "-f", help="Stack file [default: ./simdb.yaml].")


def fail(exc: BaseException | str, code: int = 1) -> typer.Exit:
    """Print ``error: ...`` (no traceback) and return the Exit to raise."""
    console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
    return typer.Exit(code)


def _load(file: Path | None) -> Stack:
    try:
        return load_stack(file)
    except SimdbError as exc:
        raise fail(exc, 2) from exc


def _running(file: Path | None) -> tuple[Stack, StackState]:
    """(stack, state) of a running stack, or exit 1 saying it is not running."""
    stack = _load(file)
    state = read_state(stack_dir(stack.name))
    if state is None:
        raise fail(f"stack {stack.name!r} is not running (start it with: simdb up -f {stack.path})")
    return stack, state


def endpoint_table(title: str, endpoints: dict[str, Endpoint]) -> Table:
    """The rich table of endpoints ``up`` prints."""
    table = Table(title=title)
    for column in ("fake", "kind", "endpoint", "admin"):
        table.add_column(column, overflow="fold")
    for name, ep in endpoints.items():
        admin = f"http://{ep.host}:{ep.admin_port}/_simdb/" if ep.admin_port else "-"
        table.add_row(name, ep.kind, ep.url(), admin)
    return table


def up(
    file: Path | None = FILE_OPTION,
    detach: bool = typer.Option(False, "--detach", "-d", help="Run in the background (see down, ps, logs)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what the fakes do."),
    child: bool = typer.Option(False, "--detached-child", hidden=True),
    docker: bool = typer.Option(False, "--docker", help="Run each fake as a container (Docker engine)."),
    image: str = typer.Option("", "--image", help="With --docker: simdb's image [default: simdb:VERSION]."),
) -> None:
    """Start every fake of the stack embedded in one process, seed, probe, print the endpoints.

    Endpoints go to .simdb/STACK/endpoints.json and endpoints.env. Without --detach, serves
    until Ctrl-C.

    Examples:

      simdb up                                # ./simdb.yaml, until Ctrl-C

      simdb up -f examples/homefeed/simdb.yaml --detach

      simdb up --docker                       # containers on the stack's own network

      simdb down
    """
    from simdb.stack.load import check_files

    stack = _load(file)
    try:
        check_files(stack)
    except SimdbError as exc:
        raise fail(exc, 2) from exc
    if docker:
        _up_docker(stack, image)
        return
    directory = stack_dir(stack.name)
    running = read_state(directory)
    if running is not None and not child:
        console.print(
            f"stack [bold]{stack.name}[/bold] is already running (pid {running.pid}, "
            f"up {running.uptime:.0f}s); not starting it twice"
        )
        console.print(endpoint_table(f"stack {stack.name}", running.endpoints))
        return
    if detach and not child:
        _detach(stack, directory)
        return
    serve_stack(stack, directory, verbose=verbose or child, detached=child)


def _detach(stack: Stack, directory: Path) -> None:
    """Start ``simdb up --detached-child`` in the background and wait until it is ready or failed."""
    from simdb.wait import NotReady, wait_for

    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "stack.log"
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "simdb", "up", "-f", str(stack.path), "--detached-child"],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "COLUMNS": "120"},
        )

    def ready() -> bool:
        if proc.poll() is not None:
            raise SimdbError("exited")
        state = read_state(directory)
        return state is not None and state.pid == proc.pid

    try:
        wait_for(ready, stack.spec.settings.ready_timeout + 30, what=f"stack {stack.name}", transient=())
    except NotReady as exc:
        proc.kill()
        proc.wait()
        raise fail(f"{exc}; see {log_path}") from exc
    except SimdbError as exc:
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        raise fail(f"stack {stack.name} did not start:\n" + "\n".join(tail)) from exc
    state = read_state(directory)
    assert state is not None
    console.print(endpoint_table(f"stack {stack.name} (detached, pid {proc.pid})", state.endpoints))
    console.print(f"endpoints written to {directory}/endpoints.json; log: {log_path}")


def serve_stack(
    stack: Stack,
    directory: Path,
    verbose: bool = False,
    detached: bool = False,
    after_start: Callable[[dict[str, Endpoint]], None] | None = None,
    once: bool = False,
) -> None:
    """Run a stack in this process until a signal: state file, endpoints, table; stop cleanly.

    ``after_start`` runs once every fake is ready (``simdb demo``'s request); ``once``: stop right
    after it instead of serving.
    """
    from simdb.cli.lifetime import StopSignals
    from simdb.runner import write_endpoints
    from simdb.stack.run import StackRun
    from simdb.stack.state import clear_state, write_state

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s: %(message)s",
    )
    signals = StopSignals()  # before starting: a signal during start is kept
    try:
        run = StackRun(stack)
    except SimdbError as exc:
        raise fail(exc, 2) from exc
    try:
        endpoints = run.start()
    except SimdbError as exc:
        raise fail(exc) from exc
    try:
        write_endpoints(directory, endpoints)
        write_state(
            directory,
            StackState(stack.name, str(stack.path), os.getpid(), run.started_at, endpoints, detached),
        )
        console.print(endpoint_table(f"stack {stack.name} ready in {run.seconds:.2f}s", endpoints))
        console.print(f"endpoints written to {directory}/endpoints.json")
        if after_start is not None:
            after_start(endpoints)
        if once:
            return
        if not detached:
            console.print("serving; press Ctrl-C to stop (or run: simdb down)")
        sys.stdout.flush()
        signals.wait()
    finally:
        run.stop()
        clear_state(directory)
        logging.getLogger("simdb.stack").info("stack %s stopped", stack.name)


def _docker_stack(stack: Stack, image: str = "") -> object:
    from simdb.containers.from_stack import DEFAULT_IMAGE, container_stack
    from simdb.containers.run import DockerStack

    try:
        return DockerStack(container_stack(stack, image or DEFAULT_IMAGE))
    except SimdbError as exc:
        raise fail(exc, 2) from exc


def _up_docker(stack: Stack, image: str) -> None:
    import json

    from simdb.containers.run import DockerStack

    runner = _docker_stack(stack, image)
    assert isinstance(runner, DockerStack)
    try:
        views = runner.up(timeout=max(60.0, stack.spec.settings.ready_timeout))
    except SimdbError as exc:
        raise fail(exc, 1) from exc
    directory = stack_dir(stack.name)
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / "endpoints.docker.json"
    out.write_text(json.dumps({n: v.as_dict() for n, v in views.items()}, indent=2, sort_keys=True) + "\n")
    table = Table(title=f"stack {stack.name} (docker, network {runner.stack.network})")
    for column in ("fake", "kind", "from the host", "inside the network"):
        table.add_column(column, overflow="fold")
    for name, view in views.items():
        table.add_row(name, view.kind, view.host_url, view.network_url)
    console.print(table)
    console.print(f"endpoints written to {out}; stop with: simdb down --docker -f {stack.path}")


def _ps_docker(stack: Stack) -> None:
    from simdb.containers.run import DockerStack

    runner = _docker_stack(stack)
    assert isinstance(runner, DockerStack)
    states = runner.ps()
    if not states:
        console.print(f"stack {stack.name} has no containers")
        return
    table = Table(title=f"stack {stack.name} (docker)")
    for column in ("fake", "kind", "container", "status", "health", "port", "restarts", "started"):
        table.add_column(column, overflow="fold")
    for st in states:
        port = "-" if st.host_port is None else f"127.0.0.1:{st.host_port}"
        table.add_row(
            st.fake, st.kind, st.name, st.status, st.health, port, str(st.restarts), st.started_at[:19]
        )
    console.print(table)


def docker_view(stack: Stack, view: str) -> dict[str, Endpoint]:
    """The endpoints of ``stack`` running in Docker, from the host or inside its network."""
    import json

    from simdb.containers.from_stack import docker_endpoints

    path = stack_dir(stack.name) / "endpoints.docker.json"
    if not path.is_file():
        raise fail(f"stack {stack.name} is not running in Docker (start it with: simdb up --docker)")
    try:
        return docker_endpoints(stack, json.loads(path.read_text()), view)
    except SimdbError as exc:
        raise fail(exc, 2) from exc


def down(
    file: Path | None = FILE_OPTION,
    timeout: float = typer.Option(15.0, help="Seconds to wait for a clean stop before killing."),
    docker: bool = typer.Option(False, "--docker", help="Remove the stack's containers, network, volumes."),
) -> None:
    """Stop a running stack (detached or in another terminal) and remove its state and serversets.

    Examples:

      simdb down

      simdb down -f examples/homefeed/simdb.yaml
    """
    from simdb.stack.serverset import remove_serversets
    from simdb.stack.state import clear_state, pid_alive
    from simdb.wait import NotReady, wait_for

    stack = _load(file)
    if docker:
        from simdb.containers.run import DockerStack

        runner = _docker_stack(stack)
        assert isinstance(runner, DockerStack)
        removed = runner.down()
        (stack_dir(stack.name) / "endpoints.docker.json").unlink(missing_ok=True)
        console.print(f"stack {stack.name}: removed {len(removed)} docker object(s)")
        return
    directory = stack_dir(stack.name)
    state = read_state(directory)
    if state is None:
        console.print(f"stack {stack.name} is not running")
        return
    os.kill(state.pid, signal.SIGTERM)
    try:
        wait_for(lambda: not pid_alive(state.pid), timeout, what=f"stop of pid {state.pid}", transient=())
    except NotReady:
        os.kill(state.pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(state.pid), 5, what=f"kill of pid {state.pid}", transient=())
        clear_state(directory)
        disc = stack.spec.discovery
        if disc.serverset_dir is not None:
            remove_serversets(disc.serverset_dir, disc.env, list(state.endpoints))
        console.print(f"stack {stack.name} did not stop in {timeout:g}s: killed")
        return
    console.print(f"stack {stack.name} stopped")


def ps(
    file: Path | None = FILE_OPTION,
    docker: bool = typer.Option(False, "--docker", help="The stack's containers (any shell started it)."),
) -> None:
    """Every fake of a running stack: state, endpoint, uptime, calls served.

    Examples:

      simdb ps

      simdb ps --docker
    """
    from simdb.stack.control import calls_served, health_all

    if docker:
        _ps_docker(_load(file))
        return

    _, state = _running(file)
    health = health_all(state.endpoints)
    table = Table(title=f"stack {state.stack} (pid {state.pid}, up {state.uptime:.0f}s)")
    for column in ("fake", "kind", "state", "endpoint", "uptime", "calls"):
        table.add_column(column, overflow="fold")
    for name, ep in state.endpoints.items():
        answer = health[name]
        if isinstance(answer, dict):
            stats = dict(answer.get("stats") or {})
            st = "up" if answer.get("ok") else "unhealthy"
            calls = calls_served(stats)
            table.add_row(
                name, ep.kind, st, ep.address, f"{state.uptime:.0f}s", "-" if calls is None else str(calls)
            )
        else:
            table.add_row(name, ep.kind, "down", ep.address, "-", "-")
    console.print(table)


def logs(
    fake: str | None = typer.Argument(None, help="Only lines about this fake."),
    file: Path | None = FILE_OPTION,
    follow: bool = typer.Option(False, "--follow", help="Keep printing new lines until Ctrl-C."),
    docker: bool = typer.Option(False, "--docker", help="The log of the fakes' containers."),
) -> None:
    """The log of a detached stack (``.simdb/STACK/stack.log``).

    Examples:

      simdb logs

      simdb logs pinstore --follow
    """

    stack = _load(file)
    if fake is not None and fake not in stack.spec.fakes:
        raise fail(f"no fake {fake!r} in stack {stack.name} (fakes: {', '.join(stack.spec.fakes)})", 2)
    if docker:
        from simdb.containers.run import DockerStack

        runner = _docker_stack(stack)
        assert isinstance(runner, DockerStack)
        for line in runner.logs(fake, follow=follow):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        return
    path = stack_dir(stack.name) / "stack.log"
    if not path.is_file():
        raise fail(f"no log for stack {stack.name} at {path} (only a detached stack writes one)")

    def show(line: str) -> None:
        if fake is None or fake in line:
            sys.stdout.write(line)

    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            show(line)
        sys.stdout.flush()
        if not follow:
            return
        from simdb.cli.lifetime import StopSignals

        signals = StopSignals()

        def more() -> bool:
            for line in fh:
                show(line)
            sys.stdout.flush()
            return False

        signals.wait(poll=0.2, done=more)


def reset(
    fake: str | None = typer.Argument(None, help="Only this fake [default: every fake]."),
    file: Path | None = FILE_OPTION,
    docker: bool = typer.Option(False, "--docker", help="Restart the containers: each reloads the snapshot."),
) -> None:
    """Every fake (or one) back to exactly the loaded snapshot, through the admin API.

    Examples:

      simdb reset

      simdb reset cache
    """
    from simdb.stack.control import reset_all

    if docker:
        from simdb.containers.run import DockerStack

        runner = _docker_stack(_load(file))
        assert isinstance(runner, DockerStack)
        t0 = time.perf_counter()
        try:
            names = runner.restart(fake)
        except SimdbError as exc:
            raise fail(exc) from exc
        console.print(f"restarted {', '.join(names)} in {(time.perf_counter() - t0) * 1000:.0f} ms")
        return
    _, state = _running(file)
    t0 = time.perf_counter()
    try:
        names = reset_all(state.endpoints, fake)
    except SimdbError as exc:
        raise fail(exc) from exc
    console.print(f"reset {', '.join(names)} in {(time.perf_counter() - t0) * 1000:.1f} ms")


def check(file: Path | None = FILE_OPTION) -> None:
    """Run every check of the stack file without starting anything; exit 2 on an error.

    Examples:

      simdb check

      simdb check -f examples/homefeed/simdb.yaml
    """
    from simdb.stack import build

    stack = _load(file)
    try:
        fakes = build.check(stack)
    except SimdbError as exc:
        raise fail(exc, 2) from exc
    bases = f" (extends {', '.join(str(b) for b in stack.bases)})" if stack.bases else ""
    console.print(f"{stack.path}{bases}: stack {stack.name} is valid: {len(fakes)} fakes")


def env(
    file: Path | None = FILE_OPTION,
    fmt: str = typer.Option("dotenv", "--format", help="dotenv, json, yaml or shell."),
    view: str = typer.Option(
        "", "--view", help="A Docker stack's endpoints from the 'host' or inside its 'network'."
    ),
) -> None:
    """The running stack's endpoints as SIMDB_<FAKE>_HOST/_PORT/_URL.

    Examples:

      simdb env > .env

      eval "$(simdb env --format shell)"
    """
    from simdb.stack.render import render_env

    if view:
        endpoints = docker_view(_load(file), view)
        try:
            sys.stdout.write(render_env(endpoints, fmt))
        except SimdbError as exc:
            raise fail(exc, 2) from exc
        return
    _, state = _running(file)
    try:
        sys.stdout.write(render_env(state.endpoints, fmt))
    except SimdbError as exc:
        raise fail(exc, 2) from exc
