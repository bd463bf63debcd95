"""Worked example 2: ``simdb contract verify`` checks a provider -- here the demo stack's fakes.

Run: ``pytest examples/contract/test_provider.py --simdb-stack examples/homefeed/simdb.yaml``.
The same command line checks a real PinStore: point ``--target`` at it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
IDL = HERE.parent.parent / "thrift" / "homefeed"


def verify(service: str, idl: str, target: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        *(sys.executable, "-m", "simdb", "contract", "verify"),
        *("--idl", str(IDL / idl), "--service", service, "--target", target),
        *("--properties", str(HERE / "homefeed_props.py"), "--examples", "30", "--seed", "1", *extra),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_pinstore_keeps_its_contract(simdb_stack, tmp_path):
    junit = tmp_path / "contract.xml"
    run = verify(
        "PinStore", "pinstore.thrift", simdb_stack.endpoint("pinstore").address, "--junit", str(junit)
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all 5 methods passed" in run.stdout
    assert 'failures="0"' in junit.read_text()


def test_a_domain_rule_the_ranker_fake_breaks(simdb_stack):
    # The demo binding ranks only candidates with features in Redis (``missing: skip``), so
    # "rank returns a permutation of its input" fails, shrunk to a one-candidate call.
    run = verify("Ranker", "ranker.thrift", simdb_stack.endpoint("ranker").address, "--method", "rank")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "rank: property rank_returns_a_permutation failed" in run.stdout
    assert "smallest failing call: rank(" in run.stdout
