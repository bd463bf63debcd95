"""Scrubbing: deterministic, type-preserving, recorded in the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdb.errors import ConfigError
from simdb.snapshot.reader import iter_recordings, iter_redis, iter_sql_rows, open_snapshot
from simdb.snapshot.scrub import Action, Scrubber, parse_rules, scrub_snapshot
from simdb.snapshot.verify import verify_snapshot
from tests.snapshot.helpers import make_snapshot

pytestmark = pytest.mark.fake

RULES = {
    "sql": {"users.email": "fake:email", "users.name": "mask", "boards.user_id": "keep"},
    "redis": {"user:*:profile#email": "fake:email", "user:*:name": "null"},
    "thrift": {"ranker.rank.args.req.email": "fake:email"},
}


def test_same_value_same_output_across_stores(tmp_path: Path) -> None:
    recs = [
        {
            "method": "rank",
            "args": {"req": {"email": "ann@example.com", "userId": 1}},
            "reply": {"return": []},
            "latency_ms": 2,
        }
    ]
    src = make_snapshot(tmp_path / "src", recordings=recs)
    out = scrub_snapshot(src, tmp_path / "out", parse_rules(RULES), b"k1")
    snap = open_snapshot(out, verify_checksums=True)
    users = {r["id"]: r for _, r in iter_sql_rows(snap, "db", "users")}
    email = users[1]["email"]
    assert email != "ann@example.com" and "@" in email
    assert users[2]["email"] != email
    profile = next(e for e in iter_redis(snap, "cache") if e.key == b"user:1:profile")
    assert dict(profile.value)[b"email"] == email.encode()
    assert dict(profile.value)[b"n"] == b"1"
    assert not any(e.key == b"user:2:name" for e in iter_redis(snap, "cache"))
    rec = next(iter_recordings(snap, "ranker"))[2]
    assert rec["args"]["req"] == {"email": email, "userId": 1}
    assert users[1]["name"] == "**n"
    assert snap.manifest.scrub is not None
    assert snap.manifest.scrub["rules"] == RULES
    assert snap.manifest.scrub["key"] == "custom"
    assert verify_snapshot(out).ok
    again = scrub_snapshot(src, tmp_path / "again", parse_rules(RULES), b"k1")
    assert (again / "sql/db/tables/users.jsonl").read_bytes() == (
        out / "sql/db/tables/users.jsonl"
    ).read_bytes()
    other = scrub_snapshot(src, tmp_path / "other", parse_rules(RULES), b"k2")
    assert (other / "sql/db/tables/users.jsonl").read_bytes() != (
        out / "sql/db/tables/users.jsonl"
    ).read_bytes()


def test_hashing_a_key_column_keeps_joins_and_order(tmp_path: Path) -> None:
    rules = parse_rules({"sql": {"users.id": "hash", "boards.user_id": "hash"}})
    out = scrub_snapshot(make_snapshot(tmp_path / "src"), tmp_path / "out", rules)
    snap = open_snapshot(out)
    ids = [r["id"] for _, r in iter_sql_rows(snap, "db", "users")]
    assert ids == sorted(ids) and all(isinstance(i, int) and i > 0 for i in ids)
    assert {r["user_id"] for _, r in iter_sql_rows(snap, "db", "boards")} == set(ids)
    assert verify_snapshot(out).ok


def test_actions_preserve_types() -> None:
    sc = Scrubber(parse_rules({}), b"k")
    assert isinstance(sc.apply(Action("hash"), 42), int)
    assert sc.apply(Action("hash"), "x") == sc.apply(Action("hash"), "x")
    assert len(sc.apply(Action("hash"), "x")) == 16
    assert sc.apply(Action("mask"), "4111-1111-1111-1234") == "****-****-****-1234"
    assert sc.apply(Action("null"), "x") is None
    assert sc.apply(Action("keep"), "x") == "x"
    b = sc.apply(Action("hash"), {"b64": "AAE="})
    assert set(b) == {"b64"} or isinstance(b, str)
    assert sc.apply(Action("fake"), "Ann Smith", "full_name") == sc.apply(Action("fake"), "Ann Smith", "name")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"sql": {"users": "mask"}}, "table.column"),
        ({"sql": {"users.email": "scramble"}}, "unknown action 'scramble'"),
        ({"mongo": {}}, "unknown section"),
        ({"thrift": {"ranker.rank": "mask"}}, "part.method.path"),
    ],
)
def test_bad_rules_named(rules: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rules(rules, "rules.yaml")
