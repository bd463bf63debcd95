"""The digest cache is transparent: every corpus statement gives the same outcome with the
literal lifter and plan cache on as with each statement translated afresh, literals inline."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.mysql.corpus import SETUP, generate
from simdb.mysql.engine import Session, Store
from simdb.mysql.errors import SqlError
from tests.mysql.corpus_support import HOMEFEED

pytestmark = pytest.mark.fake


@pytest.fixture(scope="module")
def sessions() -> Iterator[tuple[Session, Session]]:
    """A session on a store with the cache on and one on a store with it off."""
    stores = [Store("homefeed"), Store("homefeed")]
    stores[1].translator.cache = False
    out = []
    for store in stores:
        store.load(HOMEFEED)
        s = store.session()
        for stmt in SETUP:
            s.execute(stmt)
        out.append(s)
    yield out[0], out[1]
    for store in stores:
        store.close()


def _run(session: Session, sql: str) -> tuple[Any, ...]:
    try:
        r = session.execute(sql)
    except SqlError as exc:
        return ("error", exc.code, exc.msg)
    cols = None if r.columns is None else [(c.name, c.type, c.charset, c.scale) for c in r.columns]
    return ("result", cols, r.rows, r.affected, r.insert_id)


def test_cache_is_used(sessions: tuple[Session, Session]) -> None:
    cached, _ = sessions
    before = cached.store.translator.hits
    for k in (1001, 1002, 1003):
        _run(cached, f"SELECT title FROM pins WHERE id = {k}")
    assert cached.store.translator.hits >= before + 2


@given(rnd=st.randoms(use_true_random=False))
def test_same_outcome_with_cache_on_and_off(sessions: tuple[Session, Session], rnd: random.Random) -> None:
    cached, fresh = sessions
    for stmt in generate(rnd, 40):
        on, off = _run(cached, stmt.sql), _run(fresh, stmt.sql)
        if stmt.category != "tableless" or "NOW" not in stmt.sql:
            assert on == off, f"{stmt.sql}: cache on {on} != cache off {off}"
