"""Run a set of fakes embedded in this process: start, seed, report endpoints, stop.

The runner only talks to fakes through :class:`simdb.fake.Fake`, so it never
special-cases a kind.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from simdb.errors import SimdbError
from simdb.fake import Endpoint, Fake

log = logging.getLogger("simdb.runner")


@dataclass(frozen=True)
class Started:
    """One fake once it answers probes, with how long it took."""

    name: str
    endpoint: Endpoint
    seconds: float


class FakeFailed(SimdbError):
    """A fake failed to start or to load its snapshot part; ``fake`` names it."""

    def __init__(self, fake: str, problem: str) -> None:
        super().__init__(f"fake {fake!r} failed: {problem}")
        self.fake = fake


class EmbeddedStack:
    """Starts fakes in order, loads the snapshot into each, and stops them in reverse order.

    ``on_started`` is called after each fake is ready (the CLI uses it for its progress bar).
    On any failure, the fakes already started are stopped before the error propagates.
    """

    def __init__(
        self,
        fakes: Sequence[Fake],
        snapshot: Path | None = None,
        on_started: Callable[[Started], None] | None = None,
    ) -> None:
        names = [f.name for f in fakes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SimdbError(f"two fakes share the name(s) {duplicates}: names must be unique in a stack")
        self.fakes = list(fakes)
        self.snapshot = snapshot
        self.on_started = on_started
        self.started: list[Started] = []

    def start(self) -> list[Started]:
        """Start every fake, seed it, and return where each one is."""
        try:
            for fake in self.fakes:
                t0 = time.perf_counter()
                try:
                    fake.start()
                    if self.snapshot is not None:
                        fake.load(self.snapshot)
                except SimdbError as exc:
                    raise FakeFailed(fake.name, str(exc)) from exc
                item = Started(fake.name, fake.endpoint, time.perf_counter() - t0)
                self.started.append(item)
                log.info(
                    "%s (%s) ready at %s in %.3fs", fake.name, fake.kind, item.endpoint.address, item.seconds
                )
                if self.on_started is not None:
                    self.on_started(item)
        except BaseException:
            self.stop()
            raise
        return list(self.started)

    def stop(self) -> None:
        """Stop every started fake, newest first; errors are logged, not raised."""
        for fake in reversed(self.fakes):
            try:
                fake.stop()
            except Exception:
                log.exception("stopping %s failed", fake.name)
        self.started.clear()

    def reset(self) -> None:
        """Reset every fake to the loaded snapshot."""
        for fake in self.fakes:
            fake.reset()

    def endpoints(self) -> dict[str, Endpoint]:
        """Endpoints by fake name."""
        return {s.name: s.endpoint for s in self.started}

    def __enter__(self) -> EmbeddedStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def endpoints_json(endpoints: dict[str, Endpoint]) -> str:
    """The endpoints as JSON, the form services and tests read."""
    data = {
        name: {
            "kind": ep.kind,
            "host": ep.host,
            "port": ep.port,
            "url": ep.url(),
            **({"admin": f"http://{ep.host}:{ep.admin_port}/_simdb/"} if ep.admin_port else {}),
        }
        for name, ep in sorted(endpoints.items())
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def endpoints_env(endpoints: dict[str, Endpoint]) -> str:
    """The endpoints as an environment file (``SIMDB_<NAME>_HOST``, ``_PORT``, ``_URL``)."""
    lines = []
    for name, ep in sorted(endpoints.items()):
        key = "SIMDB_" + "".join(c if c.isalnum() else "_" for c in name).upper()
        lines += [f"{key}_HOST={ep.host}", f"{key}_PORT={ep.port}", f"{key}_URL={ep.url()}"]
        if ep.admin_port:
            lines.append(f"{key}_ADMIN_URL=http://{ep.host}:{ep.admin_port}/_simdb/")
    return "\n".join(lines) + "\n"


def write_endpoints(directory: Path, endpoints: dict[str, Endpoint]) -> tuple[Path, Path]:
    """Write ``endpoints.json`` and ``endpoints.env`` into ``directory``; return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    js, env = directory / "endpoints.json", directory / "endpoints.env"
    js.write_text(endpoints_json(endpoints), encoding="utf-8")
    env.write_text(endpoints_env(endpoints), encoding="utf-8")
    return js, env
