"""Load a snapshot's Redis part into a running Redis server (a real ``redis-server``) over the wire.

The work is done by :func:`simdb.redis.seed_real.load_real` (the loader the Redis fake uses with
``engine=real``): records stream into empty scratch databases while the part is read and checked, and
only once all of it is accepted do they replace the part's databases in one ``MULTI``/``SWAPDB``/
``EXEC``; the server's other databases are left alone. TTLs are applied relative to load time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import redis

from simdb.redis.seed_real import RedisLoadError, load_real

__all__ = ["Progress", "RedisLoadError", "load_redis"]

Progress = Callable[[int], None]


def load_redis(url: str, snapshot_dir: Path, part: str, progress: Progress | None = None) -> int:
    """Replace the databases of ``part`` on the server at ``url`` with the snapshot's keys.

    ``url`` is ``redis://[[user]:password@]host[:port]``. Returns the number of keys loaded. A
    snapshot error (:class:`~simdb.errors.SnapshotError`) is raised before the visible data changes;
    a server refusal raises :class:`RedisLoadError`. ``progress`` gets the number of commands of
    each chunk as it is sent.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", ""):
        raise RedisLoadError(f"only redis:// URLs can be loaded into, got {url!r}")
    password = unquote(parts.password) if parts.password else None
    username = unquote(parts.username) if parts.username else None
    try:
        spool = load_real(
            Path(snapshot_dir),
            part,
            parts.hostname or "127.0.0.1",
            parts.port or 6379,
            password,
            flush_others=False,
            username=username,
            progress=progress,
        )
    except (redis.RedisError, OSError) as exc:
        raise RedisLoadError(f"loading part {part!r} into {parts.hostname}:{parts.port}: {exc}") from exc
    spool.close()
    return spool.keys
