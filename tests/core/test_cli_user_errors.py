"""Every simdb command, found by walking the click command tree, run as a subprocess with bad input
(files that do not exist, malformed files, impossible and busy ports, an unknown option): never a
traceback, always exit code 2, the documented code for a usage or user error (docs/cli.md)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer import _click as click

from simdb.cli import app

pytestmark = pytest.mark.fake

REPO = Path(__file__).resolve().parents[2]
USER_ERROR = 2
#: options that name a file or directory to read (a value here is read, not written)
FILE_OPTIONS = {
    "--file",
    "--snapshot",
    "--root",
    "--stubs",
    "--rules",
    "--scrub",
    "--endpoints",
    "--sql-schema",
    "--include-dir",
}
PORT_OPTIONS = ("--port", "--admin-port")
MALFORMED = "format: [1\n\x00\x01 {{ not: yaml: ::\n"


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    root = typer.main.get_command(app)
    out: list[tuple[tuple[str, ...], Any]] = []

    def walk(cmd: Any, path: tuple[str, ...], ctx: Any) -> None:
        if hasattr(cmd, "list_commands"):
            here = click.Context(cmd, parent=ctx, info_name=path[-1] if path else "simdb")
            for name in cmd.list_commands(here):
                walk(cmd.get_command(here, name), (*path, name), here)
        else:
            out.append((path, cmd))

    walk(root, (), None)
    return out


COMMANDS = _commands()


def _args(cmd: Any, bad: str, port: str | None = None) -> list[str]:
    """Arguments for ``cmd``: ``bad`` for every argument, required option and file option."""
    args: list[str] = []
    for p in cmd.params:
        if getattr(p, "is_flag", False) or not p.opts or p.name == "help":
            continue
        opt = p.opts[0]
        if port is not None and opt in PORT_OPTIONS:
            args += [opt, port]
        elif p.param_type_name == "argument":
            args.append(bad)
        elif p.required or opt in FILE_OPTIONS:
            args += [opt, bad]
    return args


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "simdb", *argv],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _variants() -> list[Any]:
    out = []
    for path, cmd in COMMANDS:
        name = " ".join(path)
        out.append(pytest.param(path, "missing", id=f"{name}-missing"))
        out.append(pytest.param(path, "malformed", id=f"{name}-malformed"))
        out.append(pytest.param(path, "unknown-option", id=f"{name}-unknown-option"))
        if any(opt in PORT_OPTIONS for p in cmd.params for opt in p.opts):
            out.append(pytest.param(path, "bad-port", id=f"{name}-bad-port"))
            out.append(pytest.param(path, "busy-port", id=f"{name}-busy-port"))
    return out


def test_the_walk_finds_every_command() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"redis serve", "snapshot load", "thrift serve", "up", "k8s export"} <= names
    assert len(names) >= 25


@pytest.mark.parametrize(("path", "variant"), _variants())
def test_bad_input_is_one_clear_error(
    path: tuple[str, ...], variant: str, tmp_path: Path, busy_port: int
) -> None:
    cmd = dict(COMMANDS)[path]
    missing = str(tmp_path / "no-such-dir" / "simdb.yaml")
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text(MALFORMED)
    if variant == "missing":
        argv = _args(cmd, missing)
    elif variant == "malformed":
        argv = _args(cmd, str(malformed))
    elif variant == "unknown-option":
        argv = ["--no-such-option"]
    elif variant == "bad-port":
        argv = _args(cmd, str(malformed), port="70000")
    else:
        argv = _args(cmd, str(malformed), port=str(busy_port))
    work = tmp_path / "cwd"  # an empty directory: no simdb.yaml to fall back on
    work.mkdir()
    proc = _run([*path, *argv], work)
    output = proc.stdout + proc.stderr
    shown = f"$ simdb {' '.join([*path, *argv])}\n{output}"
    assert "Traceback" not in output, shown
    assert proc.returncode == USER_ERROR, shown
    assert output.strip(), shown  # it says something
