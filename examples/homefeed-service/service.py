"""An example home-feed service: the thing an engineer changes and tests against simdb's fakes.

It serves ``HomeFeedService.getHomeFeed(userId, count)`` over Thrift and, for each call, asks its
dependencies the way a production feed service would:

1. Redis: the user's followees (``followees:<uid>``, a sorted set) and features (``user:<uid>:features``);
2. Thrift ``CandidateGenerator.getCandidates`` for candidate pins;
3. Thrift ``Ranker.rank`` to order them;
4. MySQL: titles and image URLs of the ranked pins from the ``pins`` table.

Every endpoint comes from the config file given with ``--config`` (YAML or JSON), which
``simdb config render`` produces from a running stack; nothing is hard-coded.

    python service.py --config service.yaml
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pymysql
import redis
import thriftpy2
import yaml
from thriftpy2.rpc import make_client, make_server

HERE = Path(__file__).resolve().parent
log = logging.getLogger("homefeed-service")


def load_config(path: Path) -> dict[str, Any]:
    """The service's config: ``listen``, ``idl_dir``, ``candidates``, ``ranker``, ``redis``, ``mysql``."""
    data = yaml.safe_load(path.read_text())
    missing = [k for k in ("listen", "candidates", "ranker", "redis", "mysql") if k not in (data or {})]
    if missing:
        raise SystemExit(f"{path}: missing keys {missing}")
    return dict(data)


class Idl:
    """The dependency IDLs (``idl_dir``: where types.thrift, candidates.thrift, ranker.thrift live)."""

    def __init__(self, idl_dir: Path) -> None:
        include = [str(idl_dir), str(HERE / "idl")]
        self.candidates = thriftpy2.load(
            str(idl_dir / "candidates.thrift"), module_name="svc_candidates_thrift", include_dirs=include
        )
        self.ranker = thriftpy2.load(
            str(idl_dir / "ranker.thrift"), module_name="svc_ranker_thrift", include_dirs=include
        )
        self.feed = thriftpy2.load(
            str(HERE / "idl" / "homefeed.thrift"), module_name="svc_homefeed_thrift", include_dirs=include
        )


class HomeFeedHandler:
    """``getHomeFeed``: Redis, then the candidate generator, the ranker, then MySQL."""

    def __init__(self, config: dict[str, Any], idl: Idl) -> None:
        self.config = config
        self.idl = idl
        self.redis = redis.Redis.from_url(config["redis"]["url"], decode_responses=True)
        self.local = threading.local()

    def _thrift(self, name: str, service: Any) -> Any:
        clients = self.local.__dict__.setdefault("clients", {})
        if name not in clients:
            ep = self.config[name]
            clients[name] = make_client(service, ep["host"], int(ep["port"]), timeout=10_000)
        return clients[name]

    def _mysql(self) -> Any:
        conn = getattr(self.local, "mysql", None)
        if conn is None:
            db = self.config["mysql"]
            conn = pymysql.connect(
                host=db["host"], port=int(db["port"]), user=db.get("user", "root"),
                password=db.get("password", ""), database=db["database"], autocommit=True,
            )
            self.local.mysql = conn
        return conn

    def getHomeFeed(self, userId: int, count: int) -> Any:
        feed_mod = self.idl.feed
        try:
            followees = [int(f) for f in self.redis.zrevrange(f"followees:{userId}", 0, -1)]
            features = self.redis.hgetall(f"user:{userId}:features")
        except redis.RedisError as exc:
            raise feed_mod.FeedUnavailable(dependency="redis", message=str(exc)) from exc
        cand_mod, rank_mod = self.idl.candidates, self.idl.ranker
        request = cand_mod.CandidateRequest(userId=userId, numCandidates=max(count * 3, count))
        candidates = self._thrift("candidates", cand_mod.CandidateGenerator).getCandidates(request)
        pin_ids = [c.pinId for c in candidates.candidates]
        feature = rank_mod.types.FeatureValue
        user_features = {key: feature(stringValue=str(value)) for key, value in sorted(features.items())}
        ranked = self._thrift("ranker", rank_mod.Ranker).rank(
            rank_mod.RankRequest(userId=userId, candidates=pin_ids, userFeatures=user_features)
        )
        order = [s for s in ranked.ranked if s.pinId in set(pin_ids)][: max(count, 0)]
        rows: dict[int, tuple[str, str]] = {}
        if order:
            with self._mysql().cursor() as cur:
                marks = ", ".join(["%s"] * len(order))
                cur.execute(f"SELECT id, title, image_url FROM pins WHERE id IN ({marks})",
                            [s.pinId for s in order])
                rows = {int(r[0]): (r[1], r[2]) for r in cur.fetchall()}
        items = [
            feed_mod.FeedItem(pinId=s.pinId, title=rows[s.pinId][0], score=s.score, imageUrl=rows[s.pinId][1])
            for s in order
            if s.pinId in rows
        ]
        log.info("getHomeFeed(%d, %d): %d followees, %d candidates, %d items",
                 userId, count, len(followees), len(pin_ids), len(items))
        return feed_mod.HomeFeed(userId=userId, items=items, followees=followees)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Example home-feed service (tested against simdb).")
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    config = load_config(args.config)
    idl_dir = Path(config.get("idl_dir") or HERE / "idl")
    idl = Idl(idl_dir)
    handler = HomeFeedHandler(config, idl)
    listen = config["listen"]
    server = make_server(idl.feed.HomeFeedService, handler, listen.get("host", "127.0.0.1"),
                         int(listen["port"]), client_timeout=None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"homefeed-service listening on {listen.get('host', '127.0.0.1')}:{listen['port']}", flush=True)
    server.serve()


if __name__ == "__main__":
    main()
