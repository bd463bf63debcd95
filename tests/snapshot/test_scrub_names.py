"""Scrubbing key names and hash field names, and ``hash`` giving one output for one value wherever it
sits: SQL cells, Redis string values, hash fields and values, set and zset members, key names."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdb.errors import ConfigError, SnapshotError
from simdb.snapshot.reader import iter_redis, iter_sql_rows, open_snapshot
from simdb.snapshot.scrub import parse_rules, scrub_snapshot
from simdb.snapshot.verify import verify_snapshot
from tests.snapshot.helpers import make_snapshot

pytestmark = pytest.mark.fake

EVERYWHERE = {
    "sql": {"users.email": "hash", "users.id": "hash"},
    "redis": {
        "str:*": "hash",
        "h:*": "hash",  # the values of every field
        "h:*#<*>": "hash",  # the field names
        "set:*": "hash",
        "z:*": "hash",
        "name:<*>": "hash",  # the key name after "name:"
        "user:<*>:x": "hash",
    },
}

texts = st.one_of(
    st.emails(),
    st.from_regex(r"\+?[0-9]{1,3}[ -][0-9]{3}[ -][0-9]{4}", fullmatch=True),
    st.integers(min_value=0, max_value=10**12).map(str),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
)


def _redis(value: str, number: int) -> list[dict[str, Any]]:
    return [
        {"key": "str:1", "type": "string", "value": value, "ttl_ms": None},
        {"key": "h:1", "type": "hash", "value": [[value, value]], "ttl_ms": None},
        {"key": "set:1", "type": "set", "value": [value], "ttl_ms": None},
        {"key": "z:1", "type": "zset", "value": [[value, 1.0]], "ttl_ms": None},
        {"key": "name:" + value, "type": "string", "value": "v", "ttl_ms": None},
        {"key": f"user:{number}:x", "type": "string", "value": "v", "ttl_ms": None},
    ]


@settings(max_examples=30, deadline=None)
@given(value=texts, number=st.integers(min_value=1, max_value=2**31 - 1))
def test_hash_is_the_same_wherever_the_value_sits(value: str, number: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = make_snapshot(
            Path(tmp) / "src",
            redis=_redis(value, number),
            users=[{"id": number, "email": value, "name": None}],
            boards=[],
        )
        out = scrub_snapshot(src, Path(tmp) / "out", parse_rules(EVERYWHERE), b"key")
        snap = open_snapshot(out, verify_checksums=True)
        (user,) = [row for _, row in iter_sql_rows(snap, "db", "users")]
        expected = str(user["email"]).encode()
        by_key = {e.key: e for e in iter_redis(snap, "cache")}
        assert by_key[b"str:1"].value == expected
        assert by_key[b"h:1"].value == [(expected, expected)]
        assert by_key[b"set:1"].value == [expected]
        assert by_key[b"z:1"].value == [(expected, 1.0)]
        assert b"name:" + expected in by_key
        assert f"user:{user['id']}:x".encode() in by_key  # a hashed id in a key name keeps the join
        if value.encode() != expected:
            assert b"name:" + value.encode() not in by_key
        assert verify_snapshot(out).ok


def test_key_names_are_scrubbed_and_stay_sorted(tmp_path: Path) -> None:
    src = make_snapshot(
        tmp_path / "src",
        redis=[
            {"key": "cust:email:alice@example.com", "type": "string", "value": "1", "ttl_ms": None},
            {"key": "cust:email:bob@example.com", "type": "string", "value": "2", "ttl_ms": None},
            {"key": "other", "type": "string", "value": "alice@example.com", "ttl_ms": None},
        ],
    )
    rules = parse_rules({"redis": {"cust:email:<*>": "fake:email", "other": "fake:email"}})
    out = scrub_snapshot(src, tmp_path / "out", rules, b"key")
    entries = list(iter_redis(open_snapshot(out), "cache"))
    keys = [e.key for e in entries]
    assert keys == sorted(keys)
    assert not any(b"alice" in k or b"bob" in k for k in keys)
    other = next(e for e in entries if e.key == b"other")
    assert b"cust:email:" + other.value in keys  # the same fake e-mail in the value and the name
    assert verify_snapshot(out).ok


def test_null_on_a_key_name_drops_the_key(tmp_path: Path) -> None:
    src = make_snapshot(
        tmp_path / "src",
        redis=[
            {"key": "ip:10.1.2.3", "type": "string", "value": "1", "ttl_ms": None},
            {"key": "keep", "type": "string", "value": "1", "ttl_ms": None},
        ],
    )
    out = scrub_snapshot(src, tmp_path / "out", parse_rules({"redis": {"ip:<*>": "null"}}), b"k")
    assert [e.key for e in iter_redis(open_snapshot(out), "cache")] == [b"keep"]


def test_two_keys_scrubbed_into_one_are_refused(tmp_path: Path) -> None:
    src = make_snapshot(
        tmp_path / "src",
        redis=[
            {"key": "a:ab1", "type": "string", "value": "1", "ttl_ms": None},
            {"key": "a:cd1", "type": "string", "value": "2", "ttl_ms": None},
        ],
    )
    with pytest.raises(SnapshotError, match="the same key"):
        scrub_snapshot(src, tmp_path / "out", parse_rules({"redis": {"a:<*>": "mask"}}), b"k")


@pytest.mark.parametrize(
    ("glob", "message"),
    [("a:<*", "unclosed '<'"), ("a:<>", "empty '<>'"), ("a:<*>#f", "not both"), ("a:<<*>>", "inside")],
)
def test_bad_name_rules_are_named(glob: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rules({"redis": {glob: "hash"}}, "rules.yaml")
