"""Fake against real (or old against new): the same calls to two targets, every difference in the answers.

Each call goes to target A and target B; both answers are put in a normal form
and compared:

* an answer is ``{"return": value}``, ``{"exception": {"Name": fields}}``,
  ``{"app_error": "KIND: message"}`` or ``{"connection": "what went wrong"}``;
  values are in simdb's canonical JSON (:mod:`simdb.thrift.codec`), so sets
  compare as sets and maps whatever their order;
* doubles are equal within a relative and absolute ``float_tolerance``;
* paths matching an ``ignore`` pattern are left out. A path is the answer's
  kind then its fields, map keys and list indexes, dotted: ``return.ranked.0.score``,
  ``exception.InvalidRequest.reason``; patterns are shell globs (``*`` also
  crosses dots): ``return.latencyMicros``, ``*.debugInfo``.

Calls are generated (shrunk to a smallest call that shows a difference) or
replayed from recordings (``simdb thrift record``'s ``recordings.jsonl``). With
recordings and no target B, A's answers are compared with the recorded replies
(does the fake still answer like the service it was recorded from?).
"""

from __future__ import annotations

import fnmatch
import math
import random
import shlex
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky

from simdb.contract.client import Connection, ConnectionProblem
from simdb.contract.strategies import ContractError, Options, args
from simdb.contract.verify import APP_ERRORS, Target, describe_app_error, reproduce_command
from simdb.errors import SimdbError
from simdb.thrift import wire
from simdb.thrift.codec import args_from_json, args_to_json, canonical_dumps, struct_to_json, to_json
from simdb.thrift.model import MethodModel, ServiceModel
from simdb.thrift.scan import EXCEPTION

__all__ = [
    "DiffMethodResult",
    "DiffReport",
    "DiffSettings",
    "Difference",
    "Recorded",
    "compare",
    "diff",
    "load_recordings",
]


@dataclass(frozen=True)
class Recorded:
    """One recorded call: the method, its arguments as JSON, and the reply recorded (normal form) or None."""

    method: str
    args: dict[str, Any]
    reply: dict[str, Any] | None = None


@dataclass(frozen=True)
class DiffSettings:
    """Examples per method, seed, bounds, which methods, what to ignore, float tolerance, recordings."""

    examples: int = 100
    seed: int | None = None
    options: Options = field(default_factory=Options)
    methods: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    float_tolerance: float = 1e-9
    recordings: tuple[Recorded, ...] | None = None
    """Calls to replay instead of generating (with their recorded replies, if any)."""


@dataclass(frozen=True)
class Difference:
    """Where two answers to one call differ."""

    path: str
    a: Any
    b: Any


@dataclass
class DiffMethodResult:
    """One method: calls made and the (smallest) call whose answers differ."""

    method: str
    calls: int = 0
    seconds: float = 0.0
    args: dict[str, Any] | None = None
    differences: list[Difference] = field(default_factory=list)
    reproduce: str = ""

    @property
    def same(self) -> bool:
        """True when no call showed a difference."""
        return not self.differences


@dataclass
class DiffReport:
    """The outcome of one diff run."""

    service: str
    a: str
    b: str
    seed: int
    methods: list[DiffMethodResult] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """True when both targets answered every call alike."""
        return all(m.same for m in self.methods)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "service": self.service,
            "a": self.a,
            "b": self.b,
            "seed": self.seed,
            "same": self.same,
            "methods": [
                {
                    "method": m.method,
                    "calls": m.calls,
                    "seconds": round(m.seconds, 4),
                    "same": m.same,
                    "args": m.args,
                    "differences": [vars(d) for d in m.differences],
                    "reproduce": m.reproduce or None,
                }
                for m in self.methods
            ],
        }


# --- normal form and comparison --------------------------------------------------------------------------


