"""Servers under test for the interop tests.

``start_server`` starts simdb serving the demo IDLs, either in-process
(``mode="inprocess"``: ThriftFake) or the way a user would
(``mode="cli"``: ``simdb thrift serve ... --port 0`` as a subprocess, reading the
printed endpoint).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fixtures.common import wait_until
from tests.interop.codegen import HOMEFEED, REPO, SERVICES

EXAMPLE_STUBS = REPO / "examples" / "homefeed-stubs"
ALL_IDL = Path(__file__).resolve().parent / "idl" / "homefeed_all.thrift"
ENDPOINT = re.compile(r"thrift://([0-9.]+|localhost):(\d+)")


@dataclass
class ServerHandle:
    """A running server: where it listens and how to stop it."""

    host: str
    port: int
    idls: tuple[str, ...]
    multiplexed: bool
    stop_fn: Callable[[], None] = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def stop(self) -> None:
        self.stop_fn()


def start_server(
    idls: tuple[str, ...],
    *,
    protocol: str,
    transport: str,
    multiplexed: bool,
    mode: str,
    work: Path,
) -> ServerHandle:
    """Start a server for the demo ``idls`` (names from codegen.SERVICES)."""
    if not multiplexed and len(idls) != 1:
        raise ValueError("a non-multiplexed server serves exactly one service")
    if mode == "inprocess":
        return _start_inprocess(idls, protocol, transport, multiplexed)
    if mode == "cli":
        return _start_cli(idls, protocol, transport, multiplexed, work)
    raise ValueError(f"unknown server mode {mode!r}")


def _idl_and_services(
    idls: tuple[str, ...], multiplexed: bool
) -> tuple[Path, tuple[str, ...], tuple[Path, ...]]:
    """IDL file, service names and stub files for serving ``idls``.

    Multiplexed servers serve tests/interop/idl/homefeed_all.thrift with every demo stub file of
    the served services loaded into the one fake (each stub goes to the service it is for).
    """
    if multiplexed:
        stubs = tuple(EXAMPLE_STUBS / f"{idl}.yaml" for idl in idls)
        return ALL_IDL, tuple(f"{idl}.{SERVICES[idl]}" for idl in idls), stubs
    (idl,) = idls
    return HOMEFEED / f"{idl}.thrift", (SERVICES[idl],), (EXAMPLE_STUBS / f"{idl}.yaml",)


def simdb_executable() -> str:
    """The ``simdb`` console script of this venv (or on PATH), as a user runs it."""
    beside = Path(sys.executable).with_name("simdb")
    if beside.exists():
        return str(beside)
    found = shutil.which("simdb")
    if found is None:
        raise RuntimeError("the simdb console script is not installed (pip install -e .)")
    return found


def _start_inprocess(idls: tuple[str, ...], protocol: str, transport: str, multiplexed: bool) -> ServerHandle:
    from simdb.thrift.fake import ThriftConfig, ThriftFake

    idl, services, stubs = _idl_and_services(idls, multiplexed)
    config = ThriftConfig(
        idl=idl,
        services=services,
        multiplexed=multiplexed,
        port=0,
        protocol="binary" if protocol == "binary" else "compact",
        transport="buffered" if transport == "buffered" else "framed",
        include_dirs=(HOMEFEED,),
        stubs=stubs,
    )
    fake = ThriftFake(config)
    endpoint = fake.start()
    return ServerHandle(
        endpoint.host, endpoint.port, idls, multiplexed, stop_fn=fake.stop, extra={"fake": fake}
    )


def _start_cli(
    idls: tuple[str, ...], protocol: str, transport: str, multiplexed: bool, work: Path
) -> ServerHandle:
    """``simdb thrift serve ... --port 0`` as a subprocess; the port is read from what it prints."""
    idl, services, stubs = _idl_and_services(idls, multiplexed)
    cmd = [simdb_executable(), "thrift", "serve", str(idl), "--port", "0"]
    cmd += ["--protocol", protocol, "--transport", transport, "--include-dir", str(HOMEFEED)]
    for service in services:
        cmd += ["--service", service]
    for stub in stubs:
        cmd += ["--stubs", str(stub)]
    if multiplexed:
        cmd.append("--multiplexed")
    log = (work / f"cli-{'-'.join(idls)}-{protocol}-{transport}.log").open("w")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO)
    assert proc.stdout is not None
    lines: list[str] = []
    found: list[tuple[str, int]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            match = ENDPOINT.search(line)
            if match and not found:
                found.append((match.group(1), int(match.group(2))))

    threading.Thread(target=read, daemon=True, name="simdb-cli-stdout").start()
    wait_until(lambda: bool(found) or proc.poll() is not None, timeout=30, what="simdb thrift serve")
    if not found:
        proc.kill()
        proc.wait(10)
        raise RuntimeError(f"simdb thrift serve printed no endpoint: {lines}; see {log.name}")
    host, port = found[0]
    wait_until(lambda: _probe(host, port), timeout=10, what=f"simdb thrift serve on {host}:{port}")

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()

    return ServerHandle(host, port, idls, multiplexed, stop_fn=stop, extra={"proc": proc})


def _probe(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.create_connection((host, port), timeout=1):
        return True
