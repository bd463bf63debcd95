"""The shared admin HTTP API: routing, errors, generic endpoints, over a real socket."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simdb.admin import AdminError, AdminServer, Request, Response, Route, generic_routes
from simdb.admin_security import AdminPolicy
from simdb.errors import SnapshotError
from simdb.fake import Endpoint, Health

pytestmark = pytest.mark.fake


class CountingFake:
    name = "cache"
    kind = "redis"

    def __init__(self) -> None:
        self.resets = 0
        self.loaded: list[str] = []

    def start(self) -> Endpoint:
        return self.endpoint

    def stop(self) -> None:
        pass

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("redis", "127.0.0.1", 1)

    def load(self, snapshot_dir: Path) -> None:
        if snapshot_dir.name == "corrupt":
            raise SnapshotError("checksum mismatch", str(snapshot_dir / "redis/cache/db0.jsonl"))
        self.loaded.append(str(snapshot_dir))

    def reset(self) -> None:
        self.resets += 1

    def health(self) -> Health:
        return Health(ok=True, stats={"keys": 3})


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    sent = {"Content-Type": "application/json"} if headers is None else headers
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def served() -> Iterator[tuple[CountingFake, int]]:
    fake = CountingFake()

    def boom(_: Request) -> Response:
        raise AdminError("no such stub 'x'", status=404)

    policy = AdminPolicy(snapshot_roots=(Path("/"),))
    server = AdminServer([*generic_routes(fake), Route("DELETE", "/stubs/*", boom)], policy=policy).start()
    try:
        yield fake, server.port
    finally:
        server.stop()


def test_health_reset_snapshot(served: tuple[CountingFake, int]) -> None:
    fake, port = served
    assert call(port, "GET", "/_simdb/health") == (
        200, {"ok": True, "name": "cache", "kind": "redis", "detail": "", "stats": {"keys": 3}})
    assert call(port, "POST", "/_simdb/reset")[0] == 200
    assert fake.resets == 1
    assert call(port, "POST", "/_simdb/snapshot", {"path": "/seeds/homefeed"})[0] == 200
    assert fake.loaded == ["/seeds/homefeed"]


def test_errors_are_precise_and_the_server_keeps_serving(served: tuple[CountingFake, int]) -> None:
    fake, port = served
    status, body = call(port, "POST", "/_simdb/snapshot", {"path": "/x/corrupt"})
    assert status == 400 and "redis/cache/db0.jsonl: checksum mismatch" in body["error"]
    assert call(port, "POST", "/_simdb/snapshot", raw=b"{not json")[0] == 400
    assert call(port, "POST", "/_simdb/snapshot", {"dir": 1})[1]["error"].startswith("body must be JSON")
    assert call(port, "GET", "/_simdb/nope")[0] == 404
    assert call(port, "GET", "/elsewhere")[0] == 404
    assert call(port, "POST", "/_simdb/health")[0] == 405
    assert call(port, "DELETE", "/_simdb/stubs/x") == (404, {"error": "no such stub 'x'"})
    assert fake.loaded == []
    assert call(port, "GET", "/_simdb/health")[0] == 200
