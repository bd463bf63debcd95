"""The demo home-feed stack: four Thrift services, a Redis cache and a MySQL database.

The stack is ``examples/homefeed/simdb.yaml`` (shipped in the package as ``simdb/_demo/``), built
from ``thrift/homefeed/`` and seeded from ``seeds/homefeed/``; its Thrift methods answer from the
seeded stores (``bindings.yaml``). :func:`home_feed` walks one home-feed request through it, the
way a feed service would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simdb.errors import ConfigError
from simdb.fake import Endpoint

THRIFT_SERVICES: dict[str, tuple[str, str]] = {
    "pinstore": ("pinstore.thrift", "PinStore"),
    "usergraph": ("usergraph.thrift", "UserGraph"),
    "candidates": ("candidates.thrift", "CandidateGenerator"),
    "ranker": ("ranker.thrift", "Ranker"),
}


def demo_stack_file() -> Path:
    """The demo's stack file: shipped inside the package (a wheel), else this source checkout's."""
    from importlib import resources

    packaged = Path(str(resources.files("simdb"))) / "_demo" / "examples" / "homefeed" / "simdb.yaml"
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "examples" / "homefeed" / "simdb.yaml"
    if checkout.is_file():
        return checkout
    raise ConfigError(f"the demo stack is not installed (looked for {packaged} and {checkout})")


def demo_idl_dir(stack_file: Path | None = None) -> Path:
    """``thrift/homefeed`` next to the demo stack file (the IDLs its Thrift fakes serve)."""
    base = (stack_file or demo_stack_file()).resolve().parent.parent.parent
    return base / "thrift" / "homefeed"


def home_feed(
    endpoints: Mapping[str, Endpoint], idl_dir: Path | None = None, user_id: int = 1, size: int = 5
) -> dict[str, Any]:
    """One home-feed request through the fakes: graph, candidates, pins, features, ranking, rows.

    Returns what each step got back, for printing.
    """
    import pymysql
    import redis
    import thriftpy2
    from thriftpy2.rpc import make_client

    def client(name: str) -> Any:
        file, service = THRIFT_SERVICES[name]
        module = thriftpy2.load(str(idl / file), module_name=f"demo_{name}_thrift", include_dirs=[str(idl)])
        ep = endpoints[name]
        return module, make_client(getattr(module, service), ep.host, ep.port, timeout=10_000)

    idl = idl_dir or demo_idl_dir()
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
