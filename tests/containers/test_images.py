"""simdb's image: built from a host wheelhouse, non-root, labelled, health-checked, serving each kind."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pymysql
import pytest
import redis

from simdb.probe import probe

pytestmark = [pytest.mark.real, pytest.mark.docker]

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds" / "homefeed"


def wait_healthy(container: Any, timeout: float = 60.0) -> None:
    """Poll Docker's view of the HEALTHCHECK until healthy; fail with the container's last log lines."""
    deadline = time.monotonic() + timeout
    status = "unknown"
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "exited":
            break
        status = container.attrs["State"].get("Health", {}).get("Status", "none")
        if status == "healthy":
            return
        time.sleep(0.1)
    logs = container.logs(tail=20).decode(errors="replace")
    pytest.fail(f"{container.name} not healthy ({container.status}/{status}):\n{logs}")


def published(container: Any, port: int) -> int:
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1"
    return int(binding["HostPort"])


def run_fake(engine: Any, image: str, args: list[str], port: int, probe_url: str, started: list[Any]) -> Any:
    container = engine.containers.run(
        image,
        args,
        detach=True,
        ports={f"{port}/tcp": ("127.0.0.1", None)},
        volumes={str(SEEDS): {"bind": "/seeds", "mode": "ro"}},
        environment={"SIMDB_PROBE": probe_url},
    )
    started.append(container)
    wait_healthy(container)
    return container


def test_the_image_is_non_root_labelled_and_health_checked(docker_engine: Any, simdb_image: str) -> None:
    image = docker_engine.images.get(simdb_image)
    config = image.attrs["Config"]
    assert config["User"] == "10001:10001"
    assert config["Healthcheck"]["Test"] == ["CMD", "simdb", "probe", "--from-env"]
    labels = config["Labels"]
    for key in ("version", "revision", "source", "title"):
        assert labels[f"org.opencontainers.image.{key}"], key
    out = docker_engine.containers.run(simdb_image, ["--version"], remove=True)
    assert out.decode().startswith("simdb ")


def test_a_redis_fake_in_a_container_serves_the_snapshot(
    docker_engine: Any, simdb_image: str, containers: list[Any]
) -> None:
    args = ["redis", "serve", "--host", "0.0.0.0", "--port", "6379", "--snapshot", "/seeds"]
    container = run_fake(docker_engine, simdb_image, args, 6379, "redis://127.0.0.1:6379/0", containers)
    port = published(container, 6379)
    with redis.Redis(host="127.0.0.1", port=port, decode_responses=True) as client:
        assert client.dbsize() > 0
        followees = client.zrevrange("followees:1", 0, -1) or client.lrange("followees:1", 0, -1)
        assert followees
    probe(f"redis://127.0.0.1:{port}/0")


def test_a_mysql_fake_in_a_container_answers_sql(
    docker_engine: Any, simdb_image: str, containers: list[Any]
) -> None:
    args = ["mysql", "serve", "--host", "0.0.0.0", "--port", "3306", "--snapshot", "/seeds",
            "--database", "homefeed"]
    container = run_fake(
        docker_engine, simdb_image, args, 3306, "mysql://root@127.0.0.1:3306/homefeed", containers
    )
    port = published(container, 3306)
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", database="homefeed")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM pins")
            (count,) = cur.fetchone()
        assert count > 0
    finally:
        conn.close()


def test_a_thrift_fake_in_a_container_answers_from_its_idl(
    docker_engine: Any, simdb_image: str, containers: list[Any], tmp_path: Path
) -> None:
    import thriftpy2
    from thriftpy2.rpc import make_client

    stub = json.loads((SEEDS / "thrift" / "pinstore" / "stubs.jsonl").read_text().splitlines()[0])
    (tmp_path / "stubs.json").write_text(json.dumps([stub]))
    tmp_path.chmod(0o755)
    (tmp_path / "stubs.json").chmod(0o644)

    container = docker_engine.containers.run(
        simdb_image,
        ["thrift", "serve", "/idl/pinstore.thrift", "--service", "PinStore", "--host", "0.0.0.0",
         "--port", "9090", "-I", "/idl", "--name", "pinstore", "--stubs", "/stubs/stubs.json"],
        detach=True,
        ports={"9090/tcp": ("127.0.0.1", None)},
        volumes={
            str(REPO / "thrift" / "homefeed"): {"bind": "/idl", "mode": "ro"},
            str(tmp_path): {"bind": "/stubs", "mode": "ro"},
        },
        environment={"SIMDB_PROBE": "thrift://127.0.0.1:9090"},
    )
    containers.append(container)
    wait_healthy(container)
    idl = REPO / "thrift" / "homefeed"
    module = thriftpy2.load(str(idl / "pinstore.thrift"), module_name="c_pinstore_thrift",
                            include_dirs=[str(idl)])
    client = make_client(module.PinStore, "127.0.0.1", published(container, 9090), timeout=10_000)
    try:
        pin = client.getPin(stub["args"]["id"])
        assert (pin.id, pin.title) == (stub["args"]["id"], stub["reply"]["return"]["title"])
    finally:
        client.close()


def test_a_fake_that_cannot_start_is_unhealthy_and_says_why(
    docker_engine: Any, simdb_image: str, containers: list[Any]
) -> None:
    container = docker_engine.containers.run(
        simdb_image, ["redis", "serve", "--host", "0.0.0.0", "--snapshot", "/nowhere"], detach=True,
        environment={"SIMDB_PROBE": "redis://127.0.0.1:6379/0"},
    )
    containers.append(container)
    assert container.wait(timeout=60)["StatusCode"] != 0
    logs = container.logs().decode(errors="replace")
    assert "/nowhere" in logs and "Traceback" not in logs


def test_a_snapshot_baked_into_the_image_serves_without_mounts(
    docker_engine: Any, base_image: str, simdb_image: str, containers: list[Any]
) -> None:
    from simdb.images.build import BuildOptions, build_image

    baked = build_image(BuildOptions("fake", base_image, "simdb-test-baked:session", SEEDS)).tag
    container = docker_engine.containers.run(
        baked, ["redis", "serve", "--host", "0.0.0.0", "--port", "6379", "--snapshot", "/snapshot"],
        detach=True, ports={"6379/tcp": ("127.0.0.1", None)},
        environment={"SIMDB_PROBE": "redis://127.0.0.1:6379/0"},
    )
    containers.append(container)
    wait_healthy(container)
    with redis.Redis(host="127.0.0.1", port=published(container, 6379)) as client:
        assert client.zrevrange("followees:1", 0, -1)
