"""The demo home-feed stack: four Thrift services, a Redis cache and a MySQL database.

The stack is built from ``thrift/homefeed/`` and seeded from ``seeds/homefeed/``; :func:`home_feed`
walks one home-feed request through it, the way a feed service would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simdb.errors import ConfigError
from simdb.fake import Endpoint, Fake

THRIFT_SERVICES: dict[str, tuple[str, str]] = {
    "pinstore": ("pinstore.thrift", "PinStore"),
    "usergraph": ("usergraph.thrift", "UserGraph"),
    "candidates": ("candidates.thrift", "CandidateGenerator"),
    "ranker": ("ranker.thrift", "Ranker"),
}


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo's IDL and snapshot live (the repository root by default)."""

    idl_dir: Path
    snapshot: Path

    @classmethod
    def find(cls, root: Path | None = None, snapshot: Path | None = None) -> DemoPaths:
        """Locate ``thrift/homefeed`` and ``seeds/homefeed`` under ``root`` (default: the working dir)."""
        base = Path.cwd() if root is None else root
        paths = cls(base / "thrift" / "homefeed", snapshot or base / "seeds" / "homefeed")
        if not (paths.idl_dir / "types.thrift").is_file():
            raise ConfigError(f"demo IDL not found at {paths.idl_dir} (run from the simdb repository root)")
        if not (paths.snapshot / "snapshot.yaml").is_file():
            raise ConfigError(f"demo snapshot not found at {paths.snapshot} (no snapshot.yaml)")
        return paths


def build_fakes(paths: DemoPaths, host: str = "127.0.0.1", admin: bool = True) -> list[Fake]:
    """The demo stack's fakes, unstarted, all on free ports."""
    from simdb.mysql.fake import MySQLConfig, MySQLFake
    from simdb.redis.fake import RedisConfig, RedisFake
    from simdb.thrift.fake import ThriftConfig, ThriftFake

    admin_port = 0 if admin else None
    fakes: list[Fake] = [
        ThriftFake(
            ThriftConfig(
                idl=paths.idl_dir / idl,
                services=(service,),
                name=name,
                host=host,
                include_dirs=(paths.idl_dir,),
                admin_port=admin_port,
            )
        )
        for name, (idl, service) in THRIFT_SERVICES.items()
    ]
    fakes.append(RedisFake(RedisConfig(name="cache", host=host, admin_port=admin_port)))
    fakes.append(MySQLFake(MySQLConfig(name="db", host=host, database="homefeed", admin_port=admin_port)))
    return fakes


def home_feed(
    endpoints: dict[str, Endpoint], paths: DemoPaths, user_id: int = 1, size: int = 5
) -> dict[str, Any]:
    """One home-feed request through the fakes: graph, candidates, pins, features, ranking, rows.

    Returns what each step got back, for printing.
    """
    import pymysql
    import redis
    import thriftpy2
    from thriftpy2.rpc import make_client

    def client(name: str) -> Any:
        idl, service = THRIFT_SERVICES[name]
        module = thriftpy2.load(
            str(paths.idl_dir / idl), module_name=f"demo_{name}_thrift", include_dirs=[str(paths.idl_dir)]
        )
        ep = endpoints[name]
        return module, make_client(getattr(module, service), ep.host, ep.port, timeout=10_000)

    out: dict[str, Any] = {}
    _, usergraph = client("usergraph")
    cg_mod, candidates = client("candidates")
    _, pinstore = client("pinstore")
    rk_mod, ranker = client("ranker")
    try:
        page = usergraph.getFollowees(user_id, 0, 10)
        out["followees (usergraph)"] = list(page.followees)[:10]
        resp = candidates.getCandidates(cg_mod.CandidateRequest(userId=user_id, numCandidates=size))
        pin_ids = [c.pinId for c in resp.candidates][:size]
        out["candidates (candidates)"] = pin_ids
        out["pin titles (pinstore)"] = [pinstore.getPin(pin_id).title for pin_id in pin_ids]
        ranked = ranker.rank(rk_mod.RankRequest(userId=user_id, candidates=pin_ids, userFeatures={}))
        out["top ranked (ranker)"] = [(s.pinId, round(s.score, 3)) for s in ranked.ranked][:size]
        ranker.logImpression(
            rk_mod.Impression(userId=user_id, pinId=pin_ids[0] if pin_ids else 0, position=0, timestampMs=0)
        )
    finally:
        for c in (usergraph, candidates, pinstore, ranker):
            c.close()

    cache = endpoints["cache"]
    r = redis.Redis(host=cache.host, port=cache.port, decode_responses=True)
    try:
        out["followee cache (redis)"] = r.zrevrange(f"followees:{user_id}", 0, 9) or r.lrange(
            f"followees:{user_id}", 0, 9
        )
        out["user features (redis)"] = r.hgetall(f"user:{user_id}:features")
        out["keys (redis)"] = r.dbsize()
    finally:
        r.close()

    db = endpoints["db"]
    conn = pymysql.connect(host=db.host, port=db.port, user="root", password="", database="homefeed")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, username FROM users WHERE id = %s", (user_id,))
            out["user (mysql)"] = cur.fetchone()
            cur.execute("SELECT COUNT(*) FROM pins")
            row = cur.fetchone()
            out["pins (mysql)"] = row[0] if row else 0
    finally:
        conn.close()
    return out
