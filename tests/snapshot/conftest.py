"""Real servers for the snapshot tests, from the shared session fixtures (tests/fixtures/):
one redis-server and one MariaDB per session; each test gets a clean database."""

from __future__ import annotations

from collections.abc import Iterator

import pymysql
import pytest
import redis

from simdb.mysql.fake import MySQLFake
from simdb.redis.real import RealRedis
from tests.fixtures.mysql import MYSQL_PASSWORD, MYSQL_USER


@pytest.fixture
def redis_url(real_redis: RealRedis) -> Iterator[str]:
    """The session's real redis-server, flushed before and after the test."""
    url = f"redis://{real_redis.host}:{real_redis.port}"
    client = redis.Redis.from_url(url)
    client.flushall()
    yield url
    client.flushall()
    client.close()


@pytest.fixture
def mariadb_url(mysql_real_session: MySQLFake, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database of its own on the session's real MariaDB, as an SQLAlchemy URL."""
    ep = mysql_real_session.endpoint
    name = "snap_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:48]
    conn = pymysql.connect(
        host=ep.host, port=ep.port, user=MYSQL_USER, password=MYSQL_PASSWORD, autocommit=True
    )
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}`")
    yield f"mysql+pymysql://{MYSQL_USER}:{MYSQL_PASSWORD}@{ep.host}:{ep.port}/{name}"
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()
