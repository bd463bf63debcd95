"""Commands about the server rather than the data, answered as a standalone redis-server 7.0 does.

``OBJECT ENCODING/FREQ/IDLETIME/REFCOUNT/HELP``, ``WAIT``, ``SLOWLOG``, ``LATENCY``, ``CLUSTER``
(a non-cluster server's answers), ``READONLY``/``READWRITE``. fakeredis has none of them.

``OBJECT ENCODING`` follows Redis 7.0's rules and thresholds (the ``*-max-listpack-*`` and
``set-max-intset-entries`` settings), including that a container converted to its big encoding
never converts back and that ``APPEND``/``SETRANGE``/``SETBIT`` leave a string ``raw``:
:class:`ObjectTracker` notes those events as commands run. ``LATENCY``: like a Redis with
``latency-monitor-threshold 0`` and ``latency-tracking no``, the fake records no samples and says so.
"""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Any

from simdb.redis.fakeredis_compat import (
    OK,
    CommandItem,
    ExpiringMembersSet,
    Hash,
    Int,
    Key,
    SimpleError,
    ZSet,
    command,
    msgs,
)

if TYPE_CHECKING:
    from simdb.redis.engine import RedisEngine

_LFU_ERROR = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
_LRU_ERROR = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
    "between policies at runtime LRU and LFU data will take some time to adjust."
)
CLUSTER_DISABLED = "ERR This instance has cluster support disabled"
LATENCY_DOCTOR = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
    '"CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren\'t in a deep '
    "space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
)
OBJECT_HELP = [
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
]
SLOWLOG_HELP = [
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
]
LATENCY_HELP = [
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified "
    "command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
]
#: CLUSTER subcommands of Redis 7.0: (fixed argument count, more allowed).
CLUSTER_SUBCOMMANDS = {
    "addslots": (1, True),
    "addslotsrange": (2, True),
    "bumpepoch": (0, False),
    "count-failure-reports": (1, False),
    "countkeysinslot": (1, False),
    "delslots": (1, True),
    "delslotsrange": (2, True),
    "failover": (0, True),
    "flushslots": (0, False),
    "forget": (1, False),
    "getkeysinslot": (2, False),
    "help": (0, False),
    "info": (0, False),
    "keyslot": (1, False),
    "links": (0, False),
    "meet": (2, True),
    "myid": (0, False),
    "nodes": (0, False),
    "replicas": (1, False),
    "replicate": (1, False),
    "reset": (0, True),
    "saveconfig": (0, False),
    "set-config-epoch": (1, False),
    "setslot": (2, True),
    "shards": (0, False),
    "slaves": (1, False),
    "slots": (0, False),
}
#: Commands that look at keys without counting as an access (Redis's LOOKUP_NOTOUCH).
NOTOUCH = frozenset(["object", "type", "exists", "ttl", "pttl", "expiretime", "pexpiretime"])
#: Commands that leave an existing string ``raw`` (they edit it in place).
RAW_MAKERS = frozenset(["append", "setrange", "setbit", "bitfield", "bitop"])
#: Settings behind the encodings, with Redis 7.0's defaults.
ENCODING_CONFIG = {
    b"hash-max-listpack-entries": b"512",
    b"hash-max-listpack-value": b"64",
    b"set-max-intset-entries": b"512",
    b"zset-max-listpack-entries": b"128",
    b"zset-max-listpack-value": b"64",
    b"list-max-listpack-size": b"-2",
}
_LMIN, _LMAX = -(2**63), 2**63 - 1


def is_long(value: bytes) -> bool:
    """Whether Redis would store ``value`` as an ``int`` string (canonical, in 64 bits)."""
    if not value or len(value) > 20:
        return False
    try:
        n = int(value)
    except ValueError:
        return False
    return b"%d" % n == value and _LMIN <= n <= _LMAX


