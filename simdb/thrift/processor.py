"""Answer one Thrift call: decode it, pick the answer, encode the reply. Never raises.

Order of answers: the method's fault rule (latency, declared exception,
application error, connection reset, stall, bandwidth), then a matching stub, then (unless
``strict``) a value generated from the IDL return type. Whatever goes wrong
on the way becomes a ``TApplicationException`` to the caller:

* a method the service does not have: ``UNKNOWN_METHOD``;
* an exception the method does not declare, a stub value that does not fit
  the return type, a failure in the stub or generator code: ``INTERNAL_ERROR``
  with a message that says what was wrong;
* arguments that cannot be decoded: ``PROTOCOL_ERROR``.

Replies that depend only on the request bytes (no fault rule on the method, no
stub sequence) are cached by request bytes, so a repeated call is answered
without decoding it again. Any change to stubs or faults clears the cache.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from thriftpy2.thrift import TApplicationException, TType

from simdb.probe import PROBE_METHOD
from simdb.thrift.journal import Entry, Journal
from simdb.thrift.metrics import Metrics
from simdb.thrift.model import MethodModel, ServiceModel
from simdb.thrift.scan import CALL, ONEWAY, REPLY, Header, ProtocolName
from simdb.thrift.wire import decode_struct, encode_app_error, encode_message

log = logging.getLogger("simdb.thrift")

UNKNOWN_METHOD = TApplicationException.UNKNOWN_METHOD
INVALID_MESSAGE_TYPE = TApplicationException.INVALID_MESSAGE_TYPE
INTERNAL_ERROR = TApplicationException.INTERNAL_ERROR
PROTOCOL_ERROR = TApplicationException.PROTOCOL_ERROR

CACHE_MAX_ENTRIES = 4096
CACHE_MAX_REQUEST = 16 * 1024
CACHE_MAX_REPLY = 256 * 1024
CACHE_MAX_BYTES = 64 * 1024 * 1024


Resolver = Callable[[MethodModel, Any], tuple[Any, "bool | Callable[[], bool]"]]
"""``(method, args) -> (reply, cacheable)``; the reply is a ``simdb.thrift.stubs.Reply``.

``cacheable`` may be a check instead of True: the reply is cached, and a cache hit is used only
while the check returns True (a data binding: while its store has not changed)."""

FaultHook = Callable[[MethodModel], Any]
"""``method -> FaultDecision | None``; None when the method has no fault rule."""


@dataclass
class Binding:
    """One served service and where its answers come from."""

    model: ServiceModel
    resolve: Resolver
    fault: FaultHook | None = None
    has_fault: Callable[[MethodModel], bool] = field(default=lambda _m: False)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server sends: ``prefix + <request seqid bytes> + suffix``, maybe later, maybe a reset."""

    prefix: bytes
    suffix: bytes
    has_reply: bool = True
    delay_s: float = 0.0
    reset: bool = False
    stall: bool = False
    """Never answer (the connection stays open): a stall fault, for client timeout tests."""
    bandwidth: float = 0.0
    """Send the reply at this many bytes per second (0: at once)."""


@dataclass(frozen=True, slots=True)
class Cached:
    """A reply cached by request bytes."""

    answer: Answer
    service: str
    method: str
    args: Any
    model: MethodModel | None
    answered: str
    error: bool
    valid: Callable[[], bool] | None = None
    """When set, the hit is used only while this returns True (else the call is answered afresh)."""


NO_REPLY = Answer(b"", b"", has_reply=False)


def _split(protocol: ProtocolName, name: str, data: bytes) -> Answer:
    """Cut an encoded reply (written with seqid 0) around its seqid."""
    if protocol == "binary":
        at = 8 + len(name.encode("utf-8"))
        return Answer(data[:at], data[at + 4 :])
    return Answer(data[:2], data[3:])


