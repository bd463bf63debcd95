"""Thrift serving speed: simdb against hand-written servers, the same IDL and the same official client.

Run: ``.venv/bin/python bench/thrift_serve.py`` (``--quick`` for a short run).

Every server answers ``PinStore.getPin(1001)`` from thrift/homefeed/pinstore.thrift
with the same Pin. The client is the official Apache Thrift Python library with code
from Debian's ``thrift --gen py`` and ``TBinaryProtocolAccelerated`` over a buffered
socket; 1 and 4 concurrent client *processes* (multiprocessing) each keep one
connection and call in a loop. Servers:

* simdb: ``simdb thrift serve`` answering from a stub (started as a user would);
* Apache: a hand-written handler on Apache Thrift Python ``TThreadedServer`` with
  ``TBinaryProtocolAcceleratedFactory`` (the baseline of the ratio);
* thriftpy2: a hand-written handler on thriftpy2's ``make_server`` (cybin protocol);
* C++: a hand-written handler on Apache Thrift C++ ``TThreadedServer`` (Debian
  libthrift-dev, ``thrift --gen cpp`` + g++), the practical ceiling, when g++ and
  libthrift-dev are installed.

Targets: simdb/Apache >= 1.0 with 1 client and >= 1.3 with 4 clients. Also
start-to-ready time and resident memory of ``simdb thrift serve`` with 10,000 stubs
loaded (targets < 1 s and < 100 MB).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.interop import codegen  # noqa: E402 - needs the repository root on sys.path first

HOMEFEED = REPO / "thrift" / "homefeed"
PINSTORE_IDL = HOMEFEED / "pinstore.thrift"
CPP_SOURCE = REPO / "bench" / "cpp" / "pinstore_server.cpp"
CPP_CACHE = REPO / "build" / "bench-cpp"
SIMDB = (
    [sys.executable, "-m", "simdb.cli"] if not shutil.which("simdb") else [shutil.which("simdb") or "simdb"]
)
PIN_ID = 1001
ENDPOINT = re.compile(r"(?:127\.0\.0\.1|localhost|0\.0\.0\.0):(\d+)")

# The one pin every server answers, in canonical JSON (stubs) and as handler arguments.
PIN_FIELDS: dict[str, Any] = {
    "id": PIN_ID,
    "ownerId": 1 + PIN_ID % 20,
    "boardId": 101 + PIN_ID % 40,
    "title": f"pin {PIN_ID}",
    "images": [{"url": f"https://img.example/{PIN_ID}.jpg", "width": 236, "height": 354}],
    "tags": ["dinner", "recipe"],
    "createdAtMs": 1_700_000_000_000 + PIN_ID,
    "saveCount": PIN_ID % 97,
}


def simdb_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("simdb")
    return [str(exe) if exe.exists() else shutil.which("simdb") or "simdb"]


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    port: int
    stop: Callable[[], None]
    pid: int


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.01)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _read_endpoint(proc: subprocess.Popen[str], what: str, timeout: float = 30.0) -> int:
    """The port from the first line of ``proc``'s stdout that names 127.0.0.1:<port>."""
    assert proc.stdout is not None
    found: list[int] = []
    lines: list[str] = []

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            match = ENDPOINT.search(line)
            if match:
                found.append(int(match.group(1)))
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout)
    if not found:
        proc.kill()
        raise RuntimeError(f"{what} printed no endpoint within {timeout}s:\n{''.join(lines)}")
    # keep draining stdout so the server never blocks on a full pipe
    threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
    return found[0]


def _stop_proc(proc: subprocess.Popen[str]) -> Callable[[], None]:
    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    return stop


def write_stub_file(path: Path, pin_ids: range) -> Path:
    """A stub file answering getPin(id) for every id in ``pin_ids`` (format: docs/thrift-stubs.md)."""
    stubs = []
    for pin_id in pin_ids:
        pin = dict(PIN_FIELDS, id=pin_id, title=f"pin {pin_id}")
        stubs.append(
            {"id": f"pin-{pin_id}", "method": "getPin", "args": {"id": pin_id}, "reply": {"return": pin}}
        )
    path.write_text(json.dumps({"stubs": stubs}))
    return path