class ObjectTracker:
    """What ``OBJECT`` needs that fakeredis does not keep: access times and one-way encoding changes.

    Values are remembered by identity (``is``): a key set anew holds a new object, so a stale note
    never applies to it.
    """

    def __init__(self, engine: RedisEngine) -> None:
        self.engine = engine
        self.atime: dict[int, dict[bytes, float]] = collections.defaultdict(dict)
        self.raw: dict[int, dict[bytes, bytes]] = collections.defaultdict(dict)
        self.big: dict[int, dict[bytes, object]] = collections.defaultdict(dict)
        self.since = time.monotonic()
        self.clock = self.since
        """Redis's LRU clock: the time accesses are stamped with; :meth:`tick` moves it (server cron)."""
        self._notes = 0
        self.limits: dict[bytes, int] = {}
        self.reload()

    def reload(self) -> None:
        """Read the encoding thresholds again (after ``CONFIG SET``)."""
        self.limits = {name: self._setting(name) for name in ENCODING_CONFIG}

    def tick(self) -> None:
        """Move the access clock to now."""
        self.clock = time.monotonic()

    def clear(self) -> None:
        """Forget everything (the databases were emptied or replaced)."""
        self.atime.clear()
        self.raw.clear()
        self.big.clear()
        self.since = time.monotonic()

    def _setting(self, name: bytes) -> int:
        try:
            return int(self.engine.config.get(name, ENCODING_CONFIG[name]))
        except ValueError:
            return int(ENCODING_CONFIG[name])

    def touch(self, db: int, key: bytes) -> None:
        """``key`` was accessed now."""
        self.atime[db][key] = self.clock

    def wrote(self, db: int, key: bytes, value: object, new: tuple[bytes, ...] | list[bytes] | None) -> None:
        """A write left ``value`` at ``key``; ``new``: the elements it added (``None``: unknown, look)."""
        self._notes += 1
        if self._notes % 100_000 == 0:
            self._prune()
        if type(value) is bytes or value is None:
            return
        if self.big[db].get(key) is value:
            return
        if self._small(value, new) is False:
            self.big[db][key] = value

    def grew(self, db: int, key: bytes, value: object, size: int, new: list[bytes], kind: str) -> None:
        """A fast path added ``new`` to the container ``value`` (now ``size`` long) at ``key``."""
        big = self.big[db]
        if big.get(key) is value:
            return
        limits = self.limits
        if kind == "set":
            if size > limits[b"set-max-intset-entries"] or not all(map(is_long, new)):
                big[key] = value
        elif size > limits[kind.encode() + b"-max-listpack-entries"] or (
            new and max(map(len, new)) > limits[kind.encode() + b"-max-listpack-value"]
        ):
            big[key] = value

    def made_raw(self, db: int, key: bytes, value: object) -> None:
        """An in-place string edit left ``value`` at ``key``."""
        if type(value) is bytes:
            self.raw[db][key] = value

    def _small(self, value: object, new: tuple[bytes, ...] | list[bytes] | None) -> bool | None:
        """Whether ``value`` still fits its small encoding (``None``: the type has only one)."""
        if isinstance(value, Hash):
            entries = self.limits[b"hash-max-listpack-entries"]
            limit = self.limits[b"hash-max-listpack-value"]
            if len(value) > entries:
                return False
            items = new if new is not None else [x for pair in value.items() for x in pair]
            return not items or max(map(len, items)) <= limit
        if isinstance(value, ZSet):
            entries = self.limits[b"zset-max-listpack-entries"]
            limit = self.limits[b"zset-max-listpack-value"]
            if len(value) > entries:
                return False
            members = new if new is not None else list(value)
            return not members or max(map(len, members)) <= limit
        if isinstance(value, ExpiringMembersSet):
            if len(value) > self.limits[b"set-max-intset-entries"]:
                return False
            members = new if new is not None else list(value)
            return all(is_long(m) for m in members)
        return None

    def encoding(self, db: int, key: bytes, value: object) -> bytes:
        """``OBJECT ENCODING`` of ``value`` at ``key``."""
        if type(value) is bytes:
            if self.raw[db].get(key) is value:
                return b"raw"
            if is_long(value):
                return b"int"
            return b"embstr" if len(value) <= 44 else b"raw"
        if isinstance(value, list):
            return b"quicklist"
        kinds = {Hash: (b"listpack", b"hashtable"), ZSet: (b"listpack", b"skiplist")}
        kinds[ExpiringMembersSet] = (b"intset", b"hashtable")
        for kind, (small, big) in kinds.items():
            if isinstance(value, kind):
                if self.big[db].get(key) is value or not self._small(value, None):
                    return big
                return small
        if type(value).__name__ == "XStream":
            return b"stream"
        raise SimpleError(
            f"ERR simdb: OBJECT ENCODING cannot tell how Redis would encode a {type(value).__name__} value"
        )

    def idle(self, db: int, key: bytes) -> int:
        """Seconds since ``key`` was last accessed (since the data was loaded, if never)."""
        self.tick()
        return int(self.clock - self.atime[db].get(key, self.since))

    def _prune(self) -> None:
        """Drop notes about keys that are gone (called now and then, so the notes stay bounded)."""
        dbs = self.engine.dbs
        tables: tuple[dict[int, dict[bytes, Any]], ...] = (self.atime, self.raw, self.big)
        for notes in tables:
            for index, keys in list(notes.items()):
                live = dbs[index]._dict
                if len(keys) > len(live):
                    notes[index] = {k: v for k, v in keys.items() if k in live}


