"""The Thrift fake's admin endpoints under ``/_simdb/`` (documented in ``docs/thrift-admin.md``).

On top of the generic health/reset/snapshot routes:

=========  ======================  ==================================================
GET        /stubs                  the live stubs (``?service=`` when multiplexed)
POST       /stubs                  add one stub (body: the stub as JSON) -> ``{"id", "service"}``
DELETE     /stubs/<id>             remove one stub
GET        /faults                 the fault plan ``{"seed", "rules"}``
PUT/POST   /faults                 replace the fault plan
DELETE     /faults                 remove every fault rule
GET        /journal                recent calls, oldest first (``?method=``, ``?limit=``)
DELETE     /journal                clear the journal
GET        /metrics                Prometheus text format
=========  ======================  ==================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from simdb.admin import AdminError, Request, Response, Route, generic_routes
from simdb.thrift.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from simdb.thrift.fake import ThriftFake


def _one(req: Request, name: str) -> str | None:
    values = req.query.get(name)
    return values[-1] if values else None


def admin_routes(fake: ThriftFake) -> list[Route]:
    """Every admin route of one Thrift fake."""

    def list_stubs(req: Request) -> Response:
        st = fake.state(_one(req, "service"))
        return Response(200, {"service": st.model.name, "stubs": st.stubs.list()})

    def add_stub(req: Request) -> Response:
        if not isinstance(req.body, dict):
            raise AdminError(
                "body must be one stub as a JSON object, e.g. "
                '{"method": "getPin", "args": {"id": 1}, "reply": {"return": {...}}}'
            )
        st = fake.state_for_stub(_one(req, "service"), req.body)
        stub_id = st.stubs.add(req.body)
        fake.changed()
        return Response(201, {"ok": True, "id": stub_id, "service": st.model.name})

    def remove_stub(req: Request) -> Response:
        stub_id = unquote(req.path[len("/stubs/") :])
        if not stub_id:
            raise AdminError("name the stub to remove: DELETE /_simdb/stubs/<id>")
        st = fake.state_with_stub(_one(req, "service"), stub_id)
        if st is None:
            raise AdminError(f"no stub with id {stub_id!r} on {', '.join(fake.states)}", status=404)
        st.stubs.remove(stub_id)
        fake.changed()
        return Response(200, {"ok": True, "removed": stub_id})

    def get_faults(req: Request) -> Response:
        st = fake.state(_one(req, "service"))
        return Response(200, {"service": st.model.name, **st.plan.to_json()})

    def set_faults(req: Request) -> Response:
        body: Any = req.body
        if not isinstance(body, dict):
            raise AdminError(
                'body must be JSON {"seed": 1, "rules": {"getPin": {"p50_ms": 5, "p99_ms": 50}}}'
            )
        body = {k: v for k, v in body.items() if k != "service"}
        plan = fake.set_faults(_one(req, "service"), body)
        return Response(200, {"ok": True, **plan.to_json()})

    def clear_faults(req: Request) -> Response:
        plan = fake.set_faults(_one(req, "service"), {"seed": fake.config.seed, "rules": {}})
        return Response(200, {"ok": True, **plan.to_json()})

    def read_journal(req: Request) -> Response:
        method = _one(req, "method")
        limit_text = _one(req, "limit")
        entries = fake.journal.to_json(fake.entry_args_json, method)
        if limit_text is not None:
            try:
                limit = int(limit_text)
            except ValueError:
                raise AdminError(f"limit must be an integer, got {limit_text!r}") from None
            if limit < 0:
                raise AdminError(f"limit must not be negative, got {limit}")
            entries = entries[-limit:] if limit else []
        return Response(200, {"size": fake.journal.size, "total": fake.journal.total, "entries": entries})

    def clear_journal(_: Request) -> Response:
        fake.journal.clear()
        return Response(200, {"ok": True})

    def metrics(_: Request) -> Response:
        return Response(200, fake.metrics.render(), CONTENT_TYPE)

    return [
        *generic_routes(fake),
        Route("GET", "/stubs", list_stubs),
        Route("POST", "/stubs", add_stub),
        Route("DELETE", "/stubs/*", remove_stub),
        Route("GET", "/faults", get_faults),
        Route("PUT", "/faults", set_faults),
        Route("POST", "/faults", set_faults),
        Route("DELETE", "/faults", clear_faults),
        Route("GET", "/journal", read_journal),
        Route("DELETE", "/journal", clear_journal),
        Route("GET", "/metrics", metrics),
    ]
