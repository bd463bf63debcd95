"""Data-backed Thrift calls: throughput of a call answered by a binding against a stubbed call.

Run: ``.venv/bin/python bench/databind.py`` (``--quick`` for a short run).

One thriftpy2 client, one connection, calling ``PinStore.getPin(id)`` in a loop with
ids cycling over the snapshot's 200 pins (seeds/homefeed), against two Thrift fakes
started in this process:

* stubbed (the baseline): the snapshot's ``thrift/pinstore`` stubs (one exact stub per pin);
* data-backed: a SQL binding on the pins table of a MySQL fake loaded from the same
  snapshot (``SELECT ... FROM pins WHERE id = :id``, mapped to ``Pin`` by name), the
  embedded way (``bind_stack`` given the fake objects: SQL runs on the MySQL fake's store
  in this process), and over the MySQL fake's socket (PyMySQL, as for a fake in another
  process or a real MariaDB).

An embedded SQL binding's replies are cached by request bytes and used only while SQLite's
``PRAGMA data_version`` of the MySQL fake's database is unchanged (any commit, reset or load
invalidates them), so after the first call per id the embedded binding is answered from the
cache like the stub. "cache off" is the same binding with that cache disabled: every call
runs the query (the cost of a first call, or of a call after every write).

Also shown, for reading the ratio: a Redis-backed call (``HGETALL pin:<id>:features``
into ``Ranker.score``-style map is not the same method, so it is reported in calls/s
only) and the bare PyMySQL query on the same MySQL fake (the floor a SQL binding
cannot beat: its store round trip).

Target: data-backed (embedded) throughput within 2x of the stubbed call (ratio >= 0.5).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# bench/redis.py and bench/mysql.py would shadow the client libraries of the same names.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SNAPSHOT = REPO / "seeds" / "homefeed"
HOMEFEED = REPO / "thrift" / "homefeed"
PIN_QUERY = (
    "SELECT id, owner_id, board_id, title, description, media_type, save_count, quality_tier, is_promoted "
    "FROM pins WHERE id = :id"
)
TARGET = 0.5


def rate(call: Callable[[int], object], seconds: float) -> float:
    """Calls per second of ``call(pin_id)`` over about ``seconds``."""
    for i in range(50):  # warm up connections and caches
        call(1001 + i % 200)
    n = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(100):
            call(1001 + n % 200)
            n += 1
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short rounds")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each is kept")
    opts = parser.parse_args()
    seconds = 0.5 if opts.quick else 2.0

    import pymysql
    import thriftpy2
    from thriftpy2.rpc import make_client

    from simdb.mysql.fake import MySQLConfig, MySQLFake
    from simdb.redis.fake import RedisConfig, RedisFake
    from simdb.thrift.databind import parse_bindings
    from simdb.thrift.fake import ThriftConfig, ThriftFake

    db = MySQLFake(MySQLConfig(name="db", database="homefeed", snapshot=SNAPSHOT))
    cache = RedisFake(RedisConfig(name="cache", snapshot=SNAPSHOT))
    pinstore = HOMEFEED / "pinstore.thrift"
    ranker = HOMEFEED / "ranker.thrift"
    stubbed = ThriftFake(
        ThriftConfig(idl=pinstore, services=("PinStore",), name="pinstore", include_dirs=(HOMEFEED,))
    )
    bound = ThriftFake(
        ThriftConfig(
            idl=pinstore,
            services=("PinStore",),
            name="pinstore",
            include_dirs=(HOMEFEED,),
            bindings=parse_bindings({"getPin": {"sql": {"store": "db", "query": PIN_QUERY}}}, "bench"),
        )
    )
    bound_nocache = ThriftFake(
        ThriftConfig(
            idl=pinstore,
            services=("PinStore",),
            name="pinstore",
            include_dirs=(HOMEFEED,),
            bindings=bound.config.bindings,
        )
    )
    bound_wire = ThriftFake(
        ThriftConfig(
            idl=pinstore,
            services=("PinStore",),
            name="pinstore",
            include_dirs=(HOMEFEED,),
            bindings=bound.config.bindings,
        )
    )
    redis_bound = ThriftFake(
        ThriftConfig(
            idl=ranker,
            services=("Ranker",),
            name="ranker",
            include_dirs=(HOMEFEED,),
            bindings=parse_bindings(
                {
                    "score": {
                        "compose": {
                            "items": "pinIds",
                            "lookup": {
                                "redis": {
                                    "store": "cache",
                                    "command": "HMGET",
                                    "key": "pin:{item}:features",
                                    "fields": ["save_count"],
                                }
                            },
                        },
                        "key": "item",
                        "value": "save_count",
                    }
                },
                "bench",
            ),
        )
    )
    started = []
    clients: list[object] = []
    try:
        for fake in (db, cache, stubbed, bound, bound_nocache, bound_wire, redis_bound):
            fake.start()
            started.append(fake)
        stubbed.load(SNAPSHOT)
        eps = {"db": db.endpoint, "cache": cache.endpoint}
        bound.bind_stack(eps, {"db": db, "cache": cache})
        bound_wire.bind_stack(eps)
        bound_nocache.bind_stack(eps, {"db": db, "cache": cache})
        bound_nocache.states["PinStore"].bound["getPin"].versioned = False  # type: ignore[attr-defined]
        redis_bound.bind_stack(eps)
        ps = thriftpy2.load(str(pinstore), module_name="bench_pinstore_thrift", include_dirs=[str(HOMEFEED)])
        rk = thriftpy2.load(str(ranker), module_name="bench_ranker_thrift", include_dirs=[str(HOMEFEED)])
        c_stub = make_client(ps.PinStore, "127.0.0.1", stubbed.endpoint.port, timeout=30_000)
        c_bound = make_client(ps.PinStore, "127.0.0.1", bound.endpoint.port, timeout=30_000)
        c_wire = make_client(ps.PinStore, "127.0.0.1", bound_wire.endpoint.port, timeout=30_000)
        c_nocache = make_client(ps.PinStore, "127.0.0.1", bound_nocache.endpoint.port, timeout=30_000)
        clients += [c_wire, c_nocache]
        c_redis = make_client(rk.Ranker, "127.0.0.1", redis_bound.endpoint.port, timeout=30_000)
        clients += [c_stub, c_bound, c_redis]
        assert c_stub.getPin(1001).title == c_bound.getPin(1001).title  # same pin either way
        conn = pymysql.connect(
            host=db.endpoint.host,
            port=db.endpoint.port,
            user="root",
            password="",
            database="homefeed",
            autocommit=True,
        )
        cur = conn.cursor()
        raw_query = PIN_QUERY.replace(":id", "%s")

        def raw_sql(pin_id: int) -> object:
            cur.execute(raw_query, (pin_id,))
            return cur.fetchall()

        runs: dict[str, Callable[[int], object]] = {
            "stubbed getPin (baseline)": c_stub.getPin,
            "data-backed getPin (SQL binding, embedded)": c_bound.getPin,
            "data-backed getPin (SQL binding, embedded, cache off)": c_nocache.getPin,
            "data-backed getPin (SQL binding, over the socket)": c_wire.getPin,
            "data-backed score([id]) (Redis binding)": lambda i: c_redis.score(1, [i]),
            "bare PyMySQL SELECT on the MySQL fake": raw_sql,
        }
        best = dict.fromkeys(runs, 0.0)
        for _ in range(opts.rounds):
            for name, call in runs.items():
                best[name] = max(best[name], rate(call, seconds))
        conn.close()
    finally:
        for c in clients:
            c.close()  # type: ignore[attr-defined]
        for fake in reversed(started):
            fake.stop()
    width = max(len(n) for n in best)
    for name, value in best.items():
        print(f"{name:<{width}}  {value:9.0f} calls/s")
    base = best["stubbed getPin (baseline)"]
    ratio = best["data-backed getPin (SQL binding, embedded)"] / base
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"ratio data-backed (embedded) / stubbed: {ratio:.2f} (target >= {TARGET}: {verdict})")
    nocache_ratio = best["data-backed getPin (SQL binding, embedded, cache off)"] / base
    print(f"ratio data-backed (embedded, cache off) / stubbed: {nocache_ratio:.2f}")
    wire_ratio = best["data-backed getPin (SQL binding, over the socket)"] / base
    print(f"ratio data-backed (over the socket) / stubbed: {wire_ratio:.2f}")
    print(f"ratio Redis-backed / stubbed: {best['data-backed score([id]) (Redis binding)'] / base:.2f}")
    floor = best["bare PyMySQL SELECT on the MySQL fake"]
    wire_best = best["data-backed getPin (SQL binding, over the socket)"]
    print(f"ratio SQL binding over the socket / bare PyMySQL query: {wire_best / floor:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
