"""Provider verification: call every method of a live service with generated arguments, check each answer.

For each method, hypothesis generates arguments (:func:`simdb.contract.strategies.args`)
and every answer must:

* be a reply to that call (method name and sequence id), on a connection that
  stays open afterwards (after a oneway call, an unknown-method probe must be
  answered);
* conform to the IDL on the wire (:func:`simdb.contract.conform.check_struct`):
  declared field ids and types, required fields present, enum values declared,
  integers in range, a union with one field; exactly one of the return value
  or a declared exception (none for void);
* not be a ``TApplicationException`` unless allowed for the method;
* keep every user property of the method (:mod:`simdb.contract.props`).

A failing call is shrunk by hypothesis to a smallest failing argument set,
reported with the problem and a one-line command that replays just that call.
"""

from __future__ import annotations

import json
import random
import shlex
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky
from thriftpy2.thrift import TApplicationException

from simdb.contract.client import Connection, ConnectionProblem, TransportName
from simdb.contract.conform import check_struct
from simdb.contract.props import Property
from simdb.contract.strategies import ContractError, Options, args
from simdb.probe import PROBE_METHOD
from simdb.thrift import wire
from simdb.thrift.codec import args_from_json, args_to_json, canonical_dumps
from simdb.thrift.model import MethodModel, ServiceModel
from simdb.thrift.scan import EXCEPTION, REPLY, ProtocolName

__all__ = ["Failure", "MethodResult", "Report", "Target", "VerifySettings", "verify"]

#: TApplicationException type codes by number.
APP_ERRORS = {
    0: "UNKNOWN",
    1: "UNKNOWN_METHOD",
    2: "INVALID_MESSAGE_TYPE",
    3: "WRONG_METHOD_NAME",
    4: "BAD_SEQUENCE_ID",
    5: "MISSING_RESULT",
    6: "INTERNAL_ERROR",
    7: "PROTOCOL_ERROR",
    8: "INVALID_TRANSFORM",
    9: "INVALID_PROTOCOL",
    10: "UNSUPPORTED_CLIENT_TYPE",
}


@dataclass(frozen=True)
class Target:
    """Where the service under test listens and how it speaks."""

    host: str
    port: int
    protocol: ProtocolName = "binary"
    transport: TransportName = "buffered"
    multiplexed: bool = False
    timeout: float = 5.0

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class VerifySettings:
    """What to run: examples per method, seed, value bounds, allowed application errors, properties."""

    examples: int = 100
    seed: int | None = None
    """None picks one at random (reported, so a run can be repeated)."""
    options: Options = field(default_factory=Options)
    allow_app_errors: frozenset[str] = frozenset()
    """Methods (``name`` or ``Service.name``) that may answer with a ``TApplicationException``."""
    methods: tuple[str, ...] = ()
    """Only these methods (all when empty)."""
    properties: tuple[Property, ...] = ()
    replay: Mapping[str, Any] | None = None
    """Method name -> arguments as JSON: run just these calls, no generation."""


@dataclass(frozen=True)
class Failure:
    """The (shrunk) call that failed, what was wrong, and the command that replays it."""

    problem: str
    args: dict[str, Any]
    reproduce: str


@dataclass
class MethodResult:
    """The outcome of one method."""

    method: str
    examples: int = 0
    seconds: float = 0.0
    failure: Failure | None = None
    properties: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every call conformed."""
        return self.failure is None


@dataclass
class Report:
    """The outcome of one verification run."""

    service: str
    target: str
    seed: int
    methods: list[MethodResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every method passed."""
        return all(m.ok for m in self.methods)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "service": self.service,
            "target": self.target,
            "seed": self.seed,
            "ok": self.ok,
            "methods": [
                {
                    "method": m.method,
                    "examples": m.examples,
                    "seconds": round(m.seconds, 4),
                    "ok": m.ok,
                    "properties": m.properties,
                    "failure": None
                    if m.failure is None
                    else {
                        "problem": m.failure.problem,
                        "args": m.failure.args,
                        "reproduce": m.failure.reproduce,
                    },
                }
                for m in self.methods
            ],
        }


class _NoArgs:
    thrift_spec: ClassVar[dict[int, object]] = {}
    default_spec: ClassVar[list[object]] = []


