"""Run a stack embedded in this process: build, start (storage first), seed, probe, bind, discover.

:class:`StackRun` is what ``simdb up`` and ``simdb demo`` use. On any failure it says which fake
failed and why, and stops everything it started (ports are free again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from simdb.errors import SimdbError
from simdb.fake import Endpoint, Fake, StackAware
from simdb.probe import probe_url, protocol_probe
from simdb.runner import EmbeddedStack, FakeFailed, Started
from simdb.stack.load import Stack
from simdb.stack.serverset import ZooKeeperRegistry, remove_serversets, write_serversets
from simdb.wait import wait_for

log = logging.getLogger("simdb.stack")


def probe_for(fake: Fake, ep: Endpoint) -> Callable[[], bool]:
    """The readiness probe of a fake over its own protocol (a Thrift call, Redis PING, MySQL SELECT 1)."""
    return protocol_probe(probe_url(ep))


class StackRun:
    """One running stack. ``start`` returns the endpoints; ``stop`` undoes everything."""

    def __init__(
        self,
        stack: Stack,
        fakes: list[Fake] | None = None,
        snapshot: Path | None = None,
        on_started: Callable[[Started], None] | None = None,
    ) -> None:
        from simdb.stack.build import build_fakes

        self.stack = stack
        self.fakes = fakes if fakes is not None else build_fakes(stack)
        self.snapshot = snapshot if snapshot is not None else stack.spec.snapshot
        self._embedded = EmbeddedStack(self.fakes, snapshot=self.snapshot, on_started=on_started)
        self._zk: ZooKeeperRegistry | None = None
        self._serversets: list[str] = []
        self.started_at = 0.0
        self.seconds = 0.0

    @property
    def by_name(self) -> dict[str, Fake]:
        """The fakes by name."""
        return {f.name: f for f in self.fakes}

    def start(self) -> dict[str, Endpoint]:
        """Start every fake, load the snapshot, probe each, bind data-backed methods, register."""
        t0 = time.perf_counter()
        timeout = self.stack.spec.settings.ready_timeout
        try:
            self._embedded.start()
            endpoints = self._embedded.endpoints()
            for fake in self.fakes:
                ep = endpoints[fake.name]
                try:
                    wait_for(probe_for(fake, ep), timeout, what=f"{fake.kind} fake at {ep.address}")
                except SimdbError as exc:
                    raise FakeFailed(fake.name, str(exc)) from exc
            for fake in self.fakes:
                if isinstance(fake, StackAware):
                    try:
                        fake.bind_stack(endpoints, self.by_name)
                    except SimdbError as exc:
                        raise FakeFailed(fake.name, str(exc)) from exc
            self._discover(endpoints)
        except BaseException:
            self.stop()
            raise
        self.seconds = time.perf_counter() - t0
        self.started_at = time.time()
        log.info("stack %s ready in %.3fs", self.stack.name, self.seconds)
        return endpoints

    def _discover(self, endpoints: dict[str, Endpoint]) -> None:
        disc = self.stack.spec.discovery
        if disc.serverset_dir is not None:
            self._serversets = list(endpoints)
            write_serversets(disc.serverset_dir, disc.env, endpoints)
        if disc.zookeeper is not None:
            zk = disc.zookeeper
            self._zk = ZooKeeperRegistry(zk.hosts, zk.path, zk.timeout).start()
            self._zk.register(endpoints)

    def endpoints(self) -> dict[str, Endpoint]:
        """Endpoints by fake name."""
        return self._embedded.endpoints()

    def reset(self, name: str | None = None) -> list[str]:
        """Reset one fake (or all) to the loaded snapshot; return the names reset."""
        fakes = self.fakes if name is None else [self._one(name)]
        for fake in fakes:
            fake.reset()
        return [f.name for f in fakes]

    def _one(self, name: str) -> Fake:
        fake = self.by_name.get(name)
        if fake is None:
            raise SimdbError(
                f"no fake {name!r} in stack {self.stack.name} (fakes: {', '.join(self.by_name)})"
            )
        return fake

    def stop(self) -> None:
        """Deregister, remove serverset files, stop every fake; errors are logged, not raised."""
        if self._zk is not None:
            try:
                self._zk.close()
            except Exception:
                log.exception("leaving ZooKeeper failed")
            self._zk = None
        disc = self.stack.spec.discovery
        if self._serversets and disc.serverset_dir is not None:
            remove_serversets(disc.serverset_dir, disc.env, self._serversets)
            self._serversets = []
        self._embedded.stop()

    def __enter__(self) -> StackRun:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
