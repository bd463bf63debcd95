"""Reaching a Docker engine through the Docker SDK, with an error that says what was tried."""

from __future__ import annotations

import os
from typing import Any

from simdb.errors import SimdbError

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


class DockerUnavailable(SimdbError):
    """No Docker engine answered."""


def docker_client(timeout: float = 120.0) -> Any:
    """A ``docker.DockerClient`` for the engine in ``DOCKER_HOST`` (else the default socket), pinged."""
    try:
        import docker
        import docker.errors
    except ImportError as exc:
        raise DockerUnavailable(
            "the Docker SDK for Python is not installed: pip install 'simdb[docker]'"
        ) from exc
    where = os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except docker.errors.DockerException as exc:
        source = "DOCKER_HOST" if os.environ.get("DOCKER_HOST") else "the default socket"
        raise DockerUnavailable(
            f"no Docker engine answered at {where} ({source}): {exc}. Start one (for example "
            "`sudo systemctl start docker`, or `dockerd &` as root) or point DOCKER_HOST at a running engine"
        ) from exc
    return client
