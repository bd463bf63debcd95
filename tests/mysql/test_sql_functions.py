"""Table-less SELECTs and functions run on the engine with MariaDB's semantics; anything not in
the registry is refused with 1235 naming it. Compared statement by statement with MariaDB."""

from __future__ import annotations

from collections.abc import Iterator

import pymysql
import pytest
from sqlglot import exp, parse_one

from simdb.mysql.corpus import outcome, verdict
from simdb.mysql.dialect import _TYPED, SimdbMySQL
from simdb.mysql.fake import MySQLFake
from simdb.mysql.functions import REGISTRY
from tests.mysql.helpers import connect

STATEMENTS = [
    "SELECT GREATEST(3, 7, 5)",
    "SELECT 1 FROM DUAL",
    "SELECT 1 FROM DUAL WHERE 1 = 1",
    "SELECT IFNULL(NULL, 'x'), COALESCE(NULL, 2), NULLIF(1, 1), NULLIF('a', 'A')",
    "SELECT DATE_ADD('2024-01-31', INTERVAL 1 MONTH), '2024-02-28' + INTERVAL 2 DAY",
    "SELECT DATE_SUB('2024-03-01 00:30:00', INTERVAL 1 HOUR)",
    "SELECT UNIX_TIMESTAMP('2024-01-01 00:00:00'), FROM_UNIXTIME(86400)",
    "SELECT SUBSTRING_INDEX('a.b.c', '.', 2), SUBSTRING_INDEX('a.b.c', '.', -1)",
    "SELECT CAST('12' AS SIGNED), CAST(1.5 AS SIGNED), CAST('3.14159' AS DECIMAL(6,2))",
    "SELECT HEX('a'), HEX(255), UPPER('straße'), LENGTH('héllo'), CHAR_LENGTH('héllo')",
    "SELECT TRUNCATE(1.567, 1), ROUND(2.5), ROUND(-2.5), FLOOR(-1.5), CEIL(1.2)",
    "SELECT '1' = 1, 'abc' LIKE 'ABC', 'a' = 'a ', 'é' = 'E', 7 / 2, 1 / 3 * 3",
    "SELECT 'x_y' LIKE 'x\\_y', 'xzy' LIKE 'x\\_y'",
    "SELECT JSON_EXTRACT('{\"a\": {\"b\": [1, 2]}}', '$.a.b[1]'), "
    "JSON_UNQUOTE(JSON_EXTRACT('{\"s\": \"v\"}', '$.s'))",
    "SELECT CONCAT('p', 1, 2.50), CONCAT_WS('-', 'a', NULL, 'b'), LPAD('7', 3, '0')",
    "SELECT CASE WHEN 2 > 1 THEN 'yes' ELSE 'no' END, IF(0, 'a', 'b'), 3 BETWEEN 1 AND 5, 2 IN (1, '2')",
]


@pytest.fixture(scope="module")
def conns(
    mysql_fake_session: MySQLFake, mysql_real_session: MySQLFake
) -> Iterator[tuple[pymysql.connections.Connection, pymysql.connections.Connection]]:
    """A connection to the fake and one to MariaDB."""
    fake, real = connect(mysql_fake_session), connect(mysql_real_session)
    yield fake, real
    fake.close()
    real.close()


@pytest.mark.real
@pytest.mark.parametrize("sql", STATEMENTS)
def test_tableless_select_matches_mariadb(
    conns: tuple[pymysql.connections.Connection, pymysql.connections.Connection], sql: str
) -> None:
    fake, real = conns
    got = outcome(fake.cursor(), sql, True)
    want = outcome(real.cursor(), sql, True)
    assert verdict(got, want) == "agree", f"fake {got} != real {want}"


@pytest.mark.fake
@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("SELECT SOUNDEX('a')", "function SOUNDEX"),
        ("SELECT JSON_TABLE('[]', '$[*]' COLUMNS (a INT PATH '$')) FROM DUAL", None),
        ("SELECT STDDEV(id) FROM t", "function STDDEV"),
        ("SELECT id FROM t GROUP BY id WITH ROLLUP", "GROUP BY ... WITH ROLLUP"),
        ("SELECT ~id FROM t", "the ~ and ^ operators"),
    ],
)
def test_unsupported_is_refused_naming_it(
    mysql_fake_session: MySQLFake, sql: str, construct: str | None
) -> None:
    with connect(mysql_fake_session) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS t (id INT NOT NULL, PRIMARY KEY (id))")
        with pytest.raises(pymysql.err.MySQLError) as err:
            cur.execute(sql)
        code, text = err.value.args[0], err.value.args[1]
        cur.execute("DROP TABLE t")
    if construct is None:  # a syntax sqlglot itself rejects: MariaDB's 1064 is fine, a leak is not
        assert code in (1064, 1235) and "sqlglot" not in text.lower() and "sqlite" not in text.lower()
    else:
        assert (code, text.startswith(f"simdb fake does not support {construct}")) == (1235, True), text


@pytest.mark.fake
def test_registry_functions_parse_as_calls() -> None:
    """Every registry function the fake implements itself reaches the rewriter under its own name."""
    for name, spec in REGISTRY.items():
        if name in _TYPED:
            continue
        args = ", ".join(["1"] * max(spec.min_args, 0))
        node = parse_one(f"SELECT {name}({args})", read=SimdbMySQL).expressions[0]
        assert isinstance(node, exp.Anonymous) and str(node.this).upper() == name, name
