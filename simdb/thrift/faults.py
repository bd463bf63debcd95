"""Per-method faults: added latency, declared exceptions, ``TApplicationException``, connection resets.

A :class:`FaultRule` says what may go wrong with one method (or with every
method, under the name ``"*"``); a :class:`FaultPlan` holds the rules of one
service and a seed and decides, call by call, what happens. Decisions are
reproducible: each method draws from its own random stream seeded from
``(seed, method name)``, so the n-th call of a method gets the same decision in
every run with the same seed, whatever the other methods do.

Latency is fixed (``fixed_ms``), a log-normal distribution with the given median and
99th percentile (``p50_ms``, ``p99_ms``), the usual shape of production latency, or an
empirical ``histogram``. Rates are probabilities between 0 and 1; one uniform draw per call
picks at most one of reset, exception, application error and stall (never answer).
``bandwidth_bytes_per_s`` sends the reply at that pace. The rule model and the draws are the
kind-neutral ones of :mod:`simdb.faults`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from simdb.errors import ConfigError
from simdb.faults.decide import MAX_LATENCY_MS, NO_DECISION, Decision, Draw, stream
from simdb.thrift.model import MethodModel, ServiceModel
from simdb.thrift.reply import Reply, app_error_reply, app_error_type

if TYPE_CHECKING:
    from simdb.thrift.fault_rules import FaultRule, Latency

__all__ = ["MAX_LATENCY_MS", "NO_FAULT", "FaultDecision", "FaultPlan", "FaultRule", "Latency", "parse_rules"]

FaultAction = Literal["exception", "app_error", "reset", "stall"]


def __getattr__(name: str) -> Any:
    """``FaultRule`` and ``Latency`` (pydantic models) are imported on first use: start-up stays light."""
    if name in ("FaultRule", "Latency"):
        from simdb.thrift import fault_rules

        return getattr(fault_rules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FaultDecision = Decision
"""What to do with one call: wait ``delay_s``, then answer normally (``action`` None), answer
``reply`` (``exception``/``app_error``), ``reset`` the connection or ``stall`` (never answer);
``bandwidth`` paces the reply (bytes per second)."""

NO_FAULT = NO_DECISION


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
        exception_reply: Reply | None = None
        if rule.exception_rate > 0:
            try:
                exception_reply = _exception_reply(method, rule, f"faults.{rule_name}.exception")
            except ConfigError as exc:
                # Only possible for the "*" rule: answer INTERNAL_ERROR saying why.
                exception_reply = app_error_reply(str(exc), "fault")
        type_ = app_error_type(rule.app_error_type, "app_error_type")
        message = rule.app_error_message or f"injected fault: {method.name} failed"
        app_error = app_error_reply(message, "fault", type_)
        exception_action = (
            "exception" if exception_reply is not None and exception_reply.kind == "raise" else "app_error"
        )
        # Draw order reset, exception, app_error, stall: rules without a stall draw as before.
        self.draw = Draw(
            stream(seed, method.name),
            rule.latency,
            (
                ("reset", rule.reset_rate, None),
                (exception_action, rule.exception_rate, exception_reply),
                ("app_error", rule.app_error_rate, app_error),
                ("stall", rule.stall_rate, None),
            ),
            rule.bandwidth_bytes_per_s or 0.0,
            rule_name,
        )

    def decide(self) -> FaultDecision:
        return self.draw.decide()


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