def _answer(conn: Connection, name: str, method: MethodModel, args_obj: Any) -> dict[str, Any]:
    """One call's answer in the normal form (see the module docs)."""
    try:
        conn.send(name, args_obj, oneway=method.oneway)
        if method.oneway:
            return {"return": None}
        reply = conn.receive()
    except ConnectionProblem as exc:
        conn.close()
        return {"connection": str(exc)}
    if reply.header.mtype == EXCEPTION:
        return {
            "app_error": describe_app_error(reply.body, conn.protocol).removeprefix("TApplicationException ")
        }
    try:
        result = wire.decode_struct(conn.protocol, reply.body, method.result_cls())
    except Exception as exc:
        return {"connection": f"undecodable reply: {type(exc).__name__}: {exc}"}
    for exc_model in method.exceptions:
        value = getattr(result, exc_model.field_name, None)
        if value is not None:
            return {"exception": {exc_model.name: struct_to_json(value)}}
    success = getattr(result, "success", None)
    return {"return": to_json(method.return_ttype, method.return_spec, success)}


def _ignored(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def compare(a: Any, b: Any, ignore: Sequence[str] = (), float_tolerance: float = 1e-9) -> list[Difference]:
    """Every difference between two answers in the normal form, by path (see the module docs)."""
    out: list[Difference] = []
    _compare(a, b, "", ignore, float_tolerance, out)
    return out


def _compare(a: Any, b: Any, path: str, ignore: Sequence[str], tol: float, out: list[Difference]) -> None:
    if path and _ignored(path, ignore):
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                if not _ignored(sub, ignore):
                    out.append(Difference(sub, a.get(key), b.get(key)))
                continue
            _compare(a[key], b[key], sub, ignore, tol, out)
        return
    if isinstance(a, list) and isinstance(b, list):
        if _is_pairs(a) and _is_pairs(b):  # a map with non-string keys: compare by key
            _compare(_by_key(a), _by_key(b), path, ignore, tol, out)
            return
        if len(a) != len(b):
            out.append(Difference(f"{path} (length)", len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _compare(x, y, f"{path}.{i}", ignore, tol, out)
        return
    if _is_number(a) and _is_number(b) and (isinstance(a, float) or isinstance(b, float)):
        if math.isclose(a, b, rel_tol=tol, abs_tol=tol):
            return
    elif a == b and type(a) is type(b):
        return
    out.append(Difference(path, a, b))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_pairs(v: list[Any]) -> bool:
    return (
        bool(v)
        and all(isinstance(p, list) and len(p) == 2 for p in v)
        and not all(isinstance(p[0], str) for p in v)
    )


def _by_key(pairs: list[Any]) -> dict[str, Any]:
    return {canonical_dumps(k): v for k, v in pairs}


# --- running ----------------------------------------------------------------------------------------------


class _Found(Exception):
    """A call whose answers differ (raised inside the hypothesis test so it shrinks)."""


def _run_method(
    model: ServiceModel,
    method: MethodModel,
    conns: tuple[Connection, Connection | None],
    target: Target,
    chosen: DiffSettings,
    run_seed: int,
    prefix: Sequence[str],
) -> DiffMethodResult:
    outcome = DiffMethodResult(method.name)
    name = f"{model.name}:{method.name}" if target.multiplexed else method.name
    last: list[Any] = []

    def one(args_obj: Any, recorded: dict[str, Any] | None) -> None:
        outcome.calls += 1
        first = _answer(conns[0], name, method, args_obj)
        second = recorded if conns[1] is None else _answer(conns[1], name, method, args_obj)
        found = compare(first, second, chosen.ignore, chosen.float_tolerance)
        if found:
            last[:] = [args_obj, found]
            raise _Found(found[0].path)

    def generated(args_obj: Any) -> None:
        one(args_obj, None)

    started = time.perf_counter()
    try:
        if chosen.recordings is not None:
            for call in chosen.recordings:
                if call.method == method.name and (conns[1] is not None or call.reply is not None):
                    one(args_from_json(method, call.args, f"recorded call of {method.name}"), call.reply)
        else:
            test = settings(
                max_examples=chosen.examples,
                database=None,
                deadline=None,
                derandomize=False,
                report_multiple_bugs=False,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck),
                verbosity=Verbosity.quiet,
            )(seed(run_seed)(given(args(method, options=chosen.options))(generated)))
            test()
    except (_Found, Flaky):
        pass
    outcome.seconds = time.perf_counter() - started
    if last:
        args_obj, found = last
        outcome.args = args_to_json(method, args_obj)
        outcome.differences = list(found)
        if conns[1] is None:  # against recordings: replay that method's recorded calls
            outcome.reproduce = " ".join([*(shlex.quote(p) for p in prefix), "--method", method.name])
        else:
            outcome.reproduce = reproduce_command(prefix, method.name, outcome.args)
    return outcome


def diff(
    model: ServiceModel,
    a: Target,
    b: Target | None,
    settings_: DiffSettings | None = None,
    reproduce_prefix: Sequence[str] = (),
) -> DiffReport:
    """Send the same calls of every method (or ``settings_.methods``) to ``a`` and ``b``; report differences.

    Both targets speak ``a``'s protocol, transport and multiplexing. Oneway methods are sent but
    have no answer to compare. ``b`` None: compare ``a`` with the replies in ``settings_.recordings``.
    """
    chosen = settings_ or DiffSettings()
    for name in chosen.methods:
        if model.method(name) is None:
            raise ContractError(
                f"service {model.name} has no method {name!r} (methods: {', '.join(model.methods)})"
            )
    if b is None and chosen.recordings is None:
        raise ContractError("diff: give target B, or recordings to compare target A with")
    run_seed = chosen.seed if chosen.seed is not None else random.randrange(2**32)
    report = DiffReport(model.name, str(a), "the recorded replies" if b is None else str(b), run_seed)
    wanted = list(chosen.methods or model.methods)
    if chosen.recordings is not None:
        recorded = {c.method for c in chosen.recordings if b is not None or c.reply is not None}
        wanted = [m for m in wanted if m in recorded]
    conns = (
        Connection(a.host, a.port, a.protocol, a.transport, a.timeout),
        None if b is None else Connection(b.host, b.port, a.protocol, a.transport, b.timeout),
    )
    try:
        for name in wanted:
            report.methods.append(
                _run_method(model, model.methods[name], conns, a, chosen, run_seed, reproduce_prefix)
            )
    finally:
        for conn in conns:
            if conn is not None:
                conn.close()
    return report


def recorded_reply(reply: Any) -> dict[str, Any] | None:
    """A reply of ``recordings.jsonl`` in the normal form of :func:`compare` (None when it has none)."""
    if not isinstance(reply, dict) or len(reply) != 1:
        return None
    ((kind, value),) = reply.items()
    if kind == "return":
        return {"return": value}
    if kind == "raise":
        return {"exception": value}
    if kind == "app_error" and isinstance(value, dict):
        code = value.get("type")
        name = APP_ERRORS.get(code, str(code)) if isinstance(code, int) else str(code)
        return {"app_error": f"{name}: {value.get('message') or ''}".rstrip(": ")}
    return None


def load_recordings(path: Path, service: ServiceModel) -> tuple[Recorded, ...]:
    """The recorded calls of ``service``'s methods in a ``recordings.jsonl`` or a snapshot holding some."""
    from simdb.snapshot.format import iter_jsonl

    files = _recording_files(path)
    if not files:
        raise SimdbError(f"{path}: no recordings.jsonl here (give the file or a snapshot directory)")
    calls: list[Recorded] = []
    for file in files:
        for line, entry in iter_jsonl(file):
            if not isinstance(entry, dict) or not isinstance(entry.get("method"), str):
                raise SimdbError(f"{file}:{line}: a recording must be an object with a string 'method'")
            if service.method(entry["method"]) is not None:
                reply = recorded_reply(entry.get("reply"))
                calls.append(Recorded(entry["method"], entry.get("args") or {}, reply))
    if not calls:
        raise SimdbError(f"{path}: no recorded calls of service {service.name}")
    return tuple(calls)


def _recording_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(_iter_recordings(path))
    return []


def _iter_recordings(root: Path) -> Iterator[Path]:
    patterns: Iterable[str] = ("recordings.jsonl", "recordings.jsonl.gz")
    for pattern in patterns:
        yield from root.rglob(pattern)
