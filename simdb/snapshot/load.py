"""``simdb snapshot load``: put a snapshot into running fakes or real servers.

Into fakes, through each fake's admin API (``POST /_simdb/snapshot`` with the
snapshot path; the fake loads its own part atomically and keeps its previous
state on any error), and back to it later with ``POST /_simdb/reset``. Admin
URLs come from ``NAME=URL`` pairs or from a stack's ``endpoints.json``.

Into real servers directly: ``redis://`` URLs through
:func:`simdb.snapshot.load_redis.load_redis` and SQLAlchemy URLs through
:func:`simdb.snapshot.load_sql.load_sql`.

Every part is checked (checksums) before any fake or server is touched.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simdb.admin_client import admin_headers
from simdb.errors import ConfigError, SimdbError
from simdb.snapshot.reader import open_snapshot


class AdminLoadError(SimdbError):
    """A fake's admin API refused the load or could not be reached."""


@dataclass(frozen=True)
class LoadResult:
    """What one fake or server answered."""

    part: str
    target: str
    detail: str


def parse_targets(items: Iterable[str], what: str) -> dict[str, str]:
    """``NAME=URL`` pairs -> {name: url}."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise ConfigError(f"{what} {item!r}: expected NAME=URL (the part / fake name, then its URL)")
        out[name] = url
    return out


def admins_from_endpoints(path: Path) -> dict[str, str]:
    """Admin URLs by fake name from a stack's ``endpoints.json``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read endpoints: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected an object of fake name -> endpoint")
    return {name: ep["admin"] for name, ep in data.items() if isinstance(ep, dict) and ep.get("admin")}


def _admin_base(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith("/_simdb"):
        url = url[: -len("/_simdb")]
    if "://" not in url:
        url = "http://" + url
    return url


def _post(url: str, body: Mapping[str, Any] | None, timeout: float) -> dict[str, Any]:
    data = json.dumps(body or {}).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers=admin_headers())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            out: dict[str, Any] = json.loads(resp.read() or b"{}")
            return out
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except (ValueError, AttributeError):
            message = exc.reason
        raise AdminLoadError(f"{url}: {exc.code} {message}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise AdminLoadError(f"{url}: cannot reach the admin API: {exc}") from exc


def load_into_fakes(
    snapshot_dir: Path, admins: Mapping[str, str], timeout: float = 300.0
) -> list[LoadResult]:
    """Ask each fake (name -> admin URL) to load the snapshot; fake names are part names."""
    snap = open_snapshot(Path(snapshot_dir))
    for name in admins:
        snap.verify_part(name)
    path = str(Path(snapshot_dir).resolve())
    results = []
    for name, url in admins.items():
        answer = _post(_admin_base(url) + "/_simdb/snapshot", {"path": path}, timeout)
        results.append(LoadResult(name, url, json.dumps(answer, sort_keys=True)))
    return results


def reset_fakes(admins: Mapping[str, str], timeout: float = 60.0) -> list[LoadResult]:
    """Return each fake to the snapshot it last loaded."""
    return [
        LoadResult(
            name, url, json.dumps(_post(_admin_base(url) + "/_simdb/reset", None, timeout), sort_keys=True)
        )
        for name, url in admins.items()
    ]


def load_into_servers(
    snapshot_dir: Path, redis: Mapping[str, str], sql: Mapping[str, str]
) -> list[LoadResult]:
    """Load Redis parts (part -> redis URL) and SQL parts (part -> SQLAlchemy URL) into real servers."""
    from simdb.snapshot.load_redis import load_redis
    from simdb.snapshot.load_sql import check_sql_part, load_sql

    snap = open_snapshot(Path(snapshot_dir))
    for name in redis:
        snap.part(name, "redis")
        snap.verify_part(name)
    for name in sql:
        snap.part(name, "sql")
        check_sql_part(Path(snapshot_dir), name)
    results = []
    for name, url in redis.items():
        n = load_redis(url, Path(snapshot_dir), name)
        results.append(LoadResult(name, url, f"{n} keys"))
    for name, url in sql.items():
        counts = load_sql(url, Path(snapshot_dir), name, validate=False)
        results.append(LoadResult(name, url, f"{sum(counts.values())} rows in {len(counts)} tables"))
    return results
