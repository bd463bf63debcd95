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
    """The demo home-feed stack (4 Thrift fakes, Redis, MySQL) seeded from seeds/homefeed."""
    from simdb.demo import DemoPaths, build_fakes
    from simdb.runner import EmbeddedStack

    paths = DemoPaths.find(REPO)
    with EmbeddedStack(build_fakes(paths, admin=False), snapshot=paths.snapshot) as stack:
        yield stack.endpoints()


@pytest.fixture(scope="session")
def apache_thrift(tmp_path_factory: pytest.TempPathFactory) -> str:
    return require_program("thrift", "thrift-compiler")


@pytest.fixture(scope="session")
def gen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gen-homefeed-service")
