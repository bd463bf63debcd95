"""An ordered list of fault rules, each with a ``match``: the plan of a Redis or MySQL fake.

A kind gives, per rule, a predicate on what it matches (a Redis command, a SQL statement) and
the prepared error payload; :class:`MatchPlan` picks the first rule that matches a call and
draws its decision from the stream of ``(seed, rule name, call key)``. No rule: no cost beyond
one truth test (:meth:`MatchPlan.__bool__`), which the hot paths check first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from simdb.errors import ConfigError
from simdb.faults.decide import NO_DECISION, Decision, Draw, Sampler, stream

__all__ = ["BoundRule", "MatchPlan", "RawSource", "split_plan_json"]

S = TypeVar("S")


@dataclass(frozen=True)
class BoundRule(Generic[S]):
    """One rule as a kind prepared it: its name, predicate, and what a draw may do."""

    name: str
    matches: Callable[[S], bool]
    latency: Sampler | None
    actions: tuple[tuple[str, float, Any], ...]
    bandwidth: float
    source: Any
    """The validated rule (for ``to_json``)."""
    names: frozenset[str] | None = None
    """The call names (Redis commands, SQL statement kinds) this rule can match; None: any."""


class MatchPlan(Generic[S]):
    """Rules in order, a seed, and the random streams the calls opened so far."""

    def __init__(self, rules: Sequence[BoundRule[S]], seed: int, key: Callable[[S], str]) -> None:
        self.rules = tuple(rules)
        self.seed = seed
        self._key = key
        self._draws: dict[tuple[int, str], Draw] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def decide(self, subject: S) -> Decision:
        """The decision for this call (NO_DECISION when no rule matches)."""
        for rule in self.rules:
            if rule.matches(subject):
                return self.decide_rule(rule, subject)
        return NO_DECISION

    def decide_rule(self, rule: BoundRule[S], subject: S) -> Decision:
        """The decision of ``rule`` (one of :attr:`rules`, known to match) for this call."""
        slot = (id(rule), self._key(subject))
        draw = self._draws.get(slot)
        if draw is None:
            with self._lock:
                draw = self._draws.get(slot)
                if draw is None:
                    rng = stream(self.seed, f"{rule.name}\x00{slot[1]}")
                    draw = Draw(rng, rule.latency, rule.actions, rule.bandwidth, rule.name)
                    self._draws[slot] = draw
        return draw.decide()

    def reset(self) -> None:
        """Start every stream again."""
        with self._lock:
            self._draws = {}

    def to_json(self) -> dict[str, Any]:
        """``{"seed": n, "rules": [rule, ...]}`` for the admin API."""
        return {"seed": self.seed, "rules": [r.source.to_json() for r in self.rules]}


def split_plan_json(data: Any, where: str) -> tuple[int, list[Any]]:
    """``(seed, raw rules)`` from ``{"seed": n, "rules": [...]}`` or a bare list of rules."""
    if isinstance(data, list):
        return 0, data
    if not isinstance(data, dict):
        raise ConfigError(
            f"{where}: expected a list of rules or an object with 'rules' (and optionally 'seed')"
        )
    unknown = set(data) - {"seed", "rules"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (expected 'seed', 'rules')")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"{where}.seed: expected an integer, got {seed!r}")
    rules = data.get("rules", [])
    if rules is None:
        rules = []
    if not isinstance(rules, list):
        raise ConfigError(f"{where}.rules: expected a list of rules, each with 'match'")
    return seed, rules


@dataclass(frozen=True)
class RawSource:
    """A rule as the user gave it (what ``GET /faults`` shows back)."""

    raw: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The rule as given."""
        return dict(self.raw)
