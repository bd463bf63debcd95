"""Fixtures of the contract tests: Apache-generated Python code for the demo and test IDLs."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.fixtures.common import require_program
from tests.interop import codegen


@pytest.fixture(scope="session")
def thrift_compiler() -> str:
    """Path of Debian's thrift compiler (fails in CI when missing)."""
    return require_program("thrift", "thrift-compiler")


@pytest.fixture(scope="session")
def apache_homefeed(thrift_compiler: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """``thrift --gen py`` of the demo IDLs, imported (see tests/interop/codegen.py)."""
    out = codegen.generate(thrift_compiler, tmp_path_factory.mktemp("contract-gen") / "py", "py")
    return codegen.import_gen_py(out)


@pytest.fixture(scope="session")
def apache_everything(
    thrift_compiler: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ModuleType]:
    """``thrift --gen py`` of tests/contract/idl/everything.thrift: service modules by name."""
    from tests.contract.apache import generate_everything

    return generate_everything(thrift_compiler, Path(tmp_path_factory.mktemp("contract-everything")))
