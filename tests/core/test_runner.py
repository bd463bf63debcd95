"""The embedded runner: order, seeding, cleanup on failure, endpoint files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from simdb.errors import SimdbError
from simdb.fake import Endpoint, Fake, Health
from simdb.runner import EmbeddedStack, endpoints_env, write_endpoints
from simdb.staging import Staged

pytestmark = pytest.mark.fake


class RecordingFake:
    """A minimal Fake that records the calls the runner makes."""

    def __init__(self, name: str, calls: list[str], fail_on: str = "") -> None:
        self._name = name
        self.calls = calls
        self.fail_on = fail_on

    @property
    def name(self) -> str:
        return self._name

    @property
    def kind(self) -> str:
        return "redis"

    def start(self) -> Endpoint:
        self.calls.append(f"start {self._name}")
        if self.fail_on == "start":
            raise SimdbError(f"{self._name} cannot start")
        return self.endpoint

    def stop(self) -> None:
        self.calls.append(f"stop {self._name}")

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("redis", "127.0.0.1", 6390, admin_port=7000)

    def load(self, snapshot_dir: Path) -> None:
        self.calls.append(f"load {self._name} {snapshot_dir.name}")

    def prepare(self, snapshot_dir: Path) -> Staged:
        def commit() -> Callable[[], None]:
            self.load(snapshot_dir)
            return lambda: self.calls.append(f"rollback {self._name}")

        return Staged("recorded", commit)

    def reset(self) -> None:
        self.calls.append(f"reset {self._name}")

    def health(self) -> Health:
        return Health(ok=True)


def test_recording_fake_satisfies_protocol() -> None:
    assert isinstance(RecordingFake("a", []), Fake)


def test_starts_in_order_seeds_each_and_stops_in_reverse(tmp_path: Path) -> None:
    calls: list[str] = []
    stack = EmbeddedStack([RecordingFake("a", calls), RecordingFake("b", calls)], snapshot=tmp_path / "snap")
    with stack:
        assert set(stack.endpoints()) == {"a", "b"}
    assert calls == ["start a", "load a snap", "start b", "load b snap", "stop b", "stop a"]


def test_failure_stops_what_was_started() -> None:
    calls: list[str] = []
    stack = EmbeddedStack([RecordingFake("a", calls), RecordingFake("b", calls, fail_on="start")])
    with pytest.raises(SimdbError, match="b cannot start"):
        stack.start()
    assert calls[-2:] == ["stop b", "stop a"]


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(SimdbError, match=r"\['a'\]"):
        EmbeddedStack([RecordingFake("a", []), RecordingFake("a", [])])


def test_endpoint_files(tmp_path: Path) -> None:
    eps = {"feature-cache": Endpoint("redis", "127.0.0.1", 6390, admin_port=7000)}
    js, env = write_endpoints(tmp_path, eps)
    data = json.loads(js.read_text())
    assert data["feature-cache"]["url"] == "redis://127.0.0.1:6390/0"
    assert data["feature-cache"]["admin"] == "http://127.0.0.1:7000/_simdb/"
    assert "SIMDB_FEATURE_CACHE_PORT=6390" in env.read_text()
    assert endpoints_env(eps) == env.read_text()


def test_urls_carry_credentials_when_there_are_any() -> None:
    assert Endpoint("redis", "h", 1, extra=(("password", "p@ss"),)).url() == "redis://:p%40ss@h:1/0"
    assert Endpoint("redis", "h", 1).url() == "redis://h:1/0"
    mysql = Endpoint("mysql", "h", 2, extra=(("user", "app"), ("password", "s/cret"), ("database", "feed")))
    assert mysql.url() == "mysql+pymysql://app:s%2Fcret@h:2/feed"
