"""Differential tests: the same random statement sequences against the fake and a real MariaDB.

Results are compared order-insensitively unless the statement has an ORDER BY on a unique key;
errors are compared by MariaDB error code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pymysql
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.mysql.fake import MySQLFake
from tests.mysql.helpers import connect

pytestmark = [pytest.mark.real, pytest.mark.slow]

SCHEMA = [
    "CREATE TABLE items (id INT NOT NULL, cat VARCHAR(8) NOT NULL, qty INT DEFAULT NULL, "
    "price DECIMAL(8,2) DEFAULT NULL, PRIMARY KEY (id), KEY ix_cat (cat))",
    "CREATE TABLE tags (id INT NOT NULL AUTO_INCREMENT, item_id INT NOT NULL, tag VARCHAR(8) NOT NULL, "
    "PRIMARY KEY (id), UNIQUE KEY uq_item_tag (item_id, tag))",
]

ids = st.integers(min_value=1, max_value=12)
cats = st.sampled_from(["a", "b", "c", "B", "C"])
qtys = st.one_of(st.none(), st.integers(min_value=-50, max_value=50))
prices = st.one_of(st.none(), st.integers(min_value=0, max_value=99999).map(lambda c: Decimal(c) / 100))
tags = st.sampled_from(["red", "blue", "Red", "big"])


def _sql_value(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v + "'"
    return str(v)


statements = st.one_of(
    st.builds(
        lambda i, c, q, p: (
            f"INSERT INTO items (id, cat, qty, price) VALUES ({i}, '{c.lower()}', "
            f"{_sql_value(q)}, {_sql_value(p)})",
            False,
        ),
        ids,
        cats,
        qtys,
        prices,
    ),
    st.builds(lambda i, t: (f"INSERT INTO tags (item_id, tag) VALUES ({i}, '{t}')", False), ids, tags),
    st.builds(
        lambda k, i: (f"UPDATE items SET qty = qty + {k} WHERE id = {i}", False), st.integers(-5, 5), ids
    ),
    st.builds(
        lambda p, c: (f"UPDATE items SET price = {p} WHERE cat = '{c}'", False), prices.map(_sql_value), cats
    ),
    st.builds(lambda i: (f"DELETE FROM items WHERE id = {i}", False), ids),
    st.builds(lambda k: (f"DELETE FROM items WHERE qty < {k}", False), st.integers(-50, 0)),
    st.builds(lambda i: (f"SELECT id, cat, qty, price FROM items WHERE id = {i}", True), ids),
    st.builds(
        lambda a, b: (f"SELECT id, qty FROM items WHERE id BETWEEN {a} AND {b} ORDER BY id", True), ids, ids
    ),
    st.builds(lambda c: (f"SELECT id, price FROM items WHERE cat = '{c}'", False), cats),
    st.builds(
        lambda k: (f"SELECT id FROM items WHERE qty >= {k} ORDER BY id DESC LIMIT 3", True),
        st.integers(-50, 50),
    ),
    st.just(
        ("SELECT cat, COUNT(*), SUM(qty), MIN(price), MAX(price), AVG(qty) FROM items GROUP BY cat", False)
    ),
    st.just(("SELECT COUNT(*), SUM(price) FROM items", False)),
    st.builds(
        lambda c: (
            f"SELECT i.id, t.tag FROM items i JOIN tags t ON t.item_id = i.id WHERE i.cat = '{c}'",
            False,
        ),
        cats,
    ),
    st.just(
        (
            "SELECT t.tag, COUNT(*) FROM tags t LEFT JOIN items i ON i.id = t.item_id "
            "WHERE i.id IS NULL GROUP BY t.tag",
            False,
        )
    ),
    st.just(("BEGIN", False)),
    st.just(("COMMIT", False)),
    st.just(("ROLLBACK", False)),
)


def _norm(v: Any) -> Any:
    if isinstance(v, Decimal | float):
        return Decimal(v).quantize(Decimal("0.0001"))
    if isinstance(v, str):
        return v.lower()
    return v


def _execute(conn: pymysql.connections.Connection, sql: str, ordered: bool) -> tuple[Any, ...]:
    with conn.cursor() as cur:
        try:
            affected = cur.execute(sql)
        except pymysql.err.MySQLError as exc:
            return ("error", exc.args[0])
        if cur.description is None:
            return ("ok", affected)
        rows = [tuple(_norm(v) for v in row) for row in cur.fetchall()]
        if not ordered:
            rows.sort(key=repr)
        return ("rows", rows)


def _run(server: MySQLFake, program: list[tuple[str, bool]]) -> list[tuple[Any, ...]]:
    server.unload()
    with connect(server) as conn:
        for stmt in SCHEMA:
            conn.cursor().execute(stmt)
        results = [_execute(conn, sql, ordered) for sql, ordered in program]
        results.append(_execute(conn, "SELECT id, cat, qty, price FROM items ORDER BY id", True))
        results.append(_execute(conn, "SELECT item_id, tag FROM tags ORDER BY id", True))
        conn.rollback()
        return results


@given(program=st.lists(statements, min_size=1, max_size=25))
def test_fake_matches_mariadb(
    mysql_fake_session: MySQLFake, mysql_real_session: MySQLFake, program: list[tuple[str, bool]]
) -> None:
    fake = _run(mysql_fake_session, program)
    real = _run(mysql_real_session, program)
    for (sql, _), got, want in zip(program, fake, real, strict=False):
        assert got == want, f"{sql}: fake {got} != real {want}"
    assert fake[-2:] == real[-2:]
