"""A stack file's fakes as container specs: each fake runs its kind's ``serve`` command in simdb's image,
with the IDL, stub files and snapshot mounted read-only."""

from __future__ import annotations

import json
from pathlib import Path

from simdb import __version__
from simdb.containers.spec import ContainerSpec, StackSpec
from simdb.errors import ConfigError
from simdb.fake import Endpoint
from simdb.stack.load import Stack
from simdb.stack.model import MySQLSpec, RedisSpec, ThriftSpec, part_of, start_order

DEFAULT_IMAGE = f"simdb:{__version__}"
DEFAULT_REAL_IMAGE = f"simdb-real:{__version__}"
PORTS = {"thrift": 9090, "redis": 6379, "mysql": 3306}


class _Mounts:
    """Host paths mounted once each, at ``/mnt/<n>/<name>``."""

    def __init__(self) -> None:
        self.by_path: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        resolved = path.resolve()
        if resolved not in self.by_path:
            self.by_path[resolved] = f"/mnt/{len(self.by_path)}/{resolved.name}"
        return self.by_path[resolved]

    def pairs(self) -> tuple[tuple[Path, str], ...]:
        return tuple(self.by_path.items())


def container_stack(
    stack: Stack, image: str = DEFAULT_IMAGE, real_image: str = DEFAULT_REAL_IMAGE
) -> StackSpec:
    """The containers of ``stack``; what a container cannot do yet is refused by name, not dropped."""
    spec = stack.spec
    out: list[ContainerSpec] = []
    for name in start_order(spec):
        fake = spec.fakes[name]
        mount = _Mounts()
        snapshot = ["--snapshot", mount(spec.snapshot)] if spec.snapshot is not None else []
        port = PORTS[fake.kind]
        common = ["--host", "0.0.0.0", "--port", str(port)]
        if isinstance(fake, ThriftSpec):
            args = [
                "thrift",
                "serve",
                mount(fake.idl),
                "--name",
                name,
                *common,
                "--seed",
                str(spec.settings.seed),
                "--protocol",
                fake.protocol,
                "--transport",
                fake.transport,
            ]
            for service in fake.services:
                args += ["--service", service]
            if len(fake.services) > 1:
                args.append("--multiplexed")
            for include in fake.include_dirs:
                args += ["-I", mount(include)]
            args += ["-I", mount(fake.idl.parent)]
            for stub in fake.stubs:
                args += ["--stubs", mount(stub)]
            if fake.faults:
                args += ["--faults", json.dumps(fake.faults, sort_keys=True)]
            if fake.snapshot_stubs != "all":
                args += ["--snapshot-stubs", fake.snapshot_stubs]
            if fake.bindings:
                args += ["--bindings", json.dumps(fake.bindings, sort_keys=True)]
                for store, url in _network_stores(stack).items():
                    args += ["--store", f"{store}={url}"]
            template = f"thrift://{{host}}:{{port}}?protocol={fake.protocol}&transport={fake.transport}"
        elif isinstance(fake, RedisSpec):
            args = ["redis", "serve", *common, "--part", part_of(name, fake), "--engine", fake.engine]
            secret = ""
            if fake.password:
                args += ["--password", fake.password]
                secret = f":{fake.password}@"
            template = f"redis://{secret}{{host}}:{{port}}/0"
        else:
            assert isinstance(fake, MySQLSpec)
            args = [
                "mysql",
                "serve",
                *common,
                "--part",
                part_of(name, fake),
                "--engine",
                fake.engine,
                "--database",
                fake.database,
                "--user",
                fake.user,
                "--password",
                fake.password,
            ]
            auth = fake.user + (f":{fake.password}" if fake.password else "")
            template = f"mysql://{auth}@{{host}}:{{port}}/{fake.database}"
        if not isinstance(fake, ThriftSpec) and fake.faults:
            args += ["--faults", json.dumps(fake.faults, sort_keys=True, default=str)]
        args += snapshot
        chosen = real_image if getattr(fake, "engine", "fake") == "real" else image
        out.append(
            ContainerSpec(name, fake.kind, chosen, tuple(args), port, template, fake.port, mount.pairs())
        )
    return StackSpec(spec.name, tuple(out))


def _credentials(fake: ThriftSpec | RedisSpec | MySQLSpec) -> tuple[tuple[str, str], ...]:
    """The ``Endpoint.extra`` a client of ``fake`` needs (user, password, database)."""
    if isinstance(fake, MySQLSpec):
        return (("user", fake.user), ("password", fake.password), ("database", fake.database))
    if isinstance(fake, RedisSpec) and fake.password:
        return (("password", fake.password),)
    return ()


def _network_stores(stack: Stack) -> dict[str, str]:
    """The URL of every Redis and MySQL fake of the stack from inside its network (container names)."""
    return {
        name: Endpoint(fake.kind, f"{stack.name}-{name}", PORTS[fake.kind], None, _credentials(fake)).url()
        for name, fake in stack.spec.fakes.items()
        if isinstance(fake, RedisSpec | MySQLSpec)
    }


def docker_endpoints(stack: Stack, views: dict[str, dict[str, object]], view: str) -> dict[str, Endpoint]:
    """Endpoints of a stack running in Docker (``endpoints.docker.json``), from the ``host`` or the
    ``network`` view, in the form ``simdb env`` and ``config render`` take."""
    if view not in ("host", "network"):
        raise ConfigError(f"--view must be 'host' or 'network', not {view!r}")
    out: dict[str, Endpoint] = {}
    for name, fake in stack.spec.fakes.items():
        if name not in views:
            raise ConfigError(f"fake {name!r} of stack {stack.name} is not in the running Docker stack")
        where = views[name][view]
        assert isinstance(where, dict)
        out[name] = Endpoint(fake.kind, str(where["host"]), int(str(where["port"])), None, _credentials(fake))
    return out
