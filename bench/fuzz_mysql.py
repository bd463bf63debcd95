"""Long-running fuzzing of the MySQL fake's command phase: ``bench/fuzz_mysql.py --minutes N``.

Mutated, cut, mis-framed and split command packets (tests/mysql/fuzzing.py) on logged-in connections;
after each input a fresh connection must be answered, the data unchanged and no traceback logged.
Findings are written to tests/mysql/fuzz_corpus/ (replayed by tests/mysql/test_packet_fuzz.py).
Prints inputs per second and findings (target 0).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from simdb.hypothesis_compat import NoValue, draw_with  # noqa: E402
from simdb.mysql.fake import MySQLConfig, MySQLFake  # noqa: E402
from tests.mysql.fuzzing import check_healthy, hostile_inputs, logged_in, prepare, send_in_pieces, state  # noqa: E402

CORPUS = REPO / "tests" / "mysql" / "fuzz_corpus"


class Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    tracebacks = Tracebacks()
    logging.getLogger().addHandler(tracebacks)
    fake = MySQLFake(MySQLConfig(user="simdb", password="secret", database="simdb_test"))
    fake.start()
    tried = found = 0
    try:
        prepare(fake)
        before = state(fake)
        started = time.monotonic()
        until = started + opts.minutes * 60
        while time.monotonic() < until:
            try:
                data, cuts = draw_with(hostile_inputs(), random.Random(opts.seed * 1_000_003 + tried))
            except NoValue:
                continue
            tried += 1
            conn = logged_in(fake)
            try:
                send_in_pieces(conn._sock, data, cuts)
            finally:
                with contextlib.suppress(Exception):
                    conn._sock.close()
            try:
                check_healthy(fake, before)
                if tracebacks.records:
                    raise AssertionError(tracebacks.records[0].getMessage())
            except AssertionError as exc:
                found += 1
                path = CORPUS / f"found-{hashlib.sha256(data).hexdigest()[:12]}.hex"
                path.write_text(data.hex() + "\n")
                print(f"finding: {exc} -> {path}", flush=True)
                tracebacks.records.clear()
        rate = tried / max(1e-9, time.monotonic() - started)
        print(f"mysql command phase: inputs {tried} ({rate:.0f}/s), findings {found} (target 0)")
    finally:
        fake.stop()
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
