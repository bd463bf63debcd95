"""``up --docker`` and friends: a stack's fakes as containers on their own network, through the Docker SDK.

Every container, network and volume carries the stack's label, so ``down``, ``ps`` and ``logs`` find them
from any shell; a failed ``up`` removes whatever it made. Readiness is probed from the host over each
fake's own protocol through its published port, never by sleeping for a fixed time.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from simdb.containers.spec import (
    LABEL_FAKE,
    LABEL_KIND,
    LABEL_STACK,
    ContainerSpec,
    EndpointViews,
    StackSpec,
    views,
)
from simdb.errors import SimdbError
from simdb.images.engine import docker_client
from simdb.probe import ProbeError, probe

log = logging.getLogger("simdb.containers")


class StackStartError(SimdbError):
    """A fake's container did not become ready; nothing of the stack is left behind."""


class StackRunning(SimdbError):
    """The stack already has containers running."""


@dataclass(frozen=True)
class ContainerState:
    """What ``ps`` shows of one fake's container."""

    fake: str
    kind: str
    name: str
    status: str
    health: str
    host_port: int | None
    started_at: str
    restarts: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


READY_FILE = "/tmp/simdb-ready"
"""``SIMDB_READY_FILE`` of simdb's image: the serve command makes it once started and seeded."""


def _seeded(container: Any) -> bool:
    """True once the container's serve command has loaded its snapshot (a port can answer before)."""
    result = container.exec_run(["test", "-f", READY_FILE])
    return int(result.exit_code) == 0


def _published(container: Any, port: int) -> int | None:
    container.reload()
    bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") or []
    return int(bindings[0]["HostPort"]) if bindings else None


