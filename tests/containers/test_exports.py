"""The stack exported to Compose (checked and run by Debian's docker-compose) and to Kubernetes
(validated against the API schemas of two minor versions with kubernetes-validate)."""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from simdb.containers.compose import ServiceUnderTest, write_compose
from simdb.containers.k8s import manifests, namespace, write_manifests
from simdb.containers.run import DockerStack
from simdb.containers.spec import LABEL_STACK
from simdb.errors import ConfigError
from simdb.probe import ProbeError, probe
from tests.containers.demo_spec import REPO, demo_stack
from tests.fixtures.common import require_program

KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


@pytest.mark.fake
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_kubernetes(version: str, tmp_path: Path) -> None:
    files = write_manifests(demo_stack("simdb:0.1.0"), tmp_path)
    assert files
    for path in files:
        kubernetes_validate.validate(yaml.safe_load(path.read_text()), version, strict=True)


@pytest.mark.fake
def test_manifests_map_each_fake_to_a_deployment_and_a_service_named_like_its_container() -> None:
    stack = demo_stack("simdb:0.1.0")
    docs = manifests(stack)
    assert docs[0] == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace(stack), "labels": {"app.kubernetes.io/part-of": "simdb"}},
    }
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    for spec in stack.fakes:
        name = stack.container_name(spec.fake)
        deployment, service = by_kind["Deployment"][name], by_kind["Service"][name]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["exec"]["command"] == ["simdb", "probe", "--from-env"]
        assert container["securityContext"]["runAsNonRoot"] is True
        assert container["resources"]["requests"]
        assert service["spec"]["ports"][0]["port"] == spec.container_port
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        line = by_kind["ConfigMap"]["serversets"]["data"][spec.fake]
        assert line == f"{name}.{namespace(stack)}.svc.cluster.local:{spec.container_port}\n"


@pytest.mark.fake
def test_configmaps_reproduce_the_mounted_files() -> None:
    stack = demo_stack("simdb:0.1.0")
    docs = {d["metadata"]["name"]: d for d in manifests(stack) if d["kind"] == "ConfigMap"}
    deployment = next(d for d in manifests(stack) if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    for volume in pod["volumes"]:
        if "configMap" not in volume:
            continue
        cm = docs[volume["configMap"]["name"]]
        mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"])
        source = next(src for src, dst in stack.fakes[0].mounts if dst == mount["mountPath"])
        for item in volume["configMap"]["items"]:
            raw = cm.get("data", {}).get(item["key"])
            data = raw.encode() if raw is not None else base64.b64decode(cm["binaryData"][item["key"]])
            assert data == (source / item["path"]).read_bytes()


@pytest.mark.fake
def test_a_mount_too_large_for_a_configmap_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.jsonl").write_bytes(b"x" * 1_100_000)
    stack = demo_stack("simdb:0.1.0")
    spec = stack.fakes[-1]
    big = type(stack)(stack.name, (type(spec)(**{**spec.__dict__, "mounts": ((tmp_path, "/snapshot"),)}),))
    with pytest.raises(ConfigError, match="ConfigMap"):
        manifests(big)
    assert manifests(big, mounts_in_image=True)


@pytest.mark.fake
def test_compose_file_is_valid_for_docker_compose(tmp_path: Path) -> None:
    compose = require_program("docker-compose", "docker-compose")
    path = write_compose(
        demo_stack("simdb:0.1.0"),
        tmp_path,
        ServiceUnderTest("homefeed", 9000, build=REPO / "examples" / "homefeed-service"),
    )
    subprocess.run([compose, "-f", str(path), "config", "-q"], check=True, capture_output=True, timeout=60)
    doc = yaml.safe_load(path.read_text())
    assert all(p.startswith("127.0.0.1:") for s in doc["services"].values() for p in s["ports"])
    assert doc["services"]["homefeed"]["depends_on"]["cache"] == {"condition": "service_healthy"}


@pytest.mark.real
@pytest.mark.docker
def test_docker_compose_up_runs_the_same_stack(docker_engine: Any, simdb_image: str, tmp_path: Path) -> None:
    compose = require_program("docker-compose", "docker-compose")
    spec = demo_stack(simdb_image, name="simdbcompose")
    path = write_compose(spec, tmp_path)
    cmd = [compose, "-f", str(path), "-p", "simdbcompose"]
    subprocess.run([*cmd, "up", "-d"], check=True, capture_output=True, timeout=300)
    try:
        stack = DockerStack(spec, docker_engine)
        deadline = time.monotonic() + 120
        pending = {s.fake for s in spec.fakes}
        while pending and time.monotonic() < deadline:
            for state in stack.ps():
                if state.fake in pending and state.host_port:
                    try:
                        probe(
                            next(s for s in spec.fakes if s.fake == state.fake).url(
                                "127.0.0.1", state.host_port
                            )
                        )
                        pending.discard(state.fake)
                    except ProbeError:
                        pass
            time.sleep(0.2)
        assert not pending, f"not ready under docker-compose: {sorted(pending)}"
    finally:
        subprocess.run([*cmd, "down", "-v"], check=True, capture_output=True, timeout=300)
    label = {"label": [f"{LABEL_STACK}=simdbcompose"]}
    assert docker_engine.containers.list(all=True, filters=label) == []
