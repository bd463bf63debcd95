"""One home-feed request through the demo fakes, answered by examples/homefeed/bindings.yaml.

Every assertion is made against the snapshot's own files (seeds/homefeed), not
against values copied into the test: the ranker only ranks the candidates it
got, pin titles are the MySQL rows, followees are the Redis list.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import thriftpy2
from thriftpy2.rpc import make_client

from simdb.thrift.databind import check_bindings, parse_bindings
from simdb.thrift.fake import ThriftConfig, ThriftFake
from tests.thrift.databind_support import (
    HOMEFEED,
    SCHEMA,
    STORES,
    demo_bindings,
    endpoints,
    homefeed_stores,
    redis_records,
    table,
)

pytestmark = pytest.mark.fake

SERVICES = {
    "pinstore": ("pinstore.thrift", "PinStore"),
    "usergraph": ("usergraph.thrift", "UserGraph"),
    "candidates": ("candidates.thrift", "CandidateGenerator"),
    "ranker": ("ranker.thrift", "Ranker"),
}


@pytest.fixture(scope="module", params=["wire", "in-process"])
def demo(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The four demo Thrift fakes with the demo bindings, the stores, and a client per fake.

    ``wire``: bindings reach the stores over their sockets; ``in-process``: ``bind_stack`` also
    gets the fake objects, so SQL runs on the embedded MySQL fake's store directly.
    """
    raw = demo_bindings()
    with ExitStack() as stack:
        db, cache = stack.enter_context(homefeed_stores())
        fakes: dict[str, ThriftFake] = {}
        for name, (idl, service) in SERVICES.items():
            bindings = parse_bindings(raw.get(name), f"bindings.yaml: {name}")
            cfg = ThriftConfig(
                idl=HOMEFEED / idl,
                services=(service,),
                name=name,
                include_dirs=(HOMEFEED,),
                bindings=bindings,
            )
            check_bindings(bindings, cfg, STORES, f"bindings.yaml: {name}", schema={"db": SCHEMA})
            fake = ThriftFake(cfg)
            fake.start()
            stack.callback(fake.stop)
            fakes[name] = fake
        eps = {**endpoints(db, cache), **{n: f.endpoint for n, f in fakes.items()}}
        local = {"db": db, "cache": cache} if request.param == "in-process" else None
        for fake in fakes.values():
            fake.bind_stack(eps, local)
        clients: dict[str, Any] = {}
        modules: dict[str, Any] = {}
        for name, (idl, service) in SERVICES.items():
            module = thriftpy2.load(
                str(HOMEFEED / idl), module_name=f"databind_{name}_thrift", include_dirs=[str(HOMEFEED)]
            )
            ep = fakes[name].endpoint
            c = make_client(getattr(module, service), ep.host, ep.port, timeout=10_000)
            stack.callback(c.close)
            clients[name] = c
            modules[name] = module
        yield {"fakes": fakes, "clients": clients, "modules": modules, "db": db, "cache": cache}


def test_every_demo_fake_has_bindings() -> None:
    raw = demo_bindings()
    assert set(raw) == set(SERVICES)


@pytest.mark.parametrize("user_id", [1, 2, 7])
def test_home_feed_request_is_consistent_with_the_snapshot(demo: dict[str, Any], user_id: int) -> None:
    c, m = demo["clients"], demo["modules"]
    records = redis_records()
    pins = {row["id"]: row for row in table("pins")}
    boards = {row["id"]: row for row in table("boards")}

    # followees = the Redis sorted set, in its order
    page = c["usergraph"].getFollowees(user_id, 0, 50)
    redis_followees = [int(member) for member, _ in records[f"followees:{user_id}"]["value"]]
    assert page.followees == redis_followees
    assert page.total == len(redis_followees)

    # candidates: pins on boards owned by those followees (the MySQL follows agree with Redis)
    resp = c["candidates"].getCandidates(m["candidates"].CandidateRequest(userId=user_id, numCandidates=8))
    candidate_ids = [cand.pinId for cand in resp.candidates]
    assert candidate_ids, "the snapshot gives every demo user candidates"
    assert len(candidate_ids) <= 8
    for cand in resp.candidates:
        pin = pins[cand.pinId]
        assert cand.viaBoard == pin["board_id"]
        assert boards[pin["board_id"]]["owner_id"] in redis_followees
    on_followee_boards = [p for p in pins.values() if boards[p["board_id"]]["owner_id"] in redis_followees]
    best = sorted(on_followee_boards, key=lambda p: (-p["save_count"], p["id"]))[:8]
    assert candidate_ids == [p["id"] for p in best]

    # titles = the MySQL rows
    for pin_id in candidate_ids:
        pin = c["pinstore"].getPin(pin_id)
        row = pins[pin_id]
        assert (pin.title, pin.ownerId, pin.boardId, pin.saveCount) == (
            row["title"],
            row["owner_id"],
            row["board_id"],
            row["save_count"],
        )
        assert pin.images[0].url == row["image_url"]
        expected_tags = {t["tag"] for t in table("pin_tags") if t["pin_id"] == pin_id}
        assert set(pin.tags or ()) == expected_tags

    # ranker output is a subset of the candidates, ordered by the Redis save_count feature
    ranked = c["ranker"].rank(
        m["ranker"].RankRequest(userId=user_id, candidates=list(reversed(candidate_ids)), userFeatures={})
    )
    ranked_ids = [s.pinId for s in ranked.ranked]
    assert set(ranked_ids) <= set(candidate_ids)
    features = {pid: dict(records[f"pin:{pid}:features"]["value"]) for pid in candidate_ids}
    scores = [s.score for s in ranked.ranked]
    assert scores == sorted(scores, reverse=True)
    for s in ranked.ranked:
        assert s.score == float(features[s.pinId]["save_count"])


def test_answers_are_journaled_and_counted_as_binding(demo: dict[str, Any]) -> None:
    c = demo["clients"]
    fake = demo["fakes"]["pinstore"]
    before = fake.metrics.answered_by("PinStore", "getPin").get("binding", 0)
    c["pinstore"].getPin(1001)
    assert fake.journal.entries()[-1].answered == "binding:getPin"
    assert fake.metrics.answered_by("PinStore", "getPin")["binding"] == before + 1
    assert b'source="binding"' in fake.metrics.render()


def test_unknown_pin_raises_the_declared_exception(demo: dict[str, Any]) -> None:
    m = demo["modules"]["pinstore"]
    ids = {row["id"] for row in table("pins")}
    missing = max(ids) + 1
    with pytest.raises(m.types.PinNotFound) as info:
        demo["clients"]["pinstore"].getPin(missing)
    assert info.value.id == missing


def test_impressions_are_written_and_reset_undoes_them(demo: dict[str, Any]) -> None:
    import redis

    m, c = demo["modules"]["ranker"], demo["clients"]["ranker"]
    cache = demo["cache"]
    r = redis.Redis(host=cache.endpoint.host, port=cache.endpoint.port)
    try:
        c.logImpression(m.Impression(userId=3, pinId=1003, position=0, timestampMs=0))
        c.version()  # a oneway call has no reply: a later call on the same connection orders after it
        assert r.lrange("impressions:3", 0, -1) == [b"1003"]
        cache.reset()
        assert r.exists("impressions:3") == 0
    finally:
        r.close()
