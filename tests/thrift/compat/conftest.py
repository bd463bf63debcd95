"""Fixtures of the compat tests: the pairs written to files, and their Apache-generated code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.common import require_program
from tests.thrift.compat.pairs import PAIRS, Pair
from tests.thrift.compat.wire import Version, prepare


@pytest.fixture(scope="session")
def thrift_compiler() -> str:
    """Path of Debian's thrift compiler (fails in CI when missing)."""
    return require_program("thrift", "thrift-compiler")


@pytest.fixture(scope="session")
def generated(
    thrift_compiler: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Version, Version]]:
    """Every pair's (old, new) versions, with ``thrift --gen py`` code importable."""
    work = Path(tmp_path_factory.mktemp("compat-pairs"))
    out = {}
    for p in PAIRS:
        old = prepare(thrift_compiler, work, p.rule, "old", p.old)
        out[p.rule] = (old, prepare(thrift_compiler, work, p.rule, "new", p.new))
    return out


def pair_files(pair: Pair, where: Path) -> tuple[Path, Path]:
    """The pair's two versions as old.thrift and new.thrift under ``where``."""
    old, new = where / "old.thrift", where / "new.thrift"
    old.write_text(pair.old, encoding="utf-8")
    new.write_text(pair.new, encoding="utf-8")
    return old, new
