"""One Docker engine and one simdb image per test session; in CI both must exist (no skipping)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.common import IN_CI

REPO = Path(__file__).resolve().parents[2]
TEST_TAG = "simdb-test:session"


@pytest.fixture(scope="session")
def docker_engine() -> Any:
    """A pinged Docker SDK client; skipped locally without an engine, a failure in CI."""
    from simdb.images.engine import DockerUnavailable, docker_client

    try:
        return docker_client()
    except DockerUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI must start a Docker engine (.ci/run): {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def base_image(docker_engine: Any) -> str:
    """The base to build on: $SIMDB_TEST_BASE, else the offline base made by scripts/make-offline-base.sh."""
    chosen = os.environ.get("SIMDB_TEST_BASE", "simdb-base:bookworm")
    subprocess.run(["bash", str(REPO / "scripts" / "make-offline-base.sh"), chosen], check=True, timeout=600)
    return chosen


@pytest.fixture(scope="session")
def simdb_image(docker_engine: Any, base_image: str) -> Iterator[str]:
    """simdb's fake-only image, built once for the session from this checkout."""
    from simdb.images.build import BuildOptions, build_image

    built = build_image(BuildOptions("fake", base_image, TEST_TAG))
    yield built.tag


@pytest.fixture(scope="session")
def simdb_real_image(docker_engine: Any, base_image: str, simdb_image: str) -> Iterator[str]:
    """simdb's image with the real engines (redis-server, MariaDB), built once for the session."""
    from simdb.images.build import BuildOptions, build_image

    built = build_image(BuildOptions("real", base_image, "simdb-test-real:session"))
    yield built.tag


@pytest.fixture
def containers(docker_engine: Any) -> Iterator[list[Any]]:
    """Containers a test starts; removed after it, whatever happened."""
    started: list[Any] = []
    yield started
    for container in started:
        with contextlib.suppress(Exception):
            container.remove(force=True)
