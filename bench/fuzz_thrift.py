"""Long-running protocol fuzzing of the Thrift fake: ``bench/fuzz_thrift.py --minutes N``.

The same structure-aware fuzzer as ``tests/thrift/test_fuzz.py`` (mutations of valid binary and
compact messages, buffered and framed, for the PinStore demo IDL and a uuid IDL), run in rounds
until the time is up. After every input a
fresh connection must be answered, nothing may be logged with a traceback and the stubs must be
unchanged. A failing input is shrunk by hypothesis and written to ``tests/thrift/fuzz_corpus/`` as
``<protocol>-<transport>-found-<hash>.hex``, where the tests replay it from then on.

Reports inputs tried per kind and findings; the target is 0 findings.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.thrift.fuzzing import (  # noqa: E402 - needs the repository root on sys.path first
    CORPUS,
    KINDS,
    TARGETS,
    check_healthy,
    fuzz_target,
    mutated,
    send_and_drain,
    state_of,
    valid_messages,
    wrap,
)


def fuzz_kind(
    protocol: str, transport: str, target: str, until: float, round_size: int
) -> tuple[int, list[Path]]:
    """Fuzz one IDL/protocol/transport until ``until``; returns inputs tried and corpus files written."""
    tried = 0
    found: list[Path] = []
    with fuzz_target(protocol, transport, target) as (fake, tracebacks):
        messages = valid_messages(fake)
        before = state_of(fake)
        last: list[bytes] = [b""]

        @settings(max_examples=round_size, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data: st.DataObject) -> None:
            nonlocal tried
            raw = wrap(fake, data.draw(mutated(messages)))
            last[0] = raw
            tried += 1
            send_and_drain(fake, raw, half_close=data.draw(st.integers(0, 3)) > 0)
            check_healthy(fake, tracebacks, before)

        while time.monotonic() < until:
            try:
                run()
            except Exception as exc:  # a finding: keep the (shrunk) input that failed last
                digest = hashlib.sha256(last[0]).hexdigest()[:12]
                path = CORPUS / f"{protocol}-{transport}-found-{digest}.hex"
                path.write_text(last[0].hex() + "\n")
                found.append(path)
                print(f"  finding ({type(exc).__name__}: {str(exc)[:200]}) -> {path}", flush=True)
                tracebacks.records.clear()
    return tried, found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=1.0, help="total run time (split across kinds)")
    parser.add_argument("--round", type=int, default=200, help="examples per hypothesis round")
    args = parser.parse_args()
    runs = [(t, p, tr) for t in sorted(TARGETS) for p, tr in KINDS]
    per_kind = args.minutes * 60 / len(runs)
    total_found = 0
    for target, protocol, transport in runs:
        started = time.monotonic()
        tried, found = fuzz_kind(protocol, transport, target, started + per_kind, args.round)
        rate = tried / max(1e-9, time.monotonic() - started)
        line = f"{target:9} {protocol:8} {transport:9} inputs {tried:7d} ({rate:5.0f}/s)"
        line += f"  findings {len(found)}"
        print(line, flush=True)
        total_found += len(found)
    print(f"findings: {total_found} (target 0)")
    return 1 if total_found else 0


if __name__ == "__main__":
    raise SystemExit(main())
