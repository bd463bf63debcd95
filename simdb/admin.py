"""The admin HTTP API: one reserved namespace, ``/_simdb/``, served on loopback.

Every fake gets the generic endpoints for free (``GET /_simdb/health``,
``POST /_simdb/reset``, ``POST /_simdb/snapshot`` with ``{"path": DIR}``, or one
phase of a two-phase load: :mod:`simdb.staging`);
a fake kind adds its own (stubs, faults, journal, metrics) by passing
extra :class:`Route` objects.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simdb.admin_security import AdminPolicy, AdminRefused
from simdb.errors import ConfigError, SimdbError
from simdb.fake import Fake

PREFIX = "/_simdb"
log = logging.getLogger("simdb.admin")


@dataclass(frozen=True)
class Request:
    """What a route handler sees of an admin request."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    policy: AdminPolicy = field(default_factory=AdminPolicy)
    """The serving admin API's access rules (routes that touch files ask it)."""


@dataclass(frozen=True)
class Response:
    """A route handler's answer: JSON by default, or text with a content type."""

    status: int = 200
    body: Any = None
    content_type: str = "application/json"


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """``method`` and ``path`` (below ``/_simdb``, e.g. ``/stubs``); a trailing ``*`` matches a prefix."""

    method: str
    path: str
    handler: Handler

    def matches(self, method: str, path: str) -> bool:
        """Whether this route serves ``method path``."""
        if method != self.method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class AdminBindError(ConfigError):
    """The admin API's address is taken or not this machine's."""


class AdminError(SimdbError):
    """Raised by a handler to answer with a 4xx status and a message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def generic_routes(fake: Fake) -> list[Route]:
    """Health, reset and snapshot load: what every fake answers."""

    def health(_: Request) -> Response:
        h = fake.health()
        return Response(
            200 if h.ok else 503,
            {"ok": h.ok, "name": fake.name, "kind": fake.kind, "detail": h.detail, "stats": h.stats},
        )

    def reset(_: Request) -> Response:
        fake.reset()
        return Response(200, {"ok": True, "reset": fake.name})

    from simdb.staging import snapshot_route  # one-shot and two-phase loads

    return [
        Route("GET", "/health", health),
        Route("POST", "/reset", reset),
        snapshot_route(fake),
    ]


class _PooledHTTPServer(HTTPServer):
    """An HTTP server that hands each connection to a bounded pool of worker threads."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simdb-admin")
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self._work, request, client_address)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class AdminServer:
    """A small HTTP server for the ``/_simdb/`` namespace, guarded by an :class:`AdminPolicy`.

    It refuses to listen beyond loopback without a token; see :mod:`simdb.admin_security`.
    """

    def __init__(
        self,
        routes: Iterable[Route],
        host: str = "127.0.0.1",
        port: int = 0,
        policy: AdminPolicy | None = None,
    ) -> None:
        self.routes = list(routes)
        self.policy = policy if policy is not None else AdminPolicy.from_env()
        self.policy.check_bind(host)
        try:
            self._httpd = _PooledHTTPServer((host, port), self._handler_class(), self.policy.max_workers)
        except OSError as exc:
            raise AdminBindError(f"admin API cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        """The bound host."""
        return str(self._httpd.server_address[0])

    def start(self) -> AdminServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="simdb-admin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def dispatch(self, request: Request) -> Response:
        """Find the route for a request and run it, turning errors into JSON answers."""
        if not request.path.startswith(PREFIX + "/") and request.path != PREFIX:
            return Response(404, {"error": f"not found: admin API lives under {PREFIX}/"})
        sub = request.path[len(PREFIX) :] or "/"
        candidates = [r for r in self.routes if r.matches(request.method, sub)]
        if not candidates:
            allowed = sorted({r.method for r in self.routes if r.matches(r.method, sub)})
            if allowed:
                message = f"{request.method} not allowed on {request.path}; use {allowed}"
                return Response(405, {"error": message})
            return Response(404, {"error": f"no admin endpoint {request.path}"})
        route = candidates[0]
        try:
            return route.handler(Request(request.method, sub, request.query, request.body, self.policy))
        except (AdminError, AdminRefused) as exc:
            log.warning("admin %s %s: %s", request.method, request.path, exc)
            return Response(exc.status, {"error": str(exc)})
        except SimdbError as exc:
            log.warning("admin %s %s: %s", request.method, request.path, exc)
            return Response(400, {"error": str(exc)})
        except Exception as exc:
            log.exception("admin %s %s failed", request.method, request.path)
            return Response(500, {"error": f"{type(exc).__name__}: {exc}"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = server.policy.read_timeout

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("admin: " + format, *args)

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                refused = server.policy.refusal(method, headers, server.host, server.port)
                if refused is not None:
                    log.warning("admin %s %s refused: %s", method, parts.path, refused[1])
                    self.close_connection = True
                    self._send(Response(refused[0], {"error": refused[1]}))
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if not 0 <= length <= server.policy.max_body:
                    self.close_connection = True
                    limit = server.policy.max_body
                    self._send(Response(413, {"error": f"Content-Length must be 0..{limit} bytes"}))
                    return
                raw = self.rfile.read(length) if length else b""
                body: Any = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except json.JSONDecodeError as exc:
                        self._send(Response(400, {"error": f"request body is not JSON: {exc.msg}"}))
                        return
                req = Request(method, parts.path.rstrip("/") or "/", parse_qs(parts.query), body)
                self._send(server.dispatch(req))

            def _send(self, resp: Response) -> None:
                if resp.content_type == "application/json":
                    data = (json.dumps(resp.body, sort_keys=True, indent=1) + "\n").encode()
                else:
                    data = resp.body if isinstance(resp.body, bytes) else str(resp.body).encode()
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return _Handler
