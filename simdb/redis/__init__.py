"""The Redis fake: fakeredis as the command engine behind simdb's own RESP server.

Modules, one job each:

- :mod:`~simdb.redis.records`  one snapshot record (a key with its type, value and TTL)
- :mod:`~simdb.redis.messages` every error text, word for word as Redis 7.0 says it
- :mod:`~simdb.redis.resp`     RESP2/RESP3 reply encoding, inline commands, request checks
- :mod:`~simdb.redis.engine`   fakeredis sessions: what runs a command, and in which order
- :mod:`~simdb.redis.frontend` commands about the server (AUTH, HELLO, QUIT, INFO, CONFIG, ...)
- :mod:`~simdb.redis.fastpath` direct paths for the hot commands on fakeredis's data structures
- :mod:`~simdb.redis.server`   the asyncio RESP server (hiredis parses requests)
- :mod:`~simdb.redis.real`     a real ``redis-server`` child process
- :mod:`~simdb.redis.seed`     reading a snapshot part; loading it into the fake engine
- :mod:`~simdb.redis.seed_real` loading a snapshot part into a real server
- :mod:`~simdb.redis.fake`     :class:`RedisFake`, the :class:`simdb.fake.Fake` implementation
"""

from __future__ import annotations

from typing import Any

__all__ = ["RedisConfig", "RedisFake", "RedisRecord"]


def __getattr__(name: str) -> Any:
    """Import lazily: the snapshot tools need records without the server machinery."""
    if name in ("RedisConfig", "RedisFake"):
        from simdb.redis import fake

        return getattr(fake, name)
    if name == "RedisRecord":
        from simdb.redis.records import RedisRecord

        return RedisRecord
    raise AttributeError(name)
