"""``simdb contract verify`` throughput against the demo PinStore fake: ``python bench/contract.py``.

Measures examples per second of ``verify`` on ``PinStore.getPin`` (generation, the call, the wire
check, the decode and a user property per example) and, as the baseline in the same run, a plain
loop of the very same calls with the official Apache Thrift Python client (code from Debian's
thrift compiler, no checks). Prints both, their ratio, and the target: at least 1,000 examples/s.

Then the per-test reset of the demo stack (``examples/homefeed/simdb.yaml``, embedded, as the
pytest plugin resets it before every test) after a test's worth of changes (a Redis write, a MySQL
update, a stub, a fault and a few calls), next to its baseline in the same run: restarting the
stack, what a test would do without reset. Target: reset under 50 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# bench/redis.py and bench/mysql.py would shadow the client libraries the stack imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from simdb.contract.props import Property  # noqa: E402 - needs the repository root on sys.path first
from simdb.contract.verify import Target, VerifySettings, verify  # noqa: E402
from simdb.testing.overrides import Overrides  # noqa: E402
from simdb.testing.session import StackSession  # noqa: E402
from simdb.thrift.fake import ThriftConfig, ThriftFake  # noqa: E402
from simdb.thrift.idl import load_idl  # noqa: E402
from simdb.thrift.model import service_model  # noqa: E402
from tests.interop import codegen  # noqa: E402
from tests.interop.calls import connect  # noqa: E402

TARGET_EXAMPLES_PER_S = 1_000
TARGET_RESET_MS = 50.0
STACK = REPO / "examples" / "homefeed" / "simdb.yaml"
IDL = REPO / "thrift" / "homefeed" / "pinstore.thrift"
STUBS = REPO / "examples" / "homefeed-stubs" / "pinstore.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000, help="examples of getPin (default 3000)")
    parser.add_argument("--resets", type=int, default=50, help="stack resets (default 50)")
    opts = parser.parse_args()
    status = bench_verify(opts.examples)
    return status or bench_reset(opts.resets)


def bench_verify(examples_wanted: int) -> int:
    """Examples per second of verify on PinStore.getPin, against the Apache client loop."""
    thrift = codegen.which("thrift")
    if thrift is None:
        print("thrift not found: install the Debian package thrift-compiler", file=sys.stderr)
        return 2
    apache = codegen.import_gen_py(codegen.generate(thrift, Path(tempfile.mkdtemp()) / "py", "py"))
    model = service_model(load_idl(IDL), "PinStore")
    fake = ThriftFake(ThriftConfig(idl=IDL, services=("PinStore",), stubs=(STUBS,)))
    ep = fake.start()
    try:
        seen: list[int] = []

        def record(args: Any, result: Any) -> bool:
            seen.append(args.id)
            return True

        settings = VerifySettings(
            examples=examples_wanted,
            seed=1,
            methods=("getPin",),
            properties=(Property("getPin", record, exceptions=True),),
        )
        started = time.perf_counter()
        report = verify(model, Target(ep.host, ep.port), settings)
        verify_s = time.perf_counter() - started
        if not report.ok:
            print(f"verify failed: {report.to_dict()}", file=sys.stderr)
            return 1
        examples = report.methods[0].examples
        not_found = apache["types"].PinNotFound
        with connect(apache["pinstore"], ep.host, ep.port) as client:
            started = time.perf_counter()
            for pin_id in seen:
                with contextlib.suppress(not_found):
                    client.getPin(pin_id)
            loop_s = time.perf_counter() - started
    finally:
        fake.stop()
    rate = examples / verify_s
    baseline = len(seen) / loop_s
    print(f"contract verify PinStore.getPin: {examples} examples in {verify_s:.2f} s: {rate:,.0f}/s")
    print(f"baseline, Apache client loop of the same {len(seen)} calls: {baseline:,.0f} calls/s")
    print(f"ratio verify/baseline: {rate / baseline:.2f}")
    verdict = "OK" if rate >= TARGET_EXAMPLES_PER_S else "BELOW TARGET"
    print(f"target: >= {TARGET_EXAMPLES_PER_S:,} examples/s: {verdict}")
    return 0


def _dirty(session: StackSession, client: Any, engine: Any, step: int) -> None:
    """What one test may leave behind: a Redis write, a MySQL update, a stub, a fault, calls."""
    from sqlalchemy import text

    session.client("cache").set(f"bench:{step}", "1")
    with engine.begin() as conn:
        conn.execute(text("UPDATE pins SET title = :t WHERE id = 1001"), {"t": f"bench {step}"})
    overrides = Overrides(session)
    stub = {"method": "getPin", "args": {"id": 7}, "reply": {"return": {"id": 7, "ownerId": 1}}}
    overrides.stub("pinstore", stub)
    overrides.faults("ranker", {"score": {"fixed_ms": 0}})
    client.getPin(1001)
    client.getPin(7)


def bench_reset(resets: int) -> int:
    """Per-test reset of the demo stack after a test's changes, against restarting the stack."""
    session = StackSession(STACK)
    started = time.perf_counter()
    session.start()
    start_s = time.perf_counter() - started
    try:
        client, engine = session.client("pinstore"), session.client("db")
        times = []
        for step in range(resets):
            _dirty(session, client, engine, step)
            times.append(session.reset())
        assert client.getPin(1001).title == "Recipes idea 1001", "the reset did not restore MySQL"
    finally:
        session.stop()
    times.sort()
    mean_ms = sum(times) / len(times) * 1000.0
    p95_ms = times[min(len(times) - 1, int(len(times) * 0.95))] * 1000.0
    print(f"per-test reset of the demo stack ({len(session.names)} fakes): {len(times)} resets, ", end="")
    print(f"mean {mean_ms:.2f} ms, p95 {p95_ms:.2f} ms, max {times[-1] * 1000.0:.2f} ms")
    print(f"baseline, starting the stack afresh: {start_s * 1000.0:,.0f} ms")
    print(f"ratio reset/start: {mean_ms / (start_s * 1000.0):.4f}")
    verdict = "OK" if mean_ms < TARGET_RESET_MS else "ABOVE TARGET"
    print(f"target: reset < {TARGET_RESET_MS:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
