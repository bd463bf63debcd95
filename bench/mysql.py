"""Benchmark the MySQL fake against a real MariaDB in the same run.

1. Point selects by primary key with PyMySQL, 1 connection and 4 connections (4 processes),
   against the fake (``simdb mysql serve`` in its own process) and a real ``mariadbd``.
   Target: fake/real >= 0.5.
2. Seeding 1,000,000 rows (``--quick``: 100,000) from a snapshot into the fake engine.
   Target: >= 200,000 rows/s.

Run: ``.venv/bin/python bench/mysql.py [--quick]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymysql

from simdb.mysql.engine import Store
from simdb.mysql.real import RealMariaDB
from simdb.snapshot.writer import SnapshotWriter

ROWS_TABLE = 10_000
QUERY = "SELECT id, name, score FROM bench WHERE id = %s"
TARGET_RATIO = 0.5
TARGET_SEED = 200_000


def _connect(port: int) -> pymysql.connections.Connection:
    return pymysql.connect(
        host="127.0.0.1", port=port, user="root", password="pw", database="bench", autocommit=True
    )


def _fill(port: int) -> None:
    with _connect(port) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench (id INT NOT NULL, name VARCHAR(32) NOT NULL, score INT, PRIMARY KEY (id))"
        )
        cur.executemany(
            "INSERT INTO bench (id, name, score) VALUES (%s, %s, %s)",
            [(i, f"user{i}", i * 7 % 1000) for i in range(1, ROWS_TABLE + 1)],
        )


def _worker(port: int, n: int, seed: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    rnd = random.Random(seed)
    with _connect(port) as conn, conn.cursor() as cur:
        for _ in range(200):  # warm up
            cur.execute(QUERY, (rnd.randint(1, ROWS_TABLE),))
            cur.fetchall()
        start = time.perf_counter()
        for _ in range(n):
            cur.execute(QUERY, (rnd.randint(1, ROWS_TABLE),))
            cur.fetchall()
        out.put((start, time.perf_counter()))


def point_selects(port: int, connections: int, per_conn: int) -> float:
    """Queries per second over ``connections`` processes."""
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_worker, args=(port, per_conn, i, q)) for i in range(connections)]
    for p in procs:
        p.start()
    spans = [q.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    begin = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    return connections * per_conn / (end - begin)


def start_fake() -> tuple[subprocess.Popen[str], int]:
    simdb = str(Path(sys.executable).parent / "simdb")
    proc = subprocess.Popen(
        [simdb, "mysql", "serve", "--port", "0", "--database", "bench", "--user", "root", "--password", "pw"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"ready on [\d.]+:(\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"fake did not start: {line!r}")
    return proc, int(m.group(1))


def make_snapshot(root: Path, rows: int) -> Path:
    out = root / "snap"
    with SnapshotWriter(out, name="bench") as w:
        schema = w.open_file("db", "sql", "sql/db/schema.sql", jsonl=False)
        schema.write_text(
            "CREATE TABLE `events` (\n  `id` bigint NOT NULL,\n  `user_id` int NOT NULL,\n"
            "  `kind` varchar(16) NOT NULL,\n  `score` double DEFAULT NULL,\n"
            "  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n"
        )
        w.add_file("db", schema.close())
        f = w.open_file("db", "sql", "sql/db/tables/events.jsonl")
        kinds = ["view", "click", "save", "hide"]
        for i in range(1, rows + 1):
            f.write({"id": i, "user_id": i % 5000, "kind": kinds[i % 4], "score": (i % 1000) / 10})
        w.add_file("db", f.close())
        w.set_tables("db", ["events"])
        w.commit()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per side (best is kept)")
    args = parser.parse_args()
    per_conn = 2_000 if args.quick else 5_000
    seed_rows = 100_000 if args.quick else 1_000_000

    real = RealMariaDB(database="bench", user="root", password="pw")
    real_port = real.start()
    fake_proc, fake_port = start_fake()
    try:
        _fill(fake_port)
        _fill(real_port)
        print(f"point selects by primary key (PyMySQL, {per_conn} queries per connection)")
        print(f"  (best of {args.rounds} interleaved rounds per side: the machine is shared and noisy)")
        for conns in (1, 4):
            fake_runs, real_runs = [], []
            for _ in range(args.rounds):
                fake_runs.append(point_selects(fake_port, conns, per_conn))
                real_runs.append(point_selects(real_port, conns, per_conn))
            fake_qps, real_qps = max(fake_runs), max(real_runs)
            ratio = fake_qps / real_qps
            verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
            print(
                f"  {conns} connection(s): fake {fake_qps:8.0f} q/s  real MariaDB {real_qps:8.0f} q/s  "
                f"ratio {ratio:.2f} (target >= {TARGET_RATIO}) {verdict}"
            )
    finally:
        fake_proc.terminate()
        fake_proc.wait(timeout=30)
        real.stop()

    with tempfile.TemporaryDirectory() as tmp:
        snap = make_snapshot(Path(tmp), seed_rows)
        store = Store("bench")
        try:
            start = time.perf_counter()
            counts = store.load(snap)
            elapsed = time.perf_counter() - start
        finally:
            store.close()
    rate = counts["events"] / elapsed
    verdict = "ok" if rate >= TARGET_SEED else "BELOW TARGET"
    print(
        f"seeding {counts['events']:,} rows into the fake: {elapsed:.2f}s = {rate:,.0f} rows/s "
        f"(target >= {TARGET_SEED:,}) {verdict}"
    )


if __name__ == "__main__":
    main()
