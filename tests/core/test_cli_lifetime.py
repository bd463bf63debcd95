"""`simdb <kind> serve` runs until Ctrl-C or `kill`, then stops its fake and exits 0."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fake
ROOT = Path(__file__).resolve().parents[2]
HOMEFEED = ROOT / "thrift" / "homefeed"

SERVE = {
    "thrift": ["thrift", "serve", str(HOMEFEED / "pinstore.thrift"), "--service", "PinStore",
               "--include-dir", str(HOMEFEED), "--port", "0"],
    "redis": ["redis", "serve", "--port", "0"],
    "mysql": ["mysql", "serve", "--port", "0"],
}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("kind", sorted(SERVE))
def test_serve_stops_cleanly_on_a_signal(kind: str, sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simdb", *SERVE[kind]],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "127.0.0.1:" in line, line
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0, proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
