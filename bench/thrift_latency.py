"""Injected latency at the client: measured p50 and p99 against the configured ones (target: within 10%).

A measurement of the latency fault, so it lives here and not in the tests (the tests check
the seeded delays themselves and a lower bound at the client, which cannot flake). A few
hundred calls over concurrent connections; the server runs as ``simdb thrift serve`` in its
own process with the fault rule in a stub file's ``faults:`` section, seeded, so it draws the
same delays every run. Run: ``.venv/bin/python bench/thrift_latency.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import thriftpy2
from thriftpy2.rpc import make_client

HOMEFEED = Path(__file__).resolve().parents[1] / "thrift" / "homefeed"
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


def _within(measured: float, configured: float) -> str:
    ratio = measured / configured
    verdict = "met" if abs(ratio - 1) <= 0.10 else "NOT met"
    return (
        f"measured {measured:7.1f} ms  configured {configured:6.1f} ms  ratio {ratio:.3f}"
        f"  (target 0.9-1.1: {verdict})"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        p50, p99 = 40.0, 100.0
        lat = _client_latencies_ms(Path(tmp), {"getPin": {"p50_ms": p50, "p99_ms": p99}})
        print(f"latency fault p50/p99 = {p50}/{p99} ms, {len(lat)} calls over {CONNECTIONS} connections")
        print("  p50 " + _within(_percentile(lat, 0.50), p50))
        print("  p99 " + _within(_percentile(lat, 0.99), p99))
        fixed = 40.0
        lat = _client_latencies_ms(Path(tmp), {"getPin": {"fixed_ms": fixed}})
        print(f"latency fault fixed = {fixed} ms, {len(lat)} calls")
        print("  p50 " + _within(_percentile(lat, 0.50), fixed))
        print(f"  min {min(lat):.1f} ms (must be >= {fixed})")


if __name__ == "__main__":
    main()
