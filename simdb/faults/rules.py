"""The pydantic models of fault rules shared by every kind: :class:`Latency`, :class:`Effects`.

A kind's rule subclasses :class:`Effects` (Thrift adds declared exceptions and application
errors) or :class:`ErrorEffects` (Redis and MySQL: ``error_rate`` and the ``error`` to send,
checked by the kind). All models are frozen and refuse unknown keys and non-finite numbers.
"""

from __future__ import annotations

import bisect
import math
import random
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from simdb.errors import ConfigError
from simdb.faults.decide import MAX_LATENCY_MS, Z99

__all__ = ["Effects", "ErrorEffects", "Latency", "ValidationError", "format_validation"]

_FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Latency(BaseModel):
    """Added latency: ``fixed_ms``; or ``p50_ms`` and ``p99_ms`` (a log-normal); or a ``histogram``.

    ``histogram`` is an empirical distribution as ``[[upper_ms, count], ...]`` with increasing
    upper bounds (the first bucket starts at 0): a bucket is picked by its count, then a delay
    uniformly inside it, so a histogram taken from production comes back out.
    """

    model_config = _FROZEN

    fixed_ms: float | None = Field(default=None, ge=0, le=MAX_LATENCY_MS)
    p50_ms: float | None = Field(default=None, gt=0, le=MAX_LATENCY_MS)
    p99_ms: float | None = Field(default=None, gt=0, le=MAX_LATENCY_MS)
    histogram: tuple[tuple[float, float], ...] | None = None
    _cum: list[float] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _one_shape(self) -> Latency:
        dist = self.p50_ms is not None or self.p99_ms is not None
        shapes = sum((self.fixed_ms is not None, dist, self.histogram is not None))
        if self.fixed_ms is not None and dist:
            raise ValueError("give either fixed_ms or p50_ms/p99_ms, not both")
        if shapes > 1:
            raise ValueError("give histogram alone, not with fixed_ms or p50_ms/p99_ms")
        if dist and (self.p50_ms is None or self.p99_ms is None):
            raise ValueError("a latency distribution needs both p50_ms and p99_ms")
        if shapes == 0:
            raise ValueError("give fixed_ms, p50_ms and p99_ms, or histogram")
        if self.p50_ms is not None and self.p99_ms is not None and self.p99_ms < self.p50_ms:
            raise ValueError(f"p99_ms ({self.p99_ms}) is below p50_ms ({self.p50_ms})")
        if self.histogram is not None:
            _check_histogram(self.histogram)
        return self

    def sample_s(self, rng: random.Random) -> float:
        """One delay in seconds."""
        if self.fixed_ms is not None:
            return self.fixed_ms / 1000.0
        if self.histogram is not None:
            return _sample_histogram(self.histogram, self._cumulative(), rng) / 1000.0
        assert self.p50_ms is not None and self.p99_ms is not None
        sigma = math.log(self.p99_ms / self.p50_ms) / Z99
        return min(rng.lognormvariate(math.log(self.p50_ms), sigma), MAX_LATENCY_MS) / 1000.0

    def model_post_init(self, context: Any, /) -> None:
        """Cumulative bucket counts of a histogram, for sampling."""
        total = 0.0
        for _, count in self.histogram or ():
            total += count
            self._cum.append(total)

    def _cumulative(self) -> list[float]:
        return self._cum

    def scaled(self, factor: float) -> Latency:
        """The same shape with every delay multiplied by ``factor`` (a bad day: 2.0)."""
        if self.fixed_ms is not None:
            return Latency(fixed_ms=min(self.fixed_ms * factor, MAX_LATENCY_MS))
        if self.histogram is not None:
            return Latency(histogram=tuple((min(le * factor, MAX_LATENCY_MS), n) for le, n in self.histogram))
        assert self.p50_ms is not None and self.p99_ms is not None
        return Latency(
            p50_ms=min(self.p50_ms * factor, MAX_LATENCY_MS), p99_ms=min(self.p99_ms * factor, MAX_LATENCY_MS)
        )