class _Violation(Exception):
    """One call broke the contract (raised inside the hypothesis test so it shrinks)."""


def describe_app_error(body: bytes, protocol: ProtocolName) -> str:
    """``TApplicationException KIND: message`` of an encoded application error."""
    try:
        error = wire.decode_struct(protocol, body, TApplicationException())
    except Exception:
        return "TApplicationException (undecodable)"
    kind = APP_ERRORS.get(int(error.type or 0), str(error.type))
    return f"TApplicationException {kind}: {error.message or ''}".rstrip(": ")


class _Caller:
    """Makes calls of one service on one connection and says what is wrong with each answer."""

    def __init__(self, model: ServiceModel, target: Target, settings_: VerifySettings) -> None:
        self.model = model
        self.target = target
        self.settings = settings_
        self.conn = Connection(target.host, target.port, target.protocol, target.transport, target.timeout)
        self.previous_answered = False

    def wire_name(self, method: str) -> str:
        return f"{self.model.name}:{method}" if self.target.multiplexed else method

    def allowed_app_error(self, method: MethodModel) -> bool:
        allowed = self.settings.allow_app_errors
        return method.name in allowed or f"{self.model.name}.{method.name}" in allowed

    def call(self, method: MethodModel, args_obj: Any) -> tuple[str | None, Any]:
        """``(problem or None, decoded result or None)`` of one call."""
        reused = self.conn.sock is not None and self.previous_answered
        try:
            seqid = self.conn.send(self.wire_name(method.name), args_obj, oneway=method.oneway)
            if method.oneway:
                return self._probe_after_oneway(), None
            reply = self.conn.receive()
        except ConnectionProblem as exc:
            self.previous_answered = False
            if reused and "closed" in str(exc):
                return f"the server closed the connection after answering the previous call ({exc})", None
            return str(exc), None
        self.previous_answered = True
        header = reply.header
        name_ok = header.name in (method.name, self.wire_name(method.name))
        if not name_ok:
            self.conn.close()  # out of step with the server: start afresh for the next call
            return f"the reply is for method {header.name!r}, not {method.name!r}", None
        if header.seqid != seqid:
            self.conn.close()
            return f"the reply has sequence id {header.seqid}, the call {seqid}", None
        if header.mtype == EXCEPTION:
            text = describe_app_error(reply.body, self.target.protocol)
            if not self.allowed_app_error(method):
                return f"{text} (not allowed for {method.name}; see --allow-app-error)", None
            return self._still_open(), None
        if header.mtype != REPLY:
            self.conn.close()
            return f"the answer has message type {header.mtype}, not a reply", None
        problems = check_struct(self.target.protocol, reply.body, method.result_cls, "result")
        decoded = None
        if not problems:
            decoded = wire.decode_struct(self.target.protocol, reply.body, method.result_cls())
            problems = self._result_shape(method, decoded)
        if problems:
            return "; ".join(problems), None
        return self._still_open(), decoded

    def _result_shape(self, method: MethodModel, result: Any) -> list[str]:
        given = [e.field_name for e in method.exceptions if getattr(result, e.field_name, None) is not None]
        has_value = getattr(result, "success", None) is not None
        if len(given) + int(has_value) > 1:
            return [f"the result sets more than one of the return value and exceptions ({', '.join(given)})"]
        if method.has_return and not has_value and not given:
            return ["the result holds neither a return value nor a declared exception"]
        return []

    def _still_open(self) -> str | None:
        if self.conn.closed_by_peer():
            self.previous_answered = False
            self.conn.close()
            return "the server closed the connection after answering"
        return None

    def _probe_after_oneway(self) -> str | None:
        """After a oneway call: the connection must still answer (an unknown method: an exception)."""
        try:
            seqid = self.conn.send(self.wire_name(PROBE_METHOD), _NoArgs())
            reply = self.conn.receive()
        except ConnectionProblem as exc:
            self.previous_answered = False
            return f"after the oneway call the connection no longer answers: {exc}"
        if reply.header.mtype != EXCEPTION or reply.header.seqid != seqid:
            return "after the oneway call, a call of an unknown method was not answered with an exception"
        return None

    def close(self) -> None:
        self.conn.close()


