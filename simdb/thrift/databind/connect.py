"""Connect a fake's bindings to the stack: one store client per fake named, one BoundMethod per binding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simdb.errors import ConfigError
from simdb.fake import Endpoint
from simdb.thrift.databind.check import _steps, resolve_method
from simdb.thrift.databind.model import DataBinding, SqlRead, SqlWrite
from simdb.thrift.databind.runtime import BoundMethod, Store
from simdb.thrift.model import ServiceModel

__all__ = ["bound_names", "connect"]


def bound_names(
    bindings: Sequence[DataBinding], models: Mapping[str, ServiceModel], where: str
) -> dict[str, set[str]]:
    """Method names bound per served service; ConfigError for a binding of an unknown method."""
    out: dict[str, set[str]] = {name: set() for name in models}
    by_model = {m.name: n for n, m in models.items()}
    for b in bindings:
        model, method = resolve_method(b, models, f"{where}.{b.method}")
        out[by_model[model.name]].add(method.name)
    return out


def connect(
    bindings: Sequence[DataBinding],
    models: Mapping[str, ServiceModel],
    endpoints: Mapping[str, Endpoint],
    where: str,
    fakes: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Store], dict[str, dict[str, BoundMethod]]]:
    """``(stores by fake name, bound methods by service then method)``; ConfigError for a missing store.

    ``fakes`` (optional) are the stack's fake objects by name: an embedded MySQL fake among them
    is queried in process (:mod:`simdb.thrift.databind.local`), everything else over its endpoint.
    """
    stores: dict[str, Store] = {}
    bound: dict[str, dict[str, BoundMethod]] = {name: {} for name in models}
    by_model = {m.name: n for n, m in models.items()}
    try:
        for b in bindings:
            at = f"{where}.{b.method}"
            model, method = resolve_method(b, models, at)
            for step_at, step in _steps(b, at):
                want = "mysql" if isinstance(step, SqlRead | SqlWrite) else "redis"
                ep = endpoints.get(step.store)
                if ep is None:
                    known = ", ".join(f"{n} ({e.kind})" for n, e in endpoints.items()) or "none"
                    raise ConfigError(f"{step_at}.store: no running fake {step.store!r} (fakes: {known})")
                if ep.kind != want:
                    raise ConfigError(f"{step_at}.store: {step.store!r} is a {ep.kind} fake, not {want}")
                if step.store not in stores:
                    stores[step.store] = _store(step.store, ep, want, (fakes or {}).get(step.store))
            bound[by_model[model.name]][method.name] = BoundMethod(b, method, stores)
    except BaseException:
        for store in stores.values():
            store.close()
        raise
    return stores, bound


def _store(name: str, ep: Endpoint, kind: str, fake: Any) -> Store:
    from simdb.thrift.databind.redis import RedisStore
    from simdb.thrift.databind.sql import SqlStore

    if kind == "redis":
        return RedisStore(name, ep)
    wire = SqlStore(name, ep)
    config = getattr(fake, "config", None)
    if (
        fake is not None
        and getattr(fake, "kind", None) == "mysql"
        and getattr(config, "engine", None) == "fake"
    ):
        from simdb.thrift.databind.local import LocalSqlStore

        return LocalSqlStore(name, fake, wire)
    return wire
