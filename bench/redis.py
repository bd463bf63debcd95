"""Benchmark the Redis fake against a real redis-server, in one run.

1. ``redis-benchmark`` (SET, GET, INCR, LPUSH, HSET, ZADD) with 1 and 10 clients and with ``-P 16``,
   fake and real; ratio fake/real. Targets: >= 0.3 unpipelined with 10 clients, >= 0.1 with -P 16.
2. Seeding N keys from a snapshot part: into the fake engine (target >= 200,000 keys/s), and into a
   real redis-server through simdb, against ``redis-cli --pipe`` on the same data (target: simdb
   within 2x of redis-cli's time).

Machines are noisy (shared CI, other jobs): each figure is the best of a few alternating runs
(one run each with ``--quick``).

Usage: .venv/bin/python bench/redis.py [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file is named redis.py: keep its own directory off the import path so `import redis` finds redis-py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import redis  # noqa: E402

from simdb.redis.fake import RedisConfig, RedisFake  # noqa: E402
from simdb.redis.real import RealRedis  # noqa: E402
from simdb.redis.records import RedisRecord  # noqa: E402
from simdb.redis.seed_real import Spool  # noqa: E402
from simdb.snapshot.writer import SnapshotWriter  # noqa: E402

TESTS = ["set", "get", "incr", "lpush", "hset", "zadd"]
RUNS = [(1, 1), (10, 1), (10, 16)]  # (clients, pipeline)
TARGET = {(10, 1): 0.3, (10, 16): 0.1}


def rps(port: int, test: str, clients: int, pipeline: int, requests: int) -> float:
    out = subprocess.run(
        [
            "redis-benchmark",
            "-p",
            str(port),
            "-t",
            test,
            "-n",
            str(requests),
            "-c",
            str(clients),
            "-P",
            str(pipeline),
            "--csv",
        ],
        capture_output=True,
        check=True,
        timeout=600,
    ).stdout
    line = out.decode().strip().splitlines()[-1]
    return float(line.split(",")[1].strip('"'))


def bench_commands(fake_port: int, real_port: int, requests: int, repeats: int) -> bool:
    ok = True
    print(f"redis-benchmark, {requests} requests per run, best of {repeats} alternating runs (requests/s)")
    print(f"{'test':<7}{'clients':>8}{'-P':>4}{'fake':>12}{'real':>12}{'ratio':>8}{'target':>8}")
    for clients, pipeline in RUNS:
        n = requests * (4 if pipeline > 1 else 1)
        for test in TESTS:
            fake = real = 0.0
            for _ in range(repeats):
                for port in (fake_port, real_port):
                    redis.Redis(port=port).flushall()
                fake = max(fake, rps(fake_port, test, clients, pipeline, n))
                real = max(real, rps(real_port, test, clients, pipeline, n))
            ratio = fake / real
            target = TARGET.get((clients, pipeline))
            mark = "" if target is None else (f">={target}" + (" ok" if ratio >= target else " MISS"))
            ok &= target is None or ratio >= target
            print(
                f"{test.upper():<7}{clients:>8}{pipeline:>4}{fake:>12,.0f}{real:>12,.0f}{ratio:>8.2f}  {mark}"
            )
    return ok


def make_snapshot(root: Path, keys: int) -> Path:
    with SnapshotWriter(root / "snap", name="bench") as w:
        f = w.open_file("cache", "redis", "redis/cache/db0.jsonl")
        for i in range(keys):
            f.write(RedisRecord(b"key:%09d" % i, "string", b"value-%d" % i, None).to_json())
        w.add_file("cache", f.close())
        return w.commit()


def bench_seed(root: Path, keys: int, repeats: int) -> bool:
    snap = make_snapshot(root, keys)
    print(f"\nseeding {keys:,} keys from a snapshot part (best of {repeats})")
    fake = RedisFake(RedisConfig(name="cache"))
    fake.start()
    fake_s = fake_cpu = reset_s = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        cpu = time.process_time()
        fake.load(snap)
        fake_s = min(fake_s, time.perf_counter() - t)
        fake_cpu = min(fake_cpu, time.process_time() - cpu)
        t = time.perf_counter()
        fake.reset()
        reset_s = min(reset_s, time.perf_counter() - t)
    fake.stop()
    fake_rate = keys / fake_s
    ok = fake_rate >= 200_000
    print(
        f"  fake engine:            {fake_s:7.2f} s  {fake_rate:>12,.0f} keys/s  (target >= 200,000: "
        f"{'ok' if ok else 'MISS'})"
    )
    print(f"  fake engine, CPU time:  {fake_cpu:7.2f} s  {keys / fake_cpu:>12,.0f} keys/s  (CPU s)")
    print(f"  fake engine, reset:     {reset_s:7.2f} s")

    # The same RESP that simdb sends, pre-encoded, for redis-cli --pipe.
    spool = Spool.from_snapshot(snap, "cache")
    resp_file = root / "seed.resp"
    spool.file.seek(0)
    resp_file.write_bytes(spool.file.read())
    spool.close()
    sim = RedisFake(RedisConfig(name="cache", engine="real"))
    ep = sim.start()
    sim_s = cli_s = float("inf")
    try:
        with redis.Redis(host=ep.host, port=ep.port) as client:
            for _ in range(repeats):
                client.flushall()
                t = time.perf_counter()
                with open(resp_file, "rb") as fh:
                    subprocess.run(
                        ["redis-cli", "-h", ep.host, "-p", str(ep.port), "--pipe"],
                        stdin=fh,
                        capture_output=True,
                        check=True,
                        timeout=600,
                    )
                cli_s = min(cli_s, time.perf_counter() - t)
                assert client.dbsize() == keys
                t = time.perf_counter()
                sim.load(snap)  # FLUSHALL, then the part, read and checked
                sim_s = min(sim_s, time.perf_counter() - t)
                assert client.dbsize() == keys
    finally:
        sim.stop()
    ratio = sim_s / cli_s
    ok2 = ratio <= 2.0
    print(
        f"  real via simdb:         {sim_s:7.2f} s  {keys / sim_s:>12,.0f} keys/s  (reads + checks the part)"
    )
    print(f"  real via redis-cli --pipe: {cli_s:4.2f} s  {keys / cli_s:>12,.0f} keys/s  (pre-encoded RESP)")
    print(f"  simdb/redis-cli time ratio: {ratio:.2f} (target <= 2.0: {'ok' if ok2 else 'MISS'})")
    return ok and ok2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and keys")
    args = parser.parse_args()
    for tool in ("redis-benchmark", "redis-cli", "redis-server"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"{tool} not found: install redis-server and redis-tools", file=sys.stderr)
            return 2
    requests, keys = (10_000, 100_000) if args.quick else (50_000, 1_000_000)
    repeats = 1 if args.quick else 2
    fake = RedisFake(RedisConfig())
    real = RealRedis()
    fake_ep = fake.start()
    real.start()
    try:
        ok = bench_commands(fake_ep.port, real.port, requests, repeats)
    finally:
        fake.stop()
        real.stop()
    with tempfile.TemporaryDirectory(prefix="simdb-bench-redis-") as tmp:
        ok &= bench_seed(Path(tmp), keys, repeats + 1)
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
