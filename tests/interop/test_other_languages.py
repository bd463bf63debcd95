"""Official Apache Thrift clients in Java and Node.js call every demo method of simdb once.

The Java client (tests/interop/java/InteropClient.java) is compiled with the JDK
against Debian's libthrift-java and code from ``thrift --gen java``; the Node.js
client (tests/interop/node/client.js) uses the npm ``thrift`` package and code
from ``thrift --gen js:node``. Each prints one line per call, checked here.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.interop.calls import METHODS
from tests.interop.codegen import NODE_DIR, SERVICES
from tests.interop.conftest import JavaClient, NodeClient, ServerPool
from tests.interop.servers import ServerHandle

pytestmark = pytest.mark.interop

ALL = tuple(SERVICES)
CLI = "cli"
IN_PROCESS = "inprocess"


#: Methods returning a struct, and the struct both clients must have decoded.
STRUCT_RETURNS = {
    "health": "HealthStatus",
    "getPin": "Pin",
    "getPins": "GetPinsResponse",
    "getFollowees": "FolloweePage",
    "getUser": "User",
    "getInterestTree": "Topic",
    "getCandidates": "CandidateResponse",
    "rank": "RankResponse",
}


def expected_calls(idls: tuple[str, ...]) -> set[str]:
    return {f"{SERVICES[idl]}.{method}" for idl in idls for method in METHODS[idl]}


def check_output(proc: subprocess.CompletedProcess[str], idls: tuple[str, ...], stubbed: bool) -> None:
    """Every method answered; with the example stubs loaded, getPin(999999) raised PinNotFound."""
    assert proc.returncode == 0, f"client failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    lines = proc.stdout.splitlines()
    called = {line.split()[1] for line in lines if line.startswith("OK ")}
    assert called == expected_calls(idls), proc.stdout
    assert not [line for line in lines if "null" in line.split()[2:]], proc.stdout
    for line in lines:
        if line.startswith("OK "):
            _, call, type_name = line.split(maxsplit=2)
            expected = STRUCT_RETURNS.get(call.split(".")[1])
            assert expected is None or type_name == expected, line
    if "pinstore" in idls and stubbed:
        assert "EXC PinStore.getPin PinNotFound id=999999" in lines, proc.stdout
        assert "VAL PinStore.getPin.title=Weeknight lemon pasta" in lines, proc.stdout
        assert "VAL PinStore.getPin.tags=[dinner, pasta, recipe]" in lines, proc.stdout


def run_java(client: JavaClient, server: ServerHandle, protocol: str, transport: str, target: str):
    cmd = [client.java, "-cp", client.classpath, "InteropClient", server.host, str(server.port)]
    return subprocess.run([*cmd, protocol, transport, target], capture_output=True, text=True, timeout=120)


def run_node(client: NodeClient, server: ServerHandle, protocol: str, transport: str, target: str):
    env = {**os.environ, "GEN_DIR": str(client.gen_dir), "NODE_PATH": str(NODE_DIR / "node_modules")}
    cmd = [client.node, str(client.script), server.host, str(server.port), protocol, transport, target]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize(("protocol", "transport"), [("binary", "framed"), ("compact", "buffered")])
def test_java_calls_every_method_multiplexed(
    java_client: JavaClient, servers: ServerPool, protocol: str, transport: str
) -> None:
    server = servers.get(ALL, protocol, transport, multiplexed=True, mode=CLI)
    check_output(run_java(java_client, server, protocol, transport, "multiplexed"), ALL, stubbed=False)


@pytest.mark.parametrize("idl", ALL)
def test_java_calls_every_method_one_service_per_port(
    java_client: JavaClient, servers: ServerPool, idl: str
) -> None:
    server = servers.get((idl,), "binary", "buffered", mode=IN_PROCESS)
    check_output(run_java(java_client, server, "binary", "buffered", idl), (idl,), stubbed=True)


@pytest.mark.parametrize(("protocol", "transport"), [("binary", "framed"), ("compact", "buffered")])
def test_node_calls_every_method_multiplexed(
    node_client: NodeClient, servers: ServerPool, protocol: str, transport: str
) -> None:
    server = servers.get(ALL, protocol, transport, multiplexed=True, mode=CLI)
    check_output(run_node(node_client, server, protocol, transport, "multiplexed"), ALL, stubbed=False)


@pytest.mark.parametrize("idl", ALL)
def test_node_calls_every_method_one_service_per_port(
    node_client: NodeClient, servers: ServerPool, idl: str
) -> None:
    server = servers.get((idl,), "compact", "framed", mode=IN_PROCESS)
    check_output(run_node(node_client, server, "compact", "framed", idl), (idl,), stubbed=True)
