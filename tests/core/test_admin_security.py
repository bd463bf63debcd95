"""The admin API refuses web pages, rebinding, foreign hosts and files outside its roots."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from simdb.admin import AdminServer, generic_routes
from simdb.admin_client import admin_request
from simdb.admin_security import AdminPolicy, is_loopback
from simdb.errors import ConfigError
from simdb.redis.fake import RedisConfig, RedisFake
from tests.core.test_admin import CountingFake

pytestmark = pytest.mark.fake


def raw_call(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[CountingFake, AdminServer, Path]]:
    fake = CountingFake()
    root = tmp_path / "snapshots"
    (root / "good").mkdir(parents=True)
    server = AdminServer(generic_routes(fake), policy=AdminPolicy(snapshot_roots=(root,))).start()
    try:
        yield fake, server, root
    finally:
        server.stop()


def host(port: int) -> dict[str, str]:
    return {"Host": f"127.0.0.1:{port}"}


def test_a_plain_json_request_from_loopback_is_served(served: tuple[CountingFake, AdminServer, Path]) -> None:
    fake, server, _ = served
    status, body = raw_call(
        server.port, "POST", "/_simdb/reset", {**host(server.port), "Content-Type": "application/json"}
    )
    assert (status, body["ok"], fake.resets) == (200, True, 1)
    for name in ("localhost", "[::1]", "127.0.0.1"):
        assert raw_call(server.port, "GET", "/_simdb/health", {"Host": f"{name}:{server.port}"})[0] == 200


def test_a_cross_site_text_plain_post_changes_nothing(served: tuple[CountingFake, AdminServer, Path]) -> None:
    fake, server, _ = served
    status, body = raw_call(
        server.port, "POST", "/_simdb/reset", {**host(server.port), "Content-Type": "text/plain"}, b"{}"
    )
    assert status == 415 and "application/json" in body["error"]
    status, _ = raw_call(server.port, "POST", "/_simdb/reset", host(server.port))
    assert status == 415
    assert fake.resets == 0


def test_a_foreign_origin_is_refused(served: tuple[CountingFake, AdminServer, Path]) -> None:
    fake, server, _ = served
    headers = {**host(server.port), "Content-Type": "application/json"}
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{server.port + 1}"):
        status, body = raw_call(server.port, "POST", "/_simdb/reset", {**headers, "Origin": origin})
        assert status == 403 and "origin" in body["error"]
    assert fake.resets == 0
    same = {**headers, "Origin": f"http://127.0.0.1:{server.port}"}
    assert raw_call(server.port, "POST", "/_simdb/reset", same)[0] == 200


def test_dns_rebinding_host_is_refused(served: tuple[CountingFake, AdminServer, Path]) -> None:
    fake, server, _ = served
    for name in ("rebind.attacker.example", f"rebind.attacker.example:{server.port}", "10.1.2.3"):
        status, body = raw_call(
            server.port, "POST", "/_simdb/reset", {"Host": name, "Content-Type": "application/json"}
        )
        assert status == 403 and "Host" in body["error"]
    assert raw_call(server.port, "GET", "/_simdb/health", {})[0] == 400  # no Host at all
    assert fake.resets == 0


def test_snapshot_loads_only_under_the_roots(served: tuple[CountingFake, AdminServer, Path]) -> None:
    fake, server, root = served
    url = f"http://127.0.0.1:{server.port}/_simdb/snapshot"
    for outside in ("/etc", str(root / ".." / "elsewhere"), str(root / "good" / ".." / "..")):
        status, body = admin_request(url, "POST", {"path": outside})
        assert status == 403 and "snapshot roots" in body["error"]
        assert outside not in body["error"]
    assert fake.loaded == []
    assert admin_request(url, "POST", {"path": str(root / "good")})[0] == 200
    assert fake.loaded == [str((root / "good").resolve())]


def test_beyond_loopback_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="token"):
        AdminServer(generic_routes(CountingFake()), host="0.0.0.0", policy=AdminPolicy())
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")


def test_a_token_is_required_when_configured() -> None:
    fake = CountingFake()
    server = AdminServer(
        generic_routes(fake), host="0.0.0.0", policy=AdminPolicy(token="s3cret")
    ).start()
    try:
        url = f"http://127.0.0.1:{server.port}/_simdb/reset"
        assert admin_request(url, "POST", {})[0] == 401
        assert admin_request(url, "POST", {}, token="wrong")[0] == 401
        assert admin_request(url, "POST", {}, token="s3cret")[0] == 200
        assert fake.resets == 1
    finally:
        server.stop()


def test_a_stalled_client_is_dropped_and_others_are_served() -> None:
    server = AdminServer(
        generic_routes(CountingFake()), policy=AdminPolicy(read_timeout=0.5, max_workers=2)
    ).start()
    try:
        stalled = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
        for sock in stalled:
            sock.sendall(b"GET /_simdb/health HTTP/1.1\r\n")  # never finishes its headers
        deadline = time.monotonic() + 10
        for sock in stalled:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            assert sock.recv(100) == b""  # closed by the server's read timeout
            sock.close()
        assert admin_request(f"http://127.0.0.1:{server.port}/_simdb/health")[0] == 200
    finally:
        server.stop()


def test_an_oversized_body_is_refused(served: tuple[CountingFake, AdminServer, Path]) -> None:
    _, server, _ = served
    headers = {**host(server.port), "Content-Type": "application/json", "Content-Length": str(1 << 30)}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.putrequest("POST", "/_simdb/reset", skip_host=True)
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def test_a_redis_fake_on_every_interface_keeps_its_admin_on_loopback() -> None:
    fake = RedisFake(RedisConfig(host="0.0.0.0", admin_port=0, password="pw"))
    fake.start()
    try:
        assert fake._admin is not None and fake._admin.host == "127.0.0.1"
        with redis.Redis(host="127.0.0.1", port=fake.endpoint.port, password="pw") as client:
            client.set("kept", "1")
            flush = f"http://127.0.0.1:{fake.endpoint.admin_port}/_simdb/flush"
            status, _ = raw_call(
                fake.endpoint.admin_port or 0,
                "POST",
                "/_simdb/flush",
                {"Host": f"127.0.0.1:{fake.endpoint.admin_port}", "Content-Type": "text/plain"},
                b"x",
            )
            assert status == 415
            assert client.get("kept") == b"1"
            assert admin_request(flush, "POST", {})[0] == 200
            assert client.get("kept") is None
    finally:
        fake.stop()


def test_cli_refuses_a_network_admin_without_token() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simdb", "redis", "serve", "--port", "0", "--admin-port", "0",
         "--admin-host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path.cwd())},
    )
    assert proc.returncode != 0
    assert "token" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
