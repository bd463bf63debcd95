"""Every binding kind against the real homefeed stores: SQL, Redis, composition, writes then reset.

The stores are the MySQL and Redis fakes loaded from seeds/homefeed; expected
values are read from the snapshot's own files. Clients are thriftpy2 over
real sockets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
import thriftpy2
from hypothesis import given, settings
from hypothesis import strategies as st
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TApplicationException

from simdb.mysql.fake import MySQLFake
from simdb.redis.fake import RedisFake
from simdb.thrift.fake import ThriftFake
from tests.thrift.databind_support import (
    HOMEFEED,
    PROBE,
    bound_fake,
    endpoints,
    homefeed_stores,
    redis_records,
    table,
)

pytestmark = pytest.mark.fake

PIN_SQL = "SELECT id, owner_id, board_id, title, save_count, media_type, is_promoted FROM pins"

BINDINGS: dict[str, Any] = {
    # --- SQL ---
    "pin": {
        "sql": {"store": "db", "query": PIN_SQL + " WHERE id = :id"},
        "not_found": {"raise": "PinNotFound", "fields": {"id": "{id}", "message": "no pin {id}"}},
    },
    "pinsOf": {
        "sql": {"store": "db", "query": PIN_SQL + " WHERE owner_id = :owner ORDER BY id LIMIT :n"},
    },
    "titles": {"sql": {"store": "db", "query": "SELECT id, title FROM pins WHERE id IN :ids"}},
    "pinIdsOnBoards": {"sql": {"store": "db", "query": "SELECT id FROM pins WHERE board_id IN :boards"}},
    "title": {
        "sql": {"store": "db", "query": "SELECT title FROM pins WHERE id = :id"},
        "not_found": {"raise": "Missing", "fields": {"what": "pin {id}"}},
    },
    "saveCountOr": {
        "sql": {"store": "db", "query": "SELECT save_count FROM pins WHERE id = :id"},
        "not_found": {"default": -1},
    },
    "owners": {
        "sql": {"store": "db", "query": "SELECT id, owner_id FROM pins WHERE id IN :ids ORDER BY id"},
        "map": {"pinId": "id", "ownerId": "owner_id"},
    },
    # --- Redis ---
    "modelVersion": {"redis": {"store": "cache", "command": "GET", "key": "model:ranker:version"}},
    "versions": {
        "redis": {"store": "cache", "command": "MGET", "key": "model:{item}:version", "each": "names"}
    },
    "userFeatures": {"redis": {"store": "cache", "command": "HGETALL", "key": "user:{userId}:features"}},
    "pinFeatures": {
        "redis": {
            "store": "cache",
            "command": "HMGET",
            "key": "pin:{id}:features",
            "fields": ["save_count", "quality_tier", "board_id"],
        }
    },
    "recent": {
        "redis": {"store": "cache", "command": "LRANGE", "key": "feed:{userId}:recent", "count": "{n}"}
    },
    "boards": {"redis": {"store": "cache", "command": "SMEMBERS", "key": "user:{userId}:boards"}},
    "followeeRanks": {
        "redis": {"store": "cache", "command": "ZRANGE", "key": "followees:{userId}", "scores": True},
    },
    "lastFollowees": {
        "redis": {"store": "cache", "command": "ZREVRANGE", "key": "followees:{userId}", "count": "{n}"},
    },
    "profile": {
        "redis": {"store": "cache", "command": "GET", "key": "profile:{userId}"},
        "json": ["value"],
        "value": "value",
    },
    "broken": {"redis": {"store": "cache", "command": "GET", "key": "model:ranker:version"}},
    # --- composition ---
    "topSaved": {
        "compose": {
            "items": "pins",
            "lookup": {"redis": {"store": "cache", "command": "HGETALL", "key": "pin:{item}:features"}},
            "sort_by": "save_count",
            "limit": "n",
            "missing": "skip",
        },
        "value": "item",
    },
    "ownersByTitle": {
        "compose": {
            "items": "pins",
            "lookup": {"sql": {"store": "db", "query": "SELECT owner_id, title FROM pins WHERE id = :item"}},
            "sort_by": "title",
            "order": "asc",
        },
        "map": {"pinId": "item", "ownerId": "owner_id"},
    },
    # --- writes ---
    "savePin": {
        "writes": [
            {
                "sql": {
                    "store": "db",
                    "query": "INSERT INTO pins (id, owner_id, board_id, title, image_url, width, height, "
                    "created_at) VALUES (:pin.id, :pin.ownerId, :pin.boardId, :pin.title, '', 1, 1, "
                    "'2024-01-01 00:00:00')",
                }
            }
        ]
    },
    "renamePin": {
        "writes": [{"sql": {"store": "db", "query": "UPDATE pins SET title = :title WHERE id = :id"}}],
        "sql": {"store": "db", "query": PIN_SQL + " WHERE id = :id"},
        "not_found": {"raise": "PinNotFound", "fields": {"id": "{id}"}},
    },
    "follow": {
        "writes": [
            {
                "redis": {
                    "store": "cache",
                    "command": "ZADD",
                    "key": "followees:{userId}",
                    "args": ["{at}", "{followee}"],
                }
            }
        ]
    },
    "tagAll": {
        "writes": [
            {"redis": {"store": "cache", "command": "SADD", "key": "tags:{userId}", "args": ["{tags}"]}}
        ]
    },
    "touch": {
        "writes": [{"redis": {"store": "cache", "command": "INCRBY", "key": "touched:{userId}", "args": [1]}}]
    },
}


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with homefeed_stores() as (db, cache), bound_fake(BINDINGS, endpoints(db, cache)) as fake:
        module = thriftpy2.load(str(PROBE), module_name="databind_probe_thrift", include_dirs=[str(HOMEFEED)])
        ep = fake.endpoint
        c = make_client(module.Probe, ep.host, ep.port, timeout=10_000)
        r = redis.Redis(host=cache.endpoint.host, port=cache.endpoint.port, decode_responses=True)
        try:
            yield {"db": db, "cache": cache, "fake": fake, "client": c, "m": module, "redis": r}
        finally:
            c.close()
            r.close()


@pytest.fixture
def probe(stack: dict[str, Any]) -> Iterator[Any]:
    """The client; both stores are reset after each test, undoing its writes."""
    try:
        yield stack["client"]
    finally:
        stack["db"].reset()
        stack["cache"].reset()


PINS = {row["id"]: row for row in table("pins")}
REDIS = redis_records()


# --- SQL ---------------------------------------------------------------------------------------------------
def test_sql_row_to_struct_by_name(probe: Any) -> None:
    pin = probe.pin(1003)
    row = PINS[1003]
    assert (pin.id, pin.ownerId, pin.boardId, pin.title, pin.saveCount) == (
        row["id"],
        row["owner_id"],
        row["board_id"],
        row["title"],
        row["save_count"],
    )
    assert pin.isPromoted is bool(row["is_promoted"])
    assert pin.mediaType == getattr(
        thriftpy2.load(str(HOMEFEED / "types.thrift")).MediaType, row["media_type"]
    )


def test_sql_no_row_raises_the_declared_exception(probe: Any, stack: dict[str, Any]) -> None:
    with pytest.raises(stack["m"].types.PinNotFound) as info:
        probe.pin(7)
    assert (info.value.id, info.value.message) == (7, "no pin 7")
    with pytest.raises(stack["m"].Missing) as missing:
        probe.title(7)
    assert missing.value.what == "pin 7"


def test_sql_no_row_gives_the_default(probe: Any) -> None:
    assert probe.saveCountOr(7) == -1
    assert probe.saveCountOr(1001) == PINS[1001]["save_count"]


def test_sql_rows_to_list_with_limit_parameter(probe: Any) -> None:
    owner = PINS[1001]["owner_id"]
    expected = sorted(p for p, row in PINS.items() if row["owner_id"] == owner)[:3]
    assert [p.id for p in probe.pinsOf(owner, 3)] == expected


def test_sql_in_list_to_map_and_empty_list(probe: Any) -> None:
    ids = [1001, 1050, 1199, 99]
    assert probe.titles(ids) == {i: PINS[i]["title"] for i in ids if i in PINS}
    assert probe.titles([]) == {}


def test_sql_in_set_argument_to_set(probe: Any) -> None:
    boards = {101, 102}
    assert set(probe.pinIdsOnBoards(boards)) == {p for p, row in PINS.items() if row["board_id"] in boards}


def test_sql_explicit_mapping(probe: Any) -> None:
    got = probe.owners([1002, 1001])
    assert [(o.pinId, o.ownerId) for o in got] == [(i, PINS[i]["owner_id"]) for i in (1001, 1002)]


# --- Redis -------------------------------------------------------------------------------------------------
def test_redis_get(probe: Any) -> None:
    assert probe.modelVersion() == REDIS["model:ranker:version"]["value"]


def test_redis_mget_skips_missing_keys(probe: Any) -> None:
    assert probe.versions(["ranker", "nope"]) == [REDIS["model:ranker:version"]["value"]]


def test_redis_hgetall_to_map(probe: Any) -> None:
    assert probe.userFeatures(1) == dict(REDIS["user:1:features"]["value"])
    assert probe.userFeatures(999) == {}


def test_redis_hmget_to_struct_with_numbers_parsed(probe: Any) -> None:
    features = dict(REDIS["pin:1001:features"]["value"])
    got = probe.pinFeatures(1001)
    assert (got.saveCount, got.qualityTier, got.boardId) == (
        int(features["save_count"]),
        int(features["quality_tier"]),
        int(features["board_id"]),
    )


def test_redis_lrange_to_list_of_numbers(probe: Any) -> None:
    assert probe.recent(2, 4) == [int(v) for v in REDIS["feed:2:recent"]["value"][:4]]
    assert probe.recent(2, 0) == []


def test_redis_smembers_to_set(probe: Any) -> None:
    assert set(probe.boards(1)) == {int(v) for v in REDIS["user:1:boards"]["value"]}


def test_redis_zrange_with_scores_to_map(probe: Any) -> None:
    assert probe.followeeRanks(2) == {int(m): float(s) for m, s in REDIS["followees:2"]["value"]}


def test_redis_zrevrange(probe: Any) -> None:
    members = [int(m) for m, _ in sorted(REDIS["followees:2"]["value"], key=lambda p: -p[1])]
    assert probe.lastFollowees(2, 2) == members[:2]


def test_redis_json_value_to_struct(probe: Any, stack: dict[str, Any]) -> None:
    stack["redis"].set("profile:5", '{"id": 5, "name": "eve", "topics": ["art", "diy"]}')
    got = probe.profile(5)
    assert (got.id, got.name, got.topics) == (5, "eve", ["art", "diy"])


# --- composition -------------------------------------------------------------------------------------------
def test_compose_ranks_only_the_given_items_and_cuts_to_count(probe: Any) -> None:
    given = [1010, 1020, 1030, 1040, 1050, 5]  # 5 has no features: skipped
    got = probe.topSaved(given, 3)
    saves = {p: int(dict(REDIS[f"pin:{p}:features"]["value"])["save_count"]) for p in given if p != 5}
    assert got == sorted(saves, key=lambda p: -saves[p])[:3]
    assert set(got) <= set(given)


def test_compose_with_sql_lookup_sorted_by_text(probe: Any) -> None:
    given = [1003, 1001, 1002]
    got = probe.ownersByTitle(given)
    expected = sorted(given, key=lambda p: PINS[p]["title"])
    assert [o.pinId for o in got] == expected
    assert [o.ownerId for o in got] == [PINS[p]["owner_id"] for p in expected]


def test_compose_missing_item_is_an_error_naming_the_binding(probe: Any) -> None:
    with pytest.raises(TApplicationException) as info:
        probe.ownersByTitle([1001, 5])
    assert "binding ownersByTitle" in info.value.message
    assert "item 5" in info.value.message


# --- writes ------------------------------------------------------------------------------------------------
def test_sql_insert_then_read_back_then_reset(probe: Any, stack: dict[str, Any]) -> None:
    m = stack["m"]
    probe.savePin(m.types.Pin(id=5000, ownerId=1, boardId=101, title="new pin"))
    assert probe.pin(5000).title == "new pin"
    stack["db"].reset()
    with pytest.raises(m.types.PinNotFound):
        probe.pin(5000)


def test_sql_update_then_read_then_reset(probe: Any, stack: dict[str, Any]) -> None:
    assert probe.renamePin(1001, "renamed").title == "renamed"
    assert probe.pin(1001).title == "renamed"
    db: MySQLFake = stack["db"]
    db.reset()
    assert probe.pin(1001).title == PINS[1001]["title"]
    with pytest.raises(stack["m"].types.PinNotFound):
        probe.renamePin(7, "x")


def test_redis_writes_then_reset(probe: Any, stack: dict[str, Any]) -> None:
    r = stack["redis"]
    probe.follow(2, 20, 99.0)
    assert probe.followeeRanks(2)[20] == 99.0
    probe.tagAll(3, ["b", "a"])
    assert r.smembers("tags:3") == {"a", "b"}
    probe.touch(3)
    probe.modelVersion()  # orders after the oneway call on this connection
    assert r.get("touched:3") == "1"
    cache: RedisFake = stack["cache"]
    cache.reset()
    assert 20 not in probe.followeeRanks(2)
    assert r.exists("tags:3", "touched:3") == 0


# --- precedence, misfits, journal --------------------------------------------------------------------------
def test_stub_wins_over_binding(stack: dict[str, Any], probe: Any) -> None:
    fake: ThriftFake = stack["fake"]
    st = fake.state(None)
    stub_id = st.stubs.add({"method": "modelVersion", "reply": {"return": "stubbed"}})
    fake.changed()
    try:
        assert probe.modelVersion() == "stubbed"
        assert fake.journal.entries()[-1].answered.startswith("stub:")
    finally:
        st.stubs.remove(stub_id)
        fake.changed()
    assert probe.modelVersion() == REDIS["model:ranker:version"]["value"]
    assert fake.journal.entries()[-1].answered == "binding:modelVersion"


def test_misfit_at_run_time_is_an_application_error_and_the_connection_stays(probe: Any) -> None:
    with pytest.raises(TApplicationException) as info:
        probe.broken(1)
    assert info.value.type == TApplicationException.INTERNAL_ERROR
    assert "binding broken" in info.value.message
    assert REDIS["model:ranker:version"]["value"] in info.value.message
    assert probe.modelVersion() == REDIS["model:ranker:version"]["value"]  # same connection


def test_bad_json_is_an_application_error(probe: Any, stack: dict[str, Any]) -> None:
    stack["redis"].set("profile:6", "{not json")
    with pytest.raises(TApplicationException) as info:
        probe.profile(6)
    assert "binding profile" in info.value.message and "JSON" in info.value.message
    assert probe.boards(1)


def test_store_refusing_a_write_is_an_application_error(probe: Any, stack: dict[str, Any]) -> None:
    m = stack["m"]
    with pytest.raises(TApplicationException) as info:
        probe.savePin(m.types.Pin(id=1001, ownerId=1, boardId=101, title="dup"))  # primary key taken
    assert "binding savePin" in info.value.message
    assert probe.pin(1001).title == PINS[1001]["title"]


def test_reconnects_after_a_store_restarts_on_its_port() -> None:
    """Both pools hold connections to servers that went away; the next call reconnects."""
    from simdb.mysql.fake import MySQLConfig
    from simdb.redis.fake import RedisConfig
    from tests.thrift.databind_support import SNAPSHOT

    raw = {"modelVersion": BINDINGS["modelVersion"], "title": BINDINGS["title"]}
    with homefeed_stores() as (db, cache), bound_fake(raw, endpoints(db, cache)) as fake:
        module = thriftpy2.load(
            str(PROBE), module_name="databind_probe3_thrift", include_dirs=[str(HOMEFEED)]
        )
        c = make_client(module.Probe, fake.endpoint.host, fake.endpoint.port, timeout=10_000)
        try:
            assert c.title(1001) == PINS[1001]["title"]
            assert c.modelVersion() == REDIS["model:ranker:version"]["value"]
            db_port, cache_port = db.endpoint.port, cache.endpoint.port
            db.stop()
            cache.stop()
            db2 = MySQLFake(MySQLConfig(name="db", database="homefeed", port=db_port, snapshot=SNAPSHOT))
            cache2 = RedisFake(RedisConfig(name="cache", port=cache_port, snapshot=SNAPSHOT))
            db2.start()
            try:
                cache2.start()
                try:
                    assert c.title(1001) == PINS[1001]["title"]
                    assert c.modelVersion() == REDIS["model:ranker:version"]["value"]
                finally:
                    cache2.stop()
            finally:
                db2.stop()
            with pytest.raises(TApplicationException) as info:  # now nobody listens: an error, not a hang
                c.title(1001)
            assert "binding title" in info.value.message and "unreachable" in info.value.message
            assert isinstance(c.recent(1, 2), list)  # the Thrift connection still serves (generated)
        finally:
            c.close()


def test_unconnected_binding_is_an_error_not_a_generated_value() -> None:
    from simdb.thrift.databind import parse_bindings
    from simdb.thrift.fake import ThriftConfig

    cfg = ThriftConfig(
        idl=PROBE,
        services=("Probe",),
        include_dirs=(HOMEFEED,),
        bindings=parse_bindings({"modelVersion": BINDINGS["modelVersion"]}, "b"),
    )
    fake = ThriftFake(cfg)
    fake.start()
    try:
        module = thriftpy2.load(
            str(PROBE), module_name="databind_probe2_thrift", include_dirs=[str(HOMEFEED)]
        )
        c = make_client(module.Probe, fake.endpoint.host, fake.endpoint.port, timeout=5000)
        try:
            with pytest.raises(TApplicationException) as info:
                c.modelVersion()
            assert "not connected" in info.value.message
        finally:
            c.close()
    finally:
        fake.stop()


def test_multiplexed_fake_answers_each_service_from_its_binding() -> None:
    from thriftpy2.protocol import TBinaryProtocolFactory, TMultiplexedProtocolFactory

    from simdb.thrift.databind import parse_bindings
    from simdb.thrift.fake import ThriftConfig

    raw = {
        "BaseService.version": {"redis": {"store": "cache", "command": "GET", "key": "model:ranker:version"}},
        "CandidateGenerator.version": {
            "sql": {"store": "db", "query": "SELECT title FROM pins WHERE id = 1001"}
        },
    }
    cfg = ThriftConfig(
        idl=HOMEFEED / "candidates.thrift",
        services=("CandidateGenerator", "base.BaseService"),
        multiplexed=True,
        include_dirs=(HOMEFEED,),
        bindings=parse_bindings(raw, "b"),
    )
    with homefeed_stores() as (db, cache):
        fake = ThriftFake(cfg)
        fake.start()
        try:
            fake.bind_stack(endpoints(db, cache))
            module = thriftpy2.load(
                str(HOMEFEED / "candidates.thrift"),
                module_name="databind_cg_thrift",
                include_dirs=[str(HOMEFEED)],
            )
            ep = fake.endpoint
            answers = {}
            for service, cls in (
                ("BaseService", module.base.BaseService),
                ("CandidateGenerator", module.CandidateGenerator),
            ):
                proto = TMultiplexedProtocolFactory(TBinaryProtocolFactory(), service)
                c = make_client(cls, ep.host, ep.port, proto_factory=proto, timeout=10_000)
                try:
                    answers[service] = c.version()
                finally:
                    c.close()
            assert answers == {
                "BaseService": REDIS["model:ranker:version"]["value"],
                "CandidateGenerator": PINS[1001]["title"],
            }
        finally:
            fake.stop()


_IDS = st.lists(st.one_of(st.sampled_from(sorted(PINS)), st.integers(-5, 2000)), max_size=12)


@settings(max_examples=25, deadline=None)
@given(ids=_IDS, n=st.integers(0, 15))
def test_property_sql_in_and_compose_agree_with_the_snapshot(
    stack: dict[str, Any], ids: list[int], n: int
) -> None:
    c = stack["client"]
    assert c.titles(ids) == {i: PINS[i]["title"] for i in ids if i in PINS}
    got = c.topSaved(ids, n)
    known = [i for i in ids if f"pin:{i}:features" in REDIS]
    saves = {i: int(dict(REDIS[f"pin:{i}:features"]["value"])["save_count"]) for i in known}
    assert got == sorted(known, key=lambda i: -saves[i])[:n]  # stable: ties keep the given order