def _check_properties(
    props: Sequence[Property], service: str, method: MethodModel, args_obj: Any, result: Any
) -> str | None:
    if result is None:
        return None
    value = getattr(result, "success", None)
    raised = next(
        (
            getattr(result, e.field_name)
            for e in method.exceptions
            if getattr(result, e.field_name, None) is not None
        ),
        None,
    )
    for p in props:
        if not p.applies_to(service, method.name) or (raised is not None and not p.exceptions):
            continue
        try:
            outcome = p.function(args_obj, raised if raised is not None else value)
        except AssertionError as exc:
            detail = f": {exc}" if str(exc) else ""
            return f"property {p.name} failed{detail}{_where(exc)}"
        except Exception as exc:
            return f"property {p.name} raised {type(exc).__name__}: {exc}"
        if outcome is False:
            return f"property {p.name} returned False"
    return None


def _where(exc: BaseException) -> str:
    """`` (at FILE:LINE: source)`` of the innermost frame that raised ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    source = f": {last.line.strip()}" if last.line else ""
    return f" (at {Path(last.filename).name}:{last.lineno}{source})"


def reproduce_command(prefix: Sequence[str], method: str, args_json: dict[str, Any]) -> str:
    """The one-line command replaying a single call."""
    return " ".join(
        [
            *(shlex.quote(p) for p in prefix),
            "--method",
            method,
            "--args",
            shlex.quote(canonical_dumps(args_json)),
        ]
    )


def _args_json(method: MethodModel, args_obj: Any) -> dict[str, Any]:
    try:
        return args_to_json(method, args_obj)
    except Exception:
        return {"repr": repr(args_obj)}


def _run_method(
    caller: _Caller, method: MethodModel, settings_: VerifySettings, run_seed: int, prefix: Sequence[str]
) -> MethodResult:
    outcome = MethodResult(method.name)
    props = [p for p in settings_.properties if p.applies_to(caller.model.name, method.name)]
    outcome.properties = [p.name for p in props]
    last: list[Any] = []

    def one(args_obj: Any) -> None:
        outcome.examples += 1
        problem, result = caller.call(method, args_obj)
        if problem is None:
            problem = _check_properties(props, caller.model.name, method, args_obj, result)
        if problem is not None:
            last[:] = [args_obj, problem]
            raise _Violation(problem)

    started = time.perf_counter()
    replay = (settings_.replay or {}).get(method.name)
    try:
        if replay is not None:
            one(args_from_json(method, replay, f"--args for {method.name}"))
        else:
            test = settings(
                max_examples=settings_.examples,
                database=None,
                deadline=None,
                derandomize=False,
                report_multiple_bugs=False,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck),
                verbosity=Verbosity.quiet,
            )(seed(run_seed)(given(args(method, options=settings_.options))(one)))
            test()
    except (_Violation, Flaky):
        pass
    except ContractError:
        raise
    except Exception as exc:
        if not last:
            last[:] = [None, f"{type(exc).__name__}: {exc}"]
    outcome.seconds = time.perf_counter() - started
    if last:
        args_obj, problem = last
        shown = _args_json(method, args_obj) if args_obj is not None else {}
        outcome.failure = Failure(problem, shown, reproduce_command(prefix, method.name, shown))
    return outcome


def verify(
    model: ServiceModel,
    target: Target,
    settings_: VerifySettings | None = None,
    reproduce_prefix: Sequence[str] = (),
) -> Report:
    """Verify every method (or those in ``settings_.methods``) of ``model`` against ``target``.

    ``reproduce_prefix`` is the command line (without ``--method``/``--args``) a
    failure's reproduction starts with.
    """
    chosen = settings_ or VerifySettings()
    for name in (*chosen.methods, *(chosen.replay or {})):
        if model.method(name) is None:
            known = ", ".join(model.methods)
            raise ContractError(f"service {model.name} has no method {name!r} (methods: {known})")
    run_seed = chosen.seed if chosen.seed is not None else random.randrange(2**32)
    report = Report(model.name, str(target), run_seed)
    wanted = chosen.methods or tuple(chosen.replay or ()) or tuple(model.methods)
    caller = _Caller(model, target, chosen)
    try:
        for name in wanted:
            method = model.methods[name]
            report.methods.append(_run_method(caller, method, chosen, run_seed, reproduce_prefix))
    finally:
        caller.close()
    return report


def report_json(report: Report) -> str:
    """The report as indented JSON text."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str)
