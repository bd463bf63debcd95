"""Seeding from a snapshot's SQL part: load, reset, refusal of bad parts (state unchanged), admin API."""

from __future__ import annotations

import json
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from simdb.errors import SnapshotError
from simdb.mysql.catalog import Column
from simdb.mysql.fake import MySQLFake
from simdb.mysql.rows import decode_row, encode_value
from simdb.snapshot.writer import SnapshotWriter
from tests.mysql.helpers import run

SCHEMA = """CREATE TABLE `users` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(64) NOT NULL,
  `avatar` varbinary(16) DEFAULT NULL,
  `score` decimal(8,2) DEFAULT NULL,
  `joined` datetime DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `pins` (
  `id` bigint NOT NULL,
  `user_id` int NOT NULL,
  `title` text,
  PRIMARY KEY (`id`),
  KEY `ix_user` (`user_id`),
  CONSTRAINT `fk_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
"""

USERS = [
    {"id": 1, "name": "ann", "avatar": {"b64": "AP+A"}, "score": "12.50", "joined": "2024-01-02 03:04:05"},
    {"id": 2, "name": "bob", "avatar": None, "score": None, "joined": None},
]
PINS = [{"id": 10, "user_id": 1, "title": "first"}, {"id": 11, "user_id": 2, "title": "ünïcode"}]


def make_snapshot(out: Path, users: list[object] = USERS, pins: list[object] = PINS) -> Path:
    """A snapshot with one SQL part ``db`` (tables users, pins)."""
    with SnapshotWriter(out, name="test") as writer:
        schema = writer.open_file("db", "sql", "sql/db/schema.sql", jsonl=False)
        schema.write_text(SCHEMA)
        writer.add_file("db", schema.close())
        for table, rows in (("users", users), ("pins", pins)):
            f = writer.open_file("db", "sql", f"sql/db/tables/{table}.jsonl")
            for row in rows:
                f.write(row)
            writer.add_file("db", f.close())
        writer.set_tables("db", ["users", "pins"])
        writer.commit()
    return out


@pytest.mark.fake
def test_row_values_round_trip() -> None:
    cols = [
        Column("a", "varbinary(4)", "varbinary"),
        Column("b", "decimal(8,2)", "decimal"),
        Column("c", "int", "int"),
    ]
    obj = {"a": encode_value(b"\xff\x00"), "b": encode_value(Decimal("1.50")), "c": encode_value(7)}
    assert decode_row(obj, cols, ("x.jsonl", 1)) == (b"\xff\x00", "1.50", 7)
    with pytest.raises(SnapshotError, match=r"x.jsonl:3: .*column c: expected an integer"):
        decode_row({"a": None, "b": None, "c": "7"}, cols, ("x.jsonl", 3))


def test_load_reset_and_query(mysql_server: MySQLFake, tmp_path: Path) -> None:
    snap = make_snapshot(tmp_path / "snap")
    mysql_server.load(snap)
    rows = run(
        mysql_server,
        "SELECT u.name, u.avatar, u.score, u.joined, p.title FROM users u "
        "JOIN pins p ON p.user_id = u.id ORDER BY p.id",
    )
    assert [r[0] for r in rows] == ["ann", "bob"]
    assert (
        rows[0][1] == b"\x00\xff\x80"
        and rows[0][2] == Decimal("12.50")
        and str(rows[0][3]) == "2024-01-02 03:04:05"
    )
    assert rows[1][4] == "ünïcode"
    run(
        mysql_server,
        "DELETE FROM pins",
        "INSERT INTO users (name) VALUES ('cy')",
        "CREATE TABLE extra (id INT)",
    )
    mysql_server.reset()
    assert run(mysql_server, "SELECT COUNT(*) FROM pins") == [(2,)]
    assert run(mysql_server, "SELECT name FROM users ORDER BY id") == [("ann",), ("bob",)]
    assert run(mysql_server, "SELECT MAX(id) FROM users") == [(2,)]


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ([{"id": 1, "name": "ann"}], r"users.jsonl:1: table users: missing columns"),
        (
            [USERS[0], {**USERS[1], "id": "two"}],
            r"users.jsonl:2: table users, column id: expected an integer",
        ),
        ([USERS[0], {**USERS[1], "name": None}], r"users.jsonl:2: table users: column name is NOT NULL"),
    ],
)
def test_bad_part_is_refused_and_state_kept(
    mysql_server: MySQLFake, tmp_path: Path, users: list[object], message: str
) -> None:
    mysql_server.load(make_snapshot(tmp_path / "good"))
    run(mysql_server, "INSERT INTO users (name) VALUES ('live')")
    bad = make_snapshot(tmp_path / "bad", users=users)
    with pytest.raises(SnapshotError, match=message):
        mysql_server.load(bad)
    assert run(mysql_server, "SELECT name FROM users ORDER BY id") == [("ann",), ("bob",), ("live",)]


def test_corrupt_file_is_refused(mysql_server: MySQLFake, tmp_path: Path) -> None:
    mysql_server.load(make_snapshot(tmp_path / "good"))
    bad = make_snapshot(tmp_path / "bad")
    (bad / "sql/db/tables/pins.jsonl").write_text('{"id": 1,\n', encoding="utf-8")
    with pytest.raises(SnapshotError, match="checksum mismatch"):
        mysql_server.load(bad)
    assert run(mysql_server, "SELECT COUNT(*) FROM users") == [(2,)]


def test_admin_api_reset_and_health(mysql_server: MySQLFake, tmp_path: Path) -> None:
    port = mysql_server.endpoint.admin_port
    assert port is not None
    base = f"http://127.0.0.1:{port}/_simdb"
    body = json.dumps({"path": str(make_snapshot(tmp_path / "snap"))}).encode()
    req = urllib.request.Request(
        f"{base}/snapshot", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert json.load(resp)["ok"] is True
    run(mysql_server, "DELETE FROM pins")
    json_type = {"Content-Type": "application/json"}
    reset = urllib.request.Request(f"{base}/reset", method="POST", headers=json_type)
    with urllib.request.urlopen(reset, timeout=30) as resp:
        assert json.load(resp) == {"ok": True, "reset": "db"}
    assert run(mysql_server, "SELECT COUNT(*) FROM pins") == [(2,)]
    with urllib.request.urlopen(f"{base}/health", timeout=30) as resp:
        health = json.load(resp)
    assert health["ok"] is True and health["kind"] == "mysql"


@pytest.mark.fake
def test_seed_any_sqlalchemy_engine(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from simdb.mysql.seed import seed

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    counts = seed(engine, make_snapshot(tmp_path / "snap"))
    assert counts == {"users": 2, "pins": 2}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT name, avatar, score FROM users ORDER BY id").all()
    assert [tuple(r) for r in rows] == [("ann", b"\x00\xff\x80", 12.5), ("bob", None, None)]
    engine.dispose()
