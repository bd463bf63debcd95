"""Shared setup of the corpus tests: the home-feed snapshot plus the corpus's own tables."""

from __future__ import annotations

from pathlib import Path

from simdb.mysql.corpus import SETUP
from simdb.mysql.fake import MySQLFake
from tests.mysql.helpers import connect

HOMEFEED = Path(__file__).resolve().parents[2] / "seeds" / "homefeed"


def prepare(server: MySQLFake) -> None:
    """Load ``seeds/homefeed`` and create the corpus's typed and scratch tables."""
    server.load(HOMEFEED)
    with connect(server) as conn, conn.cursor() as cur:
        for stmt in SETUP:
            cur.execute(stmt)
