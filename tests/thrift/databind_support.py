"""Shared pieces of the data-binding tests: the homefeed stores, snapshot rows, bound fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from simdb.fake import Endpoint
from simdb.mysql.fake import MySQLConfig, MySQLFake
from simdb.redis.fake import RedisConfig, RedisFake
from simdb.thrift.databind import check_bindings, parse_bindings
from simdb.thrift.fake import ThriftConfig, ThriftFake

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "seeds" / "homefeed"
SCHEMA = SNAPSHOT / "sql" / "db" / "schema.sql"
HOMEFEED = ROOT / "thrift" / "homefeed"
PROBE = Path(__file__).resolve().parent / "idl" / "databind" / "probe.thrift"
BINDINGS_FILE = ROOT / "examples" / "homefeed" / "bindings.yaml"
STORES = {"db": "mysql", "cache": "redis"}


def table(name: str) -> list[dict[str, Any]]:
    """The rows of one table of the snapshot, read from its own file."""
    path = SNAPSHOT / "sql" / "db" / "tables" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def redis_records() -> dict[str, dict[str, Any]]:
    """The Redis part of the snapshot by key, read from its own file."""
    path = SNAPSHOT / "redis" / "cache" / "db0.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["key"]: r for r in records}


@contextmanager
def homefeed_stores() -> Iterator[tuple[MySQLFake, RedisFake]]:
    """The demo's MySQL (``db``) and Redis (``cache``) fakes, loaded from seeds/homefeed."""
    db = MySQLFake(MySQLConfig(name="db", database="homefeed"))
    cache = RedisFake(RedisConfig(name="cache"))
    db.start()
    try:
        cache.start()
        try:
            db.load(SNAPSHOT)
            cache.load(SNAPSHOT)
            yield db, cache
        finally:
            cache.stop()
    finally:
        db.stop()


def endpoints(db: MySQLFake, cache: RedisFake) -> dict[str, Endpoint]:
    """The stores' endpoints by fake name."""
    return {"db": db.endpoint, "cache": cache.endpoint}


@contextmanager
def bound_fake(
    raw: Any,
    eps: dict[str, Endpoint],
    idl: Path = PROBE,
    service: str = "Probe",
    name: str = "probe",
    check: bool = True,
) -> Iterator[ThriftFake]:
    """A started ThriftFake with the bindings ``raw`` (checked against the schema), bound to ``eps``."""
    bindings = parse_bindings(raw, f"{name}.bindings")
    cfg = ThriftConfig(idl=idl, services=(service,), name=name, include_dirs=(HOMEFEED,), bindings=bindings)
    if check:
        check_bindings(bindings, cfg, STORES, f"{name}.bindings", schema={"db": SCHEMA})
    fake = ThriftFake(cfg)
    fake.start()
    try:
        fake.bind_stack(eps)
        yield fake
    finally:
        fake.stop()


def demo_bindings() -> dict[str, Any]:
    """examples/homefeed/bindings.yaml, parsed as YAML."""
    data = yaml.safe_load(BINDINGS_FILE.read_text())
    assert isinstance(data, dict)
    return data
