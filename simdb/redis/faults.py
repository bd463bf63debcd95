"""Fault rules of the Redis fake: match a command (and a key pattern), answer as a real server would.

A rule (YAML/JSON) is the kind-neutral :class:`simdb.faults.rules.ErrorEffects` plus ``match``::

    - match: {command: [get, mget], key: "feed:*"}
      p50_ms: 2
      p99_ms: 40
      error_rate: 0.01
      error: OOM              # a name below, "MOVED host:port", "ASK host:port", or "ERR any text"

Errors are sent word for word as Redis 7.0 sends them (:data:`ERRORS`); ``MOVED``/``ASK`` carry
the hash slot of the command's first key, so cluster-aware clients follow them. Inside
``MULTI`` a faulted command is rejected when queued and ``EXEC`` then fails with
``EXECABORT``, as Redis does for a command it refuses; latency of queued commands is paid at
``EXEC``, command by command.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from simdb.errors import ConfigError
from simdb.faults.decide import NO_DECISION, Decision
from simdb.faults.plan import BoundRule, MatchPlan, RawSource, split_plan_json

__all__ = ["ERRORS", "CommandCall", "RedisFaultPlan", "parse_plan"]

#: Error replies by name, as redis-server 7.0 words them (server.c, ``createSharedObjects``).
ERRORS: dict[str, str] = {
    "OOM": "OOM command not allowed when used memory > 'maxmemory'.",
    "LOADING": "LOADING Redis is loading the dataset in memory",
    "READONLY": "READONLY You can't write against a read only replica.",
    "BUSY": "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
    "MASTERDOWN": "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    "MISCONF": (
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
        "Commands that may modify the data set are disabled, because this instance is configured to report "
        "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check "
        "the Redis logs for details about the RDB error."
    ),
    "TRYAGAIN": "TRYAGAIN Multiple keys request during rehashing of slot",
    "CLUSTERDOWN": "CLUSTERDOWN The cluster is down",
}

_REDIRECT = re.compile(r"^(MOVED|ASK) (\S+):(\d{1,5})$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_-]* \S")

# Commands whose every argument is a key / every other argument is a key; others: argv[1] or none.
_ALL_KEYS = frozenset({"mget", "del", "unlink", "exists", "touch", "watch", "sinter", "sunion", "sdiff"})
_PAIR_KEYS = frozenset({"mset", "msetnx"})
_NO_KEYS = frozenset(
    {
        "ping", "echo", "info", "select", "auth", "hello", "client", "config", "command", "dbsize",
        "flushdb", "flushall", "multi", "exec", "discard", "unwatch", "quit", "reset", "time", "keys",
        "scan", "randomkey", "debug", "script", "eval", "evalsha", "publish", "subscribe", "psubscribe",
        "unsubscribe", "punsubscribe", "swapdb", "lastsave", "save", "bgsave", "memory", "latency", "slowlog",
        "wait", "role", "readonly", "readwrite", "cluster", "function", "fcall", "object",
    }
)  # fmt: skip


class CommandCall(NamedTuple):
    """What a rule matches on: the command's name (lower case) and its key arguments.

    A named tuple: one is built per command that a rule names, on the serving thread."""

    name: str
    keys: tuple[bytes, ...]

    @classmethod
    def of(cls, argv: Sequence[bytes]) -> CommandCall:
        """The call of one request."""
        return cls.named(argv[0].decode("utf-8", "replace").lower(), argv)

    @classmethod
    def named(cls, name: str, argv: Sequence[bytes]) -> CommandCall:
        """The call of one request whose command name (lower case) is known."""
        if len(argv) < 2 or name in _NO_KEYS:
            return _new_call(cls, (name, ()))
        if name in _ALL_KEYS:
            return _new_call(cls, (name, tuple(argv[1:])))
        if name in _PAIR_KEYS:
            return _new_call(cls, (name, tuple(argv[1::2])))
        return _new_call(cls, (name, (argv[1],)))


def _command_names(raw: Any) -> frozenset[str] | None:
    """The commands a (checked) ``match`` names; None: any command."""
    commands = raw.get("command") if isinstance(raw, dict) else None
    if commands is None:
        return None
    return frozenset(c.lower() for c in ([commands] if isinstance(commands, str) else commands))


_new_call = tuple.__new__  # NamedTuple construction without its Python-level __new__ (the hot path)


def _matcher(raw: Any, where: str) -> Callable[[CommandCall], bool]:
    if raw is None:
        return lambda _c: True
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected {{command: NAME or [NAMES], key: GLOB}}")
    unknown = set(raw) - {"command", "key"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (expected 'command', 'key')")
    commands = raw.get("command")
    names: frozenset[str] | None = None
    if commands is not None:
        listed = [commands] if isinstance(commands, str) else commands
        if not isinstance(listed, list) or not listed or not all(isinstance(c, str) and c for c in listed):
            raise ConfigError(f"{where}.command: expected a command name or a list of them")
        names = frozenset(c.lower() for c in listed)
    key = raw.get("key")
    pattern: re.Pattern[bytes] | None = None
    if key is not None:
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{where}.key: expected a glob pattern such as 'feed:*'")
        pattern = re.compile(fnmatch.translate(key).encode("utf-8"), re.DOTALL)

    if pattern is None:
        if names is None:
            return lambda _c: True
        return lambda call: call.name in names
    match = pattern.match

    def matches(call: CommandCall) -> bool:
        if names is not None and call.name not in names:
            return False
        for k in call.keys:  # noqa: SIM110  (a loop: any() over a generator costs twice as much here)
            if match(k) is not None:
                return True
        return False

    return matches


def _error_payload(raw: Any, where: str) -> Any:
    """A ready error reply (bytes), or ``(kind, host, port)`` for MOVED/ASK (the slot is the call's)."""
    if not isinstance(raw, str) or not raw:
        raise ConfigError(
            f"{where}: expected an error name ({', '.join(ERRORS)}), 'MOVED host:port' or 'ERR text'"
        )
    if "\r" in raw or "\n" in raw:
        raise ConfigError(f"{where}: an error reply cannot hold a line break")
    if raw.upper() in ERRORS:
        return b"-" + ERRORS[raw.upper()].encode("utf-8") + b"\r\n"
    m = _REDIRECT.match(raw)
    if m:
        return (m.group(1), m.group(2), int(m.group(3)))
    if raw.split(" ", 1)[0] in ("MOVED", "ASK"):
        raise ConfigError(f"{where}: {raw.split(' ', 1)[0]} needs the node as 'host:port', got {raw!r}")
    if not _CODE.match(raw):
        raise ConfigError(
            f"{where}: {raw!r} is not an error name ({', '.join(ERRORS)}) nor 'CODE text' "
            "with an upper-case code such as 'ERR something failed'"
        )
    return b"-" + raw.encode("utf-8") + b"\r\n"


def error_reply(payload: Any, call: CommandCall) -> bytes:
    """The bytes of an error fault for this call."""
    if isinstance(payload, bytes):
        return payload
    from redis.crc import key_slot

    kind, host, port = payload
    slot = key_slot(call.keys[0]) if call.keys else 0
    return f"-{kind} {slot} {host}:{port}\r\n".encode()


class RedisFaultPlan(MatchPlan[CommandCall]):
    """The rules of one Redis fake; :meth:`watches` then :meth:`decide_argv` per command."""

    def __init__(self, rules: Sequence[BoundRule[CommandCall]], seed: int) -> None:
        super().__init__(rules, seed, lambda call: call.name)
        self._heads: dict[bytes, tuple[str, tuple[BoundRule[CommandCall], ...]]] = {}

    def _lookup(self, head: bytes) -> tuple[str, tuple[BoundRule[CommandCall], ...]]:
        found = self._heads.get(head)
        if found is None:
            name = head.decode("utf-8", "replace").lower()
            found = (name, tuple(r for r in self.rules if r.names is None or name in r.names))
            if len(self._heads) < 4096:
                self._heads[head] = found
        return found

    def watches(self, head: bytes) -> bool:
        """Whether any rule may match a command named ``head`` (as sent): one dict lookup when not."""
        found = self._heads.get(head)
        return bool((found or self._lookup(head))[1])

    def decide_argv(self, argv: Sequence[bytes]) -> tuple[Decision, CommandCall | None]:
        """The decision for one request (and the parsed call when a rule matched)."""
        name, candidates = self._lookup(argv[0])
        if not candidates:
            return NO_DECISION, None
        call = CommandCall.named(name, argv)
        for rule in candidates:
            if rule.matches(call):
                return self.decide_rule(rule, call), call
        return NO_DECISION, None


def parse_plan(data: Any, where: str = "faults") -> RedisFaultPlan:
    """A plan from ``{"seed", "rules": [...]}`` or a bare list of rules; ConfigError naming the key."""
    from simdb.faults.rules import ErrorEffects, ValidationError, format_validation

    seed, raws = split_plan_json(data if data is not None else [], where)
    bound: list[BoundRule[CommandCall]] = []
    for i, raw in enumerate(raws):
        at = f"{where}.rules[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{at}: expected a mapping with 'match' and what happens")
        match = raw.get("match")
        try:
            effects = ErrorEffects.model_validate(
                {k: v for k, v in raw.items() if k not in ("match", "name")}
            )
        except ValidationError as exc:
            raise format_validation(exc, at) from None
        payload = _error_payload(effects.error, f"{at}.error") if effects.error is not None else None
        name = raw.get("name") or f"rule{i}"
        if not isinstance(name, str):
            raise ConfigError(f"{at}.name: expected a string")
        bound.append(
            BoundRule(
                name=name,
                matches=_matcher(match, f"{at}.match"),
                latency=effects.latency,
                actions=(
                    ("reset", effects.reset_rate, None),
                    ("stall", effects.stall_rate, None),
                    ("error", effects.error_rate, payload),
                ),
                bandwidth=effects.bandwidth_bytes_per_s or 0.0,
                source=RawSource(raw),
                names=_command_names(match),
            )
        )
    return RedisFaultPlan(bound, seed)
