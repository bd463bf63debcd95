"""``simdb thrift compat`` cost on the demo IDLs: ``python bench/compat.py``.

Measures :func:`simdb.thrift.compat.compare` on every demo IDL against a copy of itself (every
service, method, field and type walked and compared) and, as the baseline in the same run, loading
the same two IDLs with simdb's loader (which ``simdb thrift compat`` has to do anyway). Prints both,
their ratio and the target: comparing costs at most as much as loading (ratio <= 1.0), so a pull
request gate's time is the parse.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from simdb.thrift.compat import compare  # noqa: E402 - needs the repository root on sys.path first
from simdb.thrift.idl import load_idl  # noqa: E402

TARGET_RATIO = 1.0
IDLS = sorted((REPO / "thrift" / "homefeed").glob("*.thrift"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds over the demo IDLs (default 20)")
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    opts = parser.parse_args()
    rounds = 3 if opts.quick else opts.rounds
    load_s = compare_s = 0.0
    changes = 0
    for _ in range(rounds):
        for idl in IDLS:
            started = time.perf_counter()
            old, new = load_idl(idl), load_idl(idl)
            loaded = time.perf_counter()
            report = compare(old, new)
            compare_s += time.perf_counter() - loaded
            load_s += loaded - started
            changes += len(report.changes)
    assert changes == 0, "a demo IDL differs from itself"
    per = rounds * len(IDLS)
    ratio = compare_s / load_s
    print(f"compare (simdb thrift compat):  {compare_s / per * 1000:8.3f} ms per pair of IDLs")
    print(f"baseline (load_idl, twice):     {load_s / per * 1000:8.3f} ms per pair of IDLs")
    print(f"ratio compare/load: {ratio:.3f} (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
