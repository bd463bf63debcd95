"""Per-method faults: added latency, declared exceptions, ``TApplicationException``, connection resets.

A :class:`FaultRule` says what may go wrong with one method (or with every
method, under the name ``"*"``); a :class:`FaultPlan` holds the rules of one
service and a seed and decides, call by call, what happens. Decisions are
reproducible: each method draws from its own random stream seeded from
``(seed, method name)``, so the n-th call of a method gets the same decision in
every run with the same seed, whatever the other methods do.

Latency is either fixed (``fixed_ms``) or a log-normal distribution with the
given median and 99th percentile (``p50_ms``, ``p99_ms``), the usual shape of
production latency. Rates are probabilities between 0 and 1; one uniform draw
per call picks at most one of reset, exception and application error.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from simdb.errors import ConfigError
from simdb.thrift.model import MethodModel, ServiceModel
from simdb.thrift.reply import Reply, app_error_reply, app_error_type

if TYPE_CHECKING:
    from simdb.thrift.fault_rules import FaultRule, Latency

__all__ = ["MAX_LATENCY_MS", "NO_FAULT", "FaultDecision", "FaultPlan", "FaultRule", "Latency", "parse_rules"]

#: The largest latency a rule may add (and the cap on a sampled delay): ten minutes.
MAX_LATENCY_MS = 600_000.0

# z-score of the 99th percentile of the standard normal distribution.
_Z99 = 2.3263478740408408

FaultAction = Literal["exception", "app_error", "reset"]


def __getattr__(name: str) -> Any:
    """``FaultRule`` and ``Latency`` (pydantic models) are imported on first use: start-up stays light."""
    if name in ("FaultRule", "Latency"):
        from simdb.thrift import fault_rules

        return getattr(fault_rules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one call: wait ``delay_s``, then answer normally (``action`` None),
    answer ``reply`` (``exception``/``app_error``), or ``reset`` the connection."""

    delay_s: float = 0.0
    action: FaultAction | None = None
    reply: Reply | None = None


NO_FAULT = FaultDecision()


