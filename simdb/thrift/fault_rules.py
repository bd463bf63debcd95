"""The pydantic model of a Thrift method's fault rule: :class:`FaultRule` (and :class:`Latency`).

The kind-neutral parts (latency, resets, stalls, bandwidth) come from
:class:`simdb.faults.rules.Effects`; a Thrift rule adds declared exceptions and
``TApplicationException``. Kept apart from :mod:`simdb.thrift.faults` so that a fake without
fault rules never imports pydantic (a good part of the start-up time).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, ValidationError, field_validator, model_validator

from simdb.faults.rules import Effects, Latency, format_validation
from simdb.thrift.reply import app_error_type

__all__ = ["FaultRule", "Latency", "ValidationError", "format_validation"]


class FaultRule(Effects):
    """What may go wrong with one method (numbers must be finite).

    ``exception`` names a declared exception and its fields, ``{"PinNotFound":
    {"id": 0}}`` (or just ``"PinNotFound"``); without it, ``exception_rate``
    raises the method's first declared exception. ``fixed_ms``, ``p50_ms``,
    ``p99_ms`` and ``histogram`` may also be given at the top level as shorthands
    for ``latency``; ``reset_rate``, ``stall_rate`` and ``bandwidth_bytes_per_s``
    are as for every kind (:class:`simdb.faults.rules.Effects`).
    """

    rate_fields: ClassVar[tuple[str, ...]] = ("exception_rate", "app_error_rate", "reset_rate", "stall_rate")

    exception_rate: float = Field(default=0.0, ge=0, le=1)
    exception: dict[str, dict[str, Any]] | None = None
    app_error_rate: float = Field(default=0.0, ge=0, le=1)
    app_error_type: str | int = "INTERNAL_ERROR"
    app_error_message: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _exception_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("exception"), str):
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
