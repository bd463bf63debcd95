"""Scrubbing: replace personal data in a snapshot, deterministically.

A rules file (YAML) names what to scrub and how::

    sql:                                   # table.column: action
      users.email: fake:email
      users.full_name: fake:name
      users.phone: mask
      users.password_hash: "null"
    redis:                                 # key glob [#hash-field glob]: action
      "session:*": "null"                  # null drops the key
      "user:*:profile#email": hash
      "cust:email:<*>": hash               # <...>: scrub that part of the key name
      "user:*:profile#<*@*>": hash         # ... or of hash field names
    thrift:                                # part.method.path (``*`` = any key or element)
      "pinstore.getPin.reply.return.description": mask

Actions: ``keep``, ``null``, ``mask`` (letters and digits become ``*`` except the
last four), ``hash`` (a keyed HMAC-SHA256, same type: text -> 16 hex characters,
integer -> positive integer, bytes -> 16 bytes), ``fake`` or ``fake:<provider>``
(a Faker value of the same kind; the provider is guessed from the column or
field name when not given).

Deterministic everywhere: the output depends only on the action, the input
value and the secret key (``SIMDB_SCRUB_KEY``), never on where the value
sits, so the same e-mail scrubbed in SQL, in a Redis value, a key name, a hash
field or a set member and in a Thrift stub becomes the same fake e-mail, and
joins and cross-store references hold. Redis stores text as bytes: bytes that
are UTF-8 are scrubbed as the text they hold, and ``hash`` of a decimal integer
written as text (``"42"`` in a key name) is the text of ``hash`` of the integer,
so ``user:42:*`` keys still name the hashed ``users.id``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simdb.errors import ConfigError, SnapshotError
from simdb.snapshot.format import (
    decode_bytes,
    decode_score,
    encode_bytes,
    encode_score,
    iter_jsonl,
    now_utc,
)
from simdb.snapshot.reader import (
    Snapshot,
    iter_recordings,
    iter_sql_rows,
    iter_stubs,
    open_snapshot,
    parse_redis_record,
    redis_files,
    sql_schema,
    sql_table_files,
)
from simdb.snapshot.scrub_names import has_marker, name_regex, plain_glob, rename
from simdb.snapshot.sqlschema import parse_schema
from simdb.snapshot.writer import SnapshotWriter

ACTIONS = ("keep", "null", "mask", "hash", "fake")
DEFAULT_KEY = b"simdb-default-scrub-key"
KEY_ENV = "SIMDB_SCRUB_KEY"

# Column or field name (lower case, underscores) -> Faker provider.
_PROVIDER_BY_NAME: tuple[tuple[str, str], ...] = (
    ("email", "email"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("username", "user_name"),
    ("user_name", "user_name"),
    ("login", "user_name"),
    ("name", "name"),
    ("phone", "phone_number"),
    ("address", "address"),
    ("street", "street_address"),
    ("city", "city"),
    ("country", "country"),
    ("zip", "postcode"),
    ("postcode", "postcode"),
    ("company", "company"),
    ("url", "url"),
    ("ip", "ipv4_private"),  # private: names no one on the internet (verify --pii accepts it)
    ("birth", "date_of_birth"),
    ("title", "sentence"),
    ("description", "paragraph"),
    ("bio", "paragraph"),
    ("text", "paragraph"),
    ("comment", "sentence"),
)
_UNIQUE_PROVIDERS = frozenset({"email", "user_name"})
_DECIMAL = re.compile(r"(0|-?[1-9][0-9]{0,17})")


@dataclass(frozen=True)
class Action:
    """One rule's action: ``kind`` in :data:`ACTIONS`, ``provider`` for ``fake``."""

    kind: str
    provider: str | None = None

    @classmethod
    def parse(cls, text: object, where: str) -> Action:
        """Parse ``keep``/``null``/``mask``/``hash``/``fake``/``fake:<provider>``."""
        if text is None:
            return cls("null")
        if not isinstance(text, str):
            raise ConfigError(f"{where}: action must be one of {', '.join(ACTIONS)} or fake:<provider>")
        kind, _, provider = text.strip().partition(":")
        if kind not in ACTIONS or (provider and kind != "fake"):
            raise ConfigError(
                f"{where}: unknown action {text!r} (expected one of {', '.join(ACTIONS)} or fake:<provider>)"
            )
        return cls(kind, provider or None)

    def __str__(self) -> str:
        return f"{self.kind}:{self.provider}" if self.provider else self.kind