def key_positions(sig: Any, count: int) -> list[int]:
    """Indexes of the key arguments of a command with ``count`` arguments (after its name)."""
    types = list(sig.fixed)
    repeat = sig.repeat
    if repeat:
        types.extend(repeat[i % len(repeat)] for i in range(max(0, count - len(types))))
    return [i for i, t in enumerate(types[:count]) if isinstance(t, Key)]


class CommandArgs(list[Any]):
    """A command's arguments that remember the whole request as the client sent it (for SLOWLOG)."""

    argv: list[bytes]

    @classmethod
    def of(cls, args: list[Any], argv: list[bytes]) -> CommandArgs:
        """``args`` (what follows the command name) carrying ``argv``."""
        out = cls(args)
        out.argv = argv
        return out


class SlowLog:
    """``SLOWLOG``: commands slower than ``slowlog-log-slower-than`` microseconds, newest first."""

    def __init__(self, engine: RedisEngine) -> None:
        self.engine = engine
        self.entries: collections.deque[list[Any]] = collections.deque()
        self.next_id = 0

        self.threshold = 10000
        """Microseconds (negative: off); :meth:`reload` after ``CONFIG SET``."""

    def reload(self) -> None:
        """Read ``slowlog-log-slower-than`` again."""
        try:
            self.threshold = int(self.engine.config.get(b"slowlog-log-slower-than", b"10000"))
        except ValueError:
            self.threshold = 10000

    def add(self, argv: list[bytes], micros: int, addr: str, name: str) -> None:
        """Record one command (the caller checked the threshold)."""
        try:
            keep = int(self.engine.config.get(b"slowlog-max-len", b"128"))
        except ValueError:
            keep = 128
        args = _redact(argv)
        shown = args if len(args) <= 32 else [*args[:31], b"... (%d more arguments)" % (len(args) - 31)]
        shown = [a if len(a) <= 128 else a[:128] + b"... (%d more bytes)" % (len(a) - 128) for a in shown]
        self.entries.appendleft([self.next_id, int(time.time()), micros, shown, addr.encode(), name.encode()])
        self.next_id += 1
        while len(self.entries) > max(keep, 0):
            self.entries.pop()


def _redact(argv: list[bytes]) -> list[bytes]:
    name = argv[0].lower() if argv else b""
    if name == b"auth":
        return [argv[0]] + [b"(redacted)"] * (len(argv) - 1)
    if name == b"hello":
        out = list(argv)
        for i, a in enumerate(argv):
            if a.lower() == b"auth" and i + 2 < len(argv):
                out[i + 1] = out[i + 2] = b"(redacted)"
        return out
    return list(argv)


