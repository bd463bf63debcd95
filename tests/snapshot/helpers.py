"""Build small snapshots for tests, with the real writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simdb.snapshot.writer import SnapshotWriter

SCHEMA = """CREATE TABLE `users` (
  `id` int(11) NOT NULL,
  `email` varchar(100) NOT NULL,
  `name` varchar(100) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;

CREATE TABLE `boards` (
  `id` int(11) NOT NULL,
  `user_id` int(11) NOT NULL,
  `title` varchar(200) NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `boards_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
) ENGINE=InnoDB;
"""

USERS = [
    {"id": 1, "email": "ann@example.com", "name": "Ann"},
    {"id": 2, "email": "bob@example.com", "name": None},
]
BOARDS = [
    {"id": 101, "user_id": 1, "title": "Cats"},
    {"id": 102, "user_id": 2, "title": "Dogs"},
]
REDIS = [
    {"key": "followees:1", "type": "zset", "value": [["2", 1.0], ["3", 2.5]], "ttl_ms": None},
    {
        "key": "user:1:profile",
        "type": "hash",
        "value": [["email", "ann@example.com"], ["n", "1"]],
        "ttl_ms": None,
    },
    {"key": "user:2:name", "type": "string", "value": "Bob", "ttl_ms": 60000},
    {"key": {"b64": "/wA="}, "type": "list", "value": ["a", {"b64": "gA=="}], "ttl_ms": None},
]


def make_snapshot(
    out: Path,
    redis: list[dict[str, Any]] | None = None,
    users: list[dict[str, Any]] | None = None,
    boards: list[dict[str, Any]] | None = None,
    stubs: list[dict[str, Any]] | None = None,
    recordings: list[dict[str, Any]] | None = None,
    compress: bool = False,
) -> Path:
    """A snapshot with a Redis part ``cache``, an SQL part ``db`` and a Thrift part ``ranker``."""
    with SnapshotWriter(out, "test", "a test snapshot", compress=compress) as w:
        fw = w.open_file("cache", "redis", "redis/cache/db0.jsonl")
        for rec in sorted(REDIS if redis is None else redis, key=_key_bytes):
            fw.write(rec)
        w.add_file("cache", fw.close())
        fw = w.open_file("db", "sql", "sql/db/schema.sql", jsonl=False)
        fw.write_text(SCHEMA)
        w.add_file("db", fw.close())
        for table, rows in (
            ("users", USERS if users is None else users),
            ("boards", BOARDS if boards is None else boards),
        ):
            fw = w.open_file("db", "sql", f"sql/db/tables/{table}.jsonl")
            for row in rows:
                fw.write(row)
            w.add_file("db", fw.close())
        w.set_tables("db", ["users", "boards"])
        if stubs is not None or recordings is not None:
            for which, items in (("stubs", stubs), ("recordings", recordings)):
                if items is None:
                    continue
                fw = w.open_file("ranker", "thrift", f"thrift/ranker/{which}.jsonl", jsonl=False)
                for item in items:
                    fw.write(item)
                w.add_file("ranker", fw.close())
        return w.commit()


def _key_bytes(rec: dict[str, Any]) -> bytes:
    from simdb.snapshot.format import decode_bytes

    return decode_bytes(rec["key"])
