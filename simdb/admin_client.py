"""Calling a running admin API the way its policy requires (JSON bodies, the bearer token)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from simdb.admin_security import TOKEN_ENV


def admin_headers(token: str | None = None) -> dict[str, str]:
    """Headers for an admin request: JSON content, and ``token`` (else ``SIMDB_ADMIN_TOKEN``) if any."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    chosen = token or os.environ.get(TOKEN_ENV)
    if chosen:
        headers["Authorization"] = f"Bearer {chosen}"
    return headers


def admin_request(
    url: str, method: str = "GET", body: Any = None, timeout: float = 30.0, token: str | None = None
) -> tuple[int, Any]:
    """Send one admin request; return the status and the decoded JSON answer (errors included).

    Raises :class:`OSError` (``urllib.error.URLError``) when the admin API cannot be reached.
    """
    data = json.dumps(body).encode() if body is not None else (b"" if method != "GET" else None)
    req = urllib.request.Request(url, data=data, method=method, headers=admin_headers(token))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = int(resp.status)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")
