"""What the fake answers to one call: :class:`Reply` (re-exported by :mod:`simdb.thrift.stubs`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from thriftpy2.thrift import TApplicationException

__all__ = ["APP_ERROR_TYPES", "Reply", "app_error_reply", "app_error_type"]

ReplyKind = Literal["return", "raise", "app_error"]

#: ``TApplicationException`` types by name (Apache Thrift numbering).
APP_ERROR_TYPES: dict[str, int] = {
    "UNKNOWN": 0,
    "UNKNOWN_METHOD": 1,
    "INVALID_MESSAGE_TYPE": 2,
    "WRONG_METHOD_NAME": 3,
    "BAD_SEQUENCE_ID": 4,
    "MISSING_RESULT": 5,
    "INTERNAL_ERROR": 6,
    "PROTOCOL_ERROR": 7,
    "INVALID_TRANSFORM": 8,
    "INVALID_PROTOCOL": 9,
    "UNSUPPORTED_CLIENT_TYPE": 10,
}


def app_error_type(value: Any, where: str) -> int:
    """A ``TApplicationException`` type from its name or number; ``ValueError`` naming ``where``."""
    if isinstance(value, str) and value.upper() in APP_ERROR_TYPES:
        return APP_ERROR_TYPES[value.upper()]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255:
        return value
    raise ValueError(
        f"{where}: unknown TApplicationException type {value!r} (one of {', '.join(APP_ERROR_TYPES)})"
    )


@dataclass(frozen=True, eq=False)
class Reply:
    """One answer, ready to send.

    * ``kind="return"``: ``value`` is the thriftpy2 value for the result's
      ``success`` field (``None`` for void).
    * ``kind="raise"``: ``value`` is an instance of a declared exception class;
      ``exception_field`` names its field in the result struct.
    * ``kind="app_error"``: ``value`` is a ``TApplicationException``;
      ``app_error_type`` and ``message`` say the same.

    ``source`` says where it came from (``stub:<id>``, ``recording``,
    ``generated``, ``fault``). ``deterministic`` is False for a step of a
    sequence: the same arguments may get a different answer next time.
    ``delay_s`` is latency the stub or recording asks for (on top of any
    fault). ``encoded`` is scratch space for the wire layer to memoise the
    encoded result per protocol: replies without a template are built once and
    shared by every call they answer, so treat ``value`` as read-only.
    """

    kind: ReplyKind
    value: Any = None
    app_error_type: int = 0
    message: str = ""
    source: str = ""
    exception_field: str | None = None
    delay_s: float = 0.0
    deterministic: bool = True
    encoded: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


def app_error_reply(message: str, source: str, type_: int = APP_ERROR_TYPES["INTERNAL_ERROR"]) -> Reply:
    """A ``TApplicationException`` answer (``INTERNAL_ERROR`` unless told otherwise)."""
    return Reply(
        kind="app_error",
        value=TApplicationException(type_, message),
        app_error_type=type_,
        message=message,
        source=source,
    )
