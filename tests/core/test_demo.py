"""The demo home-feed stack, end to end: the Quickstart's main job (``simdb demo`` is ``up`` of its file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simdb.demo import demo_stack_file, home_feed
from simdb.stack.load import load_stack
from simdb.stack.run import StackRun

pytestmark = pytest.mark.fake
ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_is_the_example_stack_file() -> None:
    assert demo_stack_file() == ROOT / "examples" / "homefeed" / "simdb.yaml"


def test_one_home_feed_request_is_repeatable_across_stores() -> None:
    with StackRun(load_stack(demo_stack_file())) as run:
        eps = run.endpoints()
        assert set(eps) == {"pinstore", "usergraph", "candidates", "ranker", "cache", "db"}
        result = home_feed(eps, user_id=1)
        again = home_feed(eps, user_id=1)
    assert result == again
    followees = result["followees (usergraph)"]
    assert followees and sorted(followees) == sorted(int(x) for x in result["followee cache (redis)"])
    pins = result["candidates (candidates)"]
    assert pins and all(1001 <= p <= 1200 for p in pins)
    assert sorted(pin for pin, _ in result["top ranked (ranker)"]) == sorted(pins)
    assert result["user (mysql)"][0] == 1
    assert result["pins (mysql)"] == 200


def _simdb(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simdb", *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )


def test_demo_command_once(tmp_path: Path) -> None:
    proc = _simdb("demo", "--once", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "one home-feed request for user 1" in proc.stdout
    assert "redis://127.0.0.1:" in proc.stdout and "mysql+pymysql://" in proc.stdout
    # --once stops the stack: no state or endpoints of a stack that no longer runs are left behind
    assert not list((tmp_path / ".simdb" / "homefeed").glob("*.json"))


def test_demo_detached_then_down(tmp_path: Path) -> None:
    """The demo stack file under ``up --detach``: ``ps`` and ``env`` see it, ``down`` stops it."""
    file = str(demo_stack_file())
    up = _simdb("up", "-f", file, "--detach", cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        endpoints = json.loads((tmp_path / ".simdb" / "homefeed" / "endpoints.json").read_text())
        assert endpoints["cache"]["url"].startswith("redis://127.0.0.1:")
        env = _simdb("env", "-f", file, cwd=tmp_path)
        assert "SIMDB_DB_URL=mysql+pymysql://" in env.stdout, env.stdout + env.stderr
    finally:
        down = _simdb("down", "-f", file, cwd=tmp_path)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (tmp_path / ".simdb" / "homefeed" / "state.json").exists()


def test_demo_refuses_a_stack_whose_snapshot_is_missing(tmp_path: Path) -> None:
    text = demo_stack_file().read_text().replace("snapshot: ../../seeds/homefeed", "snapshot: nope")
    broken = tmp_path / "simdb.yaml"
    broken.write_text(text.replace("../../", str(ROOT) + "/").replace("bindings: bindings.yaml", ""))
    proc = _simdb("demo", "--once", "-f", str(broken), cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "snapshot" in proc.stdout and "nope" in proc.stdout and "Traceback" not in proc.stderr


def test_init_writes_a_stack_that_checks_and_runs_outside_the_repository(tmp_path: Path) -> None:
    proc = _simdb("init", "mine", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    here = tmp_path / "mine"
    assert {p.name for p in here.iterdir()} >= {"simdb.yaml", "bindings.yaml", "thrift", "seeds"}
    assert str(ROOT) not in (here / "simdb.yaml").read_text()
    check = _simdb("check", cwd=here)
    assert check.returncode == 0, check.stdout + check.stderr
    again = _simdb("init", "mine", cwd=tmp_path)
    assert again.returncode == 2 and "not overwriting" in again.stdout
