"""`simdb mysql serve` as a process: prints the endpoint when ready, serves, stops on SIGTERM."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pymysql
import pytest

from tests.mysql.test_snapshot import make_snapshot

pytestmark = pytest.mark.fake
SIMDB = str(Path(sys.executable).parent / "simdb")


def test_serve_prints_endpoint_and_serves_snapshot(tmp_path: Path) -> None:
    snap = make_snapshot(tmp_path / "snap")
    proc = subprocess.Popen(
        [
            SIMDB,
            "mysql",
            "serve",
            "--port",
            "0",
            "--snapshot",
            str(snap),
            "--database",
            "app",
            "--user",
            "u",
            "--password",
            "p",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"ready on 127\.0\.0\.1:(\d+)", line)
        assert m, f"no endpoint line: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        conn = pymysql.connect(host="127.0.0.1", port=int(m.group(1)), user="u", password="p", database="app")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT name FROM users ORDER BY id")
            assert cur.fetchall() == (("ann",), ("bob",))
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def test_serve_refuses_bad_engine() -> None:
    out = subprocess.run(
        [SIMDB, "mysql", "serve", "--engine", "oracle"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "mysql engine must be 'fake' or 'real'" in out.stderr
