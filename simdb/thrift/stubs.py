"""Stubs: canned answers matched on argument values (format: ``docs/thrift-stubs.md``).

A stub names a method, the arguments it matches (``match: partial``, the
default, compares only the fields given, recursing into structs;
``match: exact`` compares every argument, unset ones included), a
``priority`` and one answer (``reply``) or a sequence of answers
(``replies``; the last one repeats). An answer returns a value, raises a
declared exception or sends a ``TApplicationException``; strings in it may be
templates that copy request fields (``"{{args.req.userId}}"``).

:meth:`StubSet.match` is on the request path of every call, so the work is done
at load time: answers are decoded into ready-to-send thriftpy2 objects once,
exact stubs sit in a hash index keyed by the argument values, partial stubs in
lists sorted best first and bucketed by the field path most of them pin, and
the request's arguments are only turned into JSON when a template needs them.

Choosing among matching stubs: the highest ``priority`` wins; on a tie an exact
stub beats a partial one, a partial stub giving more fields beats one giving
fewer, and the stub added last wins.

Snapshots: ``thrift/<part>/stubs.jsonl`` holds one stub per line and
``thrift/<part>/recordings.jsonl`` one recorded call per line
(``{"method", "args", "reply": {...}, "latency_ms"}``); recordings answer after
stubs, by exact arguments, in the order recorded (the last one repeats).
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import functools
import itertools
import json
import math
import operator
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thriftpy2.thrift import TApplicationException, TType

from simdb.bulk import gc_paused
from simdb.errors import ConfigError, SnapshotError
from simdb.thrift.codec import (
    Freezer,
    args_from_json,
    args_key_function,
    args_to_json,
    freezer,
    from_json,
    is_identity_freezer,
    struct_from_json,
    type_name,
)
from simdb.thrift.faults import MAX_LATENCY_MS, parse_rules
from simdb.thrift.model import FieldModel, MethodModel, ServiceModel, field_models
from simdb.thrift.reply import APP_ERROR_TYPES, Reply, app_error_reply, app_error_type
from simdb.thrift.routing import Router

if TYPE_CHECKING:
    from simdb.thrift.fault_rules import FaultRule

__all__ = ["Reply", "StubSet", "expand_stub_paths"]

_STUB_KEYS = frozenset({"id", "service", "method", "match", "args", "priority", "reply", "replies"})
_REPLY_KEYS = frozenset({"return", "raise", "app_error"})
_REPLY_EXTRA = frozenset({"times", "delay_ms"})
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PATH_PART = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+|\"[^\"]*\"|'[^']*')\]")


# --- matching ----------------------------------------------------------------------------------------------

Matcher = Callable[[Any], bool]


def _is_unset(name: str) -> Matcher:
    get = operator.attrgetter(name)
    return lambda obj: get(obj) is None


def _nested(name: str, inner: Matcher) -> Matcher:
    get = operator.attrgetter(name)

    def check(obj: Any) -> bool:
        value = get(obj)
        return value is not None and inner(value)

    return check


def _equals(name: str, ttype: int, spec: Any, expected: Any) -> Matcher:
    get = operator.attrgetter(name)
    fr = freezer(ttype, spec)
    if is_identity_freezer(fr):
        return lambda obj: bool(get(obj) == expected)
    frozen = fr(expected)
    return lambda obj: (v := get(obj)) is not None and fr(v) == frozen


Leaf = tuple[tuple[str, ...], Freezer, Any]


def _compile_partial(
    cls: type,
    data: Any,
    where: str,
    fields: Sequence[FieldModel] | None = None,
    leaves: list[Leaf] | None = None,
    path: tuple[str, ...] = (),
) -> Matcher:
    """A predicate on a struct/args object: every field given in ``data`` matches.

    Each plain equality it checks is appended to ``leaves`` as ``(field path, freezer, frozen value)``;
    the index uses them to skip stubs that cannot match.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected an object of field values (struct {cls.__name__})")
    by_name = {f.name: f for f in (fields if fields is not None else field_models(cls))}
    checks: list[Matcher] = []
    for name, value in data.items():
        f = by_name.get(name)
        if f is None:
            known = ", ".join(by_name) or "none"
            raise ConfigError(f"{where}: {cls.__name__} has no field {name!r} (fields: {known})")
        fr = freezer(f.ttype, f.spec)
        if value is None:
            checks.append(_is_unset(name))
            if leaves is not None:
                leaves.append(((*path, name), fr, None))
        elif f.ttype == TType.STRUCT and isinstance(value, dict):
            inner = _compile_partial(f.spec, value, f"{where}.{name}", None, leaves, (*path, name))
            checks.append(_nested(name, inner))
        else:
            expected = from_json(f.ttype, f.spec, value, f"{where}.{name}")
            checks.append(_equals(name, f.ttype, f.spec, expected))
            if leaves is not None:
                leaves.append(((*path, name), fr, fr(expected)))
    if not checks:
        return lambda obj: True
    if len(checks) == 1:
        return checks[0]
    return lambda obj: all(check(obj) for check in checks)


