"""Snapshot capture and load against the native tools, in one run.

Redis (N keys: 90% strings, 10% hashes of 4 fields) on a real redis-server:
  load     simdb ``load_redis``            vs ``redis-cli --pipe`` of the same commands
  capture  simdb ``capture_redis``         vs ``redis-cli --rdb`` (a full binary dump; the fastest
                                            native way out; ``redis-cli --scan`` alone printed for scale)
SQL (N rows: users N/100, pins the rest, with a foreign key) on a real MariaDB:
  capture  simdb ``capture_sql``           vs ``mariadb-dump``
  load     simdb ``load_sql``              vs restoring that dump with ``mariadb``

Prints rates, the ratio simdb time / native time, and the target (within 2x: ratio <= 2.0).
Run: ``.venv/bin/python bench/snapshot.py`` (1,000,000 keys and rows) or ``--quick`` (100,000).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/redis.py would shadow the redis package: drop this directory from the path, add the repo.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import sqlalchemy as sa  # noqa: E402

from simdb.mysql.real import RealMariaDB  # noqa: E402
from simdb.redis.real import RealRedis  # noqa: E402
from simdb.snapshot.capture_redis import capture_redis  # noqa: E402
from simdb.snapshot.capture_sql import capture_sql  # noqa: E402
from simdb.snapshot.load_redis import load_redis  # noqa: E402
from simdb.snapshot.load_sql import load_sql  # noqa: E402
from simdb.snapshot.writer import SnapshotWriter  # noqa: E402

TARGET = 2.0
results: list[tuple[str, str, float, float, int]] = []


def cmd(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def redis_commands(n: int, path: Path) -> None:
    rng = random.Random(7)
    with open(path, "wb") as fh:
        buf = []
        for i in range(n):
            key = b"bench:%08d" % i
            if i % 10 == 9:
                fields = []
                for f in (b"ctr", b"age", b"locale", b"score"):
                    fields += [f, b"%d" % rng.randrange(10**6)]
                buf.append(cmd(b"HSET", key, *fields))
            else:
                buf.append(cmd(b"SET", key, b"value-%d-%s" % (i, b"x" * rng.randrange(8, 32))))
            if len(buf) >= 10000:
                fh.write(b"".join(buf))
                buf = []
        fh.write(b"".join(buf))


def timed(label: str, fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    took = time.perf_counter() - start
    print(f"  {label:<46} {took:8.2f} s", flush=True)
    return took


def report(what: str, n: int, simdb_s: float, native_s: float, native: str) -> None:
    results.append((what, native, simdb_s, native_s, n))


def bench_redis(n: int, work: Path) -> None:
    print(f"Redis: {n:,} keys", flush=True)
    server = RealRedis()
    server.start()
    url = f"redis://127.0.0.1:{server.port}"
    client = server.client()
    cli = shutil.which("redis-cli") or "redis-cli"
    try:
        resp = work / "keys.resp"
        redis_commands(n, resp)

        def native_load() -> None:
            with open(resp, "rb") as fh:
                subprocess.run(
                    [cli, "-p", str(server.port), "--pipe"], stdin=fh, check=True, stdout=subprocess.DEVNULL
                )

        client.flushall()
        native_load_s = timed("redis-cli --pipe (load)", native_load)
        assert client.dbsize() == n
        rdb = work / "dump.rdb"
        client.config_set("repl-diskless-sync-delay", 0)  # no 5 s wait before the RDB transfer starts
        native_rdb_s = timed(
            "redis-cli --rdb (capture)",
            lambda: subprocess.run(
                [cli, "-p", str(server.port), "--rdb", str(rdb)], check=True, capture_output=True
            ),
        )
        timed(
            "redis-cli --scan (keys only, for scale)",
            lambda: subprocess.run(
                [cli, "-p", str(server.port), "--scan"], check=True, stdout=subprocess.DEVNULL
            ),
        )
        snap = work / "redis-snap"

        def capture() -> None:
            with SnapshotWriter(snap, "bench") as w:
                stats = capture_redis(w, "cache", url)
                assert stats.total == n, stats
                w.commit()

        capture_s = timed("simdb capture_redis", capture)
        client.flushall()
        load_s = timed("simdb load_redis", lambda: load_redis(url, snap, "cache"))
        assert client.dbsize() == n
        report("Redis capture", n, capture_s, native_rdb_s, "redis-cli --rdb")
        report("Redis load", n, load_s, native_load_s, "redis-cli --pipe")
    finally:
        client.close()
        server.stop()


def fill_sql(maria: RealMariaDB, n: int, work: Path) -> None:
    users = max(1, n // 100)
    pins = n - users
    path = work / "fill.sql"
    rng = random.Random(11)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("SET FOREIGN_KEY_CHECKS=0;\n")
        fh.write(
            "CREATE TABLE users (id INT NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL, "
            "name VARCHAR(100), created DATETIME NOT NULL) ENGINE=InnoDB;\n"
        )
        fh.write(
            "CREATE TABLE pins (id BIGINT NOT NULL PRIMARY KEY, user_id INT NOT NULL, title VARCHAR(200) "
            "NOT NULL, score DOUBLE, price DECIMAL(8,2), created DATETIME NOT NULL, "
            "FOREIGN KEY (user_id) REFERENCES users(id)) ENGINE=InnoDB;\n"
        )
        for table, count in (("users", users), ("pins", pins)):
            rows = []
            for i in range(1, count + 1):
                if table == "users":
                    rows.append(f"({i},'user{i}@example.com','User {i}','2024-01-01 00:00:{i % 60:02d}')")
                else:
                    rows.append(
                        f"({i},{1 + i % users},'pin title {i}',{rng.random():.6f},"
                        f"{'NULL' if i % 3 else str(i % 1000) + '.25'},'2024-02-03 04:05:{i % 60:02d}')"
                    )
                if len(rows) >= 5000:
                    fh.write(f"INSERT INTO {table} VALUES {','.join(rows)};\n")
                    rows = []
            if rows:
                fh.write(f"INSERT INTO {table} VALUES {','.join(rows)};\n")
    mariadb = shutil.which("mariadb") or "mariadb"
    with open(path, "rb") as fh:
        subprocess.run([mariadb, f"--socket={maria.socket_path}", "-uroot", "bench"], stdin=fh, check=True)


def _driver() -> str:
    """mysqlclient (C) when installed (pip install '.[fast-mysql]'), else PyMySQL."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        return "pymysql"
    return "mysqldb"


