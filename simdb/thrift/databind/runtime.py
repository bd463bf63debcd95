"""A binding at run time: run its writes and its read against the stack's stores, map the rows.

:class:`BoundMethod` answers one call with a :class:`~simdb.thrift.reply.Reply`
whose source is ``binding:<method>``; anything that does not fit (a value, a
row count, a store that refuses or is unreachable) becomes an
``INTERNAL_ERROR`` application error naming the binding, never an exception
out of the processor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from thriftpy2.thrift import TType

from simdb.errors import ConfigError
from simdb.thrift.codec import from_json
from simdb.thrift.databind.compose import compose_rows
from simdb.thrift.databind.local import LocalSqlStore
from simdb.thrift.databind.mapping import Mapper, coerce, struct_field
from simdb.thrift.databind.model import Compose, DataBinding, RedisRead, SqlRead
from simdb.thrift.databind.params import Misfit, SqlTemplate, Template
from simdb.thrift.databind.redis import RedisStep, RedisStore
from simdb.thrift.databind.sql import SqlStore
from simdb.thrift.model import MethodModel
from simdb.thrift.reply import Reply, app_error_reply

__all__ = ["BoundMethod", "Store"]

log = logging.getLogger("simdb.thrift")

Store = SqlStore | LocalSqlStore | RedisStore
_MULTI = (TType.LIST, TType.SET, TType.MAP)


class _Read:
    """One SQL or Redis read with its templates parsed once."""

    def __init__(self, spec: SqlRead | RedisRead, stores: Mapping[str, Store]) -> None:
        self.store = stores[spec.store]
        self.sql = SqlTemplate.parse(spec.query) if isinstance(spec, SqlRead) else None
        self.redis = RedisStep(spec) if isinstance(spec, RedisRead) else None

    def __call__(self, scope: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self.sql is not None:
            assert isinstance(self.store, SqlStore | LocalSqlStore)
            return self.store.rows(self.sql, scope)
        assert self.redis is not None and isinstance(self.store, RedisStore)
        return self.redis.read(self.store, scope)


class BoundMethod:
    """One method answered by one :class:`DataBinding` from connected stores."""

    def __init__(self, binding: DataBinding, method: MethodModel, stores: Mapping[str, Store]) -> None:
        self.binding = binding
        self.method = method
        self.source = f"binding:{binding.method}"
        self.arg_names = tuple(f.name for f in method.args)
        self.writes: list[tuple[Store, SqlTemplate | RedisStep]] = []
        for w in binding.writes:
            if w.sql is not None:
                self.writes.append((stores[w.sql.store], SqlTemplate.parse(w.sql.query)))
            elif w.redis is not None:
                self.writes.append((stores[w.redis.store], RedisStep(w.redis)))
        read = binding.read
        self.compose: Compose | None = read if isinstance(read, Compose) else None
        spec = self.compose.lookup.sql or self.compose.lookup.redis if self.compose else read
        assert spec is None or isinstance(spec, SqlRead | RedisRead)
        self.read = _Read(spec, stores) if spec is not None else None
        self.mapper = (
            Mapper(method.return_ttype, method.return_spec, binding.shape, binding.label)
            if method.has_return and self.read is not None
            else None
        )
        # Replies may be cached (checked against the store's data version) when the binding only
        # reads, and only from embedded SQL stores that can tell whether anything changed.
        read_stores = [self.read.store] if self.read is not None else []
        self.versioned = (
            not self.writes and bool(read_stores) and all(isinstance(st, LocalSqlStore) for st in read_stores)
        )
        # An empty answer is "not found" for a single value; for a collection only when declared.
        target = self.mapper.target[0] if self.mapper is not None else method.return_ttype
        self.single = target not in _MULTI

    def resolve(self, args: Any) -> tuple[Reply, bool | Callable[[], bool]]:
        """The reply and whether it may be cached: False, or a check that it is still the answer."""
        if not self.versioned:
            return self.answer(args), False
        store = self.read.store if self.read is not None else None
        assert isinstance(store, LocalSqlStore)
        token = store.version()  # before reading: a commit in between makes the check fail
        reply = self.answer(args)
        if token is None or reply.kind == "app_error":
            return reply, False
        return reply, lambda: store.version() == token

    def answer(self, args: Any) -> Reply:
        """The reply to one call (never raises)."""
        scope = {name: getattr(args, name, None) for name in self.arg_names}
        try:
            return self._answer(scope)
        except Misfit as exc:
            message = f"simdb {self.binding.label}: {exc}"
        except ConfigError as exc:
            message = f"simdb {self.binding.label}: {exc}"
        except Exception as exc:
            message = f"simdb {self.binding.label}: {type(exc).__name__}: {exc}"
        log.warning("thrift: %s", message)
        return app_error_reply(message, self.source)

    def _answer(self, scope: dict[str, Any]) -> Reply:
        for store, step in self.writes:
            if isinstance(step, SqlTemplate):
                assert isinstance(store, SqlStore | LocalSqlStore)
                store.execute(step, scope)
            else:
                assert isinstance(store, RedisStore)
                step.write(store, scope)
        if self.read is None or self.mapper is None:
            return Reply(kind="return", value=None, source=self.source, deterministic=False)
        rows = compose_rows(self.compose, scope, self.read) if self.compose else self.read(scope)
        if not rows and (self.single or self.binding.not_found is not None):
            return self._not_found(scope)
        value = self.mapper.build(rows, scope)
        return Reply(kind="return", value=value, source=self.source, deterministic=False)

    def _not_found(self, scope: Mapping[str, Any]) -> Reply:
        nf = self.binding.not_found
        if nf is None:
            raise Misfit("nothing matched and the binding declares no not_found (raise or default)")
        if nf.raise_ is not None:
            exc = self.method.exception_named(nf.raise_)
            if exc is None:
                raise Misfit(f"not_found.raise: {self.method.name} does not declare {nf.raise_!r}")
            kwargs: dict[str, Any] = {}
            for name, raw in nf.fields.items():
                f = struct_field(exc.cls, name)
                if f is None:
                    raise Misfit(f"not_found.fields: {exc.name} has no field {name!r}")
                value = Template.parse(raw).value(scope) if isinstance(raw, str) else raw
                kwargs[name] = coerce(f.ttype, f.spec, value, f"not_found.fields.{name}")
            return Reply(
                kind="raise",
                value=exc.cls(**kwargs),
                source=self.source,
                exception_field=exc.field_name,
                deterministic=False,
            )
        value = from_json(self.method.return_ttype, self.method.return_spec, nf.default, "not_found.default")
        return Reply(kind="return", value=value, source=self.source, deterministic=False)
