"""Synthetic snapshots: deterministic for a seed, valid against DDL and IDL, consistent ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdb.snapshot.reader import iter_sql_rows, iter_stubs, open_snapshot
from simdb.snapshot.synth import synth_snapshot
from simdb.snapshot.verify import ThriftIdl, verify_snapshot

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "thrift/homefeed"
SCHEMA = """
CREATE TABLE users (id INT NOT NULL PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE, name VARCHAR(40),
  referrer_id INT NULL, balance DECIMAL(8,2) NOT NULL, born DATE, seen DATETIME, avatar BLOB,
  kind ENUM('a','b') NOT NULL, FOREIGN KEY (referrer_id) REFERENCES users(id));
CREATE TABLE pins (id BIGINT NOT NULL PRIMARY KEY, user_id INT NOT NULL, score DOUBLE, title VARCHAR(20),
  FOREIGN KEY (user_id) REFERENCES users(id));
CREATE TABLE pin_tags (pin_id BIGINT NOT NULL, tag VARCHAR(10) NOT NULL, PRIMARY KEY (pin_id, tag),
  FOREIGN KEY (pin_id) REFERENCES pins(id));
"""


def make(tmp: Path, name: str, seed: int, rows: int = 15) -> Path:
    schema = tmp / "schema.sql"
    schema.write_text(SCHEMA)
    out = tmp / name
    synth_snapshot(
        out,
        idls=[("ranker", IDL / "ranker.thrift", "Ranker"), ("pinstore", IDL / "pinstore.thrift", "PinStore")],
        include_dirs=[IDL],
        sql_schema=schema,
        rows=rows,
        seed=seed,
    )
    return out


def test_same_seed_same_bytes_and_valid(tmp_path: Path) -> None:
    a = make(tmp_path, "a", 7)
    b = make(tmp_path, "b", 7)
    c = make(tmp_path, "c", 8)
    for rel in ("sql/db/tables/users.jsonl", "sql/db/tables/pin_tags.jsonl", "thrift/ranker/stubs.jsonl"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    assert (a / "sql/db/tables/users.jsonl").read_bytes() != (c / "sql/db/tables/users.jsonl").read_bytes()
    idls = {
        "ranker": ThriftIdl(IDL / "ranker.thrift", "Ranker", (IDL,)),
        "pinstore": ThriftIdl(IDL / "pinstore.thrift", "PinStore", (IDL,)),
    }
    report = verify_snapshot(a, idls)
    assert report.ok, [str(f) for f in report.findings]
    snap = open_snapshot(a)
    assert snap.part("db").tables == ("users", "pins", "pin_tags")
    users = [r for _, r in iter_sql_rows(snap, "db", "users")]
    assert [u["id"] for u in users] == list(range(1, 16))
    assert len({u["email"] for u in users}) == 15
    pins = {r["id"] for _, r in iter_sql_rows(snap, "db", "pins")}
    stubs = [s for _, _, s in iter_stubs(snap, "pinstore")]
    assert stubs and all(s["match"] == "exact" for s in stubs)
    pin_args = [s["args"]["id"] for s in stubs if s["method"] == "getPin"]
    assert pin_args and set(pin_args) <= pins


def test_more_rows_keep_the_first_ones(tmp_path: Path) -> None:
    small = make(tmp_path, "s", 3, rows=5)
    big = make(tmp_path, "b", 3, rows=10)
    first = (small / "sql/db/tables/users.jsonl").read_text().splitlines()
    assert (big / "sql/db/tables/users.jsonl").read_text().splitlines()[:5] == first
