"""Worked example 3: does the fake still answer like the real service? ``simdb contract diff`` on a recording.

Run: ``pytest examples/contract/test_fake_vs_recording.py --simdb-stack examples/homefeed/simdb.yaml``.
Calls to the real ranker (``real_ranker.py``, reading the stack's Redis) go through
``simdb thrift record``; the stack's ranker fake then answers the recorded calls and
``simdb contract diff --from-recordings`` compares its answers with the recorded replies.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import thriftpy2
from thriftpy2.rpc import make_client

sys.path.insert(0, str(Path(__file__).parent))
from real_ranker import IDL, serving

SIMDB = (sys.executable, "-m", "simdb")
THRIFT = ("--idl", str(IDL / "ranker.thrift"), "--include-dir", str(IDL), "--service", "Ranker")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the recording proxy did not listen on {port}")


def record(upstream: tuple[str, int], out: Path) -> None:
    """Record two calls of the real ranker through ``simdb thrift record``."""
    port = _free_port()
    command = [
        *SIMDB,
        "thrift",
        "record",
        "--upstream",
        f"{upstream[0]}:{upstream[1]}",
        "--listen",
        str(port),
    ]
    proc = subprocess.Popen([*command, *THRIFT, "--out", str(out), "--max-calls", "2"], text=True)
    try:
        _wait_listening(port, proc)
        module = thriftpy2.load(
            str(IDL / "ranker.thrift"), module_name="consumer_ranker_thrift", include_dirs=[str(IDL)]
        )
        client = make_client(module.Ranker, "127.0.0.1", port, timeout=10_000)
        ranked = client.rank(module.RankRequest(userId=1, candidates=[1001, 1002, 1003, 99999]))
        assert [p.pinId for p in ranked.ranked] == [1003, 1001, 1002]
        assert client.score(1, [1004, 1005]) == {1004: 2188.0, 1005: 2617.0}
        client.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def diff(target: str, recordings: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        *SIMDB,
        "contract",
        "diff",
        *THRIFT,
        "--a",
        target,
        "--from-recordings",
        str(recordings),
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_ranker_fake_answers_like_the_recording(simdb_stack, tmp_path):
    recordings = tmp_path / "recorded"
    with serving(simdb_stack.endpoint("cache").url()) as upstream:
        record(upstream, recordings)
    fake = simdb_stack.endpoint("ranker").address
    # latencyMicros is measured by the real ranker and 0 in the fake: the one expected difference.
    same = diff(fake, recordings, "--ignore", "return.latencyMicros")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "all 2 methods answered alike" in same.stdout
    differs = diff(fake, recordings)
    assert differs.returncode == 1, differs.stdout + differs.stderr
    assert "return.latencyMicros: A 0  B " in differs.stdout
