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
]
