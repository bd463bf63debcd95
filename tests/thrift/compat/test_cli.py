"""`simdb thrift compat` as a user runs it: exit codes, formats, sides, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simdb.cli import app
from tests.thrift.compat.conftest import pair_files
from tests.thrift.compat.pairs import PAIRS

pytestmark = pytest.mark.fake

SIMDB = [sys.executable, "-c", "from simdb.cli import main; main()"]


def _files(rule: str, where: Path) -> tuple[str, str]:
    old, new = pair_files(next(p for p in PAIRS if p.rule == rule), where)
    return str(old), str(new)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["thrift", "compat", *args])
    return result.exit_code, result.output


def test_exit_codes_follow_the_verdicts_and_the_side(tmp_path: Path) -> None:
    old, new = _files("method-added", tmp_path)  # safe for old clients, breaking for old servers
    code, out = _run(old, new)
    assert code == 1
    assert "BREAKING  method-added" in out and "S.gone: new method" in out
    assert "old clients safe, old servers BREAKING" in out
    assert _run(old, new, "--side", "clients")[0] == 0
    assert _run(old, new, "--side", "servers")[0] == 1
    assert _run(old, old)[0] == 0
    (tmp_path / "safe").mkdir()
    safe_old, safe_new = _files("field-added-optional", tmp_path / "safe")
    code, out = _run(safe_old, safe_new)
    assert code == 0 and "safe      field-added-optional" in out


def test_json_format(tmp_path: Path) -> None:
    old, new = _files("exception-added", tmp_path)
    code, out = _run(old, new, "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["breaking"] == {"old_clients": True, "old_servers": False}
    assert data["changes"][0]["rule"] == "exception-added"


def test_service_and_include_dir(tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "types.thrift").write_text("struct P { 1: i64 id }\n")
    old = tmp_path / "old.thrift"
    new = tmp_path / "new.thrift"
    old.write_text('include "types.thrift"\nservice S { types.P m() }\nservice T { void n() }\n')
    new.write_text('include "types.thrift"\nservice S { types.P m() }\n')
    assert _run(str(old), str(new), "-I", str(inc), "--service", "S")[0] == 0
    code, out = _run(str(old), str(new), "-I", str(inc), "--service", "T")
    assert code == 1 and "service-removed" in out
    code, out = _run(str(old), str(new), "-I", str(inc), "--service", "Nope")
    assert code == 2 and "no service 'Nope'" in out and "S, T" in out


def test_bad_input_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    good = tmp_path / "good.thrift"
    good.write_text("service S { void m() }\n")
    broken = tmp_path / "broken.thrift"
    broken.write_text("service S {\n  void m(\n}\n")
    missing_include = tmp_path / "inc.thrift"
    missing_include.write_text('include "nowhere.thrift"\nservice S { void m() }\n')
    cases = {
        str(tmp_path / "missing.thrift"): "missing.thrift: no such IDL file",
        str(broken): "broken.thrift:3: syntax error",
        str(missing_include): "cannot find include 'nowhere.thrift'",
    }
    for path, message in cases.items():
        proc = subprocess.run([*SIMDB, "thrift", "compat", str(good), path], capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert _run(str(good), str(good), "--format", "xml")[0] == 2
    assert _run(str(good), str(good), "--side", "nobody")[0] == 2
