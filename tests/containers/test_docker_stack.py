"""The demo stack in Docker: one network, containers by name, ports on 127.0.0.1, probes, restart, down."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
import redis
import thriftpy2
from thriftpy2.rpc import make_client

from simdb.containers.run import DockerStack, StackRunning, StackStartError
from simdb.containers.spec import LABEL_STACK, EndpointViews
from simdb.probe import ProbeError, probe
from tests.containers.demo_spec import demo_stack

pytestmark = [pytest.mark.real, pytest.mark.docker]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def running(docker_engine: Any, simdb_image: str) -> Iterator[tuple[DockerStack, dict[str, EndpointViews]]]:
    stack = DockerStack(demo_stack(simdb_image), docker_engine)
    views = stack.up(timeout=120)
    try:
        yield stack, views
    finally:
        stack.down()


def test_every_fake_answers_on_127_0_0_1(running: tuple[DockerStack, dict[str, EndpointViews]]) -> None:
    _, views = running
    assert sorted(views) == ["cache", "candidates", "db", "pinstore", "ranker", "usergraph"]
    for view in views.values():
        assert view.host[0] == "127.0.0.1"
        probe(view.host_url)
    with redis.Redis(host="127.0.0.1", port=views["cache"].host[1]) as client:
        assert client.zrevrange("followees:1", 0, -1)
    conn = pymysql.connect(host="127.0.0.1", port=views["db"].host[1], user="root", database="homefeed")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT title FROM pins WHERE id = 1001")
            assert cur.fetchone()
    finally:
        conn.close()


def test_bound_methods_answer_from_the_stores_across_the_network(
    running: tuple[DockerStack, dict[str, EndpointViews]],
) -> None:
    """The Thrift containers reach the db and cache containers by name: answers are the stores' data."""
    _, views = running
    idl = REPO / "thrift" / "homefeed"
    pins_mod = thriftpy2.load(str(idl / "pinstore.thrift"), module_name="dock_pinstore_thrift",
                              include_dirs=[str(idl)])
    rk_mod = thriftpy2.load(str(idl / "ranker.thrift"), module_name="dock_ranker_thrift",
                            include_dirs=[str(idl)])
    conn = pymysql.connect(host="127.0.0.1", port=views["db"].host[1], user="root", database="homefeed")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, title FROM pins ORDER BY id LIMIT 5")
            titles = dict(cur.fetchall())
    finally:
        conn.close()
    pins = make_client(pins_mod.PinStore, "127.0.0.1", views["pinstore"].host[1], timeout=20_000)
    ranker = make_client(rk_mod.Ranker, "127.0.0.1", views["ranker"].host[1], timeout=20_000)
    try:
        assert {pin_id: pins.getPin(pin_id).title for pin_id in titles} == titles
        ranked = ranker.rank(rk_mod.RankRequest(userId=1, candidates=list(titles), userFeatures={})).ranked
        assert sorted(s.pinId for s in ranked) == sorted(titles)
    finally:
        pins.close()
        ranker.close()


def test_the_network_view_resolves_inside_the_stack_network(
    running: tuple[DockerStack, dict[str, EndpointViews]], docker_engine: Any, simdb_image: str
) -> None:
    stack, views = running
    assert views["cache"].network == ("simdbtest-cache", 6379)
    for name in ("cache", "db", "pinstore"):
        out = docker_engine.containers.run(
            simdb_image, ["probe", views[name].network_url], network=stack.stack.network, remove=True
        )
        assert out.decode().strip() == "ready"


def test_ps_and_logs_see_the_stack_from_a_new_handle(
    running: tuple[DockerStack, dict[str, EndpointViews]], docker_engine: Any
) -> None:
    stack, views = running
    other = DockerStack(stack.stack, docker_engine)
    states = other.ps()
    assert [s.fake for s in states] == [f.fake for f in stack.stack.fakes]
    assert all(s.status == "running" for s in states)
    assert {s.fake: s.host_port for s in states} == {k: v.host[1] for k, v in views.items()}
    assert any("ready at" in line or "serving" in line for line in other.logs("pinstore"))
    with pytest.raises(StackRunning, match="already running"):
        other.up(timeout=5)


def test_a_killed_fake_comes_back_with_the_snapshot(
    running: tuple[DockerStack, dict[str, EndpointViews]]
) -> None:
    stack, views = running
    port = views["cache"].host[1]
    with redis.Redis(host="127.0.0.1", port=port) as client:
        client.set("written-before-kill", "1")
    (container,) = stack.containers("cache")
    container.reload()
    os.kill(int(container.attrs["State"]["Pid"]), signal.SIGKILL)  # the fake process this test started
    deadline = time.monotonic() + 60
    while True:
        container.reload()
        try:
            if container.attrs["RestartCount"] >= 1:
                probe(f"redis://127.0.0.1:{port}/0", timeout=1)
                break
        except ProbeError:
            pass
        assert time.monotonic() < deadline, "the killed fake did not come back"
        time.sleep(0.1)
    with redis.Redis(host="127.0.0.1", port=port) as client:
        assert client.get("written-before-kill") is None
        assert client.zrevrange("followees:1", 0, -1)


def test_a_failing_fake_leaves_nothing_behind(docker_engine: Any, simdb_image: str, tmp_path: Path) -> None:
    empty = tmp_path / "nowhere"
    empty.mkdir()
    empty.chmod(0o755)
    stack = DockerStack(demo_stack(simdb_image, name="simdbfail", snapshot=empty), docker_engine)
    with pytest.raises(StackStartError) as info:
        stack.up(timeout=60)
    message = str(info.value)
    assert "/nowhere" in message and "not ready" in message and "last log lines" in message
    assert any(message.startswith(f"{spec.fake} (simdbfail-{spec.fake})") for spec in stack.stack.fakes)
    label = {"label": [f"{LABEL_STACK}=simdbfail"]}
    assert docker_engine.containers.list(all=True, filters=label) == []
    assert docker_engine.networks.list(filters=label) == []


def test_down_removes_everything(docker_engine: Any, simdb_image: str) -> None:
    stack = DockerStack(demo_stack(simdb_image, name="simdbdown"), docker_engine)
    stack.up(timeout=120)
    removed = stack.down()
    assert sum(r.startswith("container ") for r in removed) == 6
    assert "network simdb-simdbdown" in removed
    label = {"label": [f"{LABEL_STACK}=simdbdown"]}
    assert docker_engine.containers.list(all=True, filters=label) == []
    assert docker_engine.networks.list(filters=label) == []
