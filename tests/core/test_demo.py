"""The demo home-feed stack, end to end: the Quickstart's main job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simdb.demo import DemoPaths, build_fakes, home_feed
from simdb.runner import EmbeddedStack

pytestmark = pytest.mark.fake
ROOT = Path(__file__).resolve().parents[2]


def test_one_home_feed_request_is_consistent_across_stores() -> None:
    paths = DemoPaths.find(ROOT)
    with EmbeddedStack(build_fakes(paths), snapshot=paths.snapshot) as stack:
        eps = stack.endpoints()
        assert set(eps) == {"pinstore", "usergraph", "candidates", "ranker", "cache", "db"}
        result = home_feed(eps, paths, user_id=1)
        again = home_feed(eps, paths, user_id=1)
    assert result == again
    followees = result["followees (usergraph)"]
    assert followees and sorted(followees) == sorted(int(x) for x in result["followee cache (redis)"])
    pins = result["candidates (candidates)"]
    assert pins and all(1001 <= p <= 1200 for p in pins)
    assert [t.rsplit(" ", 1)[-1] for t in result["pin titles (pinstore)"]] == [str(p) for p in pins]
    assert result["user features (redis)"]
    assert result["user (mysql)"][0] == 1
    assert result["pins (mysql)"] == 200


def test_demo_command_once(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simdb", "demo", "--once", "--root", str(ROOT), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "one home-feed request for user 1" in proc.stdout
    endpoints = json.loads((tmp_path / "endpoints.json").read_text())
    assert endpoints["cache"]["url"].startswith("redis://127.0.0.1:")
    assert "SIMDB_DB_URL=mysql+pymysql://" in (tmp_path / "endpoints.env").read_text()


def test_demo_refuses_a_missing_snapshot(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simdb", "demo", "--once", "--root", str(ROOT),
         "--snapshot", str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "demo snapshot not found" in proc.stdout and "nope" in proc.stdout
