"""Service discovery: serverset files and ephemeral ZooKeeper members, as services that watch them see it."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from simdb.stack.load import load_stack
from simdb.stack.run import StackRun
from tests.fixtures.common import wait_until

REPO = Path(__file__).resolve().parents[2]
IDL = REPO / "thrift" / "homefeed"


def small_stack(tmp_path: Path, discovery: dict[str, Any]) -> Path:
    """A Redis fake and two Thrift fakes, with the given ``discovery:`` section."""
    spec = {
        "name": "disco",
        "discovery": discovery,
        "fakes": {
            "cache": {"kind": "redis"},
            "pinstore": {
                "kind": "thrift",
                "idl": str(IDL / "pinstore.thrift"),
                "include_dirs": [str(IDL)],
                "services": ["PinStore"],
            },
            "ranker": {
                "kind": "thrift",
                "idl": str(IDL / "ranker.thrift"),
                "include_dirs": [str(IDL)],
                "services": ["Ranker"],
            },
        },
    }
    path = tmp_path / "simdb.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.fake
def test_serverset_files_follow_the_stack(tmp_path: Path) -> None:
    sets = tmp_path / "serversets"
    stack = load_stack(small_stack(tmp_path, {"serverset_dir": str(sets), "env": "test"}))
    with StackRun(stack) as run:
        eps = run.endpoints()
        for name, ep in eps.items():
            assert (sets / f"discovery.{name}.test").read_text().split() == [f"{ep.host}:{ep.port}"]
    assert not list(sets.glob("discovery.*"))


class Watcher:
    """What a service that resolves a dependency through ZooKeeper sees: the members under a path."""

    def __init__(self, hosts: str, path: str) -> None:
        from kazoo.client import KazooClient

        self.client = KazooClient(hosts=hosts, timeout=5.0)
        self.client.start(timeout=10)
        self.client.ensure_path(path)
        self.path = path
        self.lock = threading.Lock()
        self.members: dict[str, dict[str, Any]] = {}
        self.client.ChildrenWatch(path, self._changed)

    def _changed(self, children: list[str]) -> None:
        seen: dict[str, dict[str, Any]] = {}
        for child in children:
            try:
                data, _ = self.client.get(f"{self.path}/{child}")
            except Exception:
                continue  # gone between the listing and the read
            seen[child] = json.loads(data)
        with self.lock:
            self.members = seen

    def now(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return dict(self.members)

    def close(self) -> None:
        self.client.stop()
        self.client.close()


@pytest.mark.real
def test_zookeeper_watchers_see_up_reset_and_down(tmp_path: Path, zookeeper: str) -> None:
    stack = load_stack(small_stack(tmp_path, {"zookeeper": {"hosts": zookeeper, "path": "/discovery/test"}}))
    watchers = {
        name: Watcher(zookeeper, f"/discovery/test/{name}") for name in ("cache", "pinstore", "ranker")
    }
    try:
        with StackRun(stack) as run:
            eps = run.endpoints()

            def all_registered() -> bool:
                return all(len(w.now()) == 1 for w in watchers.values())

            wait_until(all_registered, timeout=20, what="serverset members")
            members = {name: w.now() for name, w in watchers.items()}
            for name, found in members.items():
                ((node, member),) = found.items()
                assert node.startswith("member_")
                assert member == {
                    "serviceEndpoint": {"host": eps[name].host, "port": eps[name].port},
                    "additionalEndpoints": {},
                    "status": "ALIVE",
                }
            run.reset()
            assert {name: w.now() for name, w in watchers.items()} == members  # reset keeps the members

        wait_until(lambda: all(not w.now() for w in watchers.values()), timeout=20, what="members removed")
    finally:
        for w in watchers.values():
            w.close()


@pytest.mark.fake
def test_an_unreachable_zookeeper_fails_up_and_leaves_nothing(tmp_path: Path) -> None:
    from simdb.errors import SimdbError
    from tests.fixtures.common import free_port

    hosts = f"127.0.0.1:{free_port()}"
    stack = load_stack(small_stack(tmp_path, {"zookeeper": {"hosts": hosts, "timeout": 1}}))
    run = StackRun(stack)
    with pytest.raises(
        SimdbError, match=r"discovery\.zookeeper\.hosts: no ZooKeeper answered at 127\.0\.0\.1"
    ):
        run.start()
    assert run.endpoints() == {}
