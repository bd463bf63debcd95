"""The state of a running stack under ``.simdb/<stack>/`` (in the working directory).

``state.json`` names the serving process, when it started and every fake's endpoint and admin
port (the control channel ``ps``, ``reset``, ``stubs`` and ``faults`` use); ``endpoints.json``
and ``endpoints.env`` are for services and tests; ``stack.log`` is the log of a detached stack.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simdb.fake import Endpoint, FakeKind

STATE_ROOT = Path(".simdb")


def stack_dir(name: str, root: Path | None = None) -> Path:
    """``.simdb/<name>/`` below ``root`` (default: the working directory)."""
    return (root if root is not None else Path.cwd() / STATE_ROOT) / name


def endpoint_to_json(ep: Endpoint) -> dict[str, Any]:
    """An endpoint as JSON (round-trips through :func:`endpoint_from_json`)."""
    return {
        "kind": ep.kind,
        "host": ep.host,
        "port": ep.port,
        "admin_port": ep.admin_port,
        "extra": dict(ep.extra),
    }


def endpoint_from_json(data: dict[str, Any]) -> Endpoint:
    """The endpoint written by :func:`endpoint_to_json`."""
    kind: FakeKind = data["kind"]
    extra = tuple(sorted((str(k), str(v)) for k, v in dict(data.get("extra") or {}).items()))
    return Endpoint(kind, str(data["host"]), int(data["port"]), data.get("admin_port"), extra)


@dataclass(frozen=True)
class StackState:
    """What ``state.json`` says about a running stack."""

    stack: str
    file: str
    pid: int
    started_at: float
    endpoints: dict[str, Endpoint]
    detached: bool

    def to_json(self) -> dict[str, Any]:
        """The JSON written to ``state.json``."""
        return {
            "stack": self.stack,
            "file": self.file,
            "pid": self.pid,
            "started_at": self.started_at,
            "detached": self.detached,
            "endpoints": {n: endpoint_to_json(ep) for n, ep in self.endpoints.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackState:
        """Read back :meth:`to_json`."""
        return cls(
            stack=str(data["stack"]),
            file=str(data["file"]),
            pid=int(data["pid"]),
            started_at=float(data["started_at"]),
            endpoints={n: endpoint_from_json(e) for n, e in dict(data["endpoints"]).items()},
            detached=bool(data.get("detached", False)),
        )

    @property
    def uptime(self) -> float:
        """Seconds since the stack was ready."""
        return max(0.0, time.time() - self.started_at)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (and is not a zombie we could reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a detached child of ours that has exited but was not reaped yet
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def write_state(directory: Path, state: StackState) -> Path:
    """Write ``state.json`` atomically (a reader never sees half a file)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "state.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_state(directory: Path) -> StackState | None:
    """The running stack's state, or None (no state file, or its process is gone: then it is removed)."""
    path = directory / "state.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        state = StackState.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not pid_alive(state.pid):
        clear_state(directory)
        return None
    return state


def clear_state(directory: Path) -> None:
    """Remove the state and endpoint files (the log stays for ``simdb logs``)."""
    for name in ("state.json", "endpoints.json", "endpoints.env"):
        (directory / name).unlink(missing_ok=True)