# --- answers -----------------------------------------------------------------------------------------------


class _Template:
    """An answer whose JSON holds ``{{args...}}`` placeholders, rendered per call."""

    def __init__(
        self,
        method: MethodModel,
        kind: str,
        data: Any,
        exc_name: str | None,
        source: str,
        delay_s: float,
        where: str,
    ) -> None:
        self.method = method
        self.kind = kind
        self.data = data
        self.exc_name = exc_name
        self.source = source
        self.delay_s = delay_s
        self.where = where
        self.deterministic = True
        arg_names = {f.name for f in method.args}
        for expr in _placeholders(data):
            path = _parse_path(expr, where)
            if path[0] != "args" or len(path) < 2 or path[1] not in arg_names:
                raise ConfigError(
                    f"{where}: template {{{{{expr}}}}} must start with args.<name> "
                    f"(arguments of {method.name}: {', '.join(sorted(arg_names)) or 'none'})"
                )

    def render(self, args_obj: Any) -> Reply:
        context = {"args": args_to_json(self.method, args_obj)}
        try:
            data = _substitute(self.data, context)
            reply = _build_reply(
                self.method,
                self.kind,
                data,
                self.exc_name,
                self.source,
                self.delay_s,
                f"{self.where} (rendered)",
            )
            if not self.deterministic:
                reply = dataclasses.replace(reply, deterministic=False)
            return reply
        except (ConfigError, TypeError, ValueError) as exc:
            message = f"{self.source}: answer does not fit {self.method.name}: {exc}"
            return app_error_reply(message, self.source)


def _placeholders(data: Any) -> Iterable[str]:
    if isinstance(data, str):
        yield from (m.group(1) for m in _PLACEHOLDER.finditer(data))
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _placeholders(k)
            yield from _placeholders(v)
    elif isinstance(data, list):
        for v in data:
            yield from _placeholders(v)


def _has_template(data: Any) -> bool:
    """Whether any string in ``data`` (keys included) holds ``{{``."""
    if isinstance(data, str):
        return "{{" in data
    if isinstance(data, dict):
        for k, v in data.items():
            if (isinstance(k, str) and "{{" in k) or (not isinstance(v, int | float) and _has_template(v)):
                return True
        return False
    if isinstance(data, list):
        return any(_has_template(v) for v in data if not isinstance(v, int | float))
    return False


def _parse_path(expr: str, where: str) -> list[str | int]:
    out: list[str | int] = []
    pos = 0
    while pos < len(expr):
        m = _PATH_PART.match(expr, pos)
        if m is None or (pos == 0 and expr.startswith(".")):
            raise ConfigError(f"{where}: cannot read template path {expr!r} (use args.name.field[0])")
        if m.group(1) is not None:
            out.append(m.group(1))
        else:
            token = m.group(2)
            out.append(token[1:-1] if token[0] in "\"'" else int(token))
        pos = m.end()
    if not out:
        raise ConfigError(f"{where}: empty template {{{{}}}}")
    return out


@functools.lru_cache(maxsize=1024)
def _cached_path(expr: str) -> tuple[str | int, ...]:
    return tuple(_parse_path(expr, "template"))


def _lookup(context: Any, expr: str) -> Any:
    value = context
    for part in _cached_path(expr):
        if isinstance(part, int):
            if not isinstance(value, list) or not -len(value) <= part < len(value):
                raise ConfigError(f"template {{{{{expr}}}}}: no item [{part}] in the request")
            value = value[part]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise ConfigError(f"template {{{{{expr}}}}}: the request has no field {part!r} (unset?)")
    return value


def _substitute(data: Any, context: Any) -> Any:
    if isinstance(data, str):
        whole = _PLACEHOLDER.fullmatch(data)
        if whole is not None:
            return _lookup(context, whole.group(1))
        if "{{" not in data:
            return data

        def text(m: re.Match[str]) -> str:
            value = _lookup(context, m.group(1))
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

        return _PLACEHOLDER.sub(text, data)
    if isinstance(data, dict):
        return {_substitute(k, context): _substitute(v, context) for k, v in data.items()}
    if isinstance(data, list):
        return [_substitute(v, context) for v in data]
    return data


