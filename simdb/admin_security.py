"""Who may drive the admin API: loopback by default, a token beyond it, never a web page.

The admin API can reset fakes, replace stubs and load snapshots, so a request must pass every check
in :meth:`AdminPolicy.refusal` before a route sees it:

- the ``Host`` header names this machine's loopback or the configured host (defeats DNS rebinding);
- a state-changing request (``POST``/``PUT``/``DELETE``) carries ``Content-Type: application/json``
  (a cross-site form or ``fetch`` without a CORS preflight cannot) and no foreign ``Origin``;
- when a token is configured, ``Authorization: Bearer <token>``; a token is mandatory whenever the
  API listens beyond loopback;
- ``POST /snapshot`` loads only from directories under the configured snapshot roots.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from simdb.errors import ConfigError

TOKEN_ENV = "SIMDB_ADMIN_TOKEN"
"""Environment variable read for the admin token when none is given explicitly."""
ROOTS_ENV = "SIMDB_SNAPSHOT_ROOTS"
"""Environment variable with extra snapshot roots, separated by ``os.pathsep``."""

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) only reaches this machine."""
    name = host.strip("[]").lower()
    if name in ("localhost", ""):
        return name == "localhost"
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    """The name part of a ``Host`` header value (``[::1]:8080`` -> ``::1``)."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


@dataclass(frozen=True)
class AdminPolicy:
    """The admin API's access rules, read once (see the module docstring)."""

    token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    """Host names accepted besides loopback and the bind host."""
    snapshot_roots: tuple[Path, ...] = ()
    """Directories ``POST /snapshot`` may load from; empty: the working directory at start."""
    read_timeout: float = 10.0
    """Seconds a client may take to send its request."""
    max_workers: int = 8
    """Requests served at once; more wait for a worker."""
    max_body: int = 16 * 1024 * 1024

    @classmethod
    def from_env(
        cls,
        token: str | None = None,
        snapshot_roots: tuple[Path, ...] = (),
        environ: Mapping[str, str] | None = None,
    ) -> AdminPolicy:
        """A policy with ``token``, else the one in ``SIMDB_ADMIN_TOKEN`` (empty means none).

        The snapshot roots are ``snapshot_roots`` plus those in ``SIMDB_SNAPSHOT_ROOTS``.
        """
        env = os.environ if environ is None else environ
        chosen = token if token else (env.get(TOKEN_ENV) or None)
        extra = tuple(Path(p) for p in env.get(ROOTS_ENV, "").split(os.pathsep) if p)
        return cls(token=chosen, snapshot_roots=snapshot_roots + extra)

    def check_bind(self, host: str) -> None:
        """Refuse to listen beyond loopback without a token."""
        if not is_loopback(host) and not self.token:
            raise ConfigError(
                f"admin API on {host} would be reachable from the network: give it a token "
                f"(--admin-token or {TOKEN_ENV}), or bind it to 127.0.0.1"
            )

    def roots(self) -> tuple[Path, ...]:
        """The snapshot roots, resolved (the working directory when none is configured)."""
        chosen = self.snapshot_roots or (Path.cwd(),)
        return tuple(p.resolve() for p in chosen)

    def refusal(
        self, method: str, headers: Mapping[str, str], bind_host: str, port: int
    ) -> tuple[int, str] | None:
        """``(status, reason)`` when the request must be refused, else ``None``.

        ``headers`` maps lower-cased header names to values.
        """
        host_header = headers.get("host")
        if host_header is None:
            return 400, "the admin API needs a Host header"
        allowed = LOOPBACK_NAMES | {bind_host.lower(), *(h.lower() for h in self.allowed_hosts)}
        wildcard = bind_host in ("0.0.0.0", "::", "") and not self.allowed_hosts
        if not wildcard and _host_name(host_header) not in allowed:
            return 403, f"Host {host_header!r} is not this admin API (loopback or the configured host only)"
        if self.token is not None:
            given = headers.get("authorization", "")
            scheme, _, secret = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(secret.strip(), self.token):
                return 401, "the admin API needs 'Authorization: Bearer <token>'"
        if method in STATE_CHANGING:
            origin = headers.get("origin")
            if origin is not None and origin != "null":
                parts = urlsplit(origin)
                same_host = wildcard or (parts.hostname or "").lower() in allowed
                if not same_host or (parts.port or 80) != port:
                    return 403, f"requests from the web origin {origin!r} are refused"
            elif origin == "null":
                return 403, "requests from an opaque web origin are refused"
            ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if ctype != "application/json":
                return 415, f"{method} requests must be sent as Content-Type: application/json"
        return None

    def snapshot_dir(self, raw: str) -> Path:
        """``raw`` as a directory under a snapshot root, or :class:`AdminRefused` (403)."""
        path = Path(raw)
        if not path.is_absolute():
            path = Path.cwd() / path
        resolved = path.resolve()
        for root in self.roots():
            if resolved == root or resolved.is_relative_to(root):
                return resolved
        raise AdminRefused(
            "snapshot path is outside the admin API's snapshot roots "
            "(start the fake with --snapshot-root DIR to allow another directory)"
        )


class AdminRefused(Exception):
    """A request the policy refuses, with the HTTP status to answer."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status
