"""The demo stack file, run as `simdb up` runs it: every Thrift answer comes from the seeded stores.

Assertions are made against the snapshot's own files (seeds/homefeed), never against copied values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import thriftpy2
from thriftpy2.rpc import make_client

from simdb.stack.load import load_stack
from simdb.stack.run import StackRun

pytestmark = pytest.mark.fake

REPO = Path(__file__).resolve().parents[2]
IDL = REPO / "thrift" / "homefeed"
SEEDS = REPO / "seeds" / "homefeed"


def rows(table: str) -> list[dict[str, Any]]:
    path = SEEDS / "sql" / "db" / "tables" / f"{table}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def run() -> Iterator[StackRun]:
    with StackRun(load_stack(REPO / "examples" / "homefeed" / "simdb.yaml")) as stack:
        yield stack


def client(run: StackRun, name: str, file: str, service: str) -> tuple[Any, Any]:
    module = thriftpy2.load(str(IDL / file), module_name=f"demostack_{name}_thrift", include_dirs=[str(IDL)])
    ep = run.endpoints()[name]
    return module, make_client(getattr(module, service), ep.host, ep.port, timeout=10_000)


def test_every_bound_method_answers_from_its_binding(run: StackRun) -> None:
    pins_mod, pins = client(run, "pinstore", "pinstore.thrift", "PinStore")
    cg_mod, cands = client(run, "candidates", "candidates.thrift", "CandidateGenerator")
    rk_mod, ranker = client(run, "ranker", "ranker.thrift", "Ranker")
    _, graph = client(run, "usergraph", "usergraph.thrift", "UserGraph")
    try:
        table = {int(r["id"]): r for r in rows("pins")}
        some = sorted(table)[:3]
        for pin_id in some:
            assert pins.getPin(pin_id).title == table[pin_id]["title"]
        assert {p.id for p in pins.getPins(some, False).pins.values()} == set(some)
        users = {int(r["id"]): r for r in rows("users")}
        assert graph.getUser(2).username == users[2]["username"]
        page = graph.getFollowees(2, 0, 50)
        follows = [int(r["followee_id"]) for r in rows("follows") if int(r["follower_id"]) == 2]
        assert sorted(page.followees) == sorted(follows)
        got = cands.getCandidates(cg_mod.CandidateRequest(userId=2, numCandidates=8)).candidates
        owner = {int(b["id"]): int(b["owner_id"]) for b in rows("boards")}
        assert got and all(owner[int(table[c.pinId]["board_id"])] in follows for c in got)
        ids = [c.pinId for c in got]
        ranked = ranker.rank(rk_mod.RankRequest(userId=2, candidates=ids, userFeatures={})).ranked
        assert sorted(s.pinId for s in ranked) == sorted(ids)
        assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
        with pytest.raises(pins_mod.types.PinNotFound):
            pins.getPin(999_999)
    finally:
        for c in (pins, cands, ranker, graph):
            c.close()
    for name in ("pinstore", "usergraph", "candidates", "ranker"):
        fake: Any = run.by_name[name]
        answered = {e.method: e.answered for e in fake.journal.entries()}
        assert answered and all(a.startswith("binding:") for a in answered.values()), (name, answered)


def test_writes_are_seen_and_reset_undoes_them(run: StackRun) -> None:
    rk_mod, ranker = client(run, "ranker", "ranker.thrift", "Ranker")
    cache = run.endpoints()["cache"]
    r = redis.Redis(host=cache.host, port=cache.port, decode_responses=True)
    try:
        before = r.lrange("impressions:3", 0, -1)
        ranker.logImpression(rk_mod.Impression(userId=3, pinId=1042, position=0, timestampMs=0))
        r.ping()  # oneway: the write lands once the fake read it; poll until it shows

        from tests.fixtures.common import wait_until

        wait_until(
            lambda: r.lrange("impressions:3", 0, -1) == [*before, "1042"], timeout=10, what="impression"
        )
        assert run.reset() == [f.name for f in run.fakes]
        assert r.lrange("impressions:3", 0, -1) == before
    finally:
        ranker.close()
        r.close()
