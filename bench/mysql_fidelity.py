"""Fidelity of the MySQL fake: a fixed-seed generated corpus run on the fake and on a real MariaDB.

Both are seeded with ``seeds/homefeed``; every statement of :func:`simdb.mysql.corpus.generate`
(seed 13, 5,000 statements by default) runs on each and the outcomes are compared (rows with
their decoded Python types, column type families, error codes). A refusal with 1235 counts as
unsupported, not wrong. Baseline: the real MariaDB in the same run.

Targets: 0 wrong answers, 100% agreement on the supported set, supported share >= 95%.

Run: ``.venv/bin/python bench/mysql_fidelity.py [--count N] [--seed S] [--show K]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import pymysql

from simdb.mysql.corpus import SETUP, Statement, generate, outcome, verdict
from simdb.mysql.fake import MySQLConfig, MySQLFake

SEEDS = Path(__file__).resolve().parent.parent / "seeds" / "homefeed"
TARGET_SUPPORTED = 0.95


def _connect(server: MySQLFake) -> pymysql.connections.Connection:
    ep = server.endpoint
    return pymysql.connect(
        host=ep.host, port=ep.port, user="simdb", password="pw", database="homefeed", autocommit=True
    )


def run(count: int, seed: int, show: int) -> int:
    """Run the corpus; print the report; return the number of wrong answers."""
    corpus = generate(random.Random(seed), count)
    servers = [
        MySQLFake(
            MySQLConfig(name=f"fid-{kind}", engine=kind, database="homefeed", user="simdb", password="pw")
        )  # type: ignore[arg-type]
        for kind in ("fake", "real")
    ]
    for s in servers:
        s.start()
        s.load(SEEDS)
        with _connect(s) as conn, conn.cursor() as cur:
            for stmt in SETUP:
                cur.execute(stmt)
    by_cat: dict[str, Counter[str]] = {}
    wrong: list[tuple[Statement, tuple[object, ...], tuple[object, ...]]] = []
    unsupported: Counter[str] = Counter()
    try:
        fake_conn, real_conn = (_connect(s) for s in servers)
        t0 = time.perf_counter()
        with fake_conn.cursor() as fc, real_conn.cursor() as rc:
            for st in corpus:
                got = outcome(fc, st.sql, st.ordered)
                want = outcome(rc, st.sql, st.ordered)
                v = verdict(got, want)
                by_cat.setdefault(st.category, Counter())[v] += 1
                if v == "wrong":
                    wrong.append((st, got, want))
                elif v == "unsupported":
                    unsupported[str(got[2])[:90]] += 1
        elapsed = time.perf_counter() - t0
    finally:
        for s in servers:
            s.stop()
    total = Counter[str]()
    print(f"MySQL fake fidelity: {count} generated statements (seed {seed}) vs real MariaDB, {elapsed:.1f}s")
    print(
        f"  {'category':<12} {'statements':>10} {'agree':>7} {'unsupported':>11} {'wrong':>6} "
        f"{'agreement on supported':>23}"
    )
    for cat in sorted(by_cat):
        c = by_cat[cat]
        total.update(c)
        n = sum(c.values())
        sup = c["agree"] + c["wrong"]
        share = f"{100 * c['agree'] / sup:.1f}%" if sup else "-"
        print(f"  {cat:<12} {n:>10} {c['agree']:>7} {c['unsupported']:>11} {c['wrong']:>6} {share:>23}")
    n = sum(total.values())
    sup = total["agree"] + total["wrong"]
    supported_share = sup / n if n else 0.0
    print(
        f"  total: {n} statements, wrong answers {total['wrong']} (target 0), agreement on supported "
        f"{100 * total['agree'] / max(sup, 1):.2f}% (target 100%), supported {100 * supported_share:.1f}% "
        f"(target >= {100 * TARGET_SUPPORTED:.0f}%) "
        + ("ok" if supported_share >= TARGET_SUPPORTED and not wrong else "BELOW TARGET")
    )
    if unsupported:
        print("  refusals (1235) by message:")
        for msg, k in unsupported.most_common(8):
            print(f"    {k:>5}  {msg}")
    for st, got, want in wrong[:show]:
        print(f"  WRONG [{st.category}] {st.sql}\n    fake {str(got)[:300]}\n    real {str(want)[:300]}")
    return len(wrong)


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=5000, help="statements in the corpus")
    parser.add_argument("--seed", type=int, default=13, help="corpus seed")
    parser.add_argument("--show", type=int, default=10, help="wrong answers to print")
    args = parser.parse_args()
    sys.exit(1 if run(args.count, args.seed, args.show) else 0)


if __name__ == "__main__":
    main()
