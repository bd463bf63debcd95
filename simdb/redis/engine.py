"""The command engine: fakeredis's data and commands, driven per connection by simdb.

A :class:`RedisEngine` owns one fakeredis ``FakeServer`` (Redis 7.0 semantics). Each client
connection gets a :class:`Session`, which wraps a fakeredis socket object for its
per-connection state (selected database, ``MULTI`` queue, subscriptions, client info) and
runs commands without fakeredis's wire layer:

1. commands the front end owns (``AUTH``, ``HELLO``, ``QUIT``, ``INFO``, ``CONFIG``, ...),
   see :mod:`simdb.redis.frontend`;
2. the fast paths of :mod:`simdb.redis.fastpath` for the hot commands in their plain forms;
3. everything else through fakeredis's own signature checks and command methods.

The caller holds :attr:`RedisEngine.lock` while calling :meth:`Session.execute`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from simdb.redis import fastpath, frontend
from simdb.redis import messages as msg
from simdb.redis.fakeredis_compat import (
    COMMANDS_WITH_SUB,
    SUPPORTED_COMMANDS,
    FakeServer,
    FakeSocket,
    NoResponse,
    Signature,
    SimpleError,
    is_write_command,
)
from simdb.redis.fakeredis_compat import OK as OK_REPLY
from simdb.redis.fakeredis_compat import msgs as fr_msgs
from simdb.redis.geo import GeoMixin
from simdb.redis.limits import Limits
from simdb.redis.resp import NULL_ARRAY2, QUEUED, encode, encode_push, error
from simdb.redis.scripting import LuaScripts, ScriptingMixin
from simdb.redis.servercmds import (
    NOTOUCH,
    RAW_MAKERS,
    CommandArgs,
    ObjectTracker,
    ServerCommandsMixin,
    SlowLog,
    key_positions,
)

log = logging.getLogger("simdb.redis")

REDIS_VERSION = "7.0.15"
"""The Redis version the fake answers as (the Debian bookworm ``redis-server`` it is tested against)."""

ENGINE_VERSION = (7, 0)

# Replies whose RESP2 null is a null array, not a null bulk string.
_NULL_ARRAY_COMMANDS = frozenset(
    ["exec", "blpop", "brpop", "bzpopmin", "bzpopmax", "blmpop", "bzmpop", "xread", "xreadgroup"]
)
BLOCKING_COMMANDS = frozenset(
    [
        b"wait",
        b"blpop",
        b"brpop",
        b"brpoplpush",
        b"blmove",
        b"blmpop",
        b"bzpopmin",
        b"bzpopmax",
        b"bzmpop",
        b"xread",
        b"xreadgroup",
    ]
)
"""Commands that may wait: the server runs them on a worker thread (see ``server.py``)."""

_PUBSUB_ALLOWED = frozenset(
    [
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "ssubscribe",
        "sunsubscribe",
        "ping",
        "quit",
        "reset",
    ]
)


class _Socket(GeoMixin, ServerCommandsMixin, ScriptingMixin, FakeSocket):
    """A fakeredis socket whose pushed messages (pub/sub) go straight to the connection.

    Scripts run on simdb's :mod:`~simdb.redis.scripting`, not on fakeredis's unsandboxed Lua.
    """

    push: Callable[[bytes], None] | None = None
    in_exec = False
    current_argv: tuple[bytes, ...] | list[bytes] = ()  # the request being run, as the client spelled it

    def _run_command(self, func: Any, sig: Signature, args: list[Any], from_script: bool) -> Any:
        # Runs for direct, EXEC-queued and script-called commands alike.
        name = sig.name
        if name == "zadd":
            problem = fastpath.zadd_precheck([b"zadd", *args])
            if problem is not None:
                return SimpleError(problem)
        db = self._db_num
        keys = [args[i] for i in key_positions(sig, len(args))]
        existed = name == "append" and bool(keys) and keys[0] in self._db._dict
        timed = (from_script or self.in_exec) and name != "exec"
        started = time.perf_counter_ns() if timed else 0
        try:
            return super()._run_command(func, sig, args, from_script)
        finally:
            engine = self.engine
            if timed:
                micros = (time.perf_counter_ns() - started) // 1000
                if 0 <= engine.slowlog.threshold <= micros:
                    argv = getattr(args, "argv", None) or [w.encode() for w in name.split(" ")] + [
                        a for a in args if isinstance(a, bytes)
                    ]
                    who = ("?:0", "") if from_script else (self._client_info.get("addr", ""), "")
                    engine.slowlog.add(argv, micros, who[0], self._client_info.get("name", "") or who[1])
            if keys:
                self._track(engine, db, name, keys, existed)

    def _track(self, engine: RedisEngine, db: int, name: str, keys: list[bytes], existed: bool) -> None:
        objects = engine.objects
        live = self._db._dict
        touch = name.split(" ")[0] not in NOTOUCH
        write = _is_write(name)
        for key in keys:
            if touch:
                objects.touch(db, key)
            if write:
                item = live.get(key)
                objects.wrote(db, key, None if item is None else item.value, None)
        if name in RAW_MAKERS and (name != "append" or existed):
            item = live.get(keys[0])
            if item is not None:
                objects.made_raw(db, keys[0], item.value)

    def psetex(self, key: Any, ms: int, value: bytes) -> Any:
        """fakeredis 2.40.0 truncates PSETEX's expiry to whole seconds; Redis keeps milliseconds."""
        if ms <= 0 or self._db.time * 1000 + ms >= 2**63:
            raise SimpleError(fr_msgs.INVALID_EXPIRE_MSG.format("psetex"))
        key.value = value
        key.expireat = self._db.time + ms / 1000.0
        return OK_REPLY

    def _ttl(self, key: Any, scale: float) -> int:
        """Redis counts the time left in whole milliseconds and rounds TTL to the nearest second
        (``(ms + 500) / 1000``); fakeredis 2.40.0 rounds the float, so 1,500 ms left gave 1, not 2."""
        if not key:
            return -2
        if key.expireat is None:
            return -1
        left_ms = round((key.expireat - self._db.time) * 1000.0)
        return int(left_ms) if scale == 1000.0 else int((left_ms + 500) // 1000)

    def _expireat(self, key: Any, timestamp: float, *args: bytes) -> int:
        """Redis deletes a key at once when its new expiry is not in the future; fakeredis 2.40.0 keeps
        it until its clock moves, which inside MULTI/EXEC (one frozen clock) it never does."""
        result = int(super()._expireat(key, timestamp, *args))
        if result == 1 and key.expireat is not None and key.expireat <= self._db.time:
            key.value = None
        return result

    def put_response(self, msg: Any) -> None:
        push = self.push
        if push is not None:
            push(encode_push(msg, self._client_info.protocol_version))


class RedisEngine:
    """One fake Redis server's data and settings, shared by all its connections."""

    def __init__(self, password: str | None = None, port: int = 0, limits: Limits | None = None) -> None:
        self.server = FakeServer(version=ENGINE_VERSION)
        self.limits = limits or Limits()
        self.lock: threading.Lock = self.server.lock
        self.password = password
        self.port = port
        self.started_at = time.time()
        self.blocked = 0
        self.connections_received = 0
        self.commands_processed = 0
        self.evicted_clients = 0
        self.head_pending: tuple[list[bytes], list[bytes]] | None = None
        self.sessions: set[Session] = set()
        self.config = frontend.default_config(self)
        self.lua = LuaScripts(self._script_time_limit)
        self.objects = ObjectTracker(self)
        self.slowlog = SlowLog(self)

    def _script_time_limit(self) -> int:
        """Milliseconds a script may run (``busy-reply-threshold``, alias ``lua-time-limit``)."""
        try:
            return max(1, int(self.config.get(b"busy-reply-threshold", b"5000")))
        except ValueError:
            return 5000

    @property
    def dbs(self) -> Any:
        """fakeredis's databases by number (a defaultdict: reading creates)."""
        return self.server.dbs

    def session(
        self, push: Callable[[bytes], None] | None = None, addr: str = "", laddr: str = ""
    ) -> Session:
        """A new connection's session; ``push`` receives pub/sub messages as encoded bytes."""
        self.connections_received += 1
        return Session(self, push, addr, laddr)

    def flush_heads(self) -> None:
        """Put the pushes LPUSH's fast path collected at the head of their list (caller holds the lock)."""
        pending = self.head_pending
        if pending is not None:
            self.head_pending = None
            lst, values = pending
            lst[:0] = values[::-1]

    def writes_fast(self) -> bool:
        """Whether writes may skip fakeredis's bookkeeping (nobody blocked, nobody subscribed)."""
        return not self.blocked and not self.server.subscribers and not self.server.psubscribers

    def drop_killed(self) -> None:
        """Disconnect the connections ``CLIENT KILL`` marked (the caller's own after its reply)."""
        for session in list(self.sessions):
            if session.sock._killed:
                session.closing = True
                if session.on_kill is not None:
                    session.on_kill()

    def flushall(self) -> None:
        """Empty every database (caller holds the lock)."""
        for db in self.server.dbs.values():
            db.clear()
        self.objects.clear()


class Session:
    """One client connection's state and command execution."""

    def __init__(
        self, engine: RedisEngine, push: Callable[[bytes], None] | None, addr: str, laddr: str
    ) -> None:
        self.engine = engine
        self.server = engine.server
        info = {"addr": addr, "laddr": laddr, "fd": 0}
        sock = _Socket(engine.server, 0, client_class=redis.Redis, client_info=info)
        sock.push = push
        sock.lua = engine.lua
        sock.engine = engine
        self.sock = sock
        self.authed = engine.password is None
        self.closing = False
        self.on_kill: Callable[[], None] | None = None
        self.proto = 2
        self.null = b"$-1\r\n"
        self.fast = False
        self.engine.sessions.add(self)
        self.refresh()

    # -- state -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute what the fast paths depend on after a command that may change it."""
        sock = self.sock
        self.proto = sock._client_info.protocol_version
        self.null = b"_\r\n" if self.proto == 3 else b"$-1\r\n"
        self.fast = (
            self.authed
            and sock._transaction is None
            and not sock._pubsub
            and not sock._reply_off
            and not sock._reply_skip
            and not sock._reply_skip_next
        )

    @property
    def db_index(self) -> int:
        """The selected database."""
        return int(self.sock._db_num)

    def close(self) -> None:
        """Forget this connection (subscriptions, watches, CLIENT LIST entry)."""
        if self in self.engine.sessions:
            self.engine.sessions.discard(self)
            self.sock.push = None
            self.sock._cleanup(self.server)
            self.sock.close()

    @property
    def queueing(self) -> bool:
        """Inside ``MULTI``: commands are queued until ``EXEC``."""
        return bool(self.sock._queueing)

    def refuse_queued(self) -> None:
        """A command refused while queueing (a fault): ``EXEC`` then fails with ``EXECABORT``, as in Redis."""
        if self.sock._queueing:
            self.sock._transaction_failed = True

    # -- execution -------------------------------------------------------------------------------
    def execute(self, argv: list[bytes]) -> bytes:
        """Run one command; return its encoded reply (``b""`` when the command sends none)."""
        engine = self.engine
        engine.commands_processed += 1
        started = time.perf_counter_ns() if engine.slowlog.threshold < 1000 or not self.fast else 0
        if engine.head_pending is not None and argv[0] not in _LPUSH:
            engine.flush_heads()
        if self.fast:
            fn = fastpath.COMMANDS.get(argv[0])
            if fn is not None:
                out = fn(self, argv)
                if out is not None:
                    track = _FAST_TRACK.get(argv[0])
                    if track is _touch_first:  # inline: the common case, on the hot path
                        objects = engine.objects
                        objects.atime[self.sock._db_num][argv[1]] = objects.clock
                    elif track is not None:
                        track(engine.objects, self.sock, argv)
                    # A fast path takes microseconds: timed only when the slowlog could want it.
                    if engine.slowlog.threshold < 1000:
                        micros = (time.perf_counter_ns() - started) // 1000
                        if 0 <= engine.slowlog.threshold <= micros:
                            self._slow(argv, micros)
                    return out
        engine.flush_heads()
        if not started:
            started = time.perf_counter_ns()
        queueing = self.sock._queueing
        out = self._execute(argv)
        name = argv[0].lower()
        if name in _NOT_SLOWLOGGED or name in BLOCKING_COMMANDS or (queueing and out == QUEUED):
            return out
        micros = (time.perf_counter_ns() - started) // 1000
        if 0 <= engine.slowlog.threshold <= micros:
            self._slow(argv, micros)
        return out

    def _slow(self, argv: list[bytes], micros: int) -> None:
        info = self.sock._client_info
        self.engine.slowlog.add(argv, micros, str(info.get("addr", "")), str(info.get("name", "") or ""))

    def _execute(self, argv: list[bytes]) -> bytes:
        name = argv[0].decode("utf-8", "replace").lower()
        special = frontend.COMMANDS.get(name)
        if not self.authed and name not in frontend.BEFORE_AUTH:
            # Redis names an unknown command or a wrong arity before it asks for AUTH.
            if special is not None:
                return error(msg.NOAUTH)
            return self._run(name, argv, authed=False)
        if special is not None:
            out = special(self, argv)
            if out is not None:
                self.refresh()
                return out
        try:
            return self._run(name, argv)
        finally:
            self.refresh()

    def _run(self, name: str, argv: list[bytes], authed: bool = True) -> bytes:
        sock = self.sock
        if name in COMMANDS_WITH_SUB and len(argv) >= 2:
            cmd = name + " " + argv[1].decode("utf-8", "replace").lower()
            args = argv[2:]
            sig = SUPPORTED_COMMANDS.get(cmd)
            unknown = None if sig is not None else msg.UNKNOWN_SUBCOMMAND.format(_clip(argv[1]), name.upper())
        else:
            cmd = name
            args = argv[1:]
            sig = SUPPORTED_COMMANDS.get(cmd)
            if sig is None and name in COMMANDS_WITH_SUB:
                unknown = msg.WRONG_ARITY.format(name)
            else:
                unknown = None if sig is not None else unknown_command(argv)
        if sig is None or "redis" not in sig.server_types:
            if sock._queueing:
                sock._transaction_failed = True
            return error(unknown or unknown_command(argv))
        if not authed:
            try:
                sig.check_arity(args, ENGINE_VERSION)
            except SimpleError:
                return error(msg.WRONG_ARITY.format(sig.name.replace(" ", "|")))
            return error(msg.NOAUTH)
        if sock._pubsub and self.proto == 2 and sig.name.split(" ")[0] not in _PUBSUB_ALLOWED:
            return error(msg.PUBSUB_CONTEXT.format(name))
        func = getattr(sock, sig.func_name, None)
        self._housekeeping()
        try:
            sig.check_arity(args, ENGINE_VERSION)
        except SimpleError:
            if sock._queueing:
                sock._transaction_failed = True
            return error(msg.WRONG_ARITY.format(sig.name.replace(" ", "|")))
        queue = sock._transaction
        if sock._queueing and queue is not None and fr_msgs.FLAG_TRANSACTION not in sig.flags:
            queue.append((func, sig, CommandArgs.of(args, argv)))
            return QUEUED
        sock.current_argv = argv
        if cmd == "exec":
            sock.in_exec = True
        try:
            result = self._call(func, sig, args, cmd)
        finally:
            sock.in_exec = False
        if cmd == "client kill":
            self.engine.drop_killed()
        suppressed = sock._reply_off or sock._reply_skip
        sock._reply_skip, sock._reply_skip_next = sock._reply_skip_next, False
        if suppressed or isinstance(result, NoResponse):
            return b""
        proto = sock._client_info.protocol_version
        return encode(result, proto, NULL_ARRAY2 if cmd in _NULL_ARRAY_COMMANDS else None)

    def _call(self, func: Any, sig: Signature, args: list[bytes], cmd: str) -> Any:
        try:
            return self.sock._run_command(func, sig, args, False)
        except SimpleError as exc:
            return exc
        except Exception as exc:  # a fakeredis bug must not take the connection down
            log.exception("fakeredis failed running %s", cmd)
            return SimpleError(msg.INTERNAL.format(cmd, f"{type(exc).__name__}: {exc}"))

    def _housekeeping(self) -> None:
        server = self.server
        while server.closed_sockets:
            sock = server.closed_sockets.pop()()
            if sock is not None:
                sock._cleanup(server)
        now = time.time()
        for db in server.dbs.values():
            db.time = now


_LPUSH = frozenset([b"lpush", b"LPUSH"])
_NOT_SLOWLOGGED = frozenset([b"exec"])  # Redis logs the commands EXEC runs, not EXEC itself
_WRITES: dict[str, bool] = {}


def _is_write(name: str) -> bool:
    known = _WRITES.get(name)
    if known is None:
        known = _WRITES[name] = is_write_command(name.split(" ")[0].encode())
    return known


def _touch_first(objects: ObjectTracker, sock: Any, argv: list[bytes]) -> None:
    objects.touch(sock._db_num, argv[1])


def _touch_all(objects: ObjectTracker, sock: Any, argv: list[bytes]) -> None:
    db = sock._db_num
    for key in argv[1:]:
        objects.touch(db, key)


def _touch_pairs(objects: ObjectTracker, sock: Any, argv: list[bytes]) -> None:
    db = sock._db_num
    for key in argv[1::2]:
        objects.touch(db, key)


_FAST_TRACK: dict[bytes, Callable[[ObjectTracker, Any, list[bytes]], None]] = {}
for _name, _track_fn in {
    b"get": _touch_first,
    b"set": _touch_first,
    b"incr": _touch_first,
    b"decr": _touch_first,
    b"incrby": _touch_first,
    b"decrby": _touch_first,
    b"lpush": _touch_first,
    b"rpush": _touch_first,
    b"hget": _touch_first,
    b"mget": _touch_all,
    b"mset": _touch_pairs,
    b"hset": _touch_first,  # their growth is noted by the fast paths themselves (ObjectTracker.grew)
    b"sadd": _touch_first,
    b"zadd": _touch_first,
}.items():
    _FAST_TRACK[_name] = _FAST_TRACK[_name.upper()] = _track_fn


def _clip(arg: bytes, limit: int = 128) -> str:
    # Redis prints arguments with "%.128s": a NUL ends one. surrogateescape: bytes that are not UTF-8
    # go back on the wire as they came, as Redis echoes them.
    return arg.split(b"\0", 1)[0][:limit].decode("utf-8", "surrogateescape")


def unknown_command(argv: list[bytes]) -> str:
    """Redis's unknown-command error: the name and the first arguments, each quoted."""
    args = b""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'" + a.split(b"\0", 1)[0][: 128 - len(args)] + b"' "
    return msg.UNKNOWN_COMMAND.format(_clip(argv[0]), args.decode("utf-8", "surrogateescape"))
