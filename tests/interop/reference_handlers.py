"""Hand-written handlers for the demo services on thriftpy2 types.

Used as the thriftpy2 ``make_server`` baseline in bench/thrift_serve.py and to
check the interop harness itself against a server that is not simdb's.
Pins exist for ids 1001..1200; other ids raise ``PinNotFound``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


class DemoHandler:
    """Answers every demo method of every demo service (thriftpy2 value types)."""

    def __init__(self, types: ModuleType) -> None:
        self.t = types

    def _pin(self, pin_id: int) -> Any:
        t = self.t
        if not 1001 <= pin_id <= 1200:
            raise t.PinNotFound(id=pin_id, message=f"pin {pin_id} not found")
        return t.Pin(
            id=pin_id,
            ownerId=1 + pin_id % 20,
            boardId=101 + pin_id % 40,
            title=f"pin {pin_id}",
            images=[t.Image(url=f"https://img.example/{pin_id}.jpg", width=236, height=354)],
            tags={"recipe", "dinner"},
            createdAtMs=1_700_000_000_000 + pin_id,
            saveCount=pin_id % 97,
        )

    # BaseService
    def health(self) -> Any:
        return self.t.HealthStatus(state=self.t.HealthState.SERVING, detail="ok", uptimeMs=1)

    def version(self) -> str:
        return "homefeed-2024.06"

    # PinStore
    def getPin(self, id: int) -> Any:
        return self._pin(id)

    def getPins(self, ids: list[int], includeEmbeddings: bool) -> Any:
        known = [i for i in ids if 1001 <= i <= 1200]
        return {"pins": {i: self._pin(i) for i in known}, "missing": set(ids) - set(known)}

    def getBoardPins(self, boardId: int, limit: int) -> dict[str, list[Any]]:
        return {"main": [self._pin(1001 + (boardId - 101) * 5 + k) for k in range(min(limit, 5))]}

    # UserGraph
    def getFollowees(self, userId: int, cursor: int, limit: int) -> Any:
        if not 1 <= userId <= 20:
            raise self.t.UserNotFound(id=userId, message=f"user {userId} not found")
        return {"followees": [u for u in range(1, 21) if u != userId][:limit], "total": 19}

    def getUser(self, userId: int) -> Any:
        if not 1 <= userId <= 20:
            raise self.t.UserNotFound(id=userId, message=f"user {userId} not found")
        return self.t.User(id=userId, username=f"user{userId}", boardIds={101 + userId})

    def getInterestTree(self, userId: int, maxDepth: int) -> Any:
        t = self.t
        return t.Topic(id=1, name="food", children=[t.Topic(id=2, name="baking", children=[])])

    # CandidateGenerator
    def getCandidates(self, req: Any) -> Any:
        return {"candidates": [], "pinsBySource": {"FOLLOWING": [self._pin(1001)]}, "shardsQueried": 1}

    # Ranker
    def rank(self, req: Any) -> Any:
        return {"ranked": [], "modelVersion": req.modelName, "latencyMicros": 5}

    def score(self, userId: int, pinIds: list[int]) -> dict[int, float]:
        return {p: 1.0 / (1 + k) for k, p in enumerate(pinIds)}

    def logImpression(self, impression: Any) -> None:
        return None


def build_handler(module: ModuleType, service: str) -> Any:
    """A handler for ``service`` whose dict-shaped answers are turned into the IDL's structs."""
    handler = DemoHandler(module.types if hasattr(module, "types") else module)
    svc = getattr(module, service)

    class Bound:
        pass

    bound = Bound()
    for name in svc.thrift_services:
        fn = getattr(handler, name)
        result_spec = getattr(svc, f"{name}_result").thrift_spec.get(0)
        cls = (
            result_spec[2]
            if result_spec and len(result_spec) > 2 and isinstance(result_spec[2], type)
            else None
        )

        def wrapper(*args: Any, _fn: Any = fn, _cls: Any = cls) -> Any:
            value = _fn(*args)
            if _cls is not None and isinstance(value, dict):
                return _cls(**value)
            return value

        setattr(bound, name, wrapper)
    return bound
