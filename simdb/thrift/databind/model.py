"""The frozen pydantic models of a data binding, as written under a Thrift fake's ``bindings:`` key.

One :class:`DataBinding` answers one method from the stack's stores: a read
(:class:`SqlRead`, :class:`RedisRead` or a :class:`Compose` of per-item
lookups), optional :class:`SqlWrite` / :class:`RedisWrite` steps run first,
and a :class:`Shape` saying how rows become the return value. See
``docs/bindings.md`` for the file format.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "READ_COMMANDS",
    "WRITE_COMMANDS",
    "Compose",
    "DataBinding",
    "NotFound",
    "RedisRead",
    "RedisWrite",
    "Shape",
    "SqlRead",
    "SqlWrite",
    "Write",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

#: Redis reads a binding may run, upper case.
READ_COMMANDS = ("GET", "MGET", "HGETALL", "HMGET", "LRANGE", "SMEMBERS", "ZRANGE", "ZREVRANGE")
#: Redis writes a binding may run, upper case.
WRITE_COMMANDS = ("SET", "DEL", "HSET", "RPUSH", "LPUSH", "SADD", "SREM", "ZADD", "ZREM", "INCRBY", "HINCRBY")


class SqlRead(BaseModel):
    """A SELECT on a MySQL fake: ``:name`` / ``:req.field`` parameters come from the call's arguments."""

    model_config = _FROZEN

    store: str = Field(min_length=1)
    query: str = Field(min_length=1)


class SqlWrite(BaseModel):
    """An INSERT, UPDATE, DELETE or REPLACE on a MySQL fake, parameters as in :class:`SqlRead`."""

    model_config = _FROZEN

    store: str = Field(min_length=1)
    query: str = Field(min_length=1)


class RedisRead(BaseModel):
    """One Redis read; ``key`` is a template such as ``pin:{id}:features``.

    ``each`` names a list argument for ``MGET``: one key per element, ``{item}`` in the
    template. ``fields`` are the hash fields of ``HMGET``. ``start``/``stop`` (or
    ``count``, from ``start``) bound ``LRANGE``/``ZRANGE``/``ZREVRANGE``; each may be a
    number or a template. ``scores`` returns ``(member, score)`` rows from sorted sets.
    """

    model_config = _FROZEN

    store: str = Field(min_length=1)
    command: str
    key: str = Field(min_length=1)
    each: str | None = None
    fields: tuple[str, ...] = ()
    start: int | str = 0
    stop: int | str = -1
    count: int | str | None = None
    scores: bool = False

    @model_validator(mode="after")
    def _command(self) -> RedisRead:
        cmd = self.command.upper()
        if cmd not in READ_COMMANDS:
            raise ValueError(f"unknown Redis read {self.command!r} (one of {', '.join(READ_COMMANDS)})")
        object.__setattr__(self, "command", cmd)
        if cmd == "HMGET" and not self.fields:
            raise ValueError("HMGET needs 'fields' (the hash fields to read)")
        if cmd != "HMGET" and self.fields:
            raise ValueError(f"'fields' is for HMGET, not {cmd}")
        if (cmd == "MGET") != (self.each is not None):
            raise ValueError(
                "MGET needs 'each' (a list argument, {item} in the key)"
                if cmd == "MGET"
                else f"'each' is for MGET, not {cmd}"
            )
        if self.scores and cmd not in ("ZRANGE", "ZREVRANGE"):
            raise ValueError(f"'scores' is for ZRANGE/ZREVRANGE, not {cmd}")
        return self


class RedisWrite(BaseModel):
    """One Redis write: ``command key args...``; every argument is a template."""

    model_config = _FROZEN

    store: str = Field(min_length=1)
    command: str
    key: str = Field(min_length=1)
    args: tuple[str | int | float, ...] = ()

    @model_validator(mode="after")
    def _command(self) -> RedisWrite:
        cmd = self.command.upper()
        if cmd not in WRITE_COMMANDS:
            raise ValueError(f"unknown Redis write {self.command!r} (one of {', '.join(WRITE_COMMANDS)})")
        object.__setattr__(self, "command", cmd)
        needs = {"DEL": 0, "SET": 1, "INCRBY": 1, "HINCRBY": 2}
        if cmd in needs and len(self.args) != needs[cmd]:
            raise ValueError(f"{cmd} takes {needs[cmd]} argument(s) after the key, got {len(self.args)}")
        if cmd in ("HSET", "ZADD") and (not self.args or len(self.args) % 2):
            raise ValueError(f"{cmd} takes pairs of arguments after the key")
        if cmd in ("RPUSH", "LPUSH", "SADD", "SREM", "ZREM") and not self.args:
            raise ValueError(f"{cmd} takes at least one argument after the key")
        return self