class ServerCommandsMixin:
    """The commands, mixed into the engine's fakeredis socket."""

    engine: RedisEngine
    _db_num: int
    _in_transaction: bool
    _blocking: Any  # fakeredis's: wait on the database's condition until a deadline
    current_argv: tuple[bytes, ...] | list[bytes]

    # -- OBJECT ------------------------------------------------------------------------------------
    def _policy(self) -> bytes:
        return self.engine.config.get(b"maxmemory-policy", b"noeviction").lower()

    @command(name="OBJECT ENCODING", fixed=(Key(missing_return=None),))
    def object_encoding(self, key: CommandItem) -> bytes:
        return self.engine.objects.encoding(self._db_num, key.key, key.value)

    @command(name="OBJECT FREQ", fixed=(Key(missing_return=None),))
    def object_freq(self, key: CommandItem) -> int:
        if b"lfu" not in self._policy():
            raise SimpleError(_LFU_ERROR)
        raise SimpleError("ERR simdb: the fake does not count accesses, so OBJECT FREQ has no answer")

    @command(name="OBJECT IDLETIME", fixed=(Key(missing_return=None),))
    def object_idletime(self, key: CommandItem) -> int:
        if b"lfu" in self._policy():
            raise SimpleError(_LRU_ERROR)
        return self.engine.objects.idle(self._db_num, key.key)

    @command(name="OBJECT REFCOUNT", fixed=(Key(missing_return=None),))
    def object_refcount(self, key: CommandItem) -> int:
        value = key.value
        if (
            type(value) is bytes
            and is_long(value)
            and 0 <= int(value) < 10000
            and b"lru" not in self._policy()
        ):
            return 2147483647  # a shared integer object (OBJ_SHARED_REFCOUNT)
        return 1

    @command(name="OBJECT HELP", fixed=())
    def object_help(self) -> list[bytes]:
        return [line.encode() for line in OBJECT_HELP]

    @command(name="OBJECT", fixed=())
    def object_(self) -> None:
        raise SimpleError(msgs.WRONG_ARGS_MSG6.format("object"))

    # -- WAIT --------------------------------------------------------------------------------------
    @command(name="WAIT", fixed=(Int, bytes), flags=msgs.FLAG_NO_SCRIPT)
    def wait(self, replicas: int, timeout: bytes) -> int:
        """A master with no replicas: 0 at once if none are wanted, else after ``timeout`` ms (0: never)."""
        try:
            ms = int(timeout)
        except ValueError:
            raise SimpleError("ERR timeout is not an integer or out of range") from None
        if ms < 0:
            raise SimpleError("ERR timeout is negative")
        if replicas <= 0 or self._in_transaction:
            return 0
        return int(self._blocking(ms / 1000.0, lambda first: None, lambda _: 0))

    # -- SLOWLOG -----------------------------------------------------------------------------------
    @command(name="SLOWLOG GET", fixed=(), repeat=(bytes,))
    def slowlog_get(self, *args: bytes) -> list[Any]:
        if len(args) > 1:
            sub = self.current_argv[1].decode("utf-8", "replace") if len(self.current_argv) > 1 else "get"
            raise SimpleError(
                f"ERR unknown subcommand or wrong number of arguments for '{sub}'. Try SLOWLOG HELP."
            )
        count = 10
        if args:
            try:
                count = int(args[0])
            except ValueError:
                count = -2
            if count < -1:
                raise SimpleError("ERR count should be greater than or equal to -1")
        entries = list(self.engine.slowlog.entries)
        return entries if count == -1 else entries[:count]

    @command(name="SLOWLOG LEN", fixed=())
    def slowlog_len(self) -> int:
        return len(self.engine.slowlog.entries)

    @command(name="SLOWLOG RESET", fixed=())
    def slowlog_reset(self) -> Any:
        self.engine.slowlog.entries.clear()
        return OK

    @command(name="SLOWLOG HELP", fixed=())
    def slowlog_help(self) -> list[bytes]:
        return [line.encode() for line in SLOWLOG_HELP]

    @command(name="SLOWLOG", fixed=())
    def slowlog(self) -> None:
        raise SimpleError(msgs.WRONG_ARGS_MSG6.format("slowlog"))

    # -- LATENCY -----------------------------------------------------------------------------------
    @command(name="LATENCY LATEST", fixed=())
    def latency_latest(self) -> list[Any]:
        return []

    @command(name="LATENCY HISTORY", fixed=(bytes,))
    def latency_history(self, event: bytes) -> list[Any]:
        return []

    @command(name="LATENCY RESET", fixed=(), repeat=(bytes,))
    def latency_reset(self, *events: bytes) -> int:
        return 0

    @command(name="LATENCY DOCTOR", fixed=())
    def latency_doctor(self) -> bytes:
        return LATENCY_DOCTOR.encode()

    @command(name="LATENCY GRAPH", fixed=(bytes,))
    def latency_graph(self, event: bytes) -> None:
        raise SimpleError(f"ERR No samples available for event '{event.decode('utf-8', 'replace')}'")

    @command(name="LATENCY HISTOGRAM", fixed=(), repeat=(bytes,))
    def latency_histogram(self, *commands: bytes) -> dict[bytes, Any]:
        return {}  # latency-tracking is "no": no histograms are kept

    @command(name="LATENCY HELP", fixed=())
    def latency_help(self) -> list[bytes]:
        return [line.encode() for line in LATENCY_HELP]

    @command(name="LATENCY", fixed=())
    def latency(self) -> None:
        raise SimpleError(msgs.WRONG_ARGS_MSG6.format("latency"))

    # -- CLUSTER (a non-cluster server) ------------------------------------------------------------
    @command(name="READONLY", fixed=())
    def readonly(self) -> None:
        raise SimpleError(CLUSTER_DISABLED)

    @command(name="READWRITE", fixed=())
    def readwrite(self) -> None:
        raise SimpleError(CLUSTER_DISABLED)

    @command(name="CLUSTER", fixed=())
    def cluster(self) -> None:
        raise SimpleError(msgs.WRONG_ARGS_MSG6.format("cluster"))

    def cluster_disabled(self, *args: bytes) -> None:
        """Every CLUSTER subcommand, once its arity is right."""
        raise SimpleError(CLUSTER_DISABLED)


for _name, (_fixed, _more) in CLUSTER_SUBCOMMANDS.items():
    command(name=f"CLUSTER {_name.upper()}", fixed=(bytes,) * _fixed, repeat=(bytes,) if _more else ())(
        ServerCommandsMixin.cluster_disabled
    )
