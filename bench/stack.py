"""``simdb up`` of the demo stack, embedded, against the same six dependencies as plain processes.

simdb: ``StackRun`` of ``examples/homefeed/simdb.yaml`` (what ``simdb up`` runs): stack file read
and checked, six fakes built and started in one process, the snapshot loaded, each probed over its
own protocol, the Thrift bindings connected. Timed from nothing to all-ready, imports excluded; the
cold ``simdb up --detach`` wall time (a new Python, imports, a background process) is printed too.

Baseline: the same six dependencies as separate plain processes, started at once and each probed
until ready the way Testcontainers waits (poll the protocol until it answers): four
``simdb thrift serve`` processes with the same bindings (``--bindings``/``--store``), a
``redis-server`` loading an RDB of the snapshot's Redis part, and ``mariadbd`` on a data directory
prepared beforehand with the snapshot's SQL part (preparing is not timed).

Also: ``reset`` of the whole running stack (target < 100 ms). Data-backed call throughput is
bench/databind.py's job. Targets (issue 8): embedded ready < 1 s and >= 3x faster than the baseline.

    .venv/bin/python bench/stack.py [--runs N]
    .venv/bin/python bench/stack.py --docker [--base IMAGE] [--runs N]   (bench/docker_stack.py: issue 9)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# bench/redis.py and bench/mysql.py would shadow the client libraries of the same names.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from simdb.probe import ProbeError, probe  # noqa: E402
from simdb.stack.load import load_stack  # noqa: E402
from simdb.stack.run import StackRun  # noqa: E402

STACK_FILE = REPO / "examples" / "homefeed" / "simdb.yaml"
SNAPSHOT = REPO / "seeds" / "homefeed"
TARGET_READY_S = 1.0
TARGET_RATIO = 3.0
TARGET_RESET_MS = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(url: str, timeout: float = 120) -> None:
    """Probe ``url`` until it answers (Testcontainers' wait strategy: poll, no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe(url, timeout=1)
            return
        except ProbeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def embedded() -> tuple[float, float]:
    """(seconds to all-ready, milliseconds for one reset of every fake after writes to both stores)."""
    import pymysql
    import redis

    t0 = time.perf_counter()
    run = StackRun(load_stack(STACK_FILE))
    run.start()
    ready = time.perf_counter() - t0
    try:
        eps = run.endpoints()
        r = redis.Redis(host=eps["cache"].host, port=eps["cache"].port)
        db = pymysql.connect(host=eps["db"].host, port=eps["db"].port, user="root", database="homefeed",
                             autocommit=True)
        resets = []
        for i in range(5):
            r.set(f"bench:{i}", "x")
            r.delete("followees:1")
            with db.cursor() as cur:
                cur.execute("UPDATE pins SET title = 'changed' WHERE id = %s", (1001 + i,))
                cur.execute("DELETE FROM follows WHERE follower_id = 1")
            t1 = time.perf_counter()
            run.reset()
            resets.append((time.perf_counter() - t1) * 1000)
            assert r.exists("followees:1") and not r.exists(f"bench:{i}")
        r.close()
        db.close()
    finally:
        run.stop()
    return ready, statistics.median(resets)


def cold_cli(work: Path) -> float:
    """Wall time of ``simdb up --detach`` (new Python, imports, background stack) until it returns ready."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "simdb", "up", "-f", str(STACK_FILE), "--detach"],
        cwd=work, env=env, check=True, capture_output=True,
    )
    seconds = time.perf_counter() - t0
    subprocess.run(
        [sys.executable, "-m", "simdb", "down", "-f", str(STACK_FILE)],
        cwd=work, env=env, check=True, capture_output=True,
    )
    return seconds


class Prepared:
    """A MariaDB data dir and a Redis RDB holding the snapshot's data (made once, before timing)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.datadir = root / "mariadb"
        self.redis_dir = root / "redis"
        self.redis_dir.mkdir()
        self._mariadb_datadir()
        self._redis_rdb()

    def mariadbd_args(self, port: int) -> list[str]:
        return [
            shutil.which("mariadbd") or "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.datadir}",
            f"--port={port}", "--bind-address=127.0.0.1", f"--socket={self.root}/mysqld.sock",
            f"--pid-file={self.root}/mysqld.pid", f"--log-error={self.root}/mysqld.log", "--user=root",
            "--skip-log-bin", "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
        ]

    def _mariadb_datadir(self) -> None:
        import pymysql

        subprocess.run(
            [shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db", "--no-defaults",
             f"--datadir={self.datadir}", "--auth-root-authentication-method=normal", "--skip-test-db",
             "--user=root"],
            check=True, capture_output=True,
        )
        port = free_port()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        proc = subprocess.Popen(self.mariadbd_args(port), **quiet)  # type: ignore[call-overload]
        try:
            wait(f"mysql://root@127.0.0.1:{port}/")
            conn = pymysql.connect(host="127.0.0.1", port=port, user="root")
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE homefeed")
            conn.close()
            load(["--sql", f"db=mysql+pymysql://root@127.0.0.1:{port}/homefeed"])
        finally:
            proc.terminate()
            proc.wait()

    def redis_args(self, port: int) -> list[str]:
        return [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port", str(port), "--bind", "127.0.0.1",
            "--dir", str(self.redis_dir), "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
        ]

    def _redis_rdb(self) -> None:
        port = free_port()
        proc = subprocess.Popen(self.redis_args(port), stdout=subprocess.DEVNULL)
        try:
            wait(f"redis://127.0.0.1:{port}/0")
            load(["--redis", f"cache=redis://127.0.0.1:{port}/0"])
            subprocess.run(["redis-cli", "-p", str(port), "SAVE"], check=True, capture_output=True)
        finally:
            proc.terminate()
            proc.wait()


def load(args: list[str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "simdb", "snapshot", "load", str(SNAPSHOT), *args],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def baseline(prepared: Prepared) -> float:
    """Six plain processes started at once, each probed until ready; seconds to all-ready."""
    import yaml

    stack = load_stack(STACK_FILE)
    bindings = yaml.safe_load((STACK_FILE.parent / "bindings.yaml").read_text())
    redis_port, mysql_port = free_port(), free_port()
    stores = [
        f"cache=redis://127.0.0.1:{redis_port}/0",
        f"db=mysql://root@127.0.0.1:{mysql_port}/homefeed",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs: list[subprocess.Popen[bytes]] = []
    urls = [f"redis://127.0.0.1:{redis_port}/0", f"mysql://root@127.0.0.1:{mysql_port}/homefeed"]
    t0 = time.perf_counter()
    try:
        procs.append(subprocess.Popen(prepared.redis_args(redis_port), stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen(prepared.mariadbd_args(mysql_port), stderr=subprocess.DEVNULL))
        for name, fake in stack.spec.fakes.items():
            if fake.kind != "thrift":
                continue
            port = free_port()
            args = [sys.executable, "-m", "simdb", "thrift", "serve", str(fake.idl), "--name", name,
                    "--port", str(port), "--admin-port", "0", "--snapshot", str(SNAPSHOT),
                    "--snapshot-stubs", "unbound", "--bindings", json.dumps(bindings[name]),
                    "--log-level", "warning"]
            for inc in fake.include_dirs:
                args += ["-I", str(inc)]
            for service in fake.services:
                args += ["--service", service]
            for store in stores:
                args += ["--store", store]
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            procs.append(subprocess.Popen(args, env=env, **quiet))  # type: ignore[call-overload]
            urls.append(f"thrift://127.0.0.1:{port}")
        for url in urls:
            wait(url)
        return time.perf_counter() - t0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


def main() -> None:
    if "--docker" in sys.argv:
        import runpy

        sys.argv = [str(REPO / "bench" / "docker_stack.py"), *(a for a in sys.argv[1:] if a != "--docker")]
        runpy.run_path(sys.argv[0], run_name="__main__")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each; the median is reported")
    opts = parser.parse_args()
    embedded()  # warm the imports and the OS caches once, for both sides
    ready, resets = zip(*(embedded() for _ in range(opts.runs)), strict=True)
    with tempfile.TemporaryDirectory(prefix="simdb-bench-stack-") as tmp:
        cold = [cold_cli(Path(tmp)) for _ in range(opts.runs)]
        prepared = Prepared(Path(tmp))
        plain = [baseline(prepared) for _ in range(opts.runs)]
    up_s, reset_ms, cold_s, plain_s = (statistics.median(x) for x in (ready, resets, cold, plain))
    ratio = plain_s / up_s
    print(f"simdb up, embedded (StackRun, demo stack): {up_s * 1000:.0f} ms to all-ready"
          f"   (target < {TARGET_READY_S * 1000:.0f} ms: {'met' if up_s < TARGET_READY_S else 'NOT met'})")
    print(f"simdb up --detach, cold CLI wall time:      {cold_s * 1000:.0f} ms")
    print(f"baseline, six plain processes:              {plain_s * 1000:.0f} ms to all-ready")
    print(f"ratio baseline / simdb up: {ratio:.1f}x   (target >= {TARGET_RATIO:g}x: "
          f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")
    print(f"reset of every fake after writes: {reset_ms:.1f} ms   (target < {TARGET_RESET_MS:g} ms: "
          f"{'met' if reset_ms < TARGET_RESET_MS else 'NOT met'})")


if __name__ == "__main__":
    main()