class Processor:
    """Turns request messages into :class:`Answer` objects for one fake."""

    def __init__(
        self,
        protocol: ProtocolName,
        bindings: Mapping[str, Binding],
        *,
        multiplexed: bool,
        journal: Journal,
        metrics: Metrics,
    ) -> None:
        if not multiplexed and len(bindings) != 1:
            raise ValueError("serving several services needs multiplexed=True")
        self.protocol = protocol
        self.bindings = dict(bindings)
        self.multiplexed = multiplexed
        self.journal = journal
        self.metrics = metrics
        self.lock = threading.RLock()
        self.cache: dict[bytes, Cached] = {}
        """Replies by request bytes (the message without its seqid); read lock-free by the server."""
        self._cache_bytes = 0
        self._single = None if multiplexed else next(iter(self.bindings.values()))

    # -- cache -------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forget cached replies (after any change of stubs, faults or IDL)."""
        with self.lock:
            self.cache = {}
            self._cache_bytes = 0

    def set_bindings(self, bindings: Mapping[str, Binding]) -> None:
        """Swap the served services (``--watch`` reloads) and clear the cache."""
        with self.lock:
            self.bindings = dict(bindings)
            self._single = None if self.multiplexed else next(iter(self.bindings.values()))
            self.cache = {}
            self._cache_bytes = 0

    def lookup(self, key: bytes) -> Cached | None:
        """The cached reply for request bytes ``key`` (the message without its seqid), if still valid."""
        hit = self.cache.get(key)
        if hit is not None and hit.valid is not None and not hit.valid():
            return None
        return hit

    def record_cached(self, hit: Cached, latency_s: float) -> None:
        """Journal and count a call answered from the cache."""
        self.journal.record(Entry(time.time(), hit.service, hit.method, hit.args, hit.answered, latency_s))
        self.metrics.observe(hit.service, hit.method, latency_s, hit.error, hit.answered)

    # -- the slow path -----------------------------------------------------------------------------
    def process(self, msg: bytes, header: Header, started: float) -> Answer:
        """Answer the complete message ``msg`` whose header is ``header``. Never raises."""
        with self.lock:
            try:
                return self._process(msg, header, started)
            except Exception as exc:  # last line of defence: the connection must survive
                log.exception("thrift: unexpected failure answering %r", header.name)
                return self._error(
                    header.name,
                    header.name,
                    "",
                    None,
                    None,
                    INTERNAL_ERROR,
                    f"simdb failed answering {header.name}: {type(exc).__name__}: {exc}",
                    started,
                    cache_key=None,
                )

    def _process(self, msg: bytes, header: Header, started: float) -> Answer:
        name = header.name
        key = msg[: header.seq_start] + msg[header.seq_end :] if len(msg) <= CACHE_MAX_REQUEST else None
        binding, method_name = self._route(name)
        service = binding.model.name if binding else ""
        if header.mtype not in (CALL, ONEWAY):
            return self._error(
                name,
                name,
                service,
                None,
                None,
                INVALID_MESSAGE_TYPE,
                f"expected a call, got message type {header.mtype}",
                started,
                cache_key=None,
            )
        if binding is None:
            served = ", ".join(sorted(self.bindings))
            if self.multiplexed and ":" not in name:
                message = (
                    f"unknown method {name!r}: this server is multiplexed, prefix the method with "
                    f"a service name ({served})"
                )
            else:
                message = f"unknown service in {name!r}: this server serves {served}"
            return self._error(
                name, method_name, service, None, None, UNKNOWN_METHOD, message, started, cache_key=key
            )
        method = binding.model.method(method_name)
        if method is None:
            known = ", ".join(sorted(binding.model.methods))
            return self._error(
                method_name,
                method_name,
                service,
                None,
                None,
                UNKNOWN_METHOD,
                f"unknown method {method_name!r} on service {service} (it has: {known})",
                started,
                cache_key=key,
            )
        try:
            args = decode_struct(self.protocol, msg[header.body_start :], method.args_cls())
        except Exception as exc:
            return self._error(
                method_name,
                method_name,
                service,
                None,
                method,
                PROTOCOL_ERROR,
                f"cannot decode the arguments of {service}.{method_name}: {exc}",
                started,
                cache_key=None,
            )
        oneway = method.oneway or header.mtype == ONEWAY
        valid: Callable[[], bool] | None = None
        delay = 0.0
        bandwidth = 0.0
        cacheable = True
        reply: Any = None
        if binding.fault is not None and binding.has_fault(method):
            cacheable = False
            decision = binding.fault(method)
            if decision is not None:
                delay = float(decision.delay_s or 0.0)
                bandwidth = float(decision.bandwidth or 0.0)
                if decision.action == "reset":
                    self._journal(service, method_name, args, "fault:reset", started, delay, error=True)
                    return Answer(b"", b"", has_reply=False, delay_s=delay, reset=True)
                if decision.action == "stall":
                    self._journal(service, method_name, args, "fault:stall", started, delay, error=True)
                    return Answer(b"", b"", has_reply=False, delay_s=delay, stall=True)
                if decision.action is not None:
                    reply = decision.reply
        if reply is None:
            try:
                reply, cacheable_stub = binding.resolve(method, args)
            except Exception as exc:
                log.warning("thrift: %s.%s: answering failed: %s", service, method_name, exc)
                return self._error(
                    method_name,
                    method_name,
                    service,
                    args,
                    method,
                    INTERNAL_ERROR,
                    f"simdb could not answer {service}.{method_name}: {exc}",
                    started,
                    cache_key=None,
                    oneway=oneway,
                    delay=delay,
                )
            if callable(cacheable_stub):
                valid = cacheable_stub
            cacheable = cacheable and bool(cacheable_stub)
        notes = [f"latency fault +{delay * 1000:.1f} ms"] if delay else []
        stub_delay = float(getattr(reply, "delay_s", 0.0) or 0.0)
        if stub_delay:
            notes.append(f"{reply.source} delay +{stub_delay * 1000:.1f} ms")
            delay += stub_delay
        answered = str(reply.source)
        latency_note = "; ".join(notes)
        if oneway:
            self._journal(
                service, method_name, args, answered, started, delay, error=False, detail=latency_note
            )
            if cacheable and key is not None:
                self._store(key, NO_REPLY, service, method_name, args, method, answered, error=False)
            return Answer(b"", b"", has_reply=False, delay_s=delay)
        answer, error, detail = self._encode(method, method_name, reply)
        if detail:
            log.warning("thrift: %s.%s: %s", service, method_name, detail)
            answered = "error:internal_error"
        self._journal(
            service,
            method_name,
            args,
            answered,
            started,
            delay,
            error=error,
            detail="; ".join(d for d in (detail, latency_note) if d),
        )
        if cacheable and key is not None and not delay:
            self._store(key, answer, service, method_name, args, method, answered, error, valid)
        if delay or bandwidth:
            return Answer(answer.prefix, answer.suffix, delay_s=delay, bandwidth=bandwidth)
        return answer

    def _route(self, name: str) -> tuple[Binding | None, str]:
        if self._single is not None:
            return self._single, name
        service, sep, method = name.partition(":")
        if not sep:
            return None, name
        return self.bindings.get(service), method

    def _encode(self, method: MethodModel, name: str, reply: Any) -> tuple[Answer, bool, str]:
        """Encode ``reply`` (one that does not fit becomes INTERNAL_ERROR): (answer, error, detail)."""
        kind = reply.kind
        source = reply.source
        if kind == "app_error":
            data = encode_app_error(self.protocol, name, 0, int(reply.app_error_type), str(reply.message))
            return _split(self.protocol, name, data), True, ""
        result = method.result_cls()
        error = False
        if kind == "raise":
            exc_model = method.exception_for(reply.value)
            if exc_model is None:
                declared = ", ".join(e.name for e in method.exceptions) or "nothing"
                return self._internal(
                    name,
                    f"{source} raised {type(reply.value).__name__}, which "
                    f"{method.service}.{name} does not declare (it declares: {declared})",
                )
            setattr(result, exc_model.field_name, reply.value)
            error = True
        elif kind == "return":
            if method.has_return:
                problem = _misfit(method, reply.value)
                if problem:
                    return self._internal(
                        name,
                        f"{source}: the value does not fit the return type of "
                        f"{method.service}.{name}: {problem}",
                    )
                result.success = reply.value
        else:
            return self._internal(name, f"{source}: unknown reply kind {kind!r}")
        try:
            data = encode_message(self.protocol, name, REPLY, 0, result)
        except Exception as exc:
            return self._internal(
                name, f"{source}: the reply does not fit {method.service}.{name}: {type(exc).__name__}: {exc}"
            )
        return _split(self.protocol, name, data), error, ""

    def _internal(self, name: str, message: str) -> tuple[Answer, bool, str]:
        data = encode_app_error(self.protocol, name, 0, INTERNAL_ERROR, message)
        return _split(self.protocol, name, data), True, message

    def _error(
        self,
        reply_name: str,
        method_name: str,
        service: str,
        args: Any,
        method: MethodModel | None,
        error_type: int,
        message: str,
        started: float,
        *,
        cache_key: bytes | None,
        oneway: bool = False,
        delay: float = 0.0,
    ) -> Answer:
        # simdb's own readiness probe (health checks every few seconds) is neither a warning nor a call.
        probe = method_name == PROBE_METHOD
        if not probe:
            log.warning("thrift: %s", message)
        kind = {
            UNKNOWN_METHOD: "unknown_method",
            INVALID_MESSAGE_TYPE: "invalid_message_type",
            PROTOCOL_ERROR: "protocol_error",
        }.get(error_type, "internal_error")
        answered = f"error:{kind}"
        if not probe:
            self._journal(service, method_name, args, answered, started, delay, error=True, detail=message)
        if oneway:
            return Answer(b"", b"", has_reply=False, delay_s=delay)
        answer = _split(
            self.protocol, reply_name, encode_app_error(self.protocol, reply_name, 0, error_type, message)
        )
        if cache_key is not None and not delay and not probe:
            self._store(cache_key, answer, service, method_name, args, method, answered, True)
        return Answer(answer.prefix, answer.suffix, delay_s=delay) if delay else answer

    def _journal(
        self,
        service: str,
        method: str,
        args: Any,
        answered: str,
        started: float,
        delay: float,
        *,
        error: bool,
        detail: str = "",
    ) -> None:
        latency = time.perf_counter() - started + delay
        self.journal.record(Entry(time.time(), service, method, args, answered, latency, detail))
        self.metrics.observe(service, method, latency, error, answered)

    def _store(
        self,
        key: bytes,
        answer: Answer,
        service: str,
        method: str,
        args: Any,
        model: MethodModel | None,
        answered: str,
        error: bool,
        valid: Callable[[], bool] | None = None,
    ) -> None:
        size = len(key) + len(answer.prefix) + len(answer.suffix)
        if len(answer.suffix) > CACHE_MAX_REPLY:
            return
        if len(self.cache) >= CACHE_MAX_ENTRIES or self._cache_bytes + size > CACHE_MAX_BYTES:
            self.cache = {}  # bounded: start over rather than track recency
            self._cache_bytes = 0
        self.cache[key] = Cached(answer, service, method, args, model, answered, error, valid)
        self._cache_bytes += size


def _misfit(method: MethodModel, value: Any) -> str:
    """Why ``value`` cannot be the return value of ``method`` ('' when it fits, as far as cheaply known)."""
    if value is None:
        return "no value (null) for a method that returns a value"
    ttype = method.return_ttype
    spec = method.return_spec
    if ttype == TType.STRUCT and isinstance(spec, type) and not isinstance(value, spec):
        return f"expected a {spec.__name__}, got {type(value).__name__}"
    if ttype in (TType.LIST, TType.SET) and not isinstance(value, list | set | frozenset | tuple):
        return f"expected a list, got {type(value).__name__}"
    if ttype == TType.MAP and not isinstance(value, dict):
        return f"expected a map, got {type(value).__name__}"
    if ttype in (TType.I08, TType.I16, TType.I32, TType.I64) and (
        isinstance(value, bool) or not isinstance(value, int)
    ):
        return f"expected an integer, got {type(value).__name__}"
    if ttype == TType.STRING and not isinstance(value, str | bytes):
        return f"expected a string, got {type(value).__name__}"
    return ""
