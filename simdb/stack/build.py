"""Turn a validated stack into unstarted fakes (the existing Thrift, Redis and MySQL fakes).

Building loads every IDL, stub file and fault rule, so ``simdb check`` finds an unknown service
or method without starting anything.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from simdb.errors import ConfigError, SimdbError
from simdb.fake import Fake
from simdb.stack.load import Stack
from simdb.stack.model import MySQLSpec, RedisSpec, ThriftSpec, part_of, start_order


def _databind() -> Any:
    try:
        return importlib.import_module("simdb.thrift.databind")
    except ModuleNotFoundError as exc:
        if exc.name not in ("simdb.thrift.databind", "simdb.thrift"):
            raise
        raise ConfigError(
            "bindings: data-backed Thrift methods are not available in this simdb (no simdb.thrift.databind)"
        ) from None


def _thrift(stack: Stack, name: str, spec: ThriftSpec, admin_port: int | None) -> Fake:
    from simdb.thrift.fake import ThriftConfig, ThriftFake

    settings = stack.spec.settings
    kwargs: dict[str, Any] = {}
    groups = _binding_groups(stack, name, spec)
    if groups:
        databind = _databind()
        kwargs["bindings"] = tuple(b for at, raw in groups for b in databind.parse_bindings(raw, at))
    config = ThriftConfig(
        idl=spec.idl,
        services=spec.services,
        name=name,
        multiplexed=len(spec.services) > 1,
        host=settings.host,
        port=spec.port,
        protocol=spec.protocol,
        transport=spec.transport,
        include_dirs=spec.include_dirs,
        stubs=spec.stubs,
        seed=settings.seed,
        admin_port=admin_port,
        faults=spec.faults,
        snapshot_stubs=spec.snapshot_stubs,
        **kwargs,
    )
    if groups:
        stores = {n: f.kind for n, f in stack.spec.fakes.items() if f.kind != "thrift"}
        schema = _sql_schemas(stack)
        by_method = {b.method: b for b in config.bindings}
        for at, raw in groups:
            _databind().check_bindings(tuple(by_method[m] for m in raw), config, stores, at, schema=schema)
    return ThriftFake(config)


def _binding_groups(stack: Stack, name: str, spec: ThriftSpec) -> list[tuple[str, dict[str, Any]]]:
    """The fake's bindings grouped by where they were declared (``FILE: KEY``), in order."""
    default = stack.where(f"fakes.{name}.bindings")
    groups: dict[str, dict[str, Any]] = {}
    for method, raw in spec.bindings.items():
        at = stack.binding_origins.get((name, method), default)
        groups.setdefault(at, {})[method] = raw
    return list(groups.items())


def _sql_schemas(stack: Stack) -> dict[str, Path]:
    """The snapshot's ``schema.sql`` of each MySQL fake (checks bindings' columns before starting)."""
    snap = stack.spec.snapshot
    if snap is None:
        return {}
    out: dict[str, Path] = {}
    for n, f in stack.spec.fakes.items():
        if isinstance(f, MySQLSpec):
            path = snap / "sql" / part_of(n, f) / "schema.sql"
            if path.is_file():
                out[n] = path
    return out


def _redis(stack: Stack, name: str, spec: RedisSpec, admin_port: int | None) -> Fake:
    from simdb.redis.fake import RedisConfig, RedisFake

    return RedisFake(
        RedisConfig(
            name=name,
            engine=spec.engine,
            host=stack.spec.settings.host,
            port=spec.port,
            password=spec.password,
            admin_port=admin_port,
            faults=spec.faults,
        )
    )


def _mysql(stack: Stack, name: str, spec: MySQLSpec, admin_port: int | None) -> Fake:
    from simdb.mysql.fake import MySQLConfig, MySQLFake

    return MySQLFake(
        MySQLConfig(
            name=name,
            engine=spec.engine,
            host=stack.spec.settings.host,
            port=spec.port,
            database=spec.database,
            user=spec.user,
            password=spec.password,
            admin_port=admin_port,
            part=part_of(name, spec),
            faults=spec.faults,
        )
    )


def build_fakes(stack: Stack, admin: bool = True) -> list[Fake]:
    """Every fake of the stack, unstarted, in start order (storage first, then Thrift).

    ``admin``: give each fake its admin API on a free loopback port (the control channel of a
    running stack). Errors name the stack file and the fake.
    """
    admin_port = 0 if admin else None
    fakes: list[Fake] = []
    for name in start_order(stack.spec):
        spec = stack.spec.fakes[name]
        try:
            if isinstance(spec, ThriftSpec):
                fakes.append(_thrift(stack, name, spec, admin_port))
            elif isinstance(spec, RedisSpec):
                fakes.append(_redis(stack, name, spec, admin_port))
            else:
                fakes.append(_mysql(stack, name, spec, admin_port))
        except SimdbError as exc:
            text = str(exc)
            if text.startswith(str(stack.path)) or any(
                text.startswith(at) for at in stack.binding_origins.values()
            ):
                raise
            raise ConfigError(f"{stack.where(f'fakes.{name}')}: {text}") from exc
    return fakes


def check(stack: Stack) -> list[Fake]:
    """Every check of ``simdb check``: files, ports, snapshot parts, then building each fake."""
    from simdb.stack.load import check_files

    check_files(stack)
    fakes = build_fakes(stack, admin=False)
    check_shadowed_bindings(stack)
    return fakes


def check_shadowed_bindings(stack: Stack) -> None:
    """A bound method the snapshot also stubs would never answer from its binding (stubs win): refuse."""
    from simdb.snapshot.format import iter_jsonl

    snap = stack.spec.snapshot
    if snap is None:
        return
    for name, spec in stack.spec.fakes.items():
        if not isinstance(spec, ThriftSpec) or not spec.bindings or spec.snapshot_stubs != "all":
            continue
        multiplexed = len(spec.services) > 1
        for service in spec.services:
            part = f"{part_of(name, spec)}/{service}" if multiplexed else part_of(name, spec)
            path = snap / "thrift" / part / "stubs.jsonl"
            if not path.is_file():
                continue
            stubbed = {raw.get("method") for _, raw in iter_jsonl(path) if isinstance(raw, dict)}
            for method in spec.bindings:
                svc, _, bare = method.rpartition(".")
                if (not svc or svc == service) and bare in stubbed:
                    at = stack.binding_origins.get((name, method), stack.where(f"fakes.{name}.bindings"))
                    raise ConfigError(
                        f"{at}.{method}: the snapshot stubs this method too ({path}), and stubs answer"
                        f" before bindings, so the binding would never answer; set"
                        f" fakes.{name}.snapshot_stubs: unbound (or drop the binding)"
                    )
