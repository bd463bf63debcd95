"""The IDL quirk files stay meaningful: Apache's compiler accepts each, thriftpy2's raw parser rejects each.

simdb's own handling of them (accept, or a clear IdlError) is tested in tests/thrift/test_idl.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import thriftpy2

from tests.interop.codegen import REPO

pytestmark = pytest.mark.interop

QUIRKS = REPO / "tests" / "thrift" / "idl_quirks"
# Debian's thrift-compiler 0.17.0 predates the uuid type (Apache Thrift 0.18+).
NOT_IN_DEBIAN_COMPILER = {"uuid_type.thrift"}
QUIRK_FILES = sorted(p.name for p in QUIRKS.glob("*.thrift"))


def test_every_known_quirk_has_a_file() -> None:
    assert set(QUIRK_FILES) >= {
        "uuid_type.thrift",
        "namespace_annotation.thrift",
        "reference_qualifier.thrift",
        "negative_hex_const.thrift",
        "typedef_separator.thrift",
    }


@pytest.mark.parametrize("name", [n for n in QUIRK_FILES if n not in NOT_IN_DEBIAN_COMPILER])
def test_apache_compiler_accepts(thrift_compiler: str, tmp_path: Path, name: str) -> None:
    proc = subprocess.run(
        [thrift_compiler, "--gen", "py", "-out", str(tmp_path), str(QUIRKS / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", QUIRK_FILES)
def test_thriftpy2_parser_rejects(name: str) -> None:
    stem = name.removesuffix(".thrift")
    with pytest.raises(Exception) as caught:  # thriftpy2 raises several unrelated classes
        thriftpy2.load(str(QUIRKS / name), module_name=f"quirk_{stem}_thrift")
    assert type(caught.value).__module__.startswith("thriftpy2"), repr(caught.value)


@pytest.mark.parametrize("name", ["types", "base", "pinstore", "usergraph", "candidates", "ranker"])
def test_demo_idls_load_with_plain_thriftpy2(name: str) -> None:
    """The demo IDLs avoid every quirk: thriftpy2's own parser loads them without simdb's help."""
    homefeed = REPO / "thrift" / "homefeed"
    module = thriftpy2.load(
        str(homefeed / f"{name}.thrift"), module_name=f"demo_{name}_thrift", include_dirs=[str(homefeed)]
    )
    assert module.__thrift_file__.endswith(f"{name}.thrift")
