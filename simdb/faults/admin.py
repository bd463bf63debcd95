"""The ``/_simdb/faults`` admin routes of a fake whose plan is a list of matched rules (Redis, MySQL).

=========  ==========  ===================================================
GET        /faults     the plan ``{"seed", "rules"}``
PUT/POST   /faults     replace it (body: the plan, or a bare list of rules)
DELETE     /faults     remove every rule
=========  ==========  ===================================================

A plan that does not validate is refused with the problem named; the old plan stays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simdb.admin import AdminError, Request, Response, Route
from simdb.errors import ConfigError

__all__ = ["fault_routes"]


def fault_routes(current: Callable[[], Any], replace: Callable[[Any], Any]) -> list[Route]:
    """Routes over ``current()`` (the live plan, with ``to_json``) and ``replace(raw) -> plan``."""

    def get_faults(_: Request) -> Response:
        return Response(200, current().to_json())

    def set_faults(req: Request) -> Response:
        if not isinstance(req.body, (dict, list)):
            raise AdminError('body must be JSON {"seed": 1, "rules": [{"match": {...}, "p50_ms": 5, ...}]}')
        try:
            plan = replace(req.body)
        except ConfigError as exc:
            raise AdminError(str(exc)) from None
        return Response(200, {"ok": True, **plan.to_json()})

    def clear_faults(_: Request) -> Response:
        plan = replace({"seed": current().seed, "rules": []})
        return Response(200, {"ok": True, **plan.to_json()})

    return [
        Route("GET", "/faults", get_faults),
        Route("PUT", "/faults", set_faults),
        Route("POST", "/faults", set_faults),
        Route("DELETE", "/faults", clear_faults),
    ]
