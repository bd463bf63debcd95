"""Session-wide test configuration: hypothesis profiles and shared fixture modules."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

# CI: bounded and derandomized, so a run is reproducible; local runs keep exploring new examples.
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The admin API loads snapshots only from its roots: the tests' snapshots live in the temp dir and the repo.
_REPO = str(Path(__file__).resolve().parent.parent)
os.environ.setdefault("SIMDB_SNAPSHOT_ROOTS", os.pathsep.join([tempfile.gettempdir(), _REPO]))

# One module per capability; each owns its session-scoped servers.
pytest_plugins = [
    "tests.fixtures.common",
    "tests.fixtures.redis",
    "tests.fixtures.mysql",
    "tests.fixtures.zookeeper",
]


_KINDS = ("fake", "real", "interop")


def pytest_collection_modifyitems(config: object, items: list[object]) -> None:
    """Every test says how it relates to the real thing: exactly one of ``fake``, ``real``, ``interop``."""
    import pytest

    wrong = []
    for item in items:
        assert isinstance(item, pytest.Item)
        kinds = sorted({m.name for m in item.iter_markers() if m.name in _KINDS})
        if len(kinds) != 1:
            wrong.append(f"{item.nodeid}: {kinds or 'no marker'}")
    if wrong:
        listing = "\n  ".join(wrong[:50])
        raise pytest.UsageError(
            f"{len(wrong)} test(s) must carry exactly one of the markers {_KINDS}:\n  {listing}"
        )
