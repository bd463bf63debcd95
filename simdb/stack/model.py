"""The stack file's typed, frozen objects (see ``docs/stacks.md``).

Only the shape is checked here; :mod:`simdb.stack.load` adds the checks that need the
file system (IDL files, the snapshot's parts) and turns errors into messages naming
file and key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simdb.errors import ConfigError

Engine = Literal["fake", "real"]
Port = Annotated[int, Field(ge=0, le=65535)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class ThriftSpec(_Frozen):
    """A Thrift fake: IDL, service(s) (several = multiplexed), wire settings, stubs, faults, bindings."""

    kind: Literal["thrift"]
    port: Port = 0
    engine: Literal["fake"] = "fake"
    idl: Path
    include_dirs: tuple[Path, ...] = ()
    services: tuple[str, ...] = Field(min_length=1)
    protocol: Literal["binary", "compact"] = "binary"
    transport: Literal["buffered", "framed"] = "buffered"
    stubs: tuple[Path, ...] = ()
    faults: dict[str, Any] = {}
    """Fault rules by method (keyed by service first when multiplexed), as ``simdb thrift serve --faults``."""
    bindings: dict[str, Any] = {}
    """Data-backed methods: method name -> binding (kept raw; parsed by ``simdb.thrift.databind``)."""
    snapshot_stubs: Literal["all", "unbound", "none"] = "all"
    """Which stubs of the snapshot part to serve: ``unbound`` leaves bound methods to their bindings."""
    part: str | None = None
    """Snapshot part to load (default: the fake's name)."""


class RedisSpec(_Frozen):
    """A Redis fake."""

    kind: Literal["redis"]
    port: Port = 0
    engine: Engine = "fake"
    password: str | None = None
    part: str | None = None
    faults: Any = None
    """Fault rules (``docs/faults.md``): a list of rules with ``match``, or ``{seed, rules}``."""

    @field_validator("faults")
    @classmethod
    def _faults(cls, value: Any) -> Any:
        from simdb.redis.faults import parse_plan

        return _checked_faults(parse_plan, value)


class MySQLSpec(_Frozen):
    """A MySQL fake."""

    kind: Literal["mysql"]
    port: Port = 0
    engine: Engine = "fake"
    database: str = "simdb"
    user: str = "root"
    password: str = ""
    part: str | None = None
    faults: Any = None
    """Fault rules (``docs/faults.md``): a list of rules with ``match``, or ``{seed, rules}``."""

    @field_validator("faults")
    @classmethod
    def _faults(cls, value: Any) -> Any:
        from simdb.mysql.faults import parse_plan

        return _checked_faults(parse_plan, value)


def _checked_faults(parse: Callable[[Any, str], object], value: Any) -> Any:
    """``value`` if it is a valid fault plan for the kind (pydantic then names the key)."""
    if value:
        try:
            parse(value, "faults")
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("faults").lstrip(".: ") or str(exc)) from None
    return value


FakeSpec = Annotated[ThriftSpec | RedisSpec | MySQLSpec, Field(discriminator="kind")]
#: kind -> model, for the unknown-key walk in :mod:`simdb.stack.load`.
KINDS: dict[str, type[BaseModel]] = {"thrift": ThriftSpec, "redis": RedisSpec, "mysql": MySQLSpec}


class ZooKeeperSpec(_Frozen):
    """Register every fake as an ephemeral serverset member under ``path/<fake>``."""

    hosts: str
    path: str = "/discovery"
    timeout: float = Field(default=5.0, gt=0)


class DiscoverySpec(_Frozen):
    """Service discovery: serverset files (``discovery.<fake>.<env>``) and optionally ZooKeeper."""

    serverset_dir: Path | None = None
    env: str = "dev"
    zookeeper: ZooKeeperSpec | None = None


class Settings(_Frozen):
    """Stack-wide settings."""

    seed: int = 0
    host: str = "127.0.0.1"
    ready_timeout: float = Field(default=10.0, gt=0)


class StackSpec(_Frozen):
    """One stack: its fakes by name, the snapshot it loads, discovery and settings."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    fakes: dict[str, FakeSpec] = Field(min_length=1)
    snapshot: Path | None = None
    bindings: tuple[Path, ...] = ()
    """Binding files (fake name -> method -> binding), merged into the fakes' ``bindings``."""
    discovery: DiscoverySpec = DiscoverySpec()
    settings: Settings = Settings()


STORAGE_KINDS = ("redis", "mysql")


def start_order(spec: StackSpec) -> list[str]:
    """Fake names in start order: storage fakes (Redis, MySQL) first, then Thrift, each in file order."""
    storage = [n for n, f in spec.fakes.items() if f.kind in STORAGE_KINDS]
    return storage + [n for n in spec.fakes if n not in storage]


def part_of(name: str, fake: ThriftSpec | RedisSpec | MySQLSpec) -> str:
    """The snapshot part a fake loads."""
    return fake.part or name
