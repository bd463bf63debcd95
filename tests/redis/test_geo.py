"""GEO commands against redis-server: scores, positions, distances and searches as Redis gives them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from simdb.redis import geo
from simdb.redis.fake import RedisFake
from simdb.redis.real import RealRedis

CITIES = [
    (13.361389, 38.115556, "Palermo"),
    (15.087269, 37.502669, "Catania"),
    (2.3522, 48.8566, "Paris"),
    (-0.1276, 51.5072, "London"),
    (-73.9857, 40.7484, "NY"),
    (139.6917, 35.6895, "Tokyo"),
    (0, 0, "Null"),
    (179.9, 85.05, "Edge"),
]

CASES: list[tuple[object, ...]] = [
    ("ZSCORE", "g", "Palermo"),
    ("ZSCORE", "g", "Edge"),
    ("GEODIST", "g", "Palermo", "Catania"),
    ("GEODIST", "g", "Palermo", "Catania", "km"),
    ("GEODIST", "g", "Palermo", "Catania", "MI"),
    ("GEODIST", "g", "Paris", "NY", "ft"),
    ("GEODIST", "g", "Paris", "nosuch"),
    ("GEODIST", "g", "a", "b", "c", "d"),
    ("GEODIST", "g", "Paris", "London", "parsec"),
    ("GEOPOS", "g", "Palermo", "nosuch", "Tokyo", "Edge"),
    ("GEOPOS", "nokey", "a"),
    ("GEOHASH", "g", "Palermo", "Catania", "Edge", "Null", "nosuch"),
    ("GEOADD", "g", "XX", "CH", 13.4, 38.1, "Palermo", 1, 1, "new"),
    ("GEOADD", "g", "NX", 1, 1, "Palermo", 2, 2, "new2"),
    ("GEOADD", "g", "NX", "XX", 1, 1, "a"),
    ("GEOADD", "g", 200, 100, "a"),
    ("GEOADD", "g", "x", 1, "a"),
    ("GEOADD", "g", 1, 2, "a", 3),
    ("GEORADIUS", "g", 15, 37, 200, "km", "ASC"),
    ("GEORADIUS", "g", 15, 37, 200, "km", "ASC", "WITHDIST", "WITHCOORD", "WITHHASH"),
    ("GEORADIUS", "g", 15, 37, 2000, "km", "DESC", "COUNT", 2),
    ("GEORADIUS", "g", 15, 37, 2000, "km", "COUNT", 3, "WITHDIST"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", 300, "km", "ASC", "WITHDIST"),
    ("GEORADIUSBYMEMBER", "g", "nosuch", 300, "km"),
    ("GEORADIUS", "g", 15, 37, -1, "km"),
    ("GEORADIUS", "g", 15, 37, 1, "parsec"),
    ("GEORADIUS", "g", 15, 37, 200, "km", "COUNT", 0),
    ("GEORADIUS", "g", 15, 37, 200, "km", "ANY"),
    ("GEORADIUS", "g", 15, 37, 2000, "km", "STORE", "dst", "WITHDIST"),
    ("GEOSEARCH", "g", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "ASC", "WITHDIST"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Paris", "BYBOX", 2000, 2000, "km", "ASC", "WITHCOORD"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Paris", "BYBOX", 400, 1000, "km", "DESC"),
    ("GEOSEARCH", "g", "BYRADIUS", 200, "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", 15, 37),
    ("GEOSEARCH", "g", "FROMMEMBER", "zz", "BYRADIUS", 1, "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "STORE", "x"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "zz", "BYRADIUS", 1, "km"),
    ("GEORADIUSBYMEMBER", "nokey", "zz", 1, "km"),
]


def outcome(client: redis.Redis, *args: object) -> tuple[str, object]:
    try:
        return ("ok", client.execute_command(*args))
    except redis.ResponseError as exc:
        return ("error", str(exc))


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(
    request: pytest.FixtureRequest, fake_redis: RedisFake, real_redis: RealRedis
) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    fake = redis.Redis(host=fake_redis.endpoint.host, port=fake_redis.endpoint.port, protocol=request.param)
    real = redis.Redis(host=real_redis.host, port=real_redis.port, protocol=request.param)
    for c in (fake, real):
        c.flushall()
        c.geoadd("g", [x for city in CITIES for x in city])
    yield fake, real
    fake.close()
    real.close()


@pytest.mark.real
@pytest.mark.parametrize("args", CASES, ids=[" ".join(map(str, a))[:60] for a in CASES])
def test_geo_answers_as_redis(pair: tuple[redis.Redis, redis.Redis], args: tuple[object, ...]) -> None:
    fake, real = pair
    assert outcome(fake, *args) == outcome(real, *args)


@pytest.mark.real
def test_geo_stores_as_redis(pair: tuple[redis.Redis, redis.Redis]) -> None:
    steps: list[tuple[object, ...]] = [
        ("GEORADIUS", "g", 15, 37, 2000, "km", "STORE", "dst"),
        ("ZRANGE", "dst", 0, -1, "WITHSCORES"),
        ("GEORADIUS", "g", 15, 37, 2000, "km", "ASC", "STOREDIST", "dst2"),
        ("ZRANGE", "dst2", 0, -1, "WITHSCORES"),
        ("GEORADIUS", "g", 15, 37, 1, "m", "STORE", "dst"),
        ("EXISTS", "dst"),
        ("GEOSEARCHSTORE", "d3", "g", "FROMLONLAT", 15, 37, "BYRADIUS", 3000, "km", "COUNT", 3, "STOREDIST"),
        ("ZRANGE", "d3", 0, -1, "WITHSCORES"),
        ("GEOSEARCHSTORE", "d4", "g", "FROMLONLAT", 15, 37, "BYRADIUS", 3000, "km"),
        ("ZRANGE", "d4", 0, -1, "WITHSCORES"),
    ]
    fake, real = pair
    for step in steps:
        assert outcome(fake, *step) == outcome(real, *step), step


@pytest.mark.fake
def test_geohash_round_trip_stays_in_its_cell() -> None:
    for lon, lat, _ in CITIES:
        back_lon, back_lat = geo.decode(geo.encode(lon, lat))
        assert abs(back_lon - lon) < 1e-5 and abs(back_lat - lat) < 1e-5
    # Redis measures between the cells' centres, not the positions given
    palermo = geo.decode(geo.encode(13.361389, 38.115556))
    catania = geo.decode(geo.encode(15.087269, 37.502669))
    assert geo.fmt_distance(geo.distance(*palermo, *catania), 1000.0) == b"166.2742"
    assert geo.fmt_coord(15.087267458438873) == b"15.08726745843887329"
