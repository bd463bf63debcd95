"""`simdb thrift serve` as a user runs it: a subprocess that prints its endpoint when ready."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from thriftpy2.rpc import make_client
from typer.testing import CliRunner

from simdb.cli import app
from simdb.thrift.idl import load_idl
from tests.thrift.serving import PINSTORE, ROOT

pytestmark = pytest.mark.fake

SIMDB = [sys.executable, "-c", "from simdb.cli import main; main()"]


@contextmanager
def serve(*args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    proc = subprocess.Popen([*SIMDB, "thrift", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for _ in range(2):
            line = proc.stdout.readline()  # blocks until the server prints (it prints once listening)
            assert line, f"simdb exited early: {proc.stderr.read() if proc.stderr else ''}"
            lines.append(line.strip())
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)


def test_serve_prints_the_endpoint_and_answers(tmp_path: Path) -> None:
    stubs = tmp_path / "s.yaml"
    stubs.write_text("stubs:\n  - {method: version, reply: {return: cli-stub}}\n")
    with serve(str(PINSTORE), "--service", "PinStore", "--port", "0", "--stubs", str(stubs),
               "--protocol", "binary", "--transport", "buffered", "--seed", "3") as (proc, lines):
        m = re.search(r"thrift://([\d.]+):(\d+)", lines[0])
        assert m, lines
        admin = re.search(r"http://([\d.]+):(\d+)/_simdb/", lines[1])
        assert admin, lines
        service = load_idl(PINSTORE).PinStore
        c = make_client(service, m.group(1), int(m.group(2)), timeout=5000)
        try:
            assert c.version() == "cli-stub"
            assert isinstance(c.getPin(5).id, int)
        finally:
            c.close()
        with urllib.request.urlopen(f"{admin.group(0)}journal", timeout=5) as resp:
            assert [e["method"] for e in json.loads(resp.read())["entries"]] == ["version", "getPin"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_unknown_service_is_a_clear_error_with_exit_code_2() -> None:
    result = subprocess.run([*SIMDB, "thrift", "serve", str(PINSTORE), "--service", "Nope", "--port", "0"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert "Nope" in result.stderr and "PinStore" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_flags_are_refused() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["thrift", "serve", str(PINSTORE), "--service", "PinStore",
                                 "--protocol", "json"])
    assert result.exit_code == 2 and "binary or compact" in result.output
    result = runner.invoke(app, ["thrift", "serve", str(PINSTORE), "--service", "PinStore",
                                 "--max-frame-size", "lots"])
    assert result.exit_code == 2 and "not a size" in result.output


def test_help_has_examples() -> None:
    result = CliRunner().invoke(app, ["thrift", "serve", "--help"])
    assert result.exit_code == 0
    for word in ("Examples", "--multiplexed", "--watch", "--max-frame-size", "--strict", "--admin-port"):
        assert word in result.output


def test_thrift_serve_imports_no_other_sub_command() -> None:
    """`simdb thrift serve` imports the Thrift fake only: no Redis, MySQL, snapshot or demo code, and no
    pydantic fault models when no fault rule is given (start-up time)."""
    probe = (
        "import sys\n"
        "from simdb.cli import main\n"
        "sys.argv = ['simdb', 'thrift', 'serve', 'no-such.thrift', '--service', 'PinStore']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "assert 'simdb.thrift.fake' in sys.modules, 'the serve command did not run'\n"
        "heavy = ('simdb.redis', 'simdb.mysql', 'simdb.snapshot', 'simdb.demo', 'simdb.cli.demo_cmd',\n"
        "         'simdb.cli.redis_cmd', 'simdb.cli.mysql_cmd', 'simdb.cli.snapshot_cmd', 'sqlglot',\n"
        "         'fakeredis', 'hypothesis', 'faker', 'simdb.thrift.fault_rules')\n"
        "print(code, sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2 []", out.stdout + out.stderr


def test_every_sub_command_still_has_help() -> None:
    """Sub-commands are imported on use; --help lists them all and each answers --help."""
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0
    for name in ("demo", "thrift", "redis", "mysql", "snapshot"):
        assert name in listing.output
        assert runner.invoke(app, [name, "--help"]).exit_code == 0