class DockerStack:
    """Bring a :class:`StackSpec` up and down on a Docker engine."""

    def __init__(self, stack: StackSpec, client: Any | None = None) -> None:
        self.stack = stack
        self.client = client if client is not None else docker_client()

    # ----------------------------------------------------------------------------------------- find

    def _filters(self, fake: str | None = None) -> dict[str, list[str]]:
        labels = [f"{LABEL_STACK}={self.stack.name}"] + ([f"{LABEL_FAKE}={fake}"] if fake else [])
        return {"label": labels}

    def containers(self, fake: str | None = None) -> list[Any]:
        """The stack's containers (running or not), in the stack's order."""
        found = self.client.containers.list(all=True, filters=self._filters(fake))
        order = {spec.fake: i for i, spec in enumerate(self.stack.fakes)}
        return sorted(found, key=lambda c: order.get(c.labels.get(LABEL_FAKE, ""), len(order)))

    # ------------------------------------------------------------------------------------------- up

    def up(
        self, timeout: float = 60.0, on_ready: Callable[[EndpointViews], None] | None = None
    ) -> dict[str, EndpointViews]:
        """Start every fake's container and wait until each answers its probe; return both endpoint views.

        On any failure the containers and the network made so far are removed and
        :class:`StackStartError` names the fake, the reason and the container's last log lines.
        """
        running = [c for c in self.containers() if c.status in ("running", "restarting", "created")]
        if running:
            names = ", ".join(c.name for c in running)
            raise StackRunning(f"stack {self.stack.name!r} is already running in Docker ({names})")
        self.down()  # exited leftovers of an earlier run
        try:
            network = self.client.networks.create(
                self.stack.network, driver="bridge", labels={LABEL_STACK: self.stack.name}
            )
            deadline = time.monotonic() + timeout
            out: dict[str, EndpointViews] = {}
            # The engine starts containers concurrently; each fake is probed as soon as its own is up.
            with ThreadPoolExecutor(max_workers=max(1, len(self.stack.fakes))) as pool:
                futures = {
                    spec.fake: pool.submit(self._start_and_wait, spec, network.name, deadline)
                    for spec in self.stack.fakes
                }
                for spec in self.stack.fakes:
                    out[spec.fake] = futures[spec.fake].result()
                    if on_ready is not None:
                        on_ready(out[spec.fake])
            return out
        except BaseException:
            self.down()
            raise

    def _start_and_wait(self, spec: ContainerSpec, network: str, deadline: float) -> EndpointViews:
        return self._wait_ready(spec, self._run(spec, network), deadline)

    def _run(self, spec: ContainerSpec, network: str) -> Any:
        import docker.errors

        host_port = spec.host_port or _free_port()
        try:
            return self.client.containers.run(
                spec.image,
                list(spec.args),
                name=self.stack.container_name(spec.fake),
                hostname=self.stack.container_name(spec.fake),
                detach=True,
                network=network,
                ports={f"{spec.container_port}/tcp": ("127.0.0.1", host_port)},
                volumes={str(src): {"bind": dst, "mode": "ro"} for src, dst in spec.mounts},
                environment={"SIMDB_PROBE": spec.probe_url, **dict(spec.env)},
                labels={LABEL_STACK: self.stack.name, LABEL_FAKE: spec.fake, LABEL_KIND: spec.kind},
                restart_policy={"Name": "always"},
            )
        except docker.errors.ImageNotFound as exc:
            raise StackStartError(
                f"{spec.fake}: image {spec.image!r} not found: build it with `simdb images build`"
            ) from exc
        except docker.errors.APIError as exc:
            raise StackStartError(f"{spec.fake}: docker could not start the container: {exc}") from exc

    def _wait_ready(
        self, spec: ContainerSpec, container: Any, deadline: float, allow_restarts: bool = False
    ) -> EndpointViews:
        # Probing the published port is a cheap TCP round trip; asking the engine about the container
        # is not (six fakes polling it would slow every container's start), so that is done 4x a second.
        last = "no answer yet"
        port: int | None = None
        checked = 0.0
        while time.monotonic() < deadline:
            now = time.monotonic()
            if port is None or now - checked >= 0.25:
                checked = now
                container.reload()
                restarted = container.attrs["RestartCount"] > 0 and not allow_restarts
                if container.status == "exited" or restarted:
                    last = f"the container exited (code {container.attrs['State']['ExitCode']})"
                    break
                port = _published(container, spec.container_port)
            if port is not None:
                try:
                    probe(spec.url("127.0.0.1", port), timeout=1.0)
                    if not _seeded(container):
                        raise ProbeError("answers, but is still loading its snapshot")
                    ready = views(self.stack, spec, port)
                    log.info("%s ready at %s (network %s)", spec.fake, ready.host_url, ready.network_url)
                    return ready
                except ProbeError as exc:
                    last = str(exc)
            time.sleep(0.05)
        tail = container.logs(tail=15).decode("utf-8", "replace").rstrip()
        raise StackStartError(f"{spec.fake} ({container.name}) not ready: {last}\nlast log lines:\n{tail}")

    def restart(self, fake: str | None = None, timeout: float = 60.0) -> list[str]:
        """Restart the fakes' containers (each reloads its snapshot) and wait until they answer again."""
        targets = [s for s in self.stack.fakes if fake is None or s.fake == fake]
        if not targets:
            raise StackStartError(f"no fake {fake!r} in stack {self.stack.name!r}")
        deadline = time.monotonic() + timeout
        restarted = []
        for spec in targets:
            found = self.containers(spec.fake)
            if not found:
                raise StackStartError(f"{spec.fake}: no container (is the stack up? simdb up --docker)")
            found[0].restart(timeout=5)
            restarted.append((spec, found[0]))
        for spec, container in restarted:
            self._wait_ready(spec, container, deadline, allow_restarts=True)
        return [spec.fake for spec, _ in restarted]

    # ------------------------------------------------------------------------------- down, ps, logs

    def down(self) -> list[str]:
        """Remove every container, network and volume of the stack; return what was removed."""
        import docker.errors

        removed: list[str] = []
        for container in self.containers():
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
                removed.append(f"container {container.name}")
        for network in self.client.networks.list(filters=self._filters()):
            with contextlib.suppress(docker.errors.NotFound):
                network.remove()
                removed.append(f"network {network.name}")
        for volume in self.client.volumes.list(filters=self._filters()):
            with contextlib.suppress(docker.errors.NotFound):
                volume.remove(force=True)
                removed.append(f"volume {volume.name}")
        return removed

    def ps(self) -> list[ContainerState]:
        """State of each fake's container (for a stack started by any shell)."""
        out = []
        for container in self.containers():
            attrs = container.attrs
            fake = container.labels.get(LABEL_FAKE, "")
            spec = next((s for s in self.stack.fakes if s.fake == fake), None)
            out.append(
                ContainerState(
                    fake,
                    container.labels.get(LABEL_KIND, ""),
                    container.name,
                    container.status,
                    attrs["State"].get("Health", {}).get("Status", "-"),
                    _published(container, spec.container_port) if spec else None,
                    attrs["State"].get("StartedAt", ""),
                    int(attrs.get("RestartCount", 0)),
                )
            )
        return out

    def logs(self, fake: str | None = None, follow: bool = False, tail: int = 200) -> Iterator[str]:
        """Log lines of one fake's container (or all), prefixed with the fake's name."""
        for container in self.containers(fake):
            name = container.labels.get(LABEL_FAKE, container.name)
            if follow:
                for chunk in container.logs(stream=True, follow=True, tail=tail):
                    yield f"{name} | {chunk.decode('utf-8', 'replace').rstrip()}"
            else:
                for line in container.logs(tail=tail).decode("utf-8", "replace").splitlines():
                    yield f"{name} | {line}"
