"""Literals the digest cache must pin (ORDER BY position, function arguments) bind correctly."""

from __future__ import annotations

from decimal import Decimal

from simdb.mysql.fake import MySQLFake
from tests.mysql.helpers import run

SCHEMA = (
    "CREATE TABLE pins (id BIGINT NOT NULL, owner_id INT NOT NULL, save_count INT NOT NULL, "
    "PRIMARY KEY (id))",
    "INSERT INTO pins VALUES (3, 1, 10), (2, 1, 5), (1, 2, 4)",
)


def test_order_by_position_after_where_literal(mysql_server: MySQLFake) -> None:
    rows = run(mysql_server, *SCHEMA, "SELECT id FROM pins WHERE owner_id = 1 ORDER BY 1")
    assert [r[0] for r in rows] == [2, 3]
    again = run(mysql_server, "SELECT id FROM pins WHERE owner_id = 2 ORDER BY 1")
    assert [r[0] for r in again] == [1]


def test_round_argument_stays_literal(mysql_server: MySQLFake) -> None:
    rows = run(mysql_server, *SCHEMA, "SELECT ROUND(AVG(save_count), 2) FROM pins")
    assert Decimal(str(rows[0][0])) == Decimal("6.33")
