"""``simdb k8s export``: the same stack as Kubernetes manifests, for teams whose stack outgrows one machine.

Per stack a Namespace (``simdb-<stack>``); per fake a Deployment of simdb's image and a ClusterIP Service
named like its container (``<stack>-<fake>``), so configuration rendered for the stack's network view works
unchanged inside the namespace. Read-only mounts (snapshot, IDL) become ConfigMaps, or come baked into the
image (``simdb images build --snapshot``). Readiness and liveness run simdb's own probe. A ``serversets``
ConfigMap holds each fake's serverset line (``<service>.<namespace>.svc.cluster.local:<port>``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from simdb.containers.spec import ContainerSpec, StackSpec
from simdb.errors import ConfigError

CONFIGMAP_LIMIT = 1_000_000
"""Kubernetes caps a ConfigMap at 1 MiB; stay below it."""


def namespace(stack: StackSpec) -> str:
    """The stack's namespace."""
    return f"simdb-{stack.name}".lower().replace("_", "-")


def _dns(name: str) -> str:
    return name.lower().replace("_", "-")


def _labels(stack: StackSpec, spec: ContainerSpec) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": _dns(spec.fake),
        "app.kubernetes.io/instance": _dns(stack.name),
        "app.kubernetes.io/component": spec.kind,
        "app.kubernetes.io/part-of": "simdb",
        "app.kubernetes.io/managed-by": "simdb",
    }


def _key(relative: Path) -> str:
    return re.sub(r"[^-._a-zA-Z0-9]", "_", "__".join(relative.parts))


def _configmap(name: str, ns: str, source: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """A ConfigMap of every file below ``source`` and the volume items that restore their paths."""
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    items = []
    size = 0
    for path in files:
        relative = path.relative_to(source) if source.is_dir() else Path(path.name)
        raw = path.read_bytes()
        size += len(raw)
        key = _key(relative)
        try:
            data[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            binary[key] = base64.b64encode(raw).decode()
        items.append({"key": key, "path": str(relative)})
    if size > CONFIGMAP_LIMIT:
        raise ConfigError(
            f"{source}: {size} bytes is more than a ConfigMap holds (1 MiB); bake it into the image "
            "(simdb images build --snapshot DIR) and export with --mounts-in-image"
        )
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/part-of": "simdb"}},
        "data": data,
    }
    if binary:
        doc["binaryData"] = binary
    return doc, items


def manifests(stack: StackSpec, mounts_in_image: bool = False) -> list[dict[str, Any]]:
    """Every manifest of ``stack``, Namespace first."""
    ns = namespace(stack)
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"app.kubernetes.io/part-of": "simdb"}},
        }
    ]
    configmaps: dict[Path, tuple[str, list[dict[str, str]]]] = {}
    serversets: dict[str, str] = {}
    for spec in stack.fakes:
        service = _dns(stack.container_name(spec.fake))
        labels = _labels(stack, spec)
        volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}]
        mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]
        if not mounts_in_image:
            for index, (source, target) in enumerate(spec.mounts):
                if source not in configmaps:
                    cm_name = f"{_dns(stack.name)}-files-{len(configmaps)}"
                    doc, items = _configmap(cm_name, ns, source)
                    docs.append(doc)
                    configmaps[source] = (cm_name, items)
                cm_name, items = configmaps[source]
                volumes.append({"name": f"m{index}", "configMap": {"name": cm_name, "items": items}})
                mounts.append({"name": f"m{index}", "mountPath": target, "readOnly": True})
        probe = {"exec": {"command": ["simdb", "probe", "--from-env"]}, "timeoutSeconds": 3}
        container = {
            "name": spec.kind,
            "image": spec.image,
            "args": list(spec.args),
            "ports": [{"name": "fake", "containerPort": spec.container_port, "protocol": "TCP"}],
            "env": [{"name": "SIMDB_PROBE", "value": spec.probe_url}]
            + [{"name": k, "value": v} for k, v in spec.env],
            "readinessProbe": {**probe, "periodSeconds": 2, "failureThreshold": 3},
            "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
            "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "volumeMounts": mounts,
        }
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": service, "namespace": ns, "labels": labels},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [container], "volumes": volumes},
                    },
                },
            }
        )
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": service, "namespace": ns, "labels": labels},
                "spec": {
                    "type": "ClusterIP",
                    "selector": labels,
                    "ports": [
                        {"name": "fake", "port": spec.container_port, "targetPort": "fake", "protocol": "TCP"}
                    ],
                },
            }
        )
        serversets[_key(Path(spec.fake))] = f"{service}.{ns}.svc.cluster.local:{spec.container_port}\n"
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "serversets",
                "namespace": ns,
                "labels": {"app.kubernetes.io/part-of": "simdb"},
            },
            "data": serversets,
        }
    )
    return docs


def write_manifests(stack: StackSpec, out: Path, mounts_in_image: bool = False) -> list[Path]:
    """Write one YAML file per manifest kind group into ``out``; return the files (apply in name order)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for index, doc in enumerate(manifests(stack, mounts_in_image)):
        name = f"{index:02d}-{doc['kind'].lower()}-{doc['metadata']['name']}.yaml"
        path = out / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