def parse_rules(data: Any, where: str, service: ServiceModel | None = None) -> dict[str, FaultRule]:
    """``{method: FaultRule}`` from a JSON/YAML mapping; :class:`ConfigError` naming ``where`` and the key."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of method name to fault rule")
    if not data:
        return {}
    from simdb.thrift.fault_rules import FaultRule, ValidationError, format_validation

    rules: dict[str, FaultRule] = {}
    for name, raw in data.items():
        if not isinstance(name, str):
            raise ConfigError(f"{where}: method names must be strings, got {name!r}")
        if service is not None and name != "*" and name not in service.methods:
            raise ConfigError(
                f"{where}.{name}: service {service.name} has no method {name!r} "
                f"(methods: {', '.join(service.methods)})"
            )
        try:
            rule = FaultRule.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            raise format_validation(exc, f"{where}.{name}") from None
        if service is not None and name != "*" and (rule.exception is not None or rule.exception_rate > 0):
            _exception_reply(service.methods[name], rule, f"{where}.{name}.exception")
        rules[name] = rule
    return rules


def _exception_reply(method: MethodModel, rule: FaultRule, where: str) -> Reply:
    """The declared-exception answer of ``rule`` for ``method`` (ConfigError if not declared)."""
    from simdb.thrift.codec import struct_from_json

    if rule.exception is None:
        if not method.exceptions:
            raise ConfigError(f"{where}: {method.name} declares no exception; use app_error_rate instead")
        exc_model = method.exceptions[0]
        fields: dict[str, Any] = {}
    else:
        name, fields = next(iter(rule.exception.items()))
        found = method.exception_named(name)
        if found is None:
            declared = ", ".join(e.name for e in method.exceptions) or "none"
            raise ConfigError(
                f"{where}: {method.name} does not declare exception {name!r} (declares: {declared})"
            )
        exc_model = found
    value = struct_from_json(exc_model.cls, fields or {}, f"{where}.{exc_model.name}", check_required=False)
    return Reply(kind="raise", value=value, source="fault", exception_field=exc_model.field_name)


class _MethodFaults:
    """A rule bound to one method: its random stream and ready-made replies."""

    def __init__(self, method: MethodModel, rule: FaultRule, seed: int, rule_name: str) -> None:
        self.rule = rule
        digest = hashlib.blake2b(f"{seed}\x00{method.name}".encode(), digest_size=8).digest()
        self.rng = random.Random(int.from_bytes(digest, "big"))
        self.lock = threading.Lock()
        self.exception_reply: Reply | None = None
        if rule.exception_rate > 0:
            try:
                self.exception_reply = _exception_reply(method, rule, f"faults.{rule_name}.exception")
            except ConfigError as exc:
                # Only possible for the "*" rule: answer INTERNAL_ERROR saying why.
                self.exception_reply = app_error_reply(str(exc), "fault")
        type_ = app_error_type(rule.app_error_type, "app_error_type")
        message = rule.app_error_message or f"injected fault: {method.name} failed"
        self.app_error = app_error_reply(message, "fault", type_)
        self.reset_cut = rule.reset_rate
        self.exception_cut = self.reset_cut + rule.exception_rate
        self.app_error_cut = self.exception_cut + rule.app_error_rate

    def decide(self) -> FaultDecision:
        with self.lock:
            delay = self.rule.latency.sample_s(self.rng) if self.rule.latency is not None else 0.0
            draw = self.rng.random() if self.app_error_cut > 0 else 1.0
        if draw < self.reset_cut:
            return FaultDecision(delay, "reset", None)
        if draw < self.exception_cut:
            reply = self.exception_reply
            action: FaultAction = "exception" if reply is not None and reply.kind == "raise" else "app_error"
            return FaultDecision(delay, action, reply)
        if draw < self.app_error_cut:
            return FaultDecision(delay, "app_error", self.app_error)
        if delay == 0.0:
            return NO_FAULT
        return FaultDecision(delay, None, None)


class FaultPlan:
    """The fault rules of one service and a seed; :meth:`decide` is called once per request.

    ``rules`` maps method names (or ``"*"`` for every method without its own
    rule) to :class:`FaultRule`. With ``service`` given, rules are checked
    against it up front (unknown methods, undeclared exceptions).
    """

    def __init__(
        self, rules: Mapping[str, FaultRule], seed: int = 0, service: ServiceModel | None = None
    ) -> None:
        if service is not None:
            parse_rules({name: rule.model_dump() for name, rule in rules.items()}, "faults", service)
        self.rules: dict[str, FaultRule] = dict(rules)
        self.seed = seed
        self._bound: dict[int, _MethodFaults | None] = {}
        self._methods: dict[int, MethodModel] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def decide(self, method: MethodModel) -> FaultDecision:
        """What happens to this call of ``method`` (reproducible for the seed and call order)."""
        if not self.rules:
            return NO_FAULT
        bound = self._bound.get(id(method), False)
        if bound is False:
            bound = self._bind(method)
        if bound is None:
            return NO_FAULT
        assert isinstance(bound, _MethodFaults)
        return bound.decide()

    def _bind(self, method: MethodModel) -> _MethodFaults | None:
        with self._lock:
            if id(method) in self._bound:
                return self._bound[id(method)]
            name = method.name if method.name in self.rules else "*"
            rule = self.rules.get(name)
            bound = _MethodFaults(method, rule, self.seed, name) if rule is not None else None
            self._methods[id(method)] = method  # keeps id(method) from being reused
            self._bound[id(method)] = bound
            return bound

    def reset(self) -> None:
        """Start every method's random stream again: the next calls meet the faults of a fresh start."""
        with self._lock:
            self._bound = {}
            self._methods = {}

    def to_json(self) -> dict[str, Any]:
        """``{"seed": n, "rules": {method: rule}}`` for the admin API."""
        return {"seed": self.seed, "rules": {name: rule.to_json() for name, rule in self.rules.items()}}

    @classmethod
    def from_json(cls, data: Any, service: ServiceModel | None = None, where: str = "faults") -> FaultPlan:
        """Inverse of :meth:`to_json` (``seed`` optional, default 0); :class:`ConfigError` naming the key."""
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected an object with 'rules' (and optionally 'seed')")
        unknown = set(data) - {"seed", "rules"}
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))} (expected 'seed', 'rules')"
            )
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"{where}.seed: expected an integer, got {seed!r}")
        rules = parse_rules(data.get("rules", {}), f"{where}.rules", service)
        return cls(rules, seed)
