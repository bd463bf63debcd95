"""The three worked examples of docs/contracts.md (examples/contract/test_*.py), run as readers run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "contract"


def test_the_worked_examples_pass_on_the_demo_stack() -> None:
    command = [
        *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(EXAMPLES)),
        *("--simdb-stack", str(ROOT / "examples" / "homefeed" / "simdb.yaml")),
    ]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    files = sorted(p.name for p in EXAMPLES.glob("test_*.py"))
    assert files == ["test_consumer.py", "test_fake_vs_recording.py", "test_provider.py"]
    assert "6 passed" in run.stdout, run.stdout[-2000:]