class Write(BaseModel):
    """One write step: exactly one of ``sql`` or ``redis``."""

    model_config = _FROZEN

    sql: SqlWrite | None = None
    redis: RedisWrite | None = None

    @model_validator(mode="after")
    def _one(self) -> Write:
        if (self.sql is None) == (self.redis is None):
            raise ValueError("give exactly one of 'sql' or 'redis'")
        return self


class Lookup(BaseModel):
    """The per-item read of a :class:`Compose`: exactly one of ``sql`` or ``redis``; ``{item}``/``:item``."""

    model_config = _FROZEN

    sql: SqlRead | None = None
    redis: RedisRead | None = None

    @model_validator(mode="after")
    def _one(self) -> Lookup:
        if (self.sql is None) == (self.redis is None):
            raise ValueError("give exactly one of 'sql' or 'redis'")
        return self


class Compose(BaseModel):
    """Rank what you were given: look each item of a list argument up, sort, cut.

    Each item's row is the lookup's single row (a hash for ``HGETALL``) plus the
    column ``item``. ``missing`` says what happens to an item with no row.
    """

    model_config = _FROZEN

    items: str = Field(min_length=1)
    lookup: Lookup
    sort_by: str | None = None
    order: Literal["asc", "desc"] = "desc"
    limit: int | str | None = None
    missing: Literal["error", "skip", "keep"] = "error"


class NotFound(BaseModel):
    """What to answer when the read finds nothing: raise a declared exception, or a default value."""

    model_config = _FROZEN

    raise_: str | None = Field(default=None, alias="raise")
    fields: dict[str, Any] = Field(default_factory=dict)
    default: Any = None

    @model_validator(mode="after")
    def _one(self) -> NotFound:
        if (self.raise_ is None) == (self.default is None):
            raise ValueError("give exactly one of 'raise' (a declared exception) or 'default'")
        if self.fields and self.raise_ is None:
            raise ValueError("'fields' go with 'raise'")
        return self


class Shape(BaseModel):
    """How rows become the return value.

    ``into`` is the field of a struct return value that takes the result (the rest
    stays at its IDL default); ``count`` a field taking the number of items; ``set``
    constant fields of that struct. ``map`` gives the source column of a field (a
    string), a nested struct built from the same row (a mapping), or a one-element
    list of such a struct; unmapped fields match columns by name (``owner_id`` fits
    ``ownerId``). ``key``/``value`` pick the columns of a map return value. ``json``
    lists columns holding JSON, ``split`` columns holding ``sep``-separated lists.
    """

    model_config = _FROZEN

    into: str | None = None
    count: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    map: dict[str, Any] = Field(default_factory=dict)
    key: str | None = None
    value: str | None = None
    json_columns: tuple[str, ...] = Field(default=(), alias="json")
    split: dict[str, str] = Field(default_factory=dict)


class DataBinding(BaseModel):
    """One method answered from the stack's stores (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, populate_by_name=True)

    method: str = Field(min_length=1)
    """``method``, or ``Service.method`` on a multiplexed fake."""
    sql: SqlRead | None = None
    redis: RedisRead | None = None
    compose: Compose | None = None
    writes: tuple[Write, ...] = ()
    shape: Shape = Field(default_factory=Shape)
    not_found: NotFound | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        """Shape keys may be written at the top level of a binding (``into:``, ``map:``, ...)."""
        if not isinstance(data, dict):
            return data
        shape_keys = {"into", "count", "set", "map", "key", "value", "json", "split"}
        flat = {k: data[k] for k in shape_keys if k in data}
        if flat:
            if "shape" in data:
                raise ValueError("give shape keys either under 'shape' or at the top level, not both")
            data = {k: v for k, v in data.items() if k not in shape_keys}
            data["shape"] = flat
        return data

    @model_validator(mode="after")
    def _one_read(self) -> DataBinding:
        reads = [r for r in (self.sql, self.redis, self.compose) if r is not None]
        if len(reads) > 1:
            raise ValueError("give at most one read: 'sql', 'redis' or 'compose'")
        if not reads and not self.writes:
            raise ValueError("give a read ('sql', 'redis' or 'compose') and/or 'writes'")
        return self

    @property
    def read(self) -> SqlRead | RedisRead | Compose | None:
        """The read step, if any."""
        return self.sql or self.redis or self.compose

    @property
    def label(self) -> str:
        """How errors and the journal name this binding."""
        return f"binding {self.method}"

    @property
    def service(self) -> str | None:
        """The service named in ``Service.method``, else None."""
        head, sep, _ = self.method.rpartition(".")
        return head if sep else None

    @property
    def method_name(self) -> str:
        """The bare method name."""
        return self.method.rpartition(".")[2]