def _build_reply(
    method: MethodModel, kind: str, data: Any, exc_name: str | None, source: str, delay_s: float, where: str
) -> Reply:
    """A ready :class:`Reply` from the decoded form of one answer; ConfigError if it does not fit."""
    if kind == "return":
        if not method.has_return:
            if data is not None:
                raise ConfigError(f"{where}.return: {method.name} returns void; use 'return: null'")
            return Reply(kind="return", value=None, source=source, delay_s=delay_s)
        value = from_json(method.return_ttype, method.return_spec, data, f"{where}.return")
        if value is None:
            raise ConfigError(
                f"{where}.return: null is not a {type_name(method.return_ttype, method.return_spec)}; Thrift "
                "cannot return null (raise a declared exception instead)"
            )
        return Reply(kind="return", value=value, source=source, delay_s=delay_s)
    if kind == "raise":
        assert exc_name is not None
        exc = method.exception_named(exc_name)
        if exc is None:
            declared = ", ".join(e.name for e in method.exceptions) or "none"
            raise ConfigError(
                f"{where}.raise: {method.name} does not declare exception {exc_name!r} (declares: {declared})"
            )
        value = struct_from_json(exc.cls, data if data is not None else {}, f"{where}.raise.{exc_name}")
        return Reply(
            kind="raise", value=value, source=source, exception_field=exc.field_name, delay_s=delay_s
        )
    # app_error
    type_ = APP_ERROR_TYPES["INTERNAL_ERROR"]
    message = ""
    if isinstance(data, str):
        message = data
    elif isinstance(data, dict):
        unknown = set(data) - {"type", "message"}
        if unknown:
            raise ConfigError(
                f"{where}.app_error: unknown key(s) {', '.join(sorted(unknown))} (type, message)"
            )
        try:
            type_ = app_error_type(data.get("type", "INTERNAL_ERROR"), f"{where}.app_error.type")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        message = data.get("message", "")
        if not isinstance(message, str):
            raise ConfigError(f"{where}.app_error.message: expected a string")
    elif data is not None:
        raise ConfigError(f"{where}.app_error: expected {{type: NAME, message: TEXT}} or a message string")
    reply = Reply(
        kind="app_error",
        value=TApplicationException(type_, message),
        app_error_type=type_,
        message=message,
        source=source,
        delay_s=delay_s,
    )
    return reply


Answer = Reply | _Template


def _is_delay(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and 0 <= value <= MAX_LATENCY_MS
    )