def start_simdb(stub_file: Path) -> tuple[Server, float]:
    """``simdb thrift serve`` on port 0; returns the server and its start-to-ready seconds."""
    cmd = [
        *simdb_cmd(),
        "thrift",
        "serve",
        str(PINSTORE_IDL),
        "--service",
        "PinStore",
        "--include-dir",
        str(HOMEFEED),
        "--stubs",
        str(stub_file),
        "--port",
        "0",
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    port = _read_endpoint(proc, "simdb thrift serve")
    _wait_port(port)
    ready = time.perf_counter() - started
    return Server("simdb", port, _stop_proc(proc), proc.pid), ready


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _apache_server_main(gen_py: str, port_q: Any) -> None:
    sys.path.insert(0, gen_py)
    from homefeed.pinstore import PinStore
    from homefeed.types import ttypes
    from thrift.protocol.TBinaryProtocol import TBinaryProtocolAcceleratedFactory
    from thrift.server.TServer import TThreadedServer
    from thrift.transport.TSocket import TServerSocket
    from thrift.transport.TTransport import TBufferedTransportFactory

    class Handler:
        def health(self) -> Any:
            return ttypes.HealthStatus(state=ttypes.HealthState.SERVING, detail="ok")

        def version(self) -> str:
            return "homefeed-2024.06"

        def getPin(self, id: int) -> Any:
            if not 1001 <= id <= 1200:
                raise ttypes.PinNotFound(id=id, message="pin not found")
            fields = dict(PIN_FIELDS, id=id, title=f"pin {id}")
            fields["images"] = [ttypes.Image(**image) for image in fields["images"]]
            fields["tags"] = set(fields["tags"])
            return ttypes.Pin(**fields)

    transport = TServerSocket(host="127.0.0.1", port=0)
    transport.listen()
    port_q.put(transport.handle.getsockname()[1])
    transport.listen = lambda: None  # already listening
    server = TThreadedServer(
        PinStore.Processor(Handler()),
        transport,
        TBufferedTransportFactory(),
        TBinaryProtocolAcceleratedFactory(),
    )
    server.daemon = True
    server.serve()


def _thriftpy2_server_main(port_q: Any) -> None:
    import thriftpy2
    from thriftpy2.rpc import make_server

    module = thriftpy2.load(
        str(PINSTORE_IDL), module_name="bench_pinstore_thrift", include_dirs=[str(HOMEFEED)]
    )
    t = module.types

    class Handler:
        def health(self) -> Any:
            return t.HealthStatus(state=t.HealthState.SERVING, detail="ok")

        def version(self) -> str:
            return "homefeed-2024.06"

        def getPin(self, id: int) -> Any:
            if not 1001 <= id <= 1200:
                raise t.PinNotFound(id=id, message="pin not found")
            fields = dict(PIN_FIELDS, id=id, title=f"pin {id}")
            fields["images"] = [t.Image(**image) for image in fields["images"]]
            fields["tags"] = set(fields["tags"])
            return t.Pin(**fields)

    # make_server refuses port 0: take a free port (loopback, bench only)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server(module.PinStore, Handler(), host="127.0.0.1", port=port, client_timeout=None)
    port_q.put(port)
    server.serve()


def _start_in_process(name: str, target: Callable[..., None], *args: Any) -> Server:
    ctx = mp.get_context("spawn")
    port_q = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, port_q), daemon=True, name=f"bench-{name}")
    proc.start()
    deadline = time.monotonic() + 60
    while True:
        try:
            port = int(port_q.get(timeout=0.5))
            break
        except Exception:  # queue.Empty
            if not proc.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{name} server did not start (exit code {proc.exitcode})") from None
    _wait_port(port)

    def stop() -> None:
        proc.terminate()
        proc.join(10)

    assert proc.pid is not None
    return Server(name, port, stop, proc.pid)


