"""Every command answers --help with examples, and --version works."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from simdb import __version__
from simdb.cli import app

pytestmark = pytest.mark.fake

COMMANDS = [
    [], ["demo"], ["thrift"], ["thrift", "serve"], ["thrift", "record"], ["redis"], ["redis", "serve"],
    ["mysql"], ["mysql", "serve"], ["snapshot"], ["snapshot", "capture"], ["snapshot", "scrub"],
    ["snapshot", "verify"], ["snapshot", "diff"], ["snapshot", "synth"], ["snapshot", "load"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "simdb")
def test_help_has_examples(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output or "Example" in result.output, result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"simdb {__version__}"
