"""Redis steps of a binding: reads become rows, writes run as given, on a pooled redis-py client.

redis-py's connection pool is thread safe and reconnects a dropped connection
on the next command (``retry_on_error``); values stay bytes until the mapping
decodes them for their field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simdb.fake import Endpoint
from simdb.thrift.databind.mapping import HASH_MARK
from simdb.thrift.databind.model import RedisRead, RedisWrite
from simdb.thrift.databind.params import Misfit, Template, resolve

__all__ = ["RedisStep", "RedisStore"]


def _name(raw: Any) -> str:
    return raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else str(raw)


class RedisStore:
    """A redis-py client for one Redis endpoint of the stack."""

    def __init__(self, name: str, endpoint: Endpoint) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.name = name
        self.endpoint = endpoint
        extras = dict(endpoint.extra)
        self.client = redis.Redis(
            host=endpoint.host,
            port=endpoint.port,
            password=extras.get("password") or None,
            socket_timeout=30,
            socket_connect_timeout=5,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()


class RedisStep:
    """One Redis read or write of a binding, with its templates parsed once."""

    def __init__(self, spec: RedisRead | RedisWrite) -> None:
        self.spec = spec
        self.key = Template.parse(spec.key)
        if isinstance(spec, RedisWrite):
            self.args = tuple(Template.parse(str(a)) for a in spec.args)
        else:
            bounds = [spec.start, spec.stop] + ([spec.count] if spec.count is not None else [])
            self.bounds = tuple(Template.parse(str(b)) for b in bounds)

    @property
    def paths(self) -> tuple[str, ...]:
        """Every argument path the step's templates need (``item`` for MGET's element)."""
        out = list(self.key.paths)
        for t in getattr(self, "args", ()) + getattr(self, "bounds", ()):
            out.extend(t.paths)
        return tuple(out)

    def _bound(self, i: int, scope: Mapping[str, Any]) -> int:
        text = self.bounds[i].render(scope)
        try:
            return int(text)
        except ValueError:
            raise Misfit(f"{self.spec.key}: range bound {text!r} is not an integer") from None

    def read(self, store: RedisStore, scope: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run the read; rows as the mapping wants them (empty when nothing is there)."""
        spec = self.spec
        assert isinstance(spec, RedisRead)
        c = store.client
        cmd = spec.command
        if cmd == "MGET":
            assert spec.each is not None
            items = resolve(scope, spec.each)
            if not isinstance(items, list | tuple | set | frozenset):
                raise Misfit(f"'each': {spec.each} is not a list")
            items = list(items)
            keys = [self.key.render({**scope, "item": it}) for it in items]
            values = c.mget(keys) if keys else []
            return [{"item": it, "value": v} for it, v in zip(items, values, strict=True) if v is not None]
        key = self.key.render(scope)
        if cmd == "GET":
            value = c.get(key)
            return [] if value is None else [{"value": value}]
        if cmd == "HGETALL":
            found = c.hgetall(key)
            return [{HASH_MARK: True, **{_name(k): v for k, v in found.items()}}] if found else []
        if cmd == "HMGET":
            values = c.hmget(key, list(spec.fields))
            row = {f: v for f, v in zip(spec.fields, values, strict=True) if v is not None}
            return [row] if row else []
        if cmd == "SMEMBERS":
            return [{"value": m} for m in sorted(c.smembers(key))]
        start = self._bound(0, scope)
        stop = self._bound(1, scope) if spec.count is None else start + self._bound(2, scope) - 1
        if spec.count is not None and stop < start:
            return []
        if cmd == "LRANGE":
            return [{"value": v} for v in c.lrange(key, start, stop)]
        fetch = c.zrevrange if cmd == "ZREVRANGE" else c.zrange
        if spec.scores:
            pairs: list[Any] = fetch(key, start, stop, withscores=True)
            return [{"member": m, "score": s} for m, s in pairs]
        members: list[Any] = fetch(key, start, stop)
        return [{"value": m} for m in members]

    def write(self, store: RedisStore, scope: Mapping[str, Any]) -> None:
        """Run the write."""
        spec = self.spec
        assert isinstance(spec, RedisWrite)
        key = self.key.render(scope)
        args: list[Any] = []
        for t in self.args:
            value = t.value(scope)
            if isinstance(value, list | tuple | set | frozenset):
                args.extend(
                    _arg(v, t.text) for v in (sorted(value) if isinstance(value, set | frozenset) else value)
                )
            else:
                args.append(_arg(value, t.text))
        if not args and spec.command != "DEL":
            raise Misfit(f"{spec.command} {key}: the list argument is empty, nothing to write")
        store.client.execute_command(spec.command, key, *args)  # type: ignore[no-untyped-call]


def _arg(value: Any, text: str) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str | bytes):
        return value
    if hasattr(value, "thrift_spec"):
        import json

        from simdb.thrift.codec import struct_to_json

        return json.dumps(struct_to_json(value), sort_keys=True, separators=(",", ":"))
    raise Misfit(f"Redis argument {text!r} is a {type(value).__name__}, not a number, string or struct")
