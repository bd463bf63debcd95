"""Fault rules of the MySQL fake: match a statement's kind, table or digest; fail as MariaDB does.

A rule is the kind-neutral :class:`simdb.faults.rules.ErrorEffects` plus ``match``::

    - match: {kind: update, table: orders}        # or digest: "SELECT * FROM pins WHERE id = ?*"
      p50_ms: 3
      p99_ms: 60
      error_rate: 0.02
      error: 1213                                  # or {code: 1105, message: "..."}

``kind`` is the statement's first keyword (``select``, ``insert``, ``update``, ``delete``,
``replace``, ``begin`` for ``BEGIN``/``START TRANSACTION``, ``commit``, ``rollback``, ``set``,
``show``, ...) or ``connect``, which applies when a client connects (``error: 1040``).
``table`` is one of the names after ``FROM``, ``JOIN``, ``INTO``, ``UPDATE`` or ``TABLE``;
``digest`` a glob over the statement with its literals replaced by ``?`` and its spaces
collapsed, matched case-insensitively.

Errors carry MariaDB 10.11's codes, SQLSTATEs and texts (:data:`ERRORS`). 1213 rolls the
whole transaction back, as InnoDB does on a deadlock; the others refuse only the statement.
2013 and 2006 are what a client reports when the server goes away: the fake closes the
connection (rolling back what was open), and the client names it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simdb.errors import ConfigError
from simdb.faults.plan import BoundRule, MatchPlan, RawSource, split_plan_json

__all__ = ["CLOSE_CODES", "DEADLOCK", "ERRORS", "MySQLFaultPlan", "Statement", "error_packet", "parse_plan"]

#: code -> (SQLSTATE, text), as MariaDB 10.11 sends them.
ERRORS: dict[int, tuple[str, str]] = {
    1040: ("08004", "Too many connections"),
    1205: ("HY000", "Lock wait timeout exceeded; try restarting transaction"),
    1213: ("40001", "Deadlock found when trying to get lock; try restarting transaction"),
    1290: (
        "HY000",
        "The MariaDB server is running with the --read-only option so it cannot execute this statement",
    ),
    1317: ("70100", "Query execution was interrupted"),
    1969: ("70100", "Query execution was interrupted (max_statement_time exceeded)"),
}
DEADLOCK = 1213
#: Client-side codes: the server closed the connection (lost during the query / gone away).
CLOSE_CODES = frozenset({2013, 2006})

_KEYWORD = re.compile(r"^\s*(?:/\*.*?\*/\s*)*([A-Za-z]+)(?:\s+([A-Za-z]+))?", re.DOTALL)
_TABLES = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Statement:
    """What a rule matches on: the statement's kind, its tables and its digest."""

    kind: str
    tables: tuple[str, ...]
    digest: str

    @classmethod
    def of(cls, sql: str) -> Statement:
        """The statement of one ``COM_QUERY``."""
        from simdb.mysql.translate import lift_literals

        m = _KEYWORD.match(sql)
        kind = m.group(1).lower() if m else ""
        if kind == "start" and m is not None and (m.group(2) or "").lower() == "transaction":
            kind = "begin"
        tables = tuple(t.replace("`", "").split(".")[-1].strip().lower() for t in _TABLES.findall(sql))
        try:
            digest, _ = lift_literals(sql, lambda _i: "?")  # every literal "?", as MariaDB digests
        except Exception:  # an unparsable literal: match on the text as sent
            digest = sql
        return cls(kind, tables, _SPACES.sub(" ", digest).strip().rstrip(";").strip())


CONNECT = Statement("connect", (), "")


def _names(raw: Any, where: str) -> frozenset[str] | None:
    if raw is None:
        return None
    listed = [raw] if isinstance(raw, str) else raw
    if not isinstance(listed, list) or not listed or not all(isinstance(x, str) and x for x in listed):
        raise ConfigError(f"{where}: expected a name or a list of names")
    return frozenset(x.lower() for x in listed)


