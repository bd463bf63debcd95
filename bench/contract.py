"""``simdb contract verify`` throughput against the demo PinStore fake: ``python bench/contract.py``.

Measures examples per second of ``verify`` on ``PinStore.getPin`` (generation, the call, the wire
check, the decode and a user property per example) and, as the baseline in the same run, a plain
loop of the very same calls with the official Apache Thrift Python client (code from Debian's
thrift compiler, no checks). Prints both, their ratio, and the target: at least 1,000 examples/s.
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
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from simdb.contract.props import Property  # noqa: E402 - needs the repository root on sys.path first
from simdb.contract.verify import Target, VerifySettings, verify  # noqa: E402
from simdb.thrift.fake import ThriftConfig, ThriftFake  # noqa: E402
from simdb.thrift.idl import load_idl  # noqa: E402
from simdb.thrift.model import service_model  # noqa: E402
from tests.interop import codegen  # noqa: E402
from tests.interop.calls import connect  # noqa: E402

TARGET_EXAMPLES_PER_S = 1_000
IDL = REPO / "thrift" / "homefeed" / "pinstore.thrift"
STUBS = REPO / "examples" / "homefeed-stubs" / "pinstore.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000, help="examples of getPin (default 3000)")
    opts = parser.parse_args()
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
            examples=opts.examples,
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


if __name__ == "__main__":
    sys.exit(main())