def _check_histogram(buckets: tuple[tuple[float, float], ...]) -> None:
    if not buckets:
        raise ValueError("histogram needs at least one [upper_ms, count] bucket")
    previous = 0.0
    for i, (le, count) in enumerate(buckets):
        if not 0 < le <= MAX_LATENCY_MS:
            raise ValueError(
                f"histogram[{i}]: upper_ms {le:g} must be above 0 and at most {MAX_LATENCY_MS:g}"
            )
        if le <= previous and i:
            raise ValueError(f"histogram[{i}]: upper bounds must increase ({le:g} after {previous:g})")
        if count < 0:
            raise ValueError(f"histogram[{i}]: count {count:g} is negative")
        previous = le
    if not any(count > 0 for _, count in buckets):
        raise ValueError("histogram: every bucket is empty")


def _sample_histogram(
    buckets: tuple[tuple[float, float], ...], cum: list[float], rng: random.Random
) -> float:
    at = rng.random() * cum[-1]
    i = min(bisect.bisect_right(cum, at), len(buckets) - 1)
    while buckets[i][1] == 0:  # only possible when ``at`` lands exactly on a boundary
        i += 1
    low = buckets[i - 1][0] if i else 0.0
    return low + (buckets[i][0] - low) * rng.random()


_SHORTHANDS = ("fixed_ms", "p50_ms", "p99_ms", "histogram")


class Effects(BaseModel):
    """What may happen to a call: latency, connection reset, stall, bandwidth.

    ``fixed_ms``, ``p50_ms``, ``p99_ms`` and ``histogram`` may be given at the top level as
    shorthands for ``latency``. ``reset_rate``: drop the connection; ``stall_rate``: accept the
    request and never answer (for client timeout tests); ``bandwidth_bytes_per_s``: send the
    reply at that rate. Subclasses list every rate in ``rate_fields``; together at most 1.
    """

    model_config = _FROZEN
    rate_fields: ClassVar[tuple[str, ...]] = ("reset_rate", "stall_rate")

    latency: Latency | None = None
    reset_rate: float = Field(default=0.0, ge=0, le=1)
    stall_rate: float = Field(default=0.0, ge=0, le=1)
    bandwidth_bytes_per_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        if isinstance(data, dict):
            flat = {k: data[k] for k in _SHORTHANDS if k in data}
            if flat:
                if data.get("latency") is not None:
                    raise ValueError(
                        "give latency either as 'latency: {...}' "
                        "or as top-level fixed_ms/p50_ms/p99_ms/histogram"
                    )
                data = {k: v for k, v in data.items() if k not in flat}
                data["latency"] = flat
        return data

    @model_validator(mode="after")
    def _rates(self) -> Effects:
        given = [name for name in self.rate_fields if getattr(self, name) > 0]
        total = sum(float(getattr(self, name)) for name in given)
        if total > 1.0 + 1e-9:
            raise ValueError(f"{' + '.join(given)} is {total:g}, more than 1 (the rates share one draw)")
        return self

    def to_json(self) -> dict[str, Any]:
        """The rule as given (defaults left out)."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


class ErrorEffects(Effects):
    """:class:`Effects` plus ``error_rate`` and the ``error`` to send (its shape is the kind's)."""

    rate_fields: ClassVar[tuple[str, ...]] = ("reset_rate", "stall_rate", "error_rate")

    error_rate: float = Field(default=0.0, ge=0, le=1)
    error: Any = None

    @model_validator(mode="after")
    def _error_given(self) -> ErrorEffects:
        if self.error_rate > 0 and self.error is None:
            raise ValueError("error_rate needs the error to send: error: ...")
        return self


def format_validation(exc: ValidationError, where: str) -> ConfigError:
    """One ConfigError listing every problem pydantic found, each under ``where``."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}.{loc}: {message}" if loc else f"{where}: {message}")
    return ConfigError("; ".join(problems))
