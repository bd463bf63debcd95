"""``pip install`` of simdb's wheel, then the demo outside this repository: the demo stack, its IDLs,
bindings and snapshot ship as package data."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.fake, pytest.mark.slow]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with simdb installed from its wheel, offline, from the image wheelhouse."""
    from simdb.images.wheelhouse import build_wheelhouse, locked, wheelhouse_dir

    version = platform.python_version()
    wheels = wheelhouse_dir(version)
    with locked(wheels):
        build_wheelhouse(version)
        venv = tmp_path_factory.mktemp("installed") / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--no-index", "--find-links", str(wheels), "simdb"],
            check=True, timeout=600, capture_output=True,
        )
    return venv


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(venv / "bin" / "simdb"), *args], cwd=cwd, env={**env, "COLUMNS": "200"},
        capture_output=True, text=True, timeout=180,
    )


def test_the_demo_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    proc = run(installed, "demo", "--once", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "one home-feed request for user 1" in proc.stdout


def test_init_then_check_and_up_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    assert run(installed, "init", cwd=tmp_path).returncode == 0
    check = run(installed, "check", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    up = run(installed, "up", "--detach", cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        ps = run(installed, "ps", cwd=tmp_path)
        assert ps.returncode == 0 and "pinstore" in ps.stdout, ps.stdout + ps.stderr
    finally:
        down = run(installed, "down", cwd=tmp_path)
    assert down.returncode == 0, down.stdout + down.stderr
