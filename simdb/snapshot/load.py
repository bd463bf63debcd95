"""``simdb snapshot load``: put a snapshot into running fakes or real servers.

Into fakes, through each fake's admin API (``POST /_simdb/snapshot`` with the
snapshot path; the fake loads its own part atomically and keeps its previous
state on any error), and back to it later with ``POST /_simdb/reset``. Admin
URLs come from ``NAME=URL`` pairs or from a stack's ``endpoints.json``.

Into real servers directly: ``redis://`` URLs through
:func:`simdb.snapshot.load_redis.load_redis` and SQLAlchemy URLs through
:func:`simdb.snapshot.load_sql.load_sql`.

Every part is checked (checksums, and the records of the servers' parts) before any fake or server
is touched, and a load into several fakes is all or nothing: each fake first prepares its part
(``{"phase": "prepare"}``, :mod:`simdb.staging`), then all commit; if one fails the
committed ones are rolled back, and the error says exactly what happened (:func:`load_all`).
"""

from __future__ import annotations

import difflib
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simdb.admin_client import admin_headers
from simdb.errors import ConfigError, SimdbError
from simdb.snapshot.reader import Snapshot, open_snapshot

log = logging.getLogger("simdb.snapshot")


class AdminLoadError(SimdbError):
    """A fake's admin API refused the load or could not be reached."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message
        """What the fake said (without the URL), e.g. ``<file>:<line>: not valid JSON``."""


class LoadFailed(SimdbError):
    """A load across several fakes and servers failed; the message says what was changed and put back."""


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
        raise AdminLoadError(f"{url}: {exc.code} {message}", f"{message} ({exc.code})") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = f"cannot reach its admin API at {url}: {getattr(exc, 'reason', exc)}"
        raise AdminLoadError(f"{url}: cannot reach the admin API: {exc}", reason) from exc


def _parts_of(snap: Snapshot, name: str) -> list[str]:
    """The parts a fake called ``name`` loads: ``name``, or ``name/<Service>`` of a multiplexed one."""
    return [p for p in snap.manifest.parts if p == name or p.startswith(name + "/")]


def check_names(snap: Snapshot, names: Iterable[str], what: str) -> None:
    """Refuse a fake or part name the snapshot has no part for, naming the closest one."""
    parts = sorted(snap.manifest.parts)
    for name in names:
        if not _parts_of(snap, name):
            close = difflib.get_close_matches(name, parts, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{what} {name}=...: snapshot {snap.root} has no part {name!r} "
                f"(its parts: {', '.join(parts) or 'none'}){hint}"
            )


def load_into_fakes(
    snapshot_dir: Path, admins: Mapping[str, str], timeout: float = 300.0
) -> list[LoadResult]:
    """Load the snapshot into several fakes (name -> admin URL), all or nothing; fake names are part names."""
    return load_all(snapshot_dir, admins, {}, {}, timeout)


def _step(url: str, phase: str, staged: str, timeout: float) -> None:
    _post(_admin_base(url) + "/_simdb/snapshot", {"phase": phase, "staged": staged}, timeout)


def _check_redis_records(snapshot_dir: Path, part: str) -> None:
    from simdb.redis.seed import iter_batches, part_files

    for _db, path in part_files(snapshot_dir, part):
        for _batch in iter_batches(path):
            pass


def load_all(
    snapshot_dir: Path,
    admins: Mapping[str, str],
    redis: Mapping[str, str],
    sql: Mapping[str, str],
    timeout: float = 300.0,
) -> list[LoadResult]:
    """Load a snapshot into fakes (by admin URL) and real servers, all or nothing for the fakes.

    1. every part is checked: checksums, and every record of the real servers' parts;
    2. every fake *prepares* its part (reads and checks it into staged state, nothing visible);
    3. every fake *commits* (swaps the staged state in); if one fails, the committed ones are rolled
       back to the snapshot they had before;
    4. the real servers are loaded (each part atomically); if one fails, the fakes are rolled back.

    Any failure raises :class:`LoadFailed` saying which part failed, why (file:line where the
    snapshot is at fault) and exactly what was changed and what was put back.
    """
    from simdb.snapshot.load_sql import check_sql_part

    snapshot_dir = Path(snapshot_dir)
    try:
        snap = open_snapshot(snapshot_dir)
        check_names(snap, admins, "--admin")
        for name in admins:
            for part in _parts_of(snap, name):
                snap.verify_part(part)
        for name in redis:
            snap.part(name, "redis")
            snap.verify_part(name)
            _check_redis_records(snapshot_dir, name)
        for name in sql:
            snap.part(name, "sql")
            snap.verify_part(name)
            check_sql_part(snapshot_dir, name)
    except SimdbError as exc:
        raise LoadFailed(
            f"snapshot not loaded: {exc}\nnothing changed: no fake or server was touched"
        ) from exc
    path = str(snapshot_dir.resolve())
    prepared: dict[str, tuple[str, str]] = {}  # name -> (staged id, detail)
    for name, url in admins.items():
        try:
            answer = _post(_admin_base(url) + "/_simdb/snapshot", {"phase": "prepare", "path": path}, timeout)
        except AdminLoadError as exc:
            _abort(prepared, admins, timeout)
            discarded = f" (prepared and discarded: {', '.join(prepared)})" if prepared else ""
            raise LoadFailed(
                f"snapshot not loaded: part {name!r} was refused by fake {name!r}: {exc.reason}\n"
                f"nothing changed: every fake keeps its previous data{discarded}"
            ) from exc
        prepared[name] = (str(answer.get("staged")), str(answer.get("detail", "")))
    committed: list[str] = []
    for name, (staged, _detail) in prepared.items():
        try:
            _step(admins[name], "commit", staged, timeout)
        except AdminLoadError as exc:
            rest = {n: v for n, v in prepared.items() if n not in committed and n != name}
            _abort(rest, admins, timeout)
            raise LoadFailed(
                f"snapshot not loaded: fake {name!r} failed to swap in part {name!r}: {exc.reason}\n"
                + _rolled_back(committed, prepared, admins, timeout)
            ) from exc
        committed.append(name)
    results = [LoadResult(name, admins[name], detail) for name, (_s, detail) in prepared.items()]
    servers = [(name, url, "redis") for name, url in redis.items()]
    servers += [(name, url, "sql") for name, url in sql.items()]
    done: list[str] = []
    for name, url, kind in servers:
        try:
            results.append(_load_server(snapshot_dir, name, url, kind))
        except SimdbError as exc:
            changed = (
                f"; servers already loaded (not undone): {', '.join(done)}"
                if done
                else "; no server was changed"
            )
            raise LoadFailed(
                f"snapshot not loaded: part {name!r} into {kind} server {_redact(url)}: {exc}\n"
                + _rolled_back(committed, prepared, admins, timeout)
                + changed
            ) from exc
        done.append(name)
    for name in committed:
        try:
            _step(admins[name], "release", prepared[name][0], timeout)
        except AdminLoadError as exc:  # the load is done; only the undo data lingers
            log.warning("fake %s: could not release the staged load: %s", name, exc)
    return results


def _abort(prepared: Mapping[str, tuple[str, str]], admins: Mapping[str, str], timeout: float) -> None:
    for name, (staged, _detail) in prepared.items():
        try:
            _step(admins[name], "abort", staged, timeout)
        except AdminLoadError as exc:  # it is dropped at the fake's next prepare anyway
            log.warning("fake %s: could not drop the staged load: %s", name, exc)


def _rolled_back(
    committed: list[str], prepared: Mapping[str, tuple[str, str]], admins: Mapping[str, str], timeout: float
) -> str:
    """Roll the committed fakes back (newest first); say what happened."""
    back: list[str] = []
    failed: list[str] = []
    for name in reversed(committed):
        try:
            _step(admins[name], "rollback", prepared[name][0], timeout)
            back.append(name)
        except AdminLoadError as exc:
            failed.append(f"{name} ({exc.reason})")
    if failed:
        return (
            f"PARTLY CHANGED: rollback FAILED for {', '.join(failed)}: those fakes hold the new snapshot"
            + (f"; rolled back: {', '.join(back)}" if back else "")
        )
    if back:
        return f"nothing changed: rolled back {', '.join(back)} to the snapshot each had before"
    return "nothing changed: no fake was switched"


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        return url.replace(":" + parts.password + "@", ":***@", 1)
    return url


def _load_server(snapshot_dir: Path, name: str, url: str, kind: str) -> LoadResult:
    if kind == "redis":
        from simdb.snapshot.load_redis import load_redis

        return LoadResult(name, url, f"{load_redis(url, snapshot_dir, name)} keys")
    from simdb.snapshot.load_sql import load_sql

    counts = load_sql(url, snapshot_dir, name, validate=False)
    return LoadResult(name, url, f"{sum(counts.values())} rows in {len(counts)} tables")


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
    return load_all(snapshot_dir, {}, redis, sql)
