"""Helpers for the fault tests of every kind: the admin API over HTTP, raw RESP, percentiles."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any


def admin(port: int | None, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One admin API call: ``(status, decoded JSON)``."""
    assert port is not None
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_simdb{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def resp_command(*args: bytes | str) -> bytes:
    """One RESP request."""
    parts = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def raw_replies(port: int, commands: list[tuple[bytes | str, ...]], host: str = "127.0.0.1") -> list[bytes]:
    """Send ``commands`` one by one on one connection; each reply's first line, as sent."""
    out = []
    with socket.create_connection((host, port), timeout=5) as sock:
        f = sock.makefile("rb")
        for cmd in commands:
            sock.sendall(resp_command(*cmd))
            out.append(f.readline())
    return out


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