def build_cpp(thrift: str) -> Path | None:
    """Compile the C++ baseline (cached under build/bench-cpp by source hash); None if it cannot be built."""
    if not (shutil.which("g++") and Path("/usr/include/thrift/Thrift.h").exists()):
        print("C++ baseline skipped: needs g++ and libthrift-dev (scripts/install-system-deps.sh)")
        return None
    digest = hashlib.sha256()
    for path in [*sorted(HOMEFEED.glob("*.thrift")), CPP_SOURCE]:
        digest.update(path.read_bytes())
    binary = CPP_CACHE / f"pinstore_server-{digest.hexdigest()[:16]}"
    if binary.exists():
        return binary
    gen = Path(tempfile.mkdtemp(prefix="bench-cpp-"))
    try:
        codegen.run([thrift, "-r", "--gen", "cpp", "-I", str(HOMEFEED), "-out", str(gen), str(PINSTORE_IDL)])
        sources = [str(p) for p in gen.glob("*.cpp") if "skeleton" not in p.name]
        CPP_CACHE.mkdir(parents=True, exist_ok=True)
        print("building the C++ baseline server (once; cached in build/bench-cpp) ...", flush=True)
        codegen.run(
            [
                "g++",
                "-O2",
                "-std=c++17",
                f"-I{gen}",
                "-o",
                str(binary),
                str(CPP_SOURCE),
                *sources,
                "-lthrift",
            ],
            timeout=600,
        )
    finally:
        shutil.rmtree(gen, ignore_errors=True)
    return binary


