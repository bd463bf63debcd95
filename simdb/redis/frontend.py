"""Commands the front end answers itself, because they are about the server, not the data.

``AUTH`` (when a password is configured), ``HELLO``, ``QUIT``, ``INFO``, ``CONFIG GET/SET/RESETSTAT``,
``CLIENT SETNAME`` name checks and ``COMMAND DOCS``. Each handler returns the encoded reply,
or ``None`` to let fakeredis run the command.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from simdb.redis import limits
from simdb.redis import messages as msg
from simdb.redis.fakeredis_compat import compile_pattern
from simdb.redis.resp import OK, encode, error
from simdb.redis.servercmds import ENCODING_CONFIG

if TYPE_CHECKING:
    from simdb.redis.engine import RedisEngine, Session

Handler = Callable[["Session", list[bytes]], bytes | None]

BEFORE_AUTH = frozenset(["auth", "hello", "quit"])
"""What an unauthenticated connection may send when a password is configured."""


def default_config(engine: RedisEngine) -> dict[bytes, bytes]:
    """What ``CONFIG GET`` reports: a persistence-free, single-node Redis 7.0."""
    return {
        b"databases": b"16",
        b"port": str(engine.port).encode(),
        b"bind": b"127.0.0.1",
        b"protected-mode": b"no",
        b"tcp-keepalive": b"300",
        b"maxclients": b"10000",
        b"maxmemory": b"0",
        b"maxmemory-policy": b"noeviction",
        b"save": b"",
        b"appendonly": b"no",
        b"dbfilename": b"dump.rdb",
        b"dir": os.getcwd().encode(),
        b"requirepass": (engine.password or "").encode(),
        b"notify-keyspace-events": b"",
        **engine.limits.config(),
        b"hz": b"10",
        b"io-threads": b"1",
        b"slowlog-log-slower-than": b"10000",
        b"slowlog-max-len": b"128",
        b"lua-time-limit": b"5000",
        b"busy-reply-threshold": b"5000",
        b"cluster-enabled": b"no",
        b"latency-monitor-threshold": b"0",
        b"latency-tracking": b"no",
        b"latency-tracking-info-percentiles": b"50 99 99.9",
        **ENCODING_CONFIG,
        b"daemonize": b"no",
        b"loglevel": b"notice",
    }


def _auth(s: Session, argv: list[bytes]) -> bytes:
    if len(argv) not in (2, 3):
        return error(msg.WRONG_ARITY.format("auth"))
    password = s.engine.password
    if password is None:
        if len(argv) == 2:
            return error(msg.AUTH_NOT_CONFIGURED)
        if argv[1] == b"default":
            return OK
        return error(msg.WRONGPASS)
    if (len(argv) == 2 or argv[1] == b"default") and argv[-1] == password.encode():
        s.authed = True
        return OK
    return error(msg.WRONGPASS)


def _hello(s: Session, argv: list[bytes]) -> bytes:
    proto = s.sock._client_info.protocol_version
    if len(argv) >= 2:
        try:
            proto = int(argv[1])
        except ValueError:
            return error(msg.PROTOCOL_VERSION_NOT_INT)
        if proto not in (2, 3):
            return error(msg.NOPROTO)
    name: bytes | None = None
    authed = s.authed
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"auth" and i + 2 < len(argv):
            user, password = argv[i + 1], argv[i + 2]
            configured = (s.engine.password or "").encode()
            if user != b"default" or (s.engine.password is not None and password != configured):
                return error(msg.WRONGPASS)
            authed = True
            i += 3
        elif opt == b"setname" and i + 1 < len(argv):
            name = argv[i + 1]
            if not _valid_name(name):
                return error(msg.CLIENT_NAME_CHARS)
            i += 2
        else:
            return error(f"ERR Syntax error in HELLO option '{argv[i].decode('utf-8', 'replace')}'")
    if not authed:
        return error(msg.NOAUTH_HELLO)
    s.authed = True
    info = s.sock._client_info
    info["resp"] = proto
    if name is not None:
        info["name"] = name.decode("utf-8", "replace")
    from simdb.redis.engine import REDIS_VERSION

    reply = {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": proto,
        b"id": int(info.get("id", 0)),
        b"mode": b"standalone",
        b"role": b"master",
        b"modules": [],
    }
    return encode(reply, proto)


def _quit(s: Session, argv: list[bytes]) -> bytes:
    s.closing = True
    return OK


def _valid_name(name: bytes) -> bool:
    return all(33 <= c <= 126 for c in name)


def _client(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) == 3 and argv[1].lower() == b"setname" and not _valid_name(argv[2]):
        return error(msg.CLIENT_NAME_CHARS)
    return None


def _command(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) >= 2 and argv[1].lower() == b"docs":
        return encode({}, s.proto)  # no documentation: clients fall back to plain completion
    return None


def _debug(s: Session, argv: list[bytes]) -> bytes:
    return error(msg.DEBUG_NOT_ALLOWED)


def _config(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) < 2:
        return error(msg.WRONG_ARITY.format("config"))
    sub = argv[1].lower()
    config = s.engine.config
    if sub == b"get":
        if len(argv) < 3:
            return error(msg.WRONG_ARITY.format("config|get"))
        found: dict[bytes, bytes] = {}
        for pattern in argv[2:]:
            regex = compile_pattern(pattern.lower())
            for key, value in config.items():
                if regex.match(key):
                    found[key] = value
        return encode(found, s.proto)
    if sub == b"set":
        if len(argv) < 4 or len(argv) % 2:
            return error(msg.WRONG_ARITY.format("config|set"))
        pairs = [(argv[i].lower(), argv[i + 1]) for i in range(2, len(argv), 2)]
        for key, _ in pairs:
            if key not in config:
                return error(
                    f"ERR Unknown option or number of arguments for CONFIG SET - "
                    f"'{key.decode('utf-8', 'replace')}'"
                )
        problem = limits.config_set(s.engine.limits, pairs) or _unsupported(pairs)
        if problem is not None:
            return error(problem)
        for key, value in pairs:
            if key in limits.SETTINGS:
                config.update(s.engine.limits.config())
                continue
            config[key] = value
            if key in (b"lua-time-limit", b"busy-reply-threshold"):  # one setting, two names
                config[b"lua-time-limit"] = config[b"busy-reply-threshold"] = value
            s.engine.server.config[key] = value  # fakeredis reads notify-keyspace-events here
            if key == b"slowlog-log-slower-than":
                s.engine.slowlog.reload()
            if key in ENCODING_CONFIG:
                s.engine.objects.reload()
            if key == b"requirepass":
                s.engine.password = value.decode() or None
        return OK
    if sub == b"resetstat":
        s.engine.commands_processed = 0
        return OK
    if sub == b"rewrite":
        return error("ERR The server is running without a config file")
    return error(msg.UNKNOWN_SUBCOMMAND.format(argv[1].decode("utf-8", "replace"), "CONFIG"))


def _unsupported(pairs: list[tuple[bytes, bytes]]) -> str | None:
    """Settings the fake cannot honour: refused, rather than accepted and ignored."""
    for key, value in pairs:
        if key == b"latency-monitor-threshold" and value.strip() != b"0":
            return "ERR simdb: the fake does not monitor latency events; latency-monitor-threshold stays 0"
        if key == b"latency-tracking" and value.lower() != b"no":
            return "ERR simdb: the fake keeps no per-command latency histograms; latency-tracking stays no"
    return None


def _info(s: Session, argv: list[bytes]) -> bytes:
    from simdb.redis.engine import REDIS_VERSION

    engine = s.engine
    uptime = int(time.time() - engine.started_at)
    keyspace = []
    for index, db in sorted(engine.dbs.items()):
        keys = len(db)
        if keys:
            expires = sum(1 for k in db if db._dict[k].expireat is not None)
            keyspace.append(f"db{index}:keys={keys},expires={expires},avg_ttl=0")
    sections = {
        "server": [
            f"redis_version:{REDIS_VERSION}",
            "redis_mode:standalone",
            "simdb_engine:fakeredis",
            f"os:{platform.system()} {platform.release()} {platform.machine()}",
            "arch_bits:64",
            f"process_id:{os.getpid()}",
            f"tcp_port:{engine.port}",
            f"uptime_in_seconds:{uptime}",
            f"uptime_in_days:{uptime // 86400}",
            "hz:10",
        ],
        "clients": [
            f"connected_clients:{len(engine.sessions)}",
            f"blocked_clients:{engine.blocked}",
            "maxclients:10000",
        ],
        "memory": ["used_memory:0", "used_memory_human:0B", "maxmemory:0", "maxmemory_policy:noeviction"],
        "persistence": [
            "loading:0",
            "rdb_changes_since_last_save:0",
            "rdb_bgsave_in_progress:0",
            "aof_enabled:0",
        ],
        "stats": [
            f"total_connections_received:{engine.connections_received}",
            f"total_commands_processed:{engine.commands_processed}",
            f"evicted_clients:{engine.evicted_clients}",
            "expired_keys:0",
            "evicted_keys:0",
        ],
        "replication": ["role:master", "connected_slaves:0"],
        "cpu": [f"used_cpu_sys:{time.process_time():.6f}", f"used_cpu_user:{time.process_time():.6f}"],
        "keyspace": keyspace,
    }
    wanted = {a.decode("utf-8", "replace").lower() for a in argv[1:]}
    if not wanted or wanted & {"all", "everything", "default"}:
        names = list(sections)
    else:
        names = [n for n in sections if n in wanted]
    blocks = [f"# {n.capitalize()}\r\n" + "".join(f"{line}\r\n" for line in sections[n]) for n in names]
    text = "\r\n".join(blocks)
    return encode(text.encode(), s.proto)


COMMANDS: dict[str, Handler] = {
    "auth": _auth,
    "hello": _hello,
    "quit": _quit,
    "info": _info,
    "config": _config,
    "client": _client,
    "command": _command,
    "debug": _debug,
}
