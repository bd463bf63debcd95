"""``simdb contract verify --target NAME``: a running stack's Thrift fake, its IDL and wire by default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.fake
IDL = Path(__file__).resolve().parents[2] / "thrift" / "homefeed"


def simdb(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simdb", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180)


def test_verify_a_stack_fake_by_name(tmp_path: Path) -> None:
    stack = {"name": "verifyme", "fakes": {
        "cache": {"kind": "redis"},
        "pinstore": {"kind": "thrift", "idl": str(IDL / "pinstore.thrift"), "include_dirs": [str(IDL)],
                     "services": ["PinStore"], "protocol": "compact", "transport": "framed"}}}
    (tmp_path / "simdb.yaml").write_text(yaml.safe_dump(stack))
    missing = simdb("contract", "verify", "--target", "pinstore", "--examples", "3", cwd=tmp_path)
    assert missing.returncode == 2 and "is not running" in missing.stdout + missing.stderr
    up = simdb("up", "--detach", cwd=tmp_path)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        ok = simdb("contract", "verify", "--target", "pinstore", "--examples", "5", "--seed", "1",
                   cwd=tmp_path)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "getPin" in ok.stdout
        wrong = simdb("contract", "verify", "--target", "cache", cwd=tmp_path)
        assert wrong.returncode == 2 and "its Thrift fakes: pinstore" in wrong.stdout + wrong.stderr
    finally:
        down = simdb("down", cwd=tmp_path)
    assert down.returncode == 0, down.stdout + down.stderr
