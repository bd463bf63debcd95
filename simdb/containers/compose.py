"""``simdb compose export``: the same stack as a ``docker-compose.yml``.

Each fake becomes a service of simdb's image with its container name, the stack's network, its port
published on 127.0.0.1, the image's health check (``SIMDB_PROBE``), and its snapshot and IDL mounts
read-only. A service under test may be added; it ``depends_on`` every fake being healthy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simdb.containers.spec import LABEL_FAKE, LABEL_KIND, LABEL_STACK, StackSpec


@dataclass(frozen=True)
class ServiceUnderTest:
    """A service of the user's, run beside the fakes (``build`` directory or ``image``)."""

    name: str
    port: int
    image: str = ""
    build: Path | None = None
    config: Path | None = None
    """A config file rendered for the network view, mounted at ``config_path``."""
    config_path: str = "/config/service.yaml"


def _relative(path: Path, base: Path) -> str:
    try:
        rel = os.path.relpath(path.resolve(), base.resolve())
    except ValueError:
        return str(path.resolve())
    return rel if rel.startswith("..") or rel.startswith("/") else f"./{rel}"


def compose_document(stack: StackSpec, base: Path, service: ServiceUnderTest | None = None) -> dict[str, Any]:
    """The Compose document for ``stack``; host paths are written relative to ``base`` (the file's dir)."""
    services: dict[str, Any] = {}
    for spec in stack.fakes:
        host_port = str(spec.host_port) if spec.host_port else ""
        services[spec.fake] = {
            "image": spec.image,
            "container_name": stack.container_name(spec.fake),
            "hostname": stack.container_name(spec.fake),
            "command": list(spec.args),
            "environment": {"SIMDB_PROBE": spec.probe_url, **dict(spec.env)},
            "ports": [f"127.0.0.1:{host_port}:{spec.container_port}"],
            "volumes": [f"{_relative(src, base)}:{dst}:ro" for src, dst in spec.mounts],
            "networks": [stack.network],
            "restart": "always",
            "labels": {LABEL_STACK: stack.name, LABEL_FAKE: spec.fake, LABEL_KIND: spec.kind},
            "healthcheck": {
                "test": ["CMD", "simdb", "probe", "--from-env"],
                "interval": "2s",
                "timeout": "3s",
                "retries": 15,
                "start_period": "1s",
            },
        }
    if service is not None:
        entry: dict[str, Any] = {
            "container_name": f"{stack.name}-{service.name}",
            "ports": [f"127.0.0.1::{service.port}"],
            "networks": [stack.network],
            "depends_on": {spec.fake: {"condition": "service_healthy"} for spec in stack.fakes},
            "labels": {LABEL_STACK: stack.name},
        }
        if service.build is not None:
            entry["build"] = _relative(service.build, base)
        if service.image:
            entry["image"] = service.image
        if service.config is not None:
            entry["volumes"] = [f"{_relative(service.config, base)}:{service.config_path}:ro"]
        services[service.name] = entry
    return {
        "x-simdb-stack": stack.name,
        "services": services,
        "networks": {
            stack.network: {"name": stack.network, "driver": "bridge", "labels": {LABEL_STACK: stack.name}}
        },
    }


def write_compose(stack: StackSpec, out: Path, service: ServiceUnderTest | None = None) -> Path:
    """Write ``docker-compose.yml`` for ``stack`` to ``out`` (a file, or a directory to put it in)."""
    path = out / "docker-compose.yml" if out.is_dir() else out
    document = compose_document(stack, path.parent, service)
    header = f"# simdb stack {stack.name!r}, exported by `simdb compose export`; ports on 127.0.0.1 only.\n"
    path.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path
