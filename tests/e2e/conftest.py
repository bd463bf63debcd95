"""The demo stack, embedded, once per session for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simdb.fake import Endpoint
from tests.e2e.homefeed import REPO
from tests.fixtures.common import require_program


@pytest.fixture(scope="session")
def demo_endpoints() -> Iterator[dict[str, Endpoint]]:
    """The demo home-feed stack file (4 Thrift fakes answering from Redis and MySQL), embedded."""
    from simdb.stack.load import load_stack
    from simdb.stack.run import StackRun

    with StackRun(load_stack(REPO / "examples" / "homefeed" / "simdb.yaml")) as run:
        yield run.endpoints()


@pytest.fixture(scope="session")
def apache_thrift(tmp_path_factory: pytest.TempPathFactory) -> str:
    return require_program("thrift", "thrift-compiler")


@pytest.fixture(scope="session")
def gen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gen-homefeed-service")
