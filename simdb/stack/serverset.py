"""Service discovery for a running stack: serverset files and ZooKeeper serverset members.

Pinterest-style services read serverset files (one ``host:port`` per line, kept current from
ZooKeeper by a HostsProvider); Finagle/Aurora-style ones watch ZooKeeper directly. ``up`` writes
``<serverset_dir>/discovery.<fake>.<env>`` for every fake and, when the stack names a ZooKeeper,
registers each fake as an EPHEMERAL ``member_`` node under ``<path>/<fake>`` holding
``{"serviceEndpoint": {"host", "port"}, "additionalEndpoints": {}, "status": "ALIVE"}``;
``down`` removes both (the ephemeral nodes also vanish if the process dies).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simdb.errors import ConfigError
from simdb.fake import Endpoint

log = logging.getLogger("simdb.stack.serverset")


def serverset_path(directory: Path, fake: str, env: str) -> Path:
    """``<directory>/discovery.<fake>.<env>``."""
    return directory / f"discovery.{fake}.{env}"


def write_serversets(directory: Path, env: str, endpoints: Mapping[str, Endpoint]) -> list[Path]:
    """One serverset file per fake (``host:port`` per line), each written atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, ep in sorted(endpoints.items()):
        path = serverset_path(directory, name, env)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(f"{ep.host}:{ep.port}\n", encoding="utf-8")
        os.replace(tmp, path)
        written.append(path)
    return written


def remove_serversets(directory: Path, env: str, names: list[str]) -> None:
    """Remove the serverset files of ``names``."""
    for name in names:
        serverset_path(directory, name, env).unlink(missing_ok=True)


def member_json(ep: Endpoint) -> bytes:
    """A serverset member in the Finagle/Aurora JSON form."""
    data = {
        "serviceEndpoint": {"host": ep.host, "port": ep.port},
        "additionalEndpoints": {},
        "status": "ALIVE",
    }
    return json.dumps(data, sort_keys=True).encode()


class ZooKeeperRegistry:
    """Ephemeral serverset members for a stack's fakes in one ZooKeeper session."""

    def __init__(self, hosts: str, path: str, timeout: float = 5.0) -> None:
        if not path.startswith("/") or (path.endswith("/") and path != "/"):
            raise ConfigError(f"discovery.zookeeper.path: must be an absolute path, got {path!r}")
        self.hosts = hosts
        self.path = path.rstrip("/") or ""
        self.timeout = timeout
        self._client: Any = None
        self.nodes: dict[str, str] = {}

    def start(self) -> ZooKeeperRegistry:
        """Connect (a ConfigError naming the hosts if ZooKeeper does not answer in time)."""
        from kazoo.client import KazooClient
        from kazoo.handlers.threading import KazooTimeoutError

        client = KazooClient(hosts=self.hosts, timeout=self.timeout)
        try:
            client.start(timeout=self.timeout)
        except KazooTimeoutError:
            client.close()
            raise ConfigError(
                f"discovery.zookeeper.hosts: no ZooKeeper answered at {self.hosts} within {self.timeout:g}s"
            ) from None
        self._client = client
        return self

    def register(self, endpoints: Mapping[str, Endpoint]) -> dict[str, str]:
        """Create one ephemeral sequential ``member_`` node per fake; return the node paths."""
        for name, ep in sorted(endpoints.items()):
            node = self._client.create(
                f"{self.path}/{name}/member_", member_json(ep), ephemeral=True, sequence=True, makepath=True
            )
            self.nodes[name] = str(node)
            log.info("registered %s in ZooKeeper at %s", name, node)
        return dict(self.nodes)

    def close(self) -> None:
        """Delete the members and end the session."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            for node in self.nodes.values():
                try:
                    client.delete(node)
                except Exception as exc:
                    log.warning("removing %s from ZooKeeper failed: %s", node, exc)
            self.nodes.clear()
            client.stop()
        finally:
            client.close()
