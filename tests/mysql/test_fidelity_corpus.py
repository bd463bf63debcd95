"""The generated home-feed corpus (``simdb.mysql.corpus``) on the fake and on a real MariaDB.

Every statement must give the same outcome on both (rows with their decoded types, column
type families, affected rows and insert ids, error codes) unless the fake refused it with
1235. 60 statements per example: the CI profile (40 examples) runs 2,400.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pymysql
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.mysql.corpus import generate, outcome, verdict
from simdb.mysql.fake import MySQLFake
from tests.mysql.corpus_support import prepare
from tests.mysql.helpers import connect

pytestmark = [pytest.mark.real, pytest.mark.slow]

PER_EXAMPLE = 60


@pytest.fixture(scope="module")
def pair(
    mysql_fake_session: MySQLFake, mysql_real_session: MySQLFake
) -> Iterator[tuple[pymysql.connections.Connection, pymysql.connections.Connection]]:
    """Both servers with the corpus schema and data, and a connection to each."""
    servers = (mysql_fake_session, mysql_real_session)
    for s in servers:
        prepare(s)
    conns = tuple(connect(s) for s in servers)
    yield conns  # type: ignore[misc]
    for c in conns:
        c.close()
    for s in servers:
        s.unload()


@given(rnd=st.randoms(use_true_random=False))
def test_corpus_agrees_with_mariadb(
    pair: tuple[pymysql.connections.Connection, pymysql.connections.Connection], rnd: random.Random
) -> None:
    fake, real = pair
    wrong = []
    for stmt in generate(rnd, PER_EXAMPLE):
        with fake.cursor() as fc, real.cursor() as rc:
            got = outcome(fc, stmt.sql, stmt.ordered)
            want = outcome(rc, stmt.sql, stmt.ordered)
        if verdict(got, want) == "wrong":
            wrong.append(f"[{stmt.category}] {stmt.sql}\n  fake {got}\n  real {want}")
    assert not wrong, "fake disagrees with MariaDB:\n" + "\n".join(wrong[:5])