DRIVER = _driver()


def bench_sql(n: int, work: Path) -> None:
    print(f"SQL: {n:,} rows (simdb through the {DRIVER} driver)", flush=True)
    maria = RealMariaDB(database="bench")
    maria.start()

    def url(database: str) -> str:
        return maria.url(database).replace("+pymysql://", f"+{DRIVER}://")

    mariadb = shutil.which("mariadb") or "mariadb"
    dump_tool = shutil.which("mariadb-dump") or "mariadb-dump"
    try:
        fill_sql(maria, n, work)
        admin = maria.admin()
        with admin.cursor() as cur:
            for db in ("native_restore", "simdb_load"):
                cur.execute(f"CREATE DATABASE {db}")
        admin.close()
        dump = work / "dump.sql"

        def native_dump() -> None:
            with open(dump, "wb") as fh:
                subprocess.run(
                    [dump_tool, f"--socket={maria.socket_path}", "-uroot", "--single-transaction", "bench"],
                    stdout=fh,
                    check=True,
                )

        dump_s = timed("mariadb-dump (capture)", native_dump)
        snap = work / "sql-snap"

        def capture() -> None:
            with SnapshotWriter(snap, "bench") as w:
                stats = capture_sql(w, "db", url("bench"))
                assert stats.total == n, stats
                w.commit()

        capture_s = timed(f"simdb capture_sql ({DRIVER})", capture)

        def native_restore() -> None:
            with open(dump, "rb") as fh:
                subprocess.run(
                    [mariadb, f"--socket={maria.socket_path}", "-uroot", "native_restore"],
                    stdin=fh,
                    check=True,
                )

        restore_s = timed("mariadb < dump (load)", native_restore)
        load_s = timed(f"simdb load_sql ({DRIVER})", lambda: load_sql(url("simdb_load"), snap, "db"))
        engine = sa.create_engine(maria.url("simdb_load"))
        with engine.connect() as conn:
            got = sum(
                conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar() or 0 for t in ("users", "pins")
            )
        engine.dispose()
        assert got == n, got
        report("SQL capture", n, capture_s, dump_s, "mariadb-dump")
        report("SQL load", n, load_s, restore_s, "mariadb < dump")
    finally:
        maria.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 keys and rows instead of 1,000,000")
    parser.add_argument("-n", type=int, default=0, help="keys and rows (overrides --quick)")
    parser.add_argument("--only", choices=["redis", "sql"], default=None)
    args = parser.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    work = Path(tempfile.mkdtemp(prefix="simdb-bench-snapshot-"))
    print(f"bench/snapshot.py: n={n:,}, {os.cpu_count()} cores, work dir {work}", flush=True)
    try:
        if args.only in (None, "redis"):
            bench_redis(n, work)
        if args.only in (None, "sql"):
            bench_sql(n, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(
        f"{'what':<14} {'n':>10} {'simdb s':>9} {'simdb /s':>11} {'native':<16} {'native s':>9} "
        f"{'native /s':>11} {'ratio':>6}  target"
    )
    ok = True
    for what, native, s, ns, count in results:
        ratio = s / ns if ns else float("inf")
        ok &= ratio <= TARGET
        print(
            f"{what:<14} {count:>10,} {s:>9.2f} {count / s:>11,.0f} {native:<16} {ns:>9.2f} "
            f"{count / ns:>11,.0f} {ratio:>6.2f}  <= {TARGET} {'met' if ratio <= TARGET else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
