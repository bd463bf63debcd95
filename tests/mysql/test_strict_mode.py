"""STRICT_TRANS_TABLES from the DDL: each violation gets MariaDB's code and exact text, on the
fake and on a real MariaDB (the same test runs against both)."""

from __future__ import annotations

import pymysql
import pytest

from simdb.mysql.fake import MySQLFake
from tests.fixtures.mysql import MYSQL_DATABASE
from tests.mysql.helpers import connect

DDL = (
    "CREATE TABLE s (id INT UNSIGNED NOT NULL AUTO_INCREMENT, name VARCHAR(5) NOT NULL, "
    "code CHAR(2) DEFAULT NULL, kind ENUM('small','large') DEFAULT NULL, qty TINYINT DEFAULT NULL, "
    "big BIGINT UNSIGNED DEFAULT NULL, price DECIMAL(5,2) DEFAULT NULL, PRIMARY KEY (id))"
)

CASES = [
    ("INSERT INTO s (name) VALUES ('abcdefghijk')", 1406, "Data too long for column 'name' at row 1"),
    ("INSERT INTO s (name) VALUES ('ok'), ('toolong')", 1406, "Data too long for column 'name' at row 2"),
    ("INSERT INTO s (name, code) VALUES ('a', 'xyz')", 1406, "Data too long for column 'code' at row 1"),
    ("INSERT INTO s (name, kind) VALUES ('a', 'medium')", 1265, "Data truncated for column 'kind' at row 1"),
    ("INSERT INTO s (id, name) VALUES (-1, 'a')", 1264, "Out of range value for column 'id' at row 1"),
    ("INSERT INTO s (name, qty) VALUES ('a', 128)", 1264, "Out of range value for column 'qty' at row 1"),
    ("INSERT INTO s (name, qty) VALUES ('a', -129)", 1264, "Out of range value for column 'qty' at row 1"),
    ("INSERT INTO s (name, big) VALUES ('a', -1)", 1264, "Out of range value for column 'big' at row 1"),
    (
        "INSERT INTO s (name, price) VALUES ('a', 1000)",
        1264,
        "Out of range value for column 'price' at row 1",
    ),
    ("INSERT INTO s (name) VALUES (NULL)", 1048, "Column 'name' cannot be null"),
    (
        "INSERT INTO s (name, qty) VALUES ('a', 'abc')",
        1366,
        f"Incorrect integer value: 'abc' for column `{MYSQL_DATABASE}`.`s`.`qty` at row 1",
    ),
    ("REPLACE INTO s (id, name) VALUES (1, 'waytoolong')", 1406, "Data too long for column 'name' at row 1"),
]


def _error(conn: pymysql.connections.Connection, sql: str) -> tuple[int, str] | None:
    with conn.cursor() as cur:
        try:
            cur.execute(sql)
        except pymysql.err.MySQLError as exc:
            return exc.args[0], exc.args[1]
    return None


@pytest.mark.parametrize(("sql", "code", "text"), CASES)
def test_insert_violations(mysql_server: MySQLFake, sql: str, code: int, text: str) -> None:
    with connect(mysql_server) as conn:
        conn.cursor().execute(DDL)
        assert _error(conn, sql) == (code, text)
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM s")
            assert cur.fetchone() == (0,)  # nothing half-written


def test_update_violations(mysql_server: MySQLFake) -> None:
    with connect(mysql_server) as conn:
        conn.cursor().execute(DDL)
        conn.cursor().execute("INSERT INTO s (name, kind, qty) VALUES ('a', 'SMALL', 100)")
        assert _error(conn, "UPDATE s SET name = 'abcdefg'") == (
            1406,
            "Data too long for column 'name' at row 1",
        )
        assert _error(conn, "UPDATE s SET qty = qty + 100") == (
            1264,
            "Out of range value for column 'qty' at row 1",
        )
        assert _error(conn, "UPDATE s SET kind = 'huge'") == (
            1265,
            "Data truncated for column 'kind' at row 1",
        )
        with conn.cursor() as cur:
            cur.execute("SELECT name, kind, qty FROM s")
            assert cur.fetchall() == (("a", "small", 100),)  # ENUM stored as declared


def test_bigint_unsigned_max(mysql_server: MySQLFake) -> None:
    """The top half of BIGINT UNSIGNED: MariaDB stores it; the fake refuses with 1235 rather
    than store something else."""
    with connect(mysql_server) as conn:
        conn.cursor().execute(DDL)
        err = _error(conn, "INSERT INTO s (name, big) VALUES ('a', 9223372036854775807)")
        assert err is None
        err = _error(conn, "INSERT INTO s (name, big) VALUES ('b', 18446744073709551615)")
        if mysql_server.config.engine == "real":
            assert err is None
        else:
            assert err is not None and err[0] == 1235 and err[1].startswith("simdb fake does not support")
        err = _error(conn, "INSERT INTO s (name, big) VALUES ('c', 18446744073709551616)")
        assert err is not None and err[0] in (
            (1264, 1235) if mysql_server.config.engine == "fake" else (1264,)
        )


@pytest.mark.fake
@pytest.mark.parametrize(
    "sql",
    [
        "SET sql_mode = ''",
        "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'",
        "SET sql_mode = 'STRICT_TRANS_TABLES,ONLY_FULL_GROUP_BY'",
    ],
)
def test_modes_the_fake_does_not_model_are_refused(mysql_fake_session: MySQLFake, sql: str) -> None:
    with connect(mysql_fake_session) as conn:
        err = _error(conn, sql)
        assert (
            err is not None and err[0] == 1235 and err[1].startswith("simdb fake does not support sql_mode")
        )
        assert _error(conn, "SET sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'") is None


@pytest.mark.fake
def test_insert_ignore_of_a_strict_violation_is_refused(mysql_fake_session: MySQLFake) -> None:
    """MariaDB would clamp the value and insert it; the fake refuses rather than skip the row."""
    mysql_fake_session.unload()
    with connect(mysql_fake_session) as conn:
        conn.cursor().execute(DDL)
        assert _error(conn, "INSERT IGNORE INTO s (name) VALUES ('ok')") is None
        err = _error(conn, "INSERT IGNORE INTO s (name) VALUES ('waytoolong')")  # same digest
        assert err is not None and err[0] == 1235
    mysql_fake_session.unload()
