"""Talk to a running stack through each fake's admin API (``/_simdb/`` on loopback).

The admin ports are in the stack's ``state.json``; this is the control channel of ``ps``,
``reset``, ``stubs`` and ``faults``, for a stack detached or in another terminal.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from simdb.admin_client import admin_headers
from simdb.errors import SimdbError
from simdb.fake import Endpoint


class ControlError(SimdbError):
    """An admin call failed; the message names the fake and what its admin API said."""


def admin_call(
    name: str, ep: Endpoint, method: str, path: str, body: Any = None, timeout: float = 5.0
) -> Any:
    """``method /_simdb<path>`` on fake ``name``; the JSON answer, or a ControlError."""
    if not ep.admin_port:
        raise ControlError(f"fake {name!r} has no admin API")
    conn = http.client.HTTPConnection(ep.host, ep.admin_port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, "/_simdb" + path, body=data, headers=admin_headers())
        resp = conn.getresponse()
        raw = resp.read()
    except OSError as exc:
        raise ControlError(
            f"fake {name!r}: admin API at {ep.host}:{ep.admin_port} unreachable: {exc}"
        ) from exc
    finally:
        conn.close()
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = raw.decode("utf-8", "replace")
    if resp.status >= 400:
        detail = answer.get("error") if isinstance(answer, dict) else answer
        raise ControlError(f"fake {name!r}: {method} {path}: {detail} (HTTP {resp.status})")
    return answer


def pick(endpoints: Mapping[str, Endpoint], name: str | None) -> dict[str, Endpoint]:
    """All endpoints, or the one named (a ControlError listing the fakes otherwise)."""
    if name is None:
        return dict(endpoints)
    if name not in endpoints:
        raise ControlError(f"no fake {name!r} in this stack (fakes: {', '.join(endpoints)})")
    return {name: endpoints[name]}


def reset_all(endpoints: Mapping[str, Endpoint], name: str | None = None) -> list[str]:
    """Reset the named fake (or every fake, in parallel) to its loaded snapshot."""
    chosen = pick(endpoints, name)
    with ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
        futures = {n: pool.submit(admin_call, n, ep, "POST", "/reset") for n, ep in chosen.items()}
        for f in futures.values():
            f.result()
    return list(chosen)


def health_all(endpoints: Mapping[str, Endpoint]) -> dict[str, dict[str, Any] | str]:
    """Every fake's health answer (or the error text when it does not answer)."""

    def one(item: tuple[str, Endpoint]) -> tuple[str, dict[str, Any] | str]:
        n, ep = item
        try:
            answer = admin_call(n, ep, "GET", "/health", timeout=2.0)
        except ControlError as exc:
            return n, str(exc)
        return n, answer if isinstance(answer, dict) else str(answer)

    with ThreadPoolExecutor(max_workers=max(1, len(endpoints))) as pool:
        return dict(pool.map(one, endpoints.items()))


def calls_served(stats: Mapping[str, Any]) -> int | None:
    """Calls a fake served, from its health stats (Thrift calls, Redis commands, SQL queries)."""
    for key in ("calls_total", "commands", "queries"):
        if key in stats:
            return int(stats[key])
    return None
