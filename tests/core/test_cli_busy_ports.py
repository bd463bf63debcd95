"""A busy data or admin port gives every serve command one line naming the address, exit 2, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.fake

REPO = Path(__file__).resolve().parents[2]
IDL = ["thrift", "serve", "thrift/homefeed/pinstore.thrift", "-s", "PinStore", "-I", "thrift/homefeed"]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "command", [["redis", "serve"], ["mysql", "serve"], IDL], ids=["redis", "mysql", "thrift"]
)
@pytest.mark.parametrize("which", ["--port", "--admin-port"])
def test_busy_port_is_one_clear_line(command: list[str], which: str, busy_port: int) -> None:
    ports = ["--port", str(busy_port)]
    if which == "--admin-port":
        ports = ["--port", "0", "--admin-port", str(busy_port)]
    proc = subprocess.run(
        [sys.executable, "-m", "simdb", *command, *ports],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output
    assert len(proc.stderr.strip().splitlines()) == 1, output
    assert f"127.0.0.1:{busy_port}" in proc.stderr and "in use" in proc.stderr.lower()
