"""`simdb redis serve`: prints its endpoint when ready and serves a snapshot."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import redis

from simdb.redis.records import RedisRecord
from tests.redis.test_seed import write_snapshot

pytestmark = pytest.mark.fake
JSON = {"Content-Type": "application/json"}

SIMDB = [sys.executable, "-c", "import sys; from simdb.cli import main; sys.argv[0] = 'simdb'; main()"]


def test_serve_prints_endpoint_and_serves_the_snapshot(tmp_path: Path) -> None:
    snap = write_snapshot(
        tmp_path / "snap", {0: [RedisRecord.make(b"hello", "string", b"world")]}, part="feed"
    )
    proc = subprocess.Popen(
        [
            *SIMDB,
            "redis",
            "serve",
            "--port",
            "0",
            "--admin-port",
            "0",
            "--snapshot",
            str(snap),
            "--part",
            "feed",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        m = re.search(r"redis://([\d.]+):(\d+)/0", ready)
        assert m, ready + (proc.stderr.read() if proc.stderr and proc.poll() is not None else "")
        admin = proc.stdout.readline()
        admin_url = re.search(r"(http://\S+)/health", admin)
        assert admin_url, admin
        with redis.Redis(host=m.group(1), port=int(m.group(2))) as client:
            assert client.get("hello") == b"world"
            client.set("hello", "changed")
            with urllib.request.urlopen(
                urllib.request.Request(
                    admin_url.group(1) + "/reset", method="POST", data=b"", headers=JSON
                )
            ) as resp:
                assert json.loads(resp.read())["ok"]
            assert client.get("hello") == b"world"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_refuses_a_bad_engine() -> None:
    done = subprocess.run(
        [*SIMDB, "redis", "serve", "--engine", "nope"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "--engine" in done.stderr
