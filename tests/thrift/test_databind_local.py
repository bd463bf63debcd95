"""The in-process SQL path gives exactly the rows the PyMySQL wire path gives (differential test)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdb.thrift.databind.local import LocalSqlStore
from simdb.thrift.databind.params import Misfit, SqlTemplate
from simdb.thrift.databind.sql import SqlStore
from tests.thrift.databind_support import homefeed_stores, table

pytestmark = pytest.mark.fake

QUERIES = [
    "SELECT * FROM pins WHERE id = :id",
    "SELECT * FROM users WHERE id = :user",
    "SELECT * FROM follows WHERE follower_id = :user ORDER BY followee_id",
    "SELECT id, save_count / 5000.0 AS s, height * 1.0 / width AS r, price, embedding "
    "FROM pins WHERE id IN :ids",
    "SELECT p.id, (SELECT GROUP_CONCAT(t.tag SEPARATOR ',') FROM pin_tags t WHERE t.pin_id = p.id) AS tags "
    "FROM pins p WHERE p.id IN :ids ORDER BY p.id",
    "SELECT COUNT(*) AS n, MAX(created_at) AS latest FROM pins WHERE owner_id = :user",
    "SELECT title FROM pins WHERE title LIKE :pattern ORDER BY id",
]
PIN_IDS = sorted(row["id"] for row in table("pins"))


@pytest.fixture(scope="module")
def paths() -> Iterator[tuple[SqlStore, LocalSqlStore, Any]]:
    with homefeed_stores() as (db, _cache):
        wire = SqlStore("db", db.endpoint)
        local = LocalSqlStore("db", db, SqlStore("db", db.endpoint))
        try:
            yield wire, local, db
        finally:
            wire.close()
            local.close()


@settings(max_examples=30, deadline=None)
@given(
    pin=st.one_of(st.sampled_from(PIN_IDS), st.integers(-3, 3000)),
    user=st.integers(0, 22),
    ids=st.lists(st.sampled_from(PIN_IDS), max_size=6),
    pattern=st.sampled_from(["%idea 10%", "Travel%", "%'%", "%\\%%", "nothing"]),
)
def test_local_rows_equal_wire_rows(
    paths: tuple[SqlStore, LocalSqlStore, Any], pin: int, user: int, ids: list[int], pattern: str
) -> None:
    wire, local, _ = paths
    scope = {"id": pin, "user": user, "ids": ids, "pattern": pattern}
    for query in QUERIES:
        tpl = SqlTemplate.parse(query)
        assert outcome(local, tpl, scope) == outcome(wire, tpl, scope), query


def outcome(store: SqlStore | LocalSqlStore, tpl: SqlTemplate, scope: dict[str, Any]) -> Any:
    """The rows, or the MySQL error code the fake answered (both paths word it alike)."""
    try:
        return store.rows(tpl, scope)
    except Misfit as exc:
        return ("refused", re.search(r"\b(1\d{3})\b", str(exc)).group(1))  # type: ignore[union-attr]


def test_local_writes_are_seen_on_the_wire_and_reset_undoes_them(
    paths: tuple[SqlStore, LocalSqlStore, Any],
) -> None:
    wire, local, db = paths
    update = SqlTemplate.parse("UPDATE pins SET title = :title WHERE id = :id")
    read = SqlTemplate.parse("SELECT title FROM pins WHERE id = :id")
    try:
        assert local.execute(update, {"title": "it's new", "id": 1001}) == 1
        assert wire.rows(read, {"id": 1001}) == [{"title": "it's new"}]
    finally:
        db.reset()
    assert local.rows(read, {"id": 1001}) == wire.rows(read, {"id": 1001}) != [{"title": "it's new"}]


def test_local_errors_read_like_the_wire(paths: tuple[SqlStore, LocalSqlStore, Any]) -> None:
    wire, local, _ = paths
    bad = SqlTemplate.parse("SELECT nope FROM pins WHERE id = :id")
    with pytest.raises(Misfit, match="refused the statement") as from_local:
        local.rows(bad, {"id": 1})
    with pytest.raises(Misfit, match="refused the statement") as from_wire:
        wire.rows(bad, {"id": 1})
    assert "nope" in str(from_local.value) and "nope" in str(from_wire.value)


def test_cached_binding_replies_follow_every_change_of_the_database() -> None:
    """In-process SQL replies are cached; a commit by anyone, a reset or a reload invalidates them."""
    import pymysql
    import thriftpy2
    from thriftpy2.rpc import make_client

    from tests.thrift.databind_support import HOMEFEED, PROBE, SNAPSHOT, bound_fake, endpoints

    raw = {"title": {"sql": {"store": "db", "query": "SELECT title FROM pins WHERE id = :id"}}}
    original = {row["id"]: row["title"] for row in table("pins")}[1001]
    with homefeed_stores() as (db, cache):
        eps = endpoints(db, cache)
        with bound_fake(raw, eps, check=False) as fake:
            fake.bind_stack(eps, {"db": db})
            module = thriftpy2.load(
                str(PROBE), module_name="databind_probe_l_thrift", include_dirs=[str(HOMEFEED)]
            )
            c = make_client(module.Probe, fake.endpoint.host, fake.endpoint.port, timeout=10_000)
            conn = pymysql.connect(
                host=db.endpoint.host,
                port=db.endpoint.port,
                user="root",
                password="",
                database="homefeed",
                autocommit=True,
            )
            try:
                assert c.title(1001) == original
                assert c.title(1001) == original
                hits = [h for h in fake.processor.cache.values() if h.method == "title"]  # type: ignore[union-attr]
                assert hits and hits[0].valid is not None and hits[0].valid()
                with conn.cursor() as cur:  # another client commits
                    cur.execute("UPDATE pins SET title = 'changed' WHERE id = 1001")
                assert not hits[0].valid()
                assert c.title(1001) == "changed"
                with conn.cursor() as cur:  # an open transaction is not seen (nor cached as seen)
                    cur.execute("BEGIN")
                    cur.execute("UPDATE pins SET title = 'uncommitted' WHERE id = 1001")
                    assert c.title(1001) == "changed"
                    cur.execute("ROLLBACK")
                db.reset()
                assert c.title(1001) == original
                with conn.cursor() as cur:
                    cur.execute("UPDATE pins SET title = 'again' WHERE id = 1001")
                assert c.title(1001) == "again"
                db.load(SNAPSHOT)
                assert c.title(1001) == original
                assert fake.journal.entries()[-1].answered == "binding:title"
            finally:
                conn.close()
                c.close()
