"""Per-call fault decisions from a rule and a seeded random stream (no pydantic here: the hot path).

A rule's random stream is seeded from ``(seed, key)`` (:func:`stream`), so the n-th call that
a rule sees with a key (a Thrift method, a Redis command, a SQL digest) gets the same decision
in every run with the same seed, whatever else the fake is asked. Per call, the latency is
drawn first, then one uniform draw picks at most one action from the rule's rates, in the
order the rule lists them.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["MAX_LATENCY_MS", "NO_DECISION", "Z99", "Decision", "Draw", "Sampler", "stream"]

#: The largest latency a rule may add (and the cap on a sampled delay): ten minutes.
MAX_LATENCY_MS = 600_000.0

#: z-score of the 99th percentile of the standard normal distribution.
Z99 = 2.3263478740408408


class Sampler(Protocol):
    """Anything that draws one delay in seconds from a random stream (``Latency``)."""

    def sample_s(self, rng: random.Random) -> float:
        """One delay in seconds."""
        ...


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one call.

    Wait ``delay_s``; then ``action`` None answers normally, ``"reset"`` drops the connection,
    ``"stall"`` never answers (the connection stays open), any other action is the kind's own
    (``"error"``, Thrift's ``"exception"``/``"app_error"``) with its ``payload``.
    ``bandwidth`` (bytes per second, 0 for no limit) paces the reply.
    """

    delay_s: float = 0.0
    action: str | None = None
    payload: Any = None
    bandwidth: float = 0.0
    rule: str = field(default="", compare=False)
    """Which rule decided (for the journal and error messages)."""

    @property
    def reply(self) -> Any:
        """The payload under the Thrift fake's name for it (its prepared ``Reply``)."""
        return self.payload


NO_DECISION = Decision()


def stream(seed: int, key: str) -> random.Random:
    """The random stream of ``key`` under ``seed`` (blake2b of both: stable across runs and Pythons)."""
    digest = hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


class Draw:
    """One rule bound to one random stream: :meth:`decide` once per call (thread-safe).

    ``actions`` lists ``(action, rate, payload)`` in draw order; rates add up to at most 1.
    """

    __slots__ = ("_cuts", "_lock", "bandwidth", "latency", "name", "rng")

    def __init__(
        self,
        rng: random.Random,
        latency: Sampler | None,
        actions: Sequence[tuple[str, float, Any]],
        bandwidth: float = 0.0,
        name: str = "",
    ) -> None:
        self.rng = rng
        self.latency = latency
        self.bandwidth = float(bandwidth or 0.0)
        self.name = name
        cuts: list[tuple[float, str, Any]] = []
        total = 0.0
        for action, rate, payload in actions:
            if rate > 0:
                total += rate
                cuts.append((total, action, payload))
        self._cuts = tuple(cuts)
        self._lock = threading.Lock()

    def decide(self) -> Decision:
        """This call's decision."""
        with self._lock:
            delay = self.latency.sample_s(self.rng) if self.latency is not None else 0.0
            draw = self.rng.random() if self._cuts else 1.0
        for cut, action, payload in self._cuts:
            if draw < cut:
                return Decision(delay, action, payload, self.bandwidth, self.name)
        if delay == 0.0 and not self.bandwidth:
            return NO_DECISION
        return Decision(delay, None, None, self.bandwidth, self.name)
