"""Turn a validated stack into unstarted fakes (the existing Thrift, Redis and MySQL fakes).

Building loads every IDL, stub file and fault rule, so ``simdb check`` finds an unknown service
or method without starting anything.
"""

from __future__ import annotations

import importlib
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
    where = stack.where(f"fakes.{name}")
    if spec.bindings:
        databind = _databind()
        bindings = databind.parse_bindings(spec.bindings, f"{where}.bindings")
        kwargs["bindings"] = bindings
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
        **kwargs,
    )
    if spec.bindings:
        stores = {n: f.kind for n, f in stack.spec.fakes.items() if f.kind != "thrift"}
        _databind().check_bindings(getattr(config, "bindings", ()), config, stores, f"{where}.bindings")
    return ThriftFake(config)


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
            if text.startswith(str(stack.path)):
                raise
            raise ConfigError(f"{stack.where(f'fakes.{name}')}: {text}") from exc
    return fakes


def check(stack: Stack) -> list[Fake]:
    """Every check of ``simdb check``: files, ports, snapshot parts, then building each fake."""
    from simdb.stack.load import check_files

    check_files(stack)
    return build_fakes(stack, admin=False)
