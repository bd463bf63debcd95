"""The end-to-end proof in Docker: the demo stack in containers, the example home-feed service built into
its own image, configured for the stack's network view, run beside the fakes and called from the host."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from simdb.containers.run import DockerStack
from simdb.containers.spec import LABEL_STACK
from simdb.probe import ProbeError, probe
from tests.containers.demo_spec import demo_stack
from tests.e2e.homefeed import (
    IDL,
    SERVICE_DIR,
    apache_client_modules,
    call_home_feed,
    check_feed,
    render_config,
)
from tests.fixtures.common import free_port, require_program

pytestmark = [pytest.mark.real, pytest.mark.docker]


def build_service_image(engine: Any, simdb_image: str, tmp: Path) -> str:
    context = tmp / "context"
    shutil.copytree(SERVICE_DIR, context)
    for idl in IDL.glob("*.thrift"):
        shutil.copy(idl, context / "idl" / idl.name)
    tag = "simdb-test-homefeed-service:session"
    engine.images.build(path=str(context), tag=tag, buildargs={"SIMDB_IMAGE": simdb_image}, rm=True,
                        network_mode="none")
    return tag


def test_the_dockerized_service_serves_a_feed_the_snapshot_agrees_with(
    docker_engine: Any, simdb_image: str, tmp_path: Path
) -> None:
    thrift = require_program("thrift", "thrift-compiler")
    spec = demo_stack(simdb_image, name="simdbe2e")
    stack = DockerStack(spec, docker_engine)
    service_tag = build_service_image(docker_engine, simdb_image, tmp_path)
    views = stack.up(timeout=120)
    service = None
    try:
        config = tmp_path / "config"
        config.mkdir()
        network = {name: view.network for name, view in views.items()}
        (config / "service.yaml").write_text(render_config(network, 9000, "/app/idl", listen_host="0.0.0.0"))
        config.chmod(0o755)
        (config / "service.yaml").chmod(0o644)
        port = free_port()
        service = docker_engine.containers.run(
            service_tag, detach=True, name="simdbe2e-homefeed", network=spec.network,
            ports={"9000/tcp": ("127.0.0.1", port)},
            volumes={str(config): {"bind": "/config", "mode": "ro"}},
            labels={LABEL_STACK: "simdbe2e"},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                probe(f"thrift://127.0.0.1:{port}", timeout=1)
                break
            except ProbeError:
                service.reload()
                assert service.status != "exited", service.logs().decode()
                assert time.monotonic() < deadline, service.logs().decode()
                time.sleep(0.1)
        client_module, _ = apache_client_modules(thrift, tmp_path / "gen")
        for user_id in (1, 2, 7):
            feed = call_home_feed(client_module, "127.0.0.1", port, user_id, 5)
            check_feed(feed, user_id, 5)
            assert feed.items
    finally:
        if service is not None:
            service.remove(force=True)
        stack.down()
    label = {"label": [f"{LABEL_STACK}=simdbe2e"]}
    assert docker_engine.containers.list(all=True, filters=label) == []
    assert docker_engine.networks.list(filters=label) == []
    assert docker_engine.volumes.list(filters=label) == []