def start_cpp(binary: Path) -> Server:
    proc = subprocess.Popen([str(binary), "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = _read_endpoint(proc, "C++ server")
    _wait_port(port)
    return Server("C++", port, _stop_proc(proc), proc.pid)


# --------------------------------------------------------------------------- clients


def _client_main(gen_py: str, port: int, warmup: int, duration: float, barrier: Any, out_q: Any) -> None:
    sys.path.insert(0, gen_py)
    from homefeed.pinstore import PinStore
    from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
    from thrift.transport.TSocket import TSocket
    from thrift.transport.TTransport import TBufferedTransport

    trans = TBufferedTransport(TSocket("127.0.0.1", port))
    client = PinStore.Client(TBinaryProtocolAccelerated(trans))
    trans.open()
    for _ in range(warmup):
        if client.getPin(PIN_ID).id != PIN_ID:
            raise RuntimeError("wrong pin")
    barrier.wait()
    latencies = []
    clock = time.perf_counter
    start = clock()
    end = start + duration
    now = start
    while now < end:
        client.getPin(PIN_ID)
        after = clock()
        latencies.append(after - now)
        now = after
    trans.close()
    out_q.put((len(latencies), now - start, latencies))


@dataclass
class Samples:
    """Calls, busy seconds and per-call latencies, summed over rounds."""

    calls: int = 0
    elapsed: float = 0.0
    latencies: list[float] | None = None

    def add(self, calls: int, elapsed: float, latencies: list[float]) -> None:
        self.calls += calls
        self.elapsed += elapsed
        self.latencies = (self.latencies or []) + latencies

    @property
    def rps(self) -> float:
        return self.calls / self.elapsed

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies or [0.0])
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def measure(
    gen_py: Path, port: int, clients: int, duration: float, warmup: int
) -> tuple[int, float, list[float]]:
    """``clients`` processes call getPin for ``duration`` s: (calls, wall seconds, latencies)."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(clients)
    out_q = ctx.Queue()
    procs = [
        ctx.Process(target=_client_main, args=(str(gen_py), port, warmup, duration, barrier, out_q))
        for _ in range(clients)
    ]
    for proc in procs:
        proc.start()
    results = [out_q.get(timeout=duration + 120) for _ in procs]
    for proc in procs:
        proc.join(30)
        if proc.exitcode != 0:
            raise RuntimeError(f"a client process failed with exit code {proc.exitcode}")
    calls = sum(r[0] for r in results)
    elapsed = max(r[1] for r in results)
    return calls, elapsed, [x for r in results for x in r[2]]


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short run (1.5 s per measurement)")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per server and client count, split over the rounds (default 6)",
    )
    parser.add_argument("--no-cpp", action="store_true", help="skip the C++ baseline")
    parser.add_argument("--no-startup", action="store_true", help="skip the 10,000-stub start-up measurement")
    parser.add_argument(
        "--servers", default="simdb,apache,thriftpy2,cpp", help="comma-separated subset to run (default: all)"
    )
    opts = parser.parse_args()
    duration = opts.duration or (1.5 if opts.quick else 6.0)
    rounds = 1 if opts.quick else 3
    warmup = 200 if opts.quick else 1000
    client_counts = (1, 4)

    thrift = shutil.which("thrift")
    if thrift is None:
        print("thrift compiler not found: install the Debian package thrift-compiler", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-thrift-"))
    try:
        gen_py = codegen.generate(thrift, work / "gen-py", "py")
        cpp = None if opts.no_cpp or "cpp" not in opts.servers else build_cpp(thrift)
        print(f"cpus: {os.cpu_count()}  {duration}s per server and client count, {rounds} round(s), getPin")
        print(
            "client: Apache Thrift Python, TBinaryProtocolAccelerated, buffered, one connection per process"
        )
        print("load average at start: {:.2f} {:.2f} {:.2f}\n".format(*os.getloadavg()))

        wanted = set(opts.servers.split(","))
        starters: list[tuple[str, Callable[[], Server]]] = []
        if "simdb" in wanted:
            stubs = write_stub_file(work / "stubs.json", range(1001, 1201))
            starters.append(("simdb", lambda: start_simdb(stubs)[0]))
        if "apache" in wanted:
            starters.append(
                (
                    "Apache TThreadedServer",
                    lambda: _start_in_process("apache", _apache_server_main, str(gen_py)),
                )
            )
        if "thriftpy2" in wanted:
            starters.append(
                ("thriftpy2 make_server", lambda: _start_in_process("thriftpy2", _thriftpy2_server_main))
            )
        if cpp is not None and "cpp" in wanted:
            starters.append(("C++ TThreadedServer", lambda: start_cpp(cpp)))

        # All servers run at once and are measured in turn, round after round, so that the
        # machine's background load falls on every server alike; figures sum over the rounds.
        servers: list[Server] = []
        results: dict[tuple[str, int], Samples] = {}
        try:
            for name, start in starters:
                servers.append(start())
                servers[-1].name = name
            for clients in client_counts:
                for _ in range(rounds):
                    for server in servers:
                        sample = measure(gen_py, server.port, clients, duration / rounds, warmup)
                        results.setdefault((server.name, clients), Samples()).add(*sample)
                for server in servers:
                    r = results[(server.name, clients)]
                    print(
                        f"{server.name:<24} clients={clients}  {r.rps:>9.0f} req/s  "
                        f"p50 {r.percentile_ms(0.5):6.3f} ms  p99 {r.percentile_ms(0.99):6.3f} ms",
                        flush=True,
                    )
        finally:
            for server in servers:
                server.stop()

        print()
        targets = {1: 1.0, 4: 1.3}
        for clients in client_counts:
            if ("Apache TThreadedServer", clients) not in results:
                break
            base = results[("Apache TThreadedServer", clients)].rps
            for name, _ in starters:
                if name == "Apache TThreadedServer":
                    continue
                ratio = results[(name, clients)].rps / base
                verdict = "met" if ratio >= targets[clients] else "MISSED"
                target = f"  (target >= {targets[clients]:.1f}: {verdict})" if name == "simdb" else ""
                print(f"ratio {name} / Apache, {clients} client(s): {ratio:5.2f}{target}")

        print("load average now: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if opts.no_startup or "simdb" not in wanted:
            return 0
        print()
        for label, count in (("no stubs", 0), ("10,000 stubs", 10_000)):
            stub_file = write_stub_file(work / f"stubs-{count}.json", range(1_000_000, 1_000_000 + count))
            server, ready_s = start_simdb(stub_file)
            try:
                rss = rss_mb(server.pid)
            finally:
                server.stop()
            print(
                f"simdb thrift serve with {label}: start-to-ready {ready_s:.3f} s (target < 1 s: "
                f"{'met' if ready_s < 1 else 'MISSED'}), RSS {rss:.1f} MB (target < 100 MB: "
                f"{'met' if rss < 100 else 'MISSED'})"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
