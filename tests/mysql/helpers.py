"""Shared helpers of the MySQL tests: client connections to a server under test."""

from __future__ import annotations

from typing import Any

import pymysql
import sqlalchemy as sa

from simdb.mysql.fake import MySQLFake


def connect(server: MySQLFake, **kwargs: Any) -> pymysql.connections.Connection:
    """A PyMySQL connection as the configured user (autocommit unless told otherwise)."""
    ep = server.endpoint
    cfg = server.config
    options: dict[str, Any] = {
        "host": ep.host,
        "port": ep.port,
        "user": cfg.user,
        "password": cfg.password,
        "database": cfg.database,
        "autocommit": True,
    }
    options.update(kwargs)
    return pymysql.connect(**options)


def engine(server: MySQLFake) -> sa.Engine:
    """An SQLAlchemy engine (mysql+pymysql) on the server."""
    return sa.create_engine(server.endpoint.url(), pool_size=2)


def run(server: MySQLFake, *statements: str) -> list[Any]:
    """Run statements on a fresh connection; return the rows of the last one."""
    with connect(server) as conn, conn.cursor() as cur:
        rows: list[Any] = []
        for stmt in statements:
            cur.execute(stmt)
            rows = list(cur.fetchall())
        return rows
