"""Values generated from IDL types: the answer when no stub or recording matched.

:class:`ValueGenerator` is deterministic: the value for ``(seed, method name,
canonical arguments)`` is the same in every process and run, so a restarted
fake gives the same answers. Values look plausible rather than random noise
(ids are positive, ``...Ms`` fields are recent epoch milliseconds, strings
carry their field name), sizes are bounded (containers hold at most
:data:`MAX_ITEMS` items) and recursive structs end: below :data:`MAX_DEPTH`
optional fields keep their IDL default (or stay unset) and containers are empty.
"""

from __future__ import annotations

import hashlib
import random
import threading
import uuid
from typing import Any

from thriftpy2.thrift import TType

from simdb.thrift.codec import args_key, args_key_function, norm_desc
from simdb.thrift.idl import is_union
from simdb.thrift.model import FieldModel, MethodModel, field_models
from simdb.thrift.pywire import UUID

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "ValueGenerator"]

MAX_DEPTH = 4
MAX_ITEMS = 3
_HARD_DEPTH = 24
_CACHE_SIZE = 4096
_EPOCH_MS = 1_700_000_000_000  # Nov 2023: a plausible "recent" timestamp base.

_MISSING = object()
_INT_LIMITS = {TType.BYTE: 100, TType.I16: 1_000, TType.I32: 100_000, TType.I64: 1_000_000_000}


class ValueGenerator:
    """Deterministic, bounded values of any Thrift type for one seed."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._fields: dict[type, tuple[FieldModel, ...]] = {}
        self._by_args: dict[tuple[int, Any], Any] = {}
        self._methods: dict[int, MethodModel] = {}

    def rng_for(self, *parts: str) -> random.Random:
        """A random stream seeded from the generator's seed and ``parts``."""
        text = "\x00".join((str(self.seed), *parts))
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
        return random.Random(int.from_bytes(digest, "big"))

    def return_value(self, method: MethodModel, args_key: str) -> Any:
        """A value of ``method``'s return type for these arguments (``None`` for void).

        The same (seed, method, args_key) always gives an equal value. The value
        may be shared with other calls: treat it as read-only.
        """
        if not method.has_return:
            return None
        key = (method.name, args_key)
        cached = self._cache.get(key)  # lock-free read; writers replace whole entries only
        if cached is not None:
            return cached
        value = self.value(
            method.return_ttype, method.return_spec, self.rng_for(method.name, args_key), name=method.name
        )
        with self._lock:
            if len(self._cache) >= _CACHE_SIZE:  # bounded: start over rather than track recency
                self._cache = {}
            self._cache[key] = value
        return value

    def value_for(self, method: MethodModel, args_obj: Any) -> Any:
        """:meth:`return_value` for a call's arguments object, with a cache that skips the JSON.

        Equal to ``return_value(method, args_key(method, args_obj))``; a repeated
        call with the same arguments costs one hashable-key lookup.
        """
        if not method.has_return:
            return None
        key = (id(method), args_key_function(method)(args_obj))
        try:
            cached = self._by_args.get(key, _MISSING)
        except TypeError:  # an unhashable argument value: take the JSON road
            return self.return_value(method, args_key(method, args_obj))
        if cached is not _MISSING:
            return cached
        value = self.return_value(method, args_key(method, args_obj))
        with self._lock:
            self._methods[id(method)] = method  # keeps id(method) from being reused while cached
            if len(self._by_args) >= _CACHE_SIZE:
                self._by_args = {}
            self._by_args[key] = value
        return value

    def value(self, ttype: int, spec: Any, rng: random.Random, name: str = "", depth: int = 0) -> Any:
        """A value of type ``(ttype, spec)`` drawn from ``rng``; ``name`` (a field name) shapes it."""
        if ttype == TType.BOOL:
            return rng.random() < 0.5
        if ttype in _INT_LIMITS:
            if ttype == TType.I32 and isinstance(spec, type):
                values = sorted(getattr(spec, "_VALUES_TO_NAMES", {}))
                return rng.choice(values) if values else 0
            return self._int(ttype, name, rng)
        if ttype == TType.DOUBLE:
            return round(rng.random(), 6)
        if ttype == TType.STRING:
            return self._string(name, rng)
        if ttype == TType.BINARY:
            return rng.randbytes(rng.randint(0, 8))
        if ttype == UUID:
            return uuid.UUID(int=rng.getrandbits(128), version=4)
        if ttype == TType.STRUCT:
            return self._struct(spec, rng, depth)
        if ttype in (TType.LIST, TType.SET):
            et, es = norm_desc(spec)
            count = rng.randint(0, MAX_ITEMS) if depth < MAX_DEPTH else 0
            items = [self.value(et, es, rng, name, depth + 1) for _ in range(count)]
            if ttype == TType.SET:
                try:
                    return set(items)
                except TypeError:  # e.g. set<list<i32>>: Python cannot hash the elements; send them as a list
                    return items
            return items
        if ttype == TType.MAP:
            kt, ks = norm_desc(spec[0])
            vt, vs = norm_desc(spec[1])
            count = rng.randint(0, MAX_ITEMS) if depth < MAX_DEPTH else 0
            out: dict[Any, Any] = {}
            for _ in range(count):
                key = self.value(kt, ks, rng, name, depth + 1)
                try:
                    out[key] = self.value(vt, vs, rng, name, depth + 1)
                except TypeError:  # e.g. map<list<i32>, V>: no Python dict can hold such keys
                    return {}
            return out
        return None

    @staticmethod
    def _int(ttype: int, name: str, rng: random.Random) -> int:
        lowered = name.lower()
        if ttype == TType.I64 and (lowered.endswith("ms") or "time" in lowered):
            return _EPOCH_MS + rng.randint(0, 400 * 86_400_000)
        if lowered.endswith("id") or lowered.endswith("ids"):
            return rng.randint(1, _INT_LIMITS[ttype])
        return rng.randint(0, _INT_LIMITS[ttype])

    @staticmethod
    def _string(name: str, rng: random.Random) -> str:
        token = f"{rng.getrandbits(32):08x}"
        lowered = name.lower()
        if "url" in lowered or "uri" in lowered:
            return f"https://example.com/{lowered or 'item'}/{token}"
        if "email" in lowered:
            return f"user-{token}@example.com"
        return f"{name or 'text'}-{token}"

    def _struct_fields(self, cls: type) -> tuple[FieldModel, ...]:
        fields = self._fields.get(cls)
        if fields is None:
            fields = self._fields[cls] = field_models(cls)
        return fields

    def _struct(self, cls: type, rng: random.Random, depth: int) -> Any:
        obj = cls()
        fields = self._struct_fields(cls)
        if depth >= _HARD_DEPTH:
            return obj
        if is_union(cls):
            if fields:
                choices = (
                    fields
                    if depth < MAX_DEPTH
                    else ([f for f in fields if f.ttype != TType.STRUCT] or list(fields))
                )
                f = rng.choice(list(choices))
                setattr(obj, f.name, self.value(f.ttype, f.spec, rng, f.name, depth + 1))
            return obj
        for f in fields:
            if f.required or (depth < MAX_DEPTH and rng.random() < 0.75):
                setattr(obj, f.name, self.value(f.ttype, f.spec, rng, f.name, depth + 1))
            # else: the IDL default stays (None when there is none), as after a trip over the wire
        return obj
