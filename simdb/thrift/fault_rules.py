"""The pydantic models of fault rules: :class:`FaultRule` and its :class:`Latency`.

Kept apart from :mod:`simdb.thrift.faults` so that a fake without fault rules
never imports pydantic (a good part of the start-up time). Use them through
:func:`simdb.thrift.faults.parse_rules` or ``simdb.thrift.faults.FaultRule``.
"""

from __future__ import annotations

import math
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simdb.errors import ConfigError
from simdb.thrift.faults import _Z99, MAX_LATENCY_MS
from simdb.thrift.reply import app_error_type

__all__ = ["FaultRule", "Latency", "ValidationError", "format_validation"]


class Latency(BaseModel):
    """Added latency: ``fixed_ms``, or a distribution given by ``p50_ms`` and ``p99_ms``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    fixed_ms: float | None = Field(default=None, ge=0, le=MAX_LATENCY_MS)
    p50_ms: float | None = Field(default=None, gt=0, le=MAX_LATENCY_MS)
    p99_ms: float | None = Field(default=None, gt=0, le=MAX_LATENCY_MS)

    @model_validator(mode="after")
    def _one_shape(self) -> Latency:
        dist = self.p50_ms is not None or self.p99_ms is not None
        if self.fixed_ms is not None and dist:
            raise ValueError("give either fixed_ms or p50_ms/p99_ms, not both")
        if dist and (self.p50_ms is None or self.p99_ms is None):
            raise ValueError("a latency distribution needs both p50_ms and p99_ms")
        if self.fixed_ms is None and not dist:
            raise ValueError("give fixed_ms or p50_ms and p99_ms")
        if self.p50_ms is not None and self.p99_ms is not None and self.p99_ms < self.p50_ms:
            raise ValueError(f"p99_ms ({self.p99_ms}) is below p50_ms ({self.p50_ms})")
        return self

    def sample_s(self, rng: random.Random) -> float:
        """One delay in seconds."""
        if self.fixed_ms is not None:
            return self.fixed_ms / 1000.0
        assert self.p50_ms is not None and self.p99_ms is not None
        sigma = math.log(self.p99_ms / self.p50_ms) / _Z99
        return min(rng.lognormvariate(math.log(self.p50_ms), sigma), MAX_LATENCY_MS) / 1000.0


class FaultRule(BaseModel):
    """What may go wrong with one method (numbers must be finite).

    ``exception`` names a declared exception and its fields, ``{"PinNotFound":
    {"id": 0}}`` (or just ``"PinNotFound"``); without it, ``exception_rate``
    raises the method's first declared exception. ``fixed_ms``, ``p50_ms`` and
    ``p99_ms`` may also be given at the top level as shorthands for ``latency``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    latency: Latency | None = None
    exception_rate: float = Field(default=0.0, ge=0, le=1)
    exception: dict[str, dict[str, Any]] | None = None
    app_error_rate: float = Field(default=0.0, ge=0, le=1)
    app_error_type: str | int = "INTERNAL_ERROR"
    app_error_message: str | None = None
    reset_rate: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        if isinstance(data, dict):
            flat = {k: data[k] for k in ("fixed_ms", "p50_ms", "p99_ms") if k in data}
            if flat:
                if data.get("latency") is not None:
                    raise ValueError(
                        "give latency either as 'latency: {...}' or as top-level fixed_ms/p50_ms/p99_ms"
                    )
                data = {k: v for k, v in data.items() if k not in flat}
                data["latency"] = flat
            if isinstance(data.get("exception"), str):
                data = {**data, "exception": {data["exception"]: {}}}
        return data

    @field_validator("exception")
    @classmethod
    def _one_exception(cls, value: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
        if value is not None and len(value) != 1:
            raise ValueError("name exactly one exception: {ExceptionName: {field: value}}")
        return value

    @field_validator("app_error_type")
    @classmethod
    def _app_error_type(cls, value: str | int) -> str | int:
        app_error_type(value, "app_error_type")
        return value

    @model_validator(mode="after")
    def _rates(self) -> FaultRule:
        total = self.exception_rate + self.app_error_rate + self.reset_rate
        if total > 1.0 + 1e-9:
            raise ValueError(f"exception_rate + app_error_rate + reset_rate is {total:g}, more than 1")
        return self

    def to_json(self) -> dict[str, Any]:
        """The rule as given (defaults left out)."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def format_validation(exc: ValidationError, where: str) -> ConfigError:
    """One ConfigError listing every problem pydantic found, each under ``where``."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}.{loc}: {msg}" if loc else f"{where}: {msg}")
    return ConfigError("; ".join(problems))