@dataclass(frozen=True)
class RedisRule:
    """Scrub the values of keys matching ``key_glob`` (hash fields matching ``field_glob``).

    With ``key_name`` (a ``<...>`` in the key glob) the rule scrubs those parts of the key
    name instead; with ``field_name`` (``<...>`` after ``#``), those parts of hash field names.
    """

    key_glob: str
    field_glob: str | None
    action: Action
    key_name: re.Pattern[str] | None = None
    field_name: re.Pattern[str] | None = None

    @property
    def on_values(self) -> bool:
        """Whether the rule scrubs values (not names)."""
        return self.key_name is None and self.field_name is None


@dataclass(frozen=True)
class ThriftRule:
    """Scrub the values at ``path`` in stubs and recordings of ``method`` in Thrift ``part``."""

    part: str
    method: str
    path: tuple[str, ...]
    action: Action


@dataclass(frozen=True)
class ScrubRules:
    """A parsed rules file."""

    sql: dict[tuple[str, str], Action] = field(default_factory=dict)
    redis: tuple[RedisRule, ...] = ()
    thrift: tuple[ThriftRule, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What the manifest records about the rules applied."""
        text = yaml.safe_dump(self.source, sort_keys=True)
        return {"rules": self.source, "rules_sha256": hashlib.sha256(text.encode()).hexdigest()}


def parse_rules(data: Any, where: str = "rules") -> ScrubRules:
    """Validate a rules mapping (the YAML document)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the rules file must be a mapping with sql, redis and thrift sections")
    unknown = set(data) - {"sql", "redis", "thrift"}
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {sorted(unknown)} (expected sql, redis, thrift)")
    sql: dict[tuple[str, str], Action] = {}
    for key, value in (data.get("sql") or {}).items():
        table, dot, column = str(key).partition(".")
        if not dot or not table or not column:
            raise ConfigError(f"{where}: sql key {key!r} must be table.column")
        sql[(table, column)] = Action.parse(value, f"{where}: sql.{key}")
    redis: list[RedisRule] = []
    for key, value in (data.get("redis") or {}).items():
        glob, _, field_glob = str(key).partition("#")
        here = f"{where}: redis.{key}"
        key_name = name_regex(glob, here) if has_marker(glob) else None
        field_name = name_regex(field_glob, here) if has_marker(field_glob) else None
        if key_name is not None and field_glob:
            raise ConfigError(f"{here}: scrub a key name or a hash field, not both in one rule")
        redis.append(
            RedisRule(
                plain_glob(glob),
                plain_glob(field_glob) or None,
                Action.parse(value, here),
                key_name,
                field_name,
            )
        )
    thrift: list[ThriftRule] = []
    for key, value in (data.get("thrift") or {}).items():
        bits = str(key).split(".")
        if len(bits) < 3:
            raise ConfigError(
                f"{where}: thrift key {key!r} must be part.method.path (e.g. ranker.rank.args.req)"
            )
        thrift.append(
            ThriftRule(bits[0], bits[1], tuple(bits[2:]), Action.parse(value, f"{where}: thrift.{key}"))
        )
    for section in ("sql", "redis", "thrift"):
        if section in data and not isinstance(data[section], dict | type(None)):
            raise ConfigError(f"{where}: section {section!r} must be a mapping")
    return ScrubRules(sql, tuple(redis), tuple(thrift), dict(data))


def load_rules(path: Path) -> ScrubRules:
    """Read and validate a YAML rules file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the scrub rules: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rules(data, str(path))


def secret_from_env() -> tuple[bytes, bool]:
    """The scrub key from ``SIMDB_SCRUB_KEY`` and whether it was set (else a fixed default)."""
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode("utf-8"), True
    return DEFAULT_KEY, False


def _provider_for(name: str) -> str:
    low = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    for needle, provider in _PROVIDER_BY_NAME:
        if needle in low:
            return provider
    return "word"


class Scrubber:
    """Applies actions to values; same action + value + key -> same output."""

    def __init__(self, rules: ScrubRules, secret: bytes = DEFAULT_KEY) -> None:
        try:
            from faker import Faker
        except ImportError as exc:  # an optional extra: containers serving fakes never scrub
            raise ConfigError("scrubbing needs Faker: pip install 'simdb[scrub]'") from exc

        self.rules = rules
        self.secret = secret
        self._faker = Faker()
        self.counts: dict[str, int] = {}

    # ----------------------------------------------------------------- values

    def _mac(self, tag: str, value: Any) -> bytes:
        if isinstance(value, bytes):
            data = b"b:" + value
        elif isinstance(value, bool):
            data = b"i:" + str(int(value)).encode()
        elif isinstance(value, int):
            data = b"i:" + str(value).encode()
        else:
            data = b"s:" + str(value).encode("utf-8", "surrogatepass")
        return hmac.new(self.secret, tag.encode() + b"\0" + data, hashlib.sha256).digest()

    def apply(self, action: Action, value: Any, name: str = "") -> Any:
        """Scrub one scalar (str, int, float, bytes, ``{"b64"}``); None stays None unless ``null``."""
        self.counts[action.kind] = self.counts.get(action.kind, 0) + 1
        if action.kind == "keep":
            return value
        if action.kind == "null":
            return None
        if value is None:
            return None
        if isinstance(value, dict) and set(value) == {"b64"}:
            return encode_bytes(self._apply_bytes(action, decode_bytes(value), name))
        if isinstance(value, bytes):
            return self._apply_bytes(action, value, name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            if action.kind == "mask":
                return 0
            return self._hash_int(action, value)
        if isinstance(value, float):
            if action.kind == "mask":
                return 0.0
            mac = int.from_bytes(self._mac("float:" + str(action), value)[:8], "big")
            return round((mac % 10_000_000) / 100.0, 2)
        return self._apply_text(action, str(value), name)

    def _apply_text(self, action: Action, text: str, name: str) -> str:
        if action.kind == "mask":
            return _mask(text)
        if action.kind == "hash":
            if _DECIMAL.fullmatch(text):  # "42" in a key name hashes like the integer 42 in SQL
                return str(self._hash_int(action, int(text)))
            return self._mac("hash", text).hex()[:16]
        return self._fake(action.provider or _provider_for(name), text)

    def _hash_int(self, action: Action, value: int) -> int:
        mac = int.from_bytes(self._mac("int:" + str(action), value)[:8], "big")
        return 1 + mac % 2_147_483_646

    def _apply_bytes(self, action: Action, value: bytes, name: str) -> bytes:
        try:  # text stored as bytes (every Redis value) scrubs as that text, as in SQL
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            if action.kind == "mask":
                return b"*" * len(value)
            if action.kind == "hash":
                return self._mac("hash", value)[:16]
            return self._mac("fake-bytes", value)[: max(1, len(value))]
        return str(self._apply_text(action, text, name)).encode("utf-8")

    def _fake(self, provider: str, text: str) -> str:
        seed = int.from_bytes(self._mac("fake:" + provider, text)[:8], "big")
        self._faker.seed_instance(seed)
        if provider == "phone_number":  # the fictional 555-01xx range: never a real line
            return f"+1-{200 + seed % 800}-555-01{seed // 800 % 100:02d}"
        method = getattr(self._faker, provider, None)
        if method is None or not callable(method):
            raise ConfigError(f"unknown Faker provider {provider!r} in a fake:<provider> action")
        out = str(method())
        if provider in _UNIQUE_PROVIDERS:  # keep distinct inputs distinct (unique columns)
            tag = self._mac("uniq", text).hex()[:6]
            local, at, domain = out.partition("@")
            out = f"{local}.{tag}{at}{domain}"
        return out

    # ----------------------------------------------------------------- records

    def sql_row(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """Scrub the columns of ``row`` that have a rule."""
        for column in row:
            action = self.rules.sql.get((table, column))
            if action is not None:
                row[column] = self.apply(action, row[column], column)
        return row

    def redis_rule(self, key: bytes) -> list[RedisRule]:
        """The rules whose key glob matches ``key``."""
        text = key.decode("utf-8", "surrogateescape")
        return [r for r in self.rules.redis if fnmatch.fnmatchcase(text, r.key_glob)]

    def redis_record(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Scrub one Redis record (snapshot JSON): values, then names; None when the key is dropped."""
        rules = self.redis_rule(decode_bytes(obj["key"]))
        if not rules:
            return obj
        out = self._redis_values(obj, [r for r in rules if r.on_values])
        for rule in rules:
            if out is not None and not rule.on_values:
                out = self._redis_names(out, rule)
        return out

    def _redis_names(self, obj: dict[str, Any], rule: RedisRule) -> dict[str, Any] | None:
        act = rule.action

        def scrub(text: str, label: str) -> str | None:
            return None if act.kind == "null" else str(self.apply(act, text, label))

        if rule.key_name is not None:
            key = decode_bytes(obj["key"]).decode("utf-8", "surrogateescape")
            new = rename(key, rule.key_name, scrub)
            if new is None:
                return None
            return {**obj, "key": encode_bytes(new.encode("utf-8", "surrogateescape"))}
        if obj["type"] != "hash" or rule.field_name is None:
            return obj
        fields: dict[bytes, Any] = {}
        for f, v in obj["value"]:
            name = decode_bytes(f).decode("utf-8", "surrogateescape")
            renamed = rename(name, rule.field_name, scrub)
            if renamed is None:
                continue
            raw = renamed.encode("utf-8", "surrogateescape")
            if raw in fields:
                raise ConfigError(
                    f"redis rule {rule.key_glob}#{rule.field_glob}: two fields of key "
                    f"{decode_bytes(obj['key'])!r} scrub to the same field {raw!r}"
                )
            fields[raw] = v
        if not fields:
            return None
        return {**obj, "value": [[encode_bytes(f), fields[f]] for f in sorted(fields)]}

    def _redis_values(self, obj: dict[str, Any], rules: list[RedisRule]) -> dict[str, Any] | None:
        rtype = obj["type"]
        value = obj["value"]
        for rule in rules:
            act = rule.action
            if rtype == "string":
                if act.kind == "null":
                    return None
                value = encode_bytes(self.apply(act, decode_bytes(value), _last_segment(obj["key"])))
            elif rtype == "hash":
                pairs = []
                for f, v in value:
                    fname = decode_bytes(f).decode("utf-8", "surrogateescape")
                    if rule.field_glob is None or fnmatch.fnmatchcase(fname, rule.field_glob):
                        if act.kind == "null":
                            continue
                        v = encode_bytes(self.apply(act, decode_bytes(v), fname))
                    pairs.append([f, v])
                value = pairs
            elif rtype in ("list", "set"):
                if act.kind == "null":
                    return None
                items = [encode_bytes(self.apply(act, decode_bytes(v), "")) for v in value]
                if rtype == "set":
                    items = [encode_bytes(b) for b in sorted({decode_bytes(v) for v in items})]
                value = items
            else:
                if act.kind == "null":
                    return None
                best: dict[bytes, float] = {}
                for m, s in value:
                    new = self.apply(act, decode_bytes(m), "")
                    best[new] = max(best.get(new, float("-inf")), decode_score(s))
                value = [
                    [encode_bytes(m), encode_score(s)]
                    for m, s in sorted(best.items(), key=lambda t: (t[1], t[0]))
                ]
        if not value:
            return None
        return {**obj, "value": value}

    def thrift_record(self, part: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Scrub a stub or recording of Thrift ``part`` at the paths of the rules."""
        method = obj.get("method")
        for rule in self.rules.thrift:
            if rule.part != part or not fnmatch.fnmatchcase(str(method), rule.method):
                continue
            obj = self._walk(obj, rule.path, rule.action)
        return obj

    def _walk(self, node: Any, path: tuple[str, ...], action: Action, name: str = "") -> Any:
        if not path:
            if isinstance(node, list):
                return [self._walk(v, path, action, name) for v in node]
            if isinstance(node, dict) and set(node) != {"b64"}:
                return {k: self._walk(v, path, action, k) for k, v in node.items()}
            return self.apply(action, node, name)
        head, rest = path[0], path[1:]
        if isinstance(node, list):
            if head.isdigit():
                i = int(head)
                return [self._walk(v, rest, action, name) if j == i else v for j, v in enumerate(node)]
            return [self._walk(v, path, action, name) for v in node]
        if isinstance(node, dict):
            return {k: (self._walk(v, rest, action, k) if head in ("*", k) else v) for k, v in node.items()}
        return node


def _last_segment(key: Any) -> str:
    text = decode_bytes(key).decode("utf-8", "replace")
    return text.rsplit(":", 1)[-1]


def _mask(text: str) -> str:
    keep = 4 if len(text) > 6 else 1
    head, tail = text[:-keep], text[-keep:]
    return "".join("*" if ch.isalnum() else ch for ch in head) + tail


Progress = Callable[[str, int], None]


def scrub_snapshot(
    src: Path,
    out: Path,
    rules: ScrubRules,
    secret: bytes = DEFAULT_KEY,
    progress: Progress | None = None,
) -> Path:
    """Write a scrubbed copy of the snapshot ``src`` to ``out`` (may be ``src`` itself).

    Every file is validated while it streams through. A table whose primary key
    is scrubbed is re-sorted in memory (its rows change order).
    """
    snap = open_snapshot(Path(src), verify_checksums=True)
    scrubber = Scrubber(rules, secret)
    compress = any(e.path.endswith(".gz") for p in snap.manifest.parts.values() for e in p.files)
    with SnapshotWriter(
        Path(out), snap.manifest.name, snap.manifest.description, compress=compress
    ) as writer:
        writer.captured_from = dict(snap.manifest.captured_from)
        for name, part in snap.manifest.parts.items():
            if part.kind == "redis":
                _scrub_redis(snap, name, writer, scrubber, progress)
            elif part.kind == "sql":
                _scrub_sql(snap, name, writer, scrubber, progress)
            else:
                _scrub_thrift(snap, name, writer, scrubber, progress)
        applied = rules.describe()
        applied["at"] = now_utc().strftime("%Y-%m-%dT%H:%M:%SZ")
        applied["key"] = "custom" if secret != DEFAULT_KEY else "default"
        applied["values"] = dict(sorted(scrubber.counts.items()))
        if snap.manifest.scrub:
            applied["previous"] = snap.manifest.scrub
        writer.scrub = applied
        return writer.commit()


def _scrub_redis(
    snap: Snapshot, name: str, writer: SnapshotWriter, sc: Scrubber, progress: Progress | None
) -> None:
    renames = any(not r.on_values for r in sc.rules.redis)
    for db, entry in redis_files(snap, name):
        fw = writer.open_file(name, "redis", f"redis/{name}/db{db}.jsonl", jsonl=True)
        path = str(snap.path_of(entry))
        renamed: dict[bytes, tuple[int, dict[str, Any]]] = {}  # new key -> (line, record)
        for line, obj in iter_jsonl(snap.path_of(entry)):
            parse_redis_record(obj, db, path, line)  # validate before touching it
            new = sc.redis_record(obj)
            if new is None:
                continue
            if not renames:
                fw.write(new)
                continue
            key = decode_bytes(new["key"])
            if key in renamed:  # key names scrubbed: two keys may not become one
                raise SnapshotError(
                    f"scrubbing key names makes this key and the one on line {renamed[key][0]} "
                    f"the same key {key!r}",
                    path,
                    line,
                )
            renamed[key] = (line, new)
        for key in sorted(renamed):  # new names, new order: lines stay sorted by key bytes
            fw.write(renamed[key][1])
        writer.add_file(name, fw.close())
        if progress is not None:
            progress(name, entry.records)


def _scrub_sql(
    snap: Snapshot, name: str, writer: SnapshotWriter, sc: Scrubber, progress: Progress | None
) -> None:
    ddl = sql_schema(snap, name)
    tables = parse_schema(ddl)
    part = snap.part(name)
    fw = writer.open_file(name, "sql", f"sql/{name}/schema.sql", jsonl=False)
    fw.write_text(ddl)
    writer.add_file(name, fw.close())
    writer.set_tables(name, list(part.tables))
    files = sql_table_files(snap, name)
    for table in part.tables:
        if table not in files:
            continue
        fw = writer.open_file(name, "sql", f"sql/{name}/tables/{table}.jsonl", jsonl=True)
        tdef = tables.get(table)
        pk = tdef.primary_key if tdef else ()
        resort = any((table, c) in sc.rules.sql and sc.rules.sql[(table, c)].kind != "keep" for c in pk)
        rows: Iterator[dict[str, Any]] = (
            sc.sql_row(table, row) for _l, row in iter_sql_rows(snap, name, table)
        )
        if resort and tdef is not None:
            rows = iter(sorted(rows, key=lambda r: tuple((v is None, v) for v in tdef.row_key(r))))
        for row in rows:
            fw.write(row)
        writer.add_file(name, fw.close())
        if progress is not None:
            progress(name, files[table].records)


def _scrub_thrift(
    snap: Snapshot, name: str, writer: SnapshotWriter, sc: Scrubber, progress: Progress | None
) -> None:
    for which, it in (("stubs", iter_stubs(snap, name)), ("recordings", iter_recordings(snap, name))):
        fw = None
        n = 0
        for _path, _line, obj in it:
            if fw is None:
                fw = writer.open_file(name, "thrift", f"thrift/{name}/{which}.jsonl", jsonl=False)
            fw.write(sc.thrift_record(name, obj))
            n += 1
        if fw is not None:
            writer.add_file(name, fw.close())
        if progress is not None:
            progress(name, n)
