"""A stand-in for the real Ranker: a thriftpy2 server scoring pins by their ``save_count`` feature in Redis.

In a real team this is the production ranker; the recording example puts simdb's recording proxy
in front of it. Run: ``python examples/contract/real_ranker.py --redis redis://127.0.0.1:6379/0 --port 9090``.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
import thriftpy2
from thriftpy2.rpc import make_server

IDL = Path(__file__).resolve().parents[2] / "thrift" / "homefeed"


class RankerHandler:
    """Ranks the candidates that have features, most saved first; ``latencyMicros`` is measured."""

    def __init__(self, module: Any, store: redis.Redis) -> None:
        self.module = module
        self.store = store

    def _saves(self, pin_ids: list[int]) -> dict[int, float]:
        out = {}
        for pin_id in pin_ids:
            value = self.store.hget(f"pin:{pin_id}:features", "save_count")
            if value is not None:
                out[pin_id] = float(value)
        return out

    def rank(self, req: Any) -> Any:
        started = time.perf_counter()
        saves = self._saves(req.candidates)
        order = sorted(saves, key=lambda p: saves[p], reverse=True)
        ranked = [self.module.ScoredPin(pinId=p, score=saves[p]) for p in order]
        micros = max(1, int((time.perf_counter() - started) * 1e6))
        return self.module.RankResponse(
            ranked=ranked, modelVersion="homefeed-ranker-v7", latencyMicros=micros
        )

    def score(self, userId: int, pinIds: list[int]) -> dict[int, float]:
        return self._saves(pinIds)

    def logImpression(self, impression: Any) -> None:
        return None

    def health(self) -> Any:
        return self.module.types.HealthStatus(ok=True) if hasattr(self.module, "types") else None

    def version(self) -> str:
        return "ranker 1.0"


@contextmanager
def serving(redis_url: str, port: int = 0) -> Iterator[tuple[str, int]]:
    """The ranker serving on ``127.0.0.1:port`` (a free one for 0) until the block ends."""
    module = thriftpy2.load(
        str(IDL / "ranker.thrift"), module_name="real_ranker_thrift", include_dirs=[str(IDL)]
    )
    if port == 0:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    server = make_server(
        module.Ranker, RankerHandler(module, redis.Redis.from_url(redis_url)), "127.0.0.1", port
    )
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", port
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", required=True, help="redis:// URL of the features store")
    parser.add_argument("--port", type=int, default=9090)
    opts = parser.parse_args()
    with serving(opts.redis, opts.port) as (host, port):
        print(f"ranker serving on {host}:{port}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