def _matcher(raw: Any, where: str) -> Callable[[Statement], bool]:
    if raw is None:
        return lambda s: s.kind != "connect"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected {{kind: ..., table: ..., digest: GLOB}}")
    unknown = set(raw) - {"kind", "table", "digest"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} (expected 'kind', 'table', 'digest')"
        )
    kinds = _names(raw.get("kind"), f"{where}.kind")
    tables = _names(raw.get("table"), f"{where}.table")
    digest = raw.get("digest")
    pattern: re.Pattern[str] | None = None
    if digest is not None:
        if not isinstance(digest, str) or not digest:
            raise ConfigError(f"{where}.digest: expected a glob such as 'SELECT * FROM pins WHERE id = ?*'")
        pattern = re.compile(fnmatch.translate(_SPACES.sub(" ", digest).strip()), re.IGNORECASE | re.DOTALL)
    if kinds is not None and "connect" in kinds and (tables or pattern):
        raise ConfigError(f"{where}: kind 'connect' matches connections, not tables or digests")

    def matches(s: Statement) -> bool:
        if kinds is None:
            if s.kind == "connect":
                return False
        elif s.kind not in kinds:
            return False
        if tables is not None and not tables.intersection(s.tables):
            return False
        return pattern is None or pattern.match(s.digest) is not None

    return matches


def _error(raw: Any, where: str) -> tuple[int, str, str]:
    """``(code, sqlstate, message)`` of an error fault."""
    if isinstance(raw, bool):
        raise ConfigError(f"{where}: expected an error code or {{code, message}}")
    if isinstance(raw, int):
        code, message = raw, None
    elif isinstance(raw, dict) and set(raw) <= {"code", "message", "sqlstate"} and "code" in raw:
        code, message = raw["code"], raw.get("message")
        if isinstance(code, bool) or not isinstance(code, int):
            raise ConfigError(f"{where}.code: expected an integer error code")
        if message is not None and not isinstance(message, str):
            raise ConfigError(f"{where}.message: expected a string")
    else:
        raise ConfigError(f"{where}: expected an error code (e.g. 1213) or {{code: N, message: TEXT}}")
    if code in CLOSE_CODES:
        return code, "", ""
    if not 1000 <= code <= 65535:
        raise ConfigError(f"{where}: error code {code} is not a server error code (1000-65535, or 2013/2006)")
    known = ERRORS.get(code)
    if known is None and message is None:
        raise ConfigError(
            f"{where}: give the message of error {code} "
            f"(known codes: {', '.join(map(str, ERRORS))}, 2013, 2006)"
        )
    state = raw.get("sqlstate") if isinstance(raw, dict) and raw.get("sqlstate") else None
    if state is not None and not (isinstance(state, str) and re.fullmatch(r"[0-9A-Z]{5}", state)):
        raise ConfigError(f"{where}.sqlstate: expected five characters such as 'HY000'")
    return code, state or (known[0] if known else "HY000"), message if message is not None else known[1]  # type: ignore[index]


def error_packet(code: int, sqlstate: str, message: str) -> bytes:
    """An ERR packet payload (protocol 4.1)."""
    return b"\xff" + code.to_bytes(2, "little") + b"#" + sqlstate.encode("ascii") + message.encode("utf-8")


class MySQLFaultPlan(MatchPlan[Statement]):
    """The rules of one MySQL fake; decide once per statement (and once per connection for ``connect``)."""

    @property
    def on_connect(self) -> bool:
        """Whether any rule may apply when a client connects."""
        return any(r.matches(CONNECT) for r in self.rules)


def parse_plan(data: Any, where: str = "faults") -> MySQLFaultPlan:
    """A plan from ``{"seed", "rules": [...]}`` or a bare list; ConfigError naming the key."""
    from simdb.faults.rules import ErrorEffects, ValidationError, format_validation

    seed, raws = split_plan_json(data if data is not None else [], where)
    bound: list[BoundRule[Statement]] = []
    for i, raw in enumerate(raws):
        at = f"{where}.rules[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{at}: expected a mapping with 'match' and what happens")
        try:
            effects = ErrorEffects.model_validate(
                {k: v for k, v in raw.items() if k not in ("match", "name")}
            )
        except ValidationError as exc:
            raise format_validation(exc, at) from None
        payload = _error(effects.error, f"{at}.error") if effects.error is not None else None
        name = raw.get("name") or f"rule{i}"
        if not isinstance(name, str):
            raise ConfigError(f"{at}.name: expected a string")
        bound.append(
            BoundRule(
                name=name,
                matches=_matcher(raw.get("match"), f"{at}.match"),
                latency=effects.latency,
                actions=(
                    ("reset", effects.reset_rate, None),
                    ("stall", effects.stall_rate, None),
                    ("error", effects.error_rate, payload),
                ),
                bandwidth=effects.bandwidth_bytes_per_s or 0.0,
                source=RawSource(raw),
            )
        )
    return MySQLFaultPlan(bound, seed, lambda s: s.digest or s.kind)
