"""Canaries: the installed libraries still have the internal shapes simdb's compat modules rely on."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.fake


def test_hypothesis_internals() -> None:
    from simdb.hypothesis_compat import check

    check()


def test_thriftpy2_internals() -> None:
    from simdb.thrift.thriftpy2_compat import check

    check()


@pytest.mark.parametrize(
    ("library", "compat"),
    [("hypothesis.internal", "hypothesis_compat.py"), ("from thriftpy2.parser import", "thriftpy2_compat.py"),
     ("from ply", "thriftpy2_compat.py")],
)
def test_private_imports_live_in_their_compat_module(library: str, compat: str) -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "simdb"
    offenders = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if library in path.read_text(encoding="utf-8") and path.name != compat
    )
    assert offenders == [], f"{library} is reached outside {compat}"
