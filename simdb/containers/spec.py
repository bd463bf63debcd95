"""What a stack's containers are: one :class:`ContainerSpec` per fake, and the two views of its endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from simdb.errors import ConfigError

LABEL_STACK = "io.simdb.stack"
LABEL_FAKE = "io.simdb.fake"
LABEL_KIND = "io.simdb.kind"


@dataclass(frozen=True)
class ContainerSpec:
    """One fake as a container of simdb's image.

    ``args`` follow the image's ``simdb`` entrypoint (``redis serve --host 0.0.0.0 ...``); the fake listens
    on ``container_port``; ``url_template`` spells a client URL for a host and port
    (``redis://{host}:{port}/0``) and is also the container's own probe URL (``SIMDB_PROBE``) on loopback.
    """

    fake: str
    kind: str
    image: str
    args: tuple[str, ...]
    container_port: int
    url_template: str
    host_port: int = 0
    mounts: tuple[tuple[Path, str], ...] = ()
    """(host path, path in the container), mounted read-only."""
    env: tuple[tuple[str, str], ...] = ()

    def url(self, host: str, port: int) -> str:
        """The client URL of this fake at ``host:port``."""
        return self.url_template.format(host=host, port=port)

    @property
    def probe_url(self) -> str:
        """Where the container's HEALTHCHECK probes itself."""
        return self.url("127.0.0.1", self.container_port)


@dataclass(frozen=True)
class StackSpec:
    """A named set of fake containers; names are unique and spell valid container names."""

    name: str
    fakes: tuple[ContainerSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for value in (self.name, *(f.fake for f in self.fakes)):
            if not value or not all(c.isalnum() or c in "-_" for c in value) or not value[0].isalnum():
                raise ConfigError(f"{value!r}: stack and fake names must be letters, digits, '-' or '_'")
        names = [f.fake for f in self.fakes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"stack {self.name!r}: fake name(s) {duplicates} used twice")

    @property
    def network(self) -> str:
        """The stack's user-defined bridge network."""
        return f"simdb-{self.name}"

    def container_name(self, fake: str) -> str:
        """``<stack>-<fake>``: also the fake's host name inside the stack's network."""
        return f"{self.name}-{fake}"


@dataclass(frozen=True)
class EndpointViews:
    """Where a fake is reached: from the host (published port) and from inside the stack's network."""

    fake: str
    kind: str
    host: tuple[str, int]
    network: tuple[str, int]
    host_url: str
    network_url: str

    def as_dict(self) -> dict[str, object]:
        """The JSON form written to ``endpoints.json``."""
        return {
            "kind": self.kind,
            "host": {"host": self.host[0], "port": self.host[1], "url": self.host_url},
            "network": {"host": self.network[0], "port": self.network[1], "url": self.network_url},
        }


def views(stack: StackSpec, spec: ContainerSpec, host_port: int) -> EndpointViews:
    """Both views of ``spec``'s endpoint once it is published on ``host_port``."""
    inside = stack.container_name(spec.fake)
    return EndpointViews(
        spec.fake,
        spec.kind,
        ("127.0.0.1", host_port),
        (inside, spec.container_port),
        spec.url("127.0.0.1", host_port),
        spec.url(inside, spec.container_port),
    )
