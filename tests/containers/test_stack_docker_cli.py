"""`simdb up --docker` / `down --docker` on the demo stack file, and the exports from the same file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import redis
import yaml

from simdb.containers.spec import LABEL_STACK
from simdb.probe import probe
from tests.fixtures.common import require_program

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "homefeed" / "simdb.yaml"


def simdb(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simdb", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.real
@pytest.mark.docker
def test_up_docker_then_down(docker_engine: Any, simdb_image: str, tmp_path: Path) -> None:
    up = simdb(tmp_path, "up", "--docker", "-f", str(DEMO), "--image", simdb_image)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        views = json.loads((tmp_path / ".simdb" / "homefeed" / "endpoints.docker.json").read_text())
        assert sorted(views) == ["cache", "candidates", "db", "pinstore", "ranker", "usergraph"]
        for view in views.values():
            probe(view["host"]["url"])
            assert view["network"]["host"].startswith("homefeed-")
        cache = views["cache"]["host"]
        with redis.Redis(host="127.0.0.1", port=cache["port"]) as client:
            assert client.zrevrange("followees:1", 0, -1)
            client.flushall()
            reset = simdb(tmp_path, "reset", "cache", "--docker", "-f", str(DEMO))
            assert reset.returncode == 0, reset.stdout + reset.stderr
            assert client.zrevrange("followees:1", 0, -1)  # the snapshot again
        ps = simdb(tmp_path, "ps", "--docker", "-f", str(DEMO))
        assert ps.returncode == 0 and ps.stdout.count("running") == 6, ps.stdout
        logs = simdb(tmp_path, "logs", "pinstore", "--docker", "-f", str(DEMO))
        assert logs.returncode == 0 and "pinstore |" in logs.stdout
        network = simdb(tmp_path, "env", "--view", "network", "-f", str(DEMO))
        assert "SIMDB_CACHE_HOST=homefeed-cache" in network.stdout
        assert "SIMDB_CACHE_PORT=6379" in network.stdout
        host = simdb(tmp_path, "env", "--view", "host", "-f", str(DEMO))
        assert f"SIMDB_CACHE_PORT={cache['port']}" in host.stdout
        template = REPO / "examples" / "homefeed-service" / "service.yaml.j2"
        rendered = simdb(tmp_path, "config", "render", str(template), "--view", "network", "-f", str(DEMO))
        config = yaml.safe_load(rendered.stdout)
        assert config["ranker"] == {"host": "homefeed-ranker", "port": 9090}, rendered.stderr
    finally:
        down = simdb(tmp_path, "down", "--docker", "-f", str(DEMO))
    assert down.returncode == 0, down.stderr
    label = {"label": [f"{LABEL_STACK}=homefeed"]}
    assert docker_engine.containers.list(all=True, filters=label) == []
    assert docker_engine.networks.list(filters=label) == []


@pytest.mark.fake
def test_exports_from_the_stack_file(tmp_path: Path) -> None:
    compose = simdb(tmp_path, "compose", "export", "-f", str(DEMO), "-o", str(tmp_path))
    assert compose.returncode == 0, compose.stderr
    tool = require_program("docker-compose", "docker-compose")
    subprocess.run([tool, "-f", str(tmp_path / "docker-compose.yml"), "config", "-q"], check=True,
                   capture_output=True, timeout=60)
    k8s = simdb(tmp_path, "k8s", "export", "-f", str(DEMO), "-o", str(tmp_path / "k8s"))
    assert k8s.returncode == 0, k8s.stderr
    files = sorted((tmp_path / "k8s").glob("*.yaml"))
    kinds = [yaml.safe_load(p.read_text())["kind"] for p in files]
    assert kinds.count("Deployment") == kinds.count("Service") == 6 and kinds.count("Namespace") == 1
    for path in files:
        kubernetes_validate.validate(yaml.safe_load(path.read_text()), "1.37.0", strict=True)


@pytest.mark.fake
def test_no_docker_engine_is_one_clear_error(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    proc = subprocess.run([sys.executable, "-m", "simdb", "up", "--docker", "-f", str(DEMO)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output
    flat = output.replace("\n", "")  # the console wraps long lines
    assert "no-docker.sock" in flat and "DOCKER_HOST" in flat
