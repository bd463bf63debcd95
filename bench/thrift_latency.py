"""Injected latency shows up at the client as configured: p50 and p99 within 10%.

A measurement check of the latency fault, not a speed test: a few hundred calls
over concurrent connections (the server delays each connection on its own), with
delays large enough that the loopback round trip is noise. The server runs as
``simdb thrift serve`` in its own process (so client threads do not share its GIL),
with the fault rule in the ``faults:`` section of a stub file; the fault plan is
seeded, so the server draws the same delays in every run (with seed 3 the 640 draws
themselves land within 3% of the configured p50 and p99; the rest of the 10% is the
client's share: loopback, scheduling on a busy machine).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import thriftpy2
from thriftpy2.rpc import make_client

pytestmark = pytest.mark.slow

HOMEFEED = Path(__file__).resolve().parents[2] / "thrift" / "homefeed"
CONNECTIONS = 8
CALLS_PER_CONNECTION = 80  # 640 calls, about 4 s per test


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _serve(tmp_path: Path, faults: dict[str, dict[str, float]]) -> tuple[subprocess.Popen[str], int]:
    stubs = tmp_path / "faults.json"
    stubs.write_text(json.dumps({"faults": faults}))
    simdb = Path(sys.executable).with_name("simdb")
    cmd = [str(simdb), "thrift", "serve", str(HOMEFEED / "pinstore.thrift"), "--service", "PinStore"]
    cmd += ["--include-dir", str(HOMEFEED), "--stubs", str(stubs), "--seed", "3", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"thrift://[0-9.]+:(\d+)", line)
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc, int(match.group(1))
    proc.wait(10)
    raise RuntimeError(f"simdb thrift serve exited ({proc.returncode}) without printing its endpoint")


def _client_latencies_ms(tmp_path: Path, faults: dict[str, dict[str, float]]) -> list[float]:
    proc, port = _serve(tmp_path, faults)
    module = thriftpy2.load(str(HOMEFEED / "pinstore.thrift"), include_dirs=[str(HOMEFEED)])
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client = make_client(module.PinStore, "127.0.0.1", port, timeout=10_000)
            mine = []
            try:
                client.version()  # connect and warm up outside the sample
                for _ in range(CALLS_PER_CONNECTION):
                    started = time.perf_counter()
                    client.getPin(1001)
                    mine.append((time.perf_counter() - started) * 1000)
            finally:
                client.close()
            with lock:
                latencies.extend(mine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        proc.terminate()
        proc.wait(10)
    assert not errors, errors
    assert len(latencies) == CONNECTIONS * CALLS_PER_CONNECTION
    return latencies


def test_latency_distribution_p50_and_p99_at_the_client(tmp_path: Path) -> None:
    p50, p99 = 40.0, 100.0
    latencies = _client_latencies_ms(tmp_path, {"getPin": {"p50_ms": p50, "p99_ms": p99}})
    measured_p50 = _percentile(latencies, 0.50)
    measured_p99 = _percentile(latencies, 0.99)
    assert measured_p50 == pytest.approx(p50, rel=0.10), f"p50 {measured_p50:.1f} ms, configured {p50} ms"
    assert measured_p99 == pytest.approx(p99, rel=0.10), f"p99 {measured_p99:.1f} ms, configured {p99} ms"


def test_fixed_latency_at_the_client(tmp_path: Path) -> None:
    fixed = 40.0
    latencies = _client_latencies_ms(tmp_path, {"getPin": {"fixed_ms": fixed}})
    assert min(latencies) >= fixed * 0.99, f"a call came back after {min(latencies):.1f} ms"
    assert _percentile(latencies, 0.50) == pytest.approx(fixed, rel=0.10)