def _parse_answer(
    method: MethodModel, raw: Any, source: str, where: str, templates: bool = True
) -> tuple[Answer, int]:
    """One entry of ``reply``/``replies`` -> (answer, how many times it repeats)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected an object with one of return, raise, app_error")
    if len(raw) == 1 and "return" in raw and not (templates and _has_template(raw["return"])):
        # the common case (one value to return, no times/delay_ms, no template): skip the checks below
        return _build_reply(method, "return", raw["return"], None, source, 0.0, where), 1
    kinds = [k for k in raw if k in _REPLY_KEYS]
    unknown = set(raw) - _REPLY_KEYS - _REPLY_EXTRA
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
            "(expected one of return, raise, app_error; optional times, delay_ms)"
        )
    if len(kinds) != 1:
        raise ConfigError(
            f"{where}: give exactly one of return, raise, app_error (got {', '.join(kinds) or 'none'})"
        )
    kind = kinds[0]
    times = raw.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ConfigError(f"{where}.times: expected a positive integer, got {times!r}")
    delay_ms = raw.get("delay_ms", 0)
    if not _is_delay(delay_ms):
        raise ConfigError(
            f"{where}.delay_ms: expected a number of milliseconds from 0 to {MAX_LATENCY_MS:.0f}, "
            f"got {delay_ms!r}"
        )
    data = raw[kind]
    exc_name: str | None = None
    if kind == "raise":
        if isinstance(data, str):
            exc_name, data = data, {}
        elif isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data)), str):
            exc_name, data = next(iter(data.items()))
        else:
            raise ConfigError(
                f"{where}.raise: expected {{ExceptionName: {{field: value}}}} or an exception name"
            )
    delay_s = float(delay_ms) / 1000.0
    if templates and _has_template(data):
        return _Template(method, kind, data, exc_name, source, delay_s, where), times
    return _build_reply(method, kind, data, exc_name, source, delay_s, where), times


# --- stubs -------------------------------------------------------------------------------------------------


class _Stub:
    """One loaded stub: its matcher and answers, ready for the request path."""

    __slots__ = (
        "answers",
        "counter",
        "ends",
        "exact",
        "id",
        "json",
        "key",
        "leaves",
        "matcher",
        "method",
        "nfields",
        "order",
        "priority",
        "rank",
        "single",
    )

    def __init__(
        self,
        stub_id: str,
        method: MethodModel,
        priority: int,
        exact: bool,
        key: Any,
        matcher: Matcher | None,
        nfields: int,
        answers: tuple[Answer, ...],
        ends: tuple[int, ...],
        raw: dict[str, Any],
        order: int,
        leaves: tuple[Leaf, ...] = (),
    ) -> None:
        self.id = stub_id
        self.method = method
        self.priority = priority
        self.exact = exact
        self.key = key
        self.matcher = matcher
        self.nfields = nfields
        self.answers = answers
        self.ends = ends  # ends[i]: calls answered by answers[0..i] together
        self.single = answers[0] if len(answers) == 1 and isinstance(answers[0], Reply) else None
        self.counter = itertools.count()
        self.json = raw
        self.order = order
        self.leaves = leaves
        self.rank = (-priority, -nfields, -order)  # partial stubs: smaller is better

    def answer(self, args_obj: Any) -> Reply:
        if self.single is not None:
            return self.single
        answers = self.answers
        if len(answers) == 1:
            chosen = answers[0]
        else:
            i = next(self.counter)
            chosen = answers[bisect.bisect_right(self.ends, i)] if i < self.ends[-1] else answers[-1]
        if isinstance(chosen, Reply):
            return chosen
        return chosen.render(args_obj)


_ARG_INFO: dict[MethodModel, tuple[frozenset[str], tuple[str, ...]]] = {}


def _arg_info(method: MethodModel) -> tuple[frozenset[str], tuple[str, ...]]:
    """(names of the arguments, names of the struct arguments) of ``method``, cached."""
    info = _ARG_INFO.get(method)
    if info is None:
        if len(_ARG_INFO) > 10_000:
            _ARG_INFO.clear()
        info = _ARG_INFO[method] = (
            frozenset(f.name for f in method.args),
            tuple(f.name for f in method.args if f.ttype == TType.STRUCT),
        )
    return info


def _check_service(service: ServiceModel, named: Any, where: str) -> None:
    """ConfigError unless ``named`` (``PinStore`` or ``pinstore.PinStore``) is ``service``."""
    if not isinstance(named, str) or named.rpartition(".")[2] != service.name:
        raise ConfigError(f"{where}: the stub is for service {named!r}, this is {service.name}")


def _parse_stub(
    service: ServiceModel, raw: Any, where: str, default_id: str, order: int, templates: bool = True
) -> _Stub:
    """One stub from its JSON form; ``templates=False`` when its source text holds no ``{{``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected an object (a stub)")
    if not _STUB_KEYS.issuperset(raw):
        unknown = set(raw) - _STUB_KEYS
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
            f"(stub keys: {', '.join(sorted(_STUB_KEYS))})"
        )
    name = raw.get("method")
    if not isinstance(name, str):
        raise ConfigError(f"{where}.method: required, the name of a method of {service.name}")
    named = raw.get("service")
    if "." in name:
        prefix, _, name = name.rpartition(".")
        _check_service(service, prefix, f"{where}.method")
    if named is not None:
        _check_service(service, named, f"{where}.service")
    method = service.methods.get(name)
    if method is None:
        raise ConfigError(
            f"{where}.method: {service.name} has no method {name!r} (methods: {', '.join(service.methods)})"
        )
    stub_id = raw.get("id", default_id)
    if not isinstance(stub_id, str) or not stub_id:
        raise ConfigError(f"{where}.id: expected a non-empty string")
    match = raw.get("match", "partial")
    if match not in ("partial", "exact"):
        raise ConfigError(f"{where}.match: expected 'partial' or 'exact', got {match!r}")
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ConfigError(f"{where}.priority: expected an integer, got {priority!r}")
    args = raw.get("args") or {}
    if not isinstance(args, dict):
        raise ConfigError(f"{where}.args: expected an object of argument values by name")
    source = f"stub:{stub_id}"
    if ("reply" in raw) == ("replies" in raw):
        raise ConfigError(f"{where}: give either 'reply' (one answer) or 'replies' (a sequence)")
    answers: list[Answer] = []
    ends: list[int] = []
    if "reply" in raw:
        answer, _ = _parse_answer(method, raw["reply"], source, f"{where}.reply", templates)
        answers.append(answer)
        ends.append(1)
    else:
        seq = raw["replies"]
        if not isinstance(seq, list) or not seq:
            raise ConfigError(f"{where}.replies: expected a non-empty list of answers")
        for i, item in enumerate(seq):
            answer, times = _parse_answer(method, item, source, f"{where}.replies[{i}]", templates)
            answers.append(answer)
            ends.append((ends[-1] if ends else 0) + times)
    if len(answers) > 1:
        answers = [
            dataclasses.replace(a, deterministic=False) if isinstance(a, Reply) else a for a in answers
        ]
        for a in answers:
            if isinstance(a, _Template):
                a.deterministic = False
    # Exact when asked, or when a partial stub pins every argument by plain equality.
    arg_names, struct_args = _arg_info(method)
    exact = match == "exact" or (
        arg_names.issubset(args) and not any(isinstance(args.get(n), dict) for n in struct_args)
    )
    key = None
    matcher = None
    if exact:
        args_obj = args_from_json(method, args, f"{where}.args")
        key = args_key_function(method)(args_obj)
        try:
            hash(key)
        except TypeError:
            raise ConfigError(f"{where}.args: these argument values cannot be indexed") from None
    else:
        leaves: list[Leaf] = []
        matcher = _compile_partial(method.args_cls, args, f"{where}.args", method.args, leaves)
    normal = dict(raw)
    normal["id"] = stub_id
    return _Stub(
        stub_id,
        method,
        priority,
        exact,
        key,
        matcher,
        len(args),
        tuple(answers),
        tuple(ends),
        normal,
        order,
        tuple(leaves) if not exact else (),
    )


def _exact_rank(stub: _Stub) -> tuple[int, int]:
    return (-stub.priority, -stub.order)


def _partial_rank(stub: _Stub) -> tuple[int, int, int]:
    return stub.rank


def _value_at(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _first_match(stubs: Sequence[_Stub], args_obj: Any, floor: int | None) -> _Stub | None:
    """The first (best) stub of a rank-sorted list that matches; none below priority ``floor``."""
    for stub in stubs:
        if floor is not None and stub.priority <= floor:
            return None
        assert stub.matcher is not None
        if stub.matcher(args_obj):
            return stub
    return None


_INDEX_MIN = 8  # below this many partial stubs, scanning them all is cheaper than indexing


class _MethodIndex:
    """The stubs of one method.

    Exact stubs are hashed by their argument key. Partial stubs are kept sorted
    best first; once there are a few, the field path most of them pin (say
    ``req.userId``) becomes an index: stubs pinning it sit in buckets by value,
    the others in ``rest``, and a call only tries its bucket and ``rest``.
    """

    __slots__ = ("buckets", "exact", "index_freeze", "index_path", "keyfn", "partial", "rest")

    def __init__(self, method: MethodModel) -> None:
        self.keyfn = args_key_function(method)
        self.exact: dict[Any, tuple[_Stub, ...]] = {}
        self.partial: list[_Stub] = []  # every partial stub, best first
        self.index_path: tuple[str, ...] | None = None
        self.index_freeze: Freezer | None = None
        self.buckets: dict[Any, list[_Stub]] = {}
        self.rest: list[_Stub] = []

    def add(self, stub: _Stub) -> None:
        self.add_many((stub,))

    def add_many(self, stubs: Iterable[_Stub]) -> None:
        partial: list[_Stub] = []
        for stub in stubs:
            if stub.exact:
                bucket = self.exact.get(stub.key, ())
                if bucket:
                    self.exact[stub.key] = tuple(sorted((*bucket, stub), key=_exact_rank))
                else:
                    self.exact[stub.key] = (stub,)
            else:
                partial.append(stub)
        if not partial:
            return
        small_rest = len(self.rest) <= max(16, len(self.partial) // 2)
        if len(partial) == 1 and self.index_path is not None and small_rest:
            stub = partial[0]
            merged = list(self.partial)
            bisect.insort(merged, stub, key=_partial_rank)
            self._place(stub)
            self.partial = merged
            return
        self._reindex(sorted((*self.partial, *partial), key=_partial_rank))

    def _place(self, stub: _Stub) -> None:
        for path, _, frozen in stub.leaves:
            if path == self.index_path:
                try:
                    bucket = list(self.buckets.get(frozen, ()))
                    bisect.insort(bucket, stub, key=_partial_rank)
                    self.buckets[frozen] = bucket
                    return
                except TypeError:  # an unhashable value: fall through to rest
                    break
        rest = list(self.rest)
        bisect.insort(rest, stub, key=_partial_rank)
        self.rest = rest

    def _reindex(self, partial: list[_Stub]) -> None:
        """Choose the index path afresh and rebuild the buckets (then swap them in)."""
        counts: dict[tuple[str, ...], int] = {}
        freezers: dict[tuple[str, ...], Freezer] = {}
        for stub in partial:
            for leaf_path, fr, _ in stub.leaves:
                counts[leaf_path] = counts.get(leaf_path, 0) + 1
                freezers[leaf_path] = fr
        path = max(counts, key=lambda p: counts[p]) if counts and len(partial) >= _INDEX_MIN else None
        buckets: dict[Any, list[_Stub]] = {}
        rest: list[_Stub] = []
        for stub in partial:  # already best first, so every list stays sorted
            placed = False
            if path is not None:
                for leaf_path, _, frozen in stub.leaves:
                    if leaf_path == path:
                        try:
                            buckets.setdefault(frozen, []).append(stub)
                            placed = True
                        except TypeError:
                            pass
                        break
            if not placed:
                rest.append(stub)
        self.index_path = path
        self.index_freeze = freezers.get(path) if path is not None else None
        self.buckets = buckets
        self.rest = rest
        self.partial = partial

    def remove(self, stub: _Stub) -> None:
        if stub.exact:
            bucket = tuple(s for s in self.exact.get(stub.key, ()) if s is not stub)
            if bucket:
                self.exact[stub.key] = bucket
            else:
                self.exact.pop(stub.key, None)
        else:
            self._reindex([s for s in self.partial if s is not stub])

    def best(self, args_obj: Any) -> _Stub | None:
        best: _Stub | None = None
        if self.exact:
            bucket = self.exact.get(self.keyfn(args_obj))
            if bucket:
                best = bucket[0]
        if not self.partial:
            return best
        floor = best.priority if best is not None else None
        found = _first_match(self.rest, args_obj, floor)
        if self.index_path is not None:
            value = _value_at(args_obj, self.index_path)
            if value is not None:
                assert self.index_freeze is not None
                value = self.index_freeze(value)
            try:
                candidates = self.buckets.get(value)
            except TypeError:
                candidates = None
            if candidates:
                other = _first_match(candidates, args_obj, floor)
                if other is not None and (found is None or other.rank < found.rank):
                    found = other
        return found if found is not None else best


class _Recordings:
    """Recorded answers of one method by exact arguments, replayed in order."""

    __slots__ = ("by_key", "counters", "keyfn")

    def __init__(self, method: MethodModel) -> None:
        self.keyfn = args_key_function(method)
        self.by_key: dict[Any, list[Reply]] = {}
        self.counters: dict[Any, itertools.count[int]] = {}

    def answer(self, args_obj: Any) -> Reply | None:
        key = self.keyfn(args_obj)
        replies = self.by_key.get(key)
        if not replies:
            return None
        if len(replies) == 1:
            return replies[0]
        counter = self.counters.get(key)
        if counter is None:
            counter = self.counters.setdefault(key, itertools.count())
        i = next(counter)
        return replies[i] if i < len(replies) else replies[-1]


def _read_stub_file(path: Path) -> tuple[Any, str]:
    """The parsed contents and the text of a YAML or JSON stub file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: stub file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read stub file: {exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text), text
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if suffix in (".yaml", ".yml"):
        import yaml  # only when a YAML file is read: keeps start-up light

        try:
            # libyaml's loader when PyYAML has it: the same documents, about ten times faster
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            return yaml.load(text, Loader=loader), text
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from None
    raise ConfigError(f"{path}: a stub file must end in .yaml, .yml or .json")


def expand_stub_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Stub files in load order: files as given, directories as their YAML/JSON files by name."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.suffix.lower() in (".yaml", ".yml", ".json") and p.is_file()
                )
            )
        else:
            out.append(path)
    return out


def _check_file_shape(data: Any, where: str) -> None:
    """ConfigError unless ``data`` is a list of stubs or a mapping of service/stubs/faults."""
    if isinstance(data, dict):
        unknown = set(data) - {"service", "stubs", "faults"}
        if unknown:
            raise ConfigError(
                f"{where}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))} "
                "(expected 'stubs', 'faults' and optionally 'service')"
            )
        if "stubs" in data and data["stubs"] is None:  # "stubs:" and nothing after: a cut-off file
            raise ConfigError(f"{where}: stubs: is empty (a truncated file? write 'stubs: []' for no stubs)")
        if not isinstance(data.get("stubs") or [], list):
            raise ConfigError(f"{where}: stubs: expected a list of stubs")
        faults = data.get("faults")
        if faults is not None and not isinstance(faults, dict):
            raise ConfigError(f"{where}: faults: expected a mapping of method name to fault rule")
    elif data is None:
        # An editor saving a file truncates it first: loading that as "no stubs" would silently
        # swap every answer for a generated one.
        raise ConfigError(f"{where}: the stub file is empty (write 'stubs: []' for a file with no stubs)")
    elif not isinstance(data, list):
        raise ConfigError(f"{where}: expected a mapping with 'stubs' (a list) and/or 'faults'")


class StubSet:
    """The stubs (and recordings and fault rules) of one service.

    The *loaded* state (from :meth:`load_files`, :meth:`load_stubs` and
    :meth:`load_part`) is what :meth:`reset` returns to; :meth:`add` and
    :meth:`remove` change the live state only. Matching is lock-free; changes
    are serialised by a lock and swap in new per-method indexes.
    """

    def __init__(self, service: ServiceModel) -> None:
        self.service = service
        self.faults: dict[str, FaultRule] = {}
        self._lock = threading.RLock()
        self._order = itertools.count()
        self._api_ids = itertools.count(1)
        self._loaded: dict[str, _Stub] = {}
        self._live: dict[str, _Stub] = {}
        self._index: dict[str, _MethodIndex] = {}
        self._recordings: dict[str, _Recordings] = {}
        self._recording_count = 0

    # -- loading --------------------------------------------------------------------------------------------

    @classmethod
    def load_files(cls, service: ServiceModel, paths: Iterable[Path | str]) -> StubSet:
        """A StubSet holding the stubs and ``faults:`` of YAML/JSON stub files, in order.

        A directory stands for its ``*.yaml``, ``*.yml`` and ``*.json`` files in name
        order. Raises :class:`ConfigError` naming the file and key of the first problem.
        """
        return cls.load_files_for({service.name: service}, paths)[service.name]

    @classmethod
    def load_files_for(
        cls,
        services: Mapping[str, ServiceModel],
        paths: Iterable[Path | str],
        aliases: Mapping[str, str] | None = None,
    ) -> dict[str, StubSet]:
        """One StubSet per served service (keyed by ``ServiceModel.name``) from shared stub files.

        Each stub and fault rule goes to its service by the rules of
        :mod:`simdb.thrift.routing` (``service:`` keys, ``Service.method``, the one
        service having the method). ``aliases`` maps other names of a service
        (``pinstore.PinStore``) to its model name.
        """
        router = Router(services, aliases)
        sets = {name: cls(model) for name, model in services.items()}
        with gc_paused():  # parsing the files allocates as much as loading their stubs
            for path in expand_stub_paths(paths):
                cls._load_routed_file(router, sets, path)
        return sets

    @staticmethod
    def _load_routed_file(router: Router, sets: Mapping[str, StubSet], path: Path) -> None:
        data, text = _read_stub_file(path)
        where = str(path)
        _check_file_shape(data, where)
        routes = router.route_file(data, where)
        templates = "{{" in text
        for name, stubs in sets.items():
            stubs._load_routed(
                routes.stubs.get(name, ()), routes.faults.get(name), where, path.name, templates
            )

    def load_file(self, path: Path) -> None:
        """Add one stub file to the loaded state (all of it, or nothing on error)."""
        data, text = _read_stub_file(path)
        where = str(path)
        _check_file_shape(data, where)
        routes = Router({self.service.name: self.service}).route_file(data, where)
        name = self.service.name
        self._load_routed(routes.stubs.get(name, ()), routes.faults.get(name), where, path.name, "{{" in text)

    def _load_routed(
        self, items: Sequence[tuple[int, Any]], faults_raw: Any, where: str, id_prefix: str, templates: bool
    ) -> None:
        faults = parse_rules(faults_raw, f"{where}: faults", self.service)
        self.load_stubs(
            [raw for _, raw in items],
            where=f"{where}: stubs",
            id_prefix=id_prefix,
            templates=templates,
            numbers=[i for i, _ in items],
        )
        self.faults.update(faults)

    def load_stubs(
        self,
        items: Sequence[Any],
        where: str = "stubs",
        id_prefix: str = "stub",
        templates: bool = True,
        numbers: Sequence[int] | None = None,
    ) -> list[str]:
        """Add stub objects to the loaded state, all or nothing; returns their ids.

        ``templates=False`` skips looking for ``{{`` (the caller knows there is none);
        ``numbers`` are the stubs' positions in their file (default 0, 1, ...), used in
        default ids and errors.
        """
        with self._lock, gc_paused():
            parsed: list[_Stub] = []
            seen: set[str] = set()
            for j, raw in enumerate(items):
                i = numbers[j] if numbers is not None else j
                stub = _parse_stub(
                    self.service, raw, f"{where}[{i}]", f"{id_prefix}#{i + 1}", next(self._order), templates
                )
                if stub.id in self._loaded or stub.id in self._live or stub.id in seen:
                    raise ConfigError(f"{where}[{i}].id: duplicate stub id {stub.id!r}")
                seen.add(stub.id)
                parsed.append(stub)
            self._install(parsed)
            return [s.id for s in parsed]

    @classmethod
    def load_part(cls, service: ServiceModel, snapshot_dir: Path | str, part_name: str) -> StubSet:
        """A StubSet holding the stubs and recordings of snapshot part ``thrift/<part_name>/``.

        See :meth:`add_part`; errors are :class:`SnapshotError` naming the file and line.
        """
        stubs = cls(service)
        stubs.add_part(snapshot_dir, part_name)
        return stubs

    def add_part(
        self, snapshot_dir: Path | str, part_name: str, skip_methods: frozenset[str] = frozenset()
    ) -> None:
        """Add ``thrift/<part>/stubs.jsonl`` and ``recordings.jsonl`` of a snapshot to the loaded state.

        Either file may be absent (not both). All or nothing; errors are
        :class:`SnapshotError` naming the file and line. Stubs of ``skip_methods`` are checked
        like the others but not installed (a stack that answers those methods from its stores).
        """
        from simdb.snapshot.format import iter_jsonl  # only when a snapshot is loaded

        part_dir = Path(snapshot_dir) / "thrift" / part_name
        stubs_path = part_dir / "stubs.jsonl"
        rec_path = part_dir / "recordings.jsonl"
        if not stubs_path.exists() and not rec_path.exists():
            raise SnapshotError(
                f"thrift part {part_name!r} has neither stubs.jsonl nor recordings.jsonl", str(part_dir)
            )
        with self._lock, gc_paused():
            parsed: list[_Stub] = []
            seen: set[str] = set()
            if stubs_path.exists():
                try:
                    templates = b"{{" in stubs_path.read_bytes()
                except OSError as exc:
                    raise SnapshotError(f"cannot read file: {exc}", str(stubs_path)) from None
                for line, raw in iter_jsonl(stubs_path):
                    try:
                        stub = _parse_stub(
                            self.service, raw, "stub", f"{part_name}:{line}", next(self._order), templates
                        )
                    except ConfigError as exc:
                        raise SnapshotError(str(exc), str(stubs_path), line) from None
                    if stub.id in self._loaded or stub.id in self._live or stub.id in seen:
                        raise SnapshotError(f"duplicate stub id {stub.id!r}", str(stubs_path), line)
                    seen.add(stub.id)
                    if stub.method.name not in skip_methods:
                        parsed.append(stub)
            recordings: list[tuple[MethodModel, Any, Reply]] = []
            if rec_path.exists():
                for line, raw in iter_jsonl(rec_path):
                    try:
                        recordings.append(self._parse_recording(raw))
                    except ConfigError as exc:
                        raise SnapshotError(str(exc), str(rec_path), line) from None
            self._install(parsed)
            for method, key, reply in recordings:
                rec = self._recordings.get(method.name)
                if rec is None:
                    rec = self._recordings[method.name] = _Recordings(method)
                bucket = rec.by_key.setdefault(key, [])
                bucket.append(reply)
                if len(bucket) > 1:
                    bucket[:] = [dataclasses.replace(r, deterministic=False) for r in bucket]
                self._recording_count += 1

    def _parse_recording(self, raw: Any) -> tuple[MethodModel, Any, Reply]:
        where = "recording"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected an object {{method, args, reply, latency_ms}}")
        unknown = set(raw) - {"method", "args", "reply", "latency_ms", "time", "at"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        name = raw.get("method")
        method = self.service.methods.get(name) if isinstance(name, str) else None
        if method is None:
            raise ConfigError(f"{where}.method: {self.service.name} has no method {name!r}")
        args_obj = args_from_json(method, raw.get("args") or {}, f"{where}.args")
        key = args_key_function(method)(args_obj)
        reply_raw = raw.get("reply")
        latency = raw.get("latency_ms", 0)
        if not _is_delay(latency):
            raise ConfigError(
                f"{where}.latency_ms: expected a number of milliseconds from 0 to "
                f"{MAX_LATENCY_MS:.0f}, got {latency!r}"
            )
        if isinstance(reply_raw, dict):
            reply_raw = {**reply_raw, "delay_ms": latency} if "delay_ms" not in reply_raw else reply_raw
        answer, _ = _parse_answer(method, reply_raw, "recording", f"{where}.reply")
        if not isinstance(answer, Reply):
            raise ConfigError(f"{where}.reply: recordings cannot hold templates")
        return method, key, answer

    # -- live changes ----------------------------------------------------------------------------------------

    def _install(self, parsed: Sequence[_Stub]) -> None:
        by_method: dict[str, list[_Stub]] = {}
        for stub in parsed:
            self._loaded[stub.id] = stub
            self._live[stub.id] = stub
            by_method.setdefault(stub.method.name, []).append(stub)
        for group in by_method.values():
            self._index_for(group[0].method).add_many(group)

    def _index_for(self, method: MethodModel) -> _MethodIndex:
        index = self._index.get(method.name)
        if index is None:
            index = self._index[method.name] = _MethodIndex(method)
        return index

    def add(self, stub_json: Any) -> str:
        """Add one stub to the live state (not kept by :meth:`reset`); returns its id."""
        with self._lock:
            default_id = f"api-{next(self._api_ids)}"
            while default_id in self._live or default_id in self._loaded:
                default_id = f"api-{next(self._api_ids)}"
            stub = _parse_stub(self.service, stub_json, "stub", default_id, next(self._order))
            if stub.id in self._live:
                raise ConfigError(f"stub.id: a stub with id {stub.id!r} exists; remove it first")
            self._live[stub.id] = stub
            self._index_for(stub.method).add(stub)
            return stub.id

    def remove(self, stub_id: str) -> None:
        """Remove a stub from the live state (:meth:`reset` brings loaded ones back)."""
        with self._lock:
            stub = self._live.pop(stub_id, None)
            if stub is None:
                raise ConfigError(f"no stub with id {stub_id!r}")
            self._index_for(stub.method).remove(stub)

    def list(self) -> list[dict[str, Any]]:
        """The live stubs as JSON objects (each with its ``id``), in the order added."""
        return [copy.deepcopy(s.json) for s in self._live.values()]

    def get(self, stub_id: str) -> dict[str, Any] | None:
        """One live stub as JSON, or ``None``."""
        stub = self._live.get(stub_id)
        return copy.deepcopy(stub.json) if stub is not None else None

    def reset(self) -> None:
        """Back to the loaded stubs, every sequence at its first answer."""
        with self._lock:
            self._live = dict(self._loaded)
            index: dict[str, _MethodIndex] = {}
            by_method: dict[str, list[_Stub]] = {}
            for stub in self._live.values():
                stub.counter = itertools.count()
                by_method.setdefault(stub.method.name, []).append(stub)
            for group in by_method.values():
                index[group[0].method.name] = _MethodIndex(group[0].method)
                index[group[0].method.name].add_many(group)
            self._index = index
            for rec in self._recordings.values():
                rec.counters = {}

    @staticmethod
    def is_deterministic(reply: Reply) -> bool:
        """Whether the same arguments get this same answer again (False for steps of a sequence)."""
        return reply.deterministic

    def __len__(self) -> int:
        return len(self._live)

    @property
    def recording_count(self) -> int:
        """How many recorded calls are loaded."""
        return self._recording_count

    # -- the request path ------------------------------------------------------------------------------------

    def match(self, method: MethodModel, args_obj: Any) -> Reply | None:
        """The answer of the best matching stub (or recording) for this call, or ``None``."""
        index = self._index.get(method.name)
        if index is not None:
            stub = index.best(args_obj)
            if stub is not None:
                return stub.answer(args_obj)
        if self._recordings:
            rec = self._recordings.get(method.name)
            if rec is not None:
                return rec.answer(args_obj)
        return None

    def match_stub_id(self, method: MethodModel, args_obj: Any) -> str | None:
        """The id of the stub :meth:`match` would use (without advancing sequences)."""
        index = self._index.get(method.name)
        if index is None:
            return None
        stub = index.best(args_obj)
        return stub.id if stub is not None else None
