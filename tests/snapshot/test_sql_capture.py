"""Capture from a real MariaDB (and SQLite), subset with foreign keys followed, load back, compare."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa

from simdb.errors import ConfigError, SnapshotError
from simdb.snapshot.capture_sql import capture_sql, parse_limits, parse_where
from simdb.snapshot.diff import diff_snapshots
from simdb.snapshot.load_sql import load_sql
from simdb.snapshot.reader import iter_sql_rows, open_snapshot
from simdb.snapshot.verify import verify_snapshot
from simdb.snapshot.writer import SnapshotWriter
from tests.fixtures.common import IN_CI

pytestmark = pytest.mark.real

DDL = [
    """CREATE TABLE users (id INT NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE,
         name VARCHAR(100), referrer_id INT NULL, balance DECIMAL(10,2) NOT NULL DEFAULT 0,
         created DATETIME NOT NULL, avatar BLOB NULL,
         FOREIGN KEY (referrer_id) REFERENCES users(id)) ENGINE=InnoDB""",
    """CREATE TABLE boards (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL,
         title VARCHAR(200) NOT NULL, FOREIGN KEY (user_id) REFERENCES users(id)) ENGINE=InnoDB""",
    """CREATE TABLE pins (id BIGINT NOT NULL PRIMARY KEY, board_id INT NOT NULL, user_id INT NOT NULL,
         score DOUBLE, day DATE, dur TIME, kind ENUM('image','video') NOT NULL DEFAULT 'image',
         FOREIGN KEY (board_id) REFERENCES boards(id),
         FOREIGN KEY (user_id) REFERENCES users(id)) ENGINE=InnoDB""",
    "CREATE TABLE tags (pin_id BIGINT NOT NULL, tag VARCHAR(30) NOT NULL, PRIMARY KEY (pin_id, tag),"
    " FOREIGN KEY (pin_id) REFERENCES pins(id)) ENGINE=InnoDB",
]


def fill(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for stmt in DDL:
            conn.exec_driver_sql(stmt)
        for i in range(1, 21):
            ref = i - 1 if i > 1 else None
            conn.exec_driver_sql(
                "INSERT INTO users VALUES (%s, %s, %s, %s, %s, '2024-01-02 03:04:05', %s)",
                (
                    i,
                    f"u{i}@example.com",
                    f"User {i}" if i % 3 else None,
                    ref,
                    f"{i}.50",
                    bytes([i, 255, 0]) if i % 2 else None,
                ),
            )
        for b in range(101, 141):
            conn.exec_driver_sql("INSERT INTO boards VALUES (%s, %s, %s)", (b, 1 + b % 20, f"Board {b}"))
        for p in range(1001, 1201):
            conn.exec_driver_sql(
                "INSERT INTO pins VALUES (%s, %s, %s, %s, '2024-05-06', '01:02:03', %s)",
                (p, 101 + p % 40, 1 + p % 20, p / 7, "video" if p % 5 == 0 else "image"),
            )
            conn.exec_driver_sql("INSERT INTO tags VALUES (%s, 'cats'), (%s, 'dogs')", (p, p))
    engine.dispose()


def capture(url: str, out: Path, **kw: object) -> Path:
    with SnapshotWriter(out, "t") as w:
        capture_sql(w, "db", url, **kw)  # type: ignore[arg-type]
        return w.commit()


def test_full_capture_round_trip_is_identical(mariadb_url: str, tmp_path: Path) -> None:
    fill(mariadb_url)
    first = capture(mariadb_url, tmp_path / "a")
    report = verify_snapshot(first)
    assert report.ok, report.findings
    snap = open_snapshot(first)
    assert snap.part("db").tables[:2] == ("users", "boards")
    assert report.records["db"] == 20 + 40 + 200 + 400
    schema = (first / "sql/db/schema.sql").read_text()
    assert "CREATE TABLE `pins`" in schema and "AUTO_INCREMENT=" not in schema
    users = [r for _, r in iter_sql_rows(snap, "db", "users")]
    assert users[0]["balance"] == "1.50" and users[0]["avatar"] == {"b64": "Af8A"}
    assert users[0]["created"] == "2024-01-02 03:04:05"
    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET name='changed' WHERE id=5")
        conn.exec_driver_sql("CREATE TABLE unrelated (x INT)")
    engine.dispose()
    counts = load_sql(mariadb_url, first, "db")
    assert counts == {"users": 20, "boards": 40, "pins": 200, "tags": 400}
    second = capture(mariadb_url, tmp_path / "b", tables=["users", "boards", "pins", "tags"])
    d = diff_snapshots(first, second)
    assert d.same, d.render()


def test_subset_follows_foreign_keys(mariadb_url: str, tmp_path: Path) -> None:
    fill(mariadb_url)
    root = capture(mariadb_url, tmp_path / "s", tables=["tags"], where={"tags": "pin_id <= 1003"}, limit=None)
    report = verify_snapshot(root)
    assert report.ok, [str(f) for f in report.findings]
    snap = open_snapshot(root)
    pins = [r["id"] for _, r in iter_sql_rows(snap, "db", "pins")]
    assert pins == [1001, 1002, 1003]
    users = [r["id"] for _, r in iter_sql_rows(snap, "db", "users")]
    # pins' users and boards' users, then the referrer chain down to user 1
    assert users == list(range(1, max(users) + 1))
    boards = [r["id"] for _, r in iter_sql_rows(snap, "db", "boards")]
    assert boards == sorted({101 + p % 40 for p in pins})


def test_limit_and_where_per_table(mariadb_url: str, tmp_path: Path) -> None:
    fill(mariadb_url)
    root = capture(
        mariadb_url,
        tmp_path / "s",
        tables=["pins", "boards"],
        where={"pins": "kind = 'video'"},
        limits={"pins": 3, "boards": 2},
    )
    assert verify_snapshot(root).ok
    snap = open_snapshot(root)
    assert [r["id"] for _, r in iter_sql_rows(snap, "db", "pins")] == [1005, 1010, 1015]
    boards = [r["id"] for _, r in iter_sql_rows(snap, "db", "boards")]
    assert boards[:2] == [101, 102] and {101 + p % 40 for p in (1005, 1010, 1015)} <= set(boards)
    assert "tags" not in snap.part("db").tables


def test_capture_from_sqlite_generates_mysql_ddl_and_loads_into_mariadb(
    mariadb_url: str, tmp_path: Path
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'src.db'}"
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(50) NOT NULL, bio TEXT)"
        )
        conn.exec_driver_sql(
            "CREATE TABLE boards (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL "
            "REFERENCES users(id), title VARCHAR)"
        )
        conn.exec_driver_sql("INSERT INTO users VALUES (1, 'a@x', 'hi'), (2, 'b@x', NULL)")
        conn.exec_driver_sql("INSERT INTO boards VALUES (10, 2, 'b')")
    engine.dispose()
    first = capture(sqlite_url, tmp_path / "a", tables=["boards"])
    assert verify_snapshot(first).ok
    assert [r["id"] for _, r in iter_sql_rows(open_snapshot(first), "db", "users")] == [2]
    load_sql(mariadb_url, first, "db")
    second = capture(mariadb_url, tmp_path / "b")
    a = [r for _, r in iter_sql_rows(open_snapshot(first), "db", "boards")]
    b = [r for _, r in iter_sql_rows(open_snapshot(second), "db", "boards")]
    assert a == b


def test_bad_rows_refused_before_touching_the_database(mariadb_url: str, tmp_path: Path) -> None:
    fill(mariadb_url)
    root = capture(mariadb_url, tmp_path / "s", tables=["users"])
    rel = root / "sql/db/tables/users.jsonl"
    lines = rel.read_text().splitlines()
    lines[3] = lines[3].replace('"id":4', '"id":"four"')
    rel.write_text("\n".join(lines) + "\n")
    from tests.snapshot.test_reader_verify import _rewrite

    _rewrite(root, "sql/db/tables/users.jsonl", rel.read_text(), fix_checksum=True)
    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET name='marker' WHERE id=1")
    with pytest.raises(SnapshotError, match=r"users\.jsonl:4"):
        load_sql(mariadb_url, root, "db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM users WHERE id=1").scalar() == "marker"
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM pins").scalar() == 200
    engine.dispose()


def test_flag_parsing() -> None:
    assert parse_where(["users:id <= 20", "pins: board_id IN (1,2)"]) == {
        "users": "id <= 20",
        "pins": "board_id IN (1,2)",
    }
    assert parse_limits(["10", "pins:5"]) == (10, {"pins": 5})
    with pytest.raises(ConfigError, match="TABLE:CONDITION"):
        parse_where(["users"])
    with pytest.raises(ConfigError, match="N or TABLE:N"):
        parse_limits(["pins:x"])


def test_unknown_table_named(mariadb_url: str, tmp_path: Path) -> None:
    fill(mariadb_url)
    with pytest.raises(ConfigError, match="no table 'nope'"):
        capture(mariadb_url, tmp_path / "s", tables=["nope"])
    assert not (tmp_path / "s").exists()


# mysqlclient is the optional extra `fast-mysql`; compared when installed
# CI installs the optional C driver (make test), so there it is always covered.
DRIVERS = ["pymysql"] + (["mysqldb"] if IN_CI or importlib.util.find_spec("MySQLdb") else [])


@pytest.mark.parametrize("driver", DRIVERS)
def test_drivers_capture_identical_bytes(mariadb_url: str, tmp_path: Path, driver: str) -> None:
    fill(mariadb_url)
    reference = capture(mariadb_url, tmp_path / "ref")
    other = capture(mariadb_url.replace("+pymysql://", f"+{driver}://"), tmp_path / driver)
    for table in ("users", "boards", "pins", "tags"):
        rel = f"sql/db/tables/{table}.jsonl"
        assert (reference / rel).read_bytes() == (other / rel).read_bytes()
