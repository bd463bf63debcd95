"""Every demo method, called through the official Apache Thrift Python library.

``CALLS`` lists, per demo IDL, each method with arguments built from the code that
``thrift --gen py`` generated, and the generated class the answer must be.
``connect`` opens a client over any protocol/transport, optionally multiplexed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol, TMultiplexedProtocol
from thrift.transport import TSocket, TTransport

Mods = dict[str, ModuleType]


@dataclass(frozen=True)
class Call:
    """One method call: its arguments and a check of the answer's type."""

    method: str
    args: Callable[[Mods], tuple[Any, ...]]
    returns: Callable[[Mods], type | tuple[type, ...]] | None  # None: oneway


def _t(mods: Mods) -> ModuleType:
    return mods["types"]


def _candidate_request(m: Mods) -> Any:
    t, c = _t(m), m["candidates_ttypes"]
    return c.CandidateRequest(
        userId=1,
        surface=t.Surface.HOME,
        numCandidates=10,
        sources={t.CandidateSource.FOLLOWING, t.CandidateSource.TRENDING},
        excludePins={1001, 1002},
        features={"age_days": t.FeatureValue(doubleValue=0.5), "country": t.FeatureValue(stringValue="DE")},
        locale="en-US",
        requestContext=b"\x00\x01\xff",
        experimentBucket="control",
    )


def _rank_request(m: Mods) -> Any:
    t, r = _t(m), m["ranker_ttypes"]
    return r.RankRequest(
        userId=1,
        candidates=[1001, 1002, 1003],
        userFeatures={
            "country": t.FeatureValue(stringValue="DE"),
            "vec": t.FeatureValue(vectorValue=[0.1, 0.2]),
        },
        pinFeatures={
            1001: {"ctr": t.FeatureValue(doubleValue=0.12)},
            1002: {"new": t.FeatureValue(boolValue=True)},
        },
        modelName="homefeed-ranker-v7",
        surface=t.Surface.HOME,
    )


def _impression(m: Mods) -> Any:
    t, r = _t(m), m["ranker_ttypes"]
    return r.Impression(
        userId=1,
        pinId=1001,
        position=3,
        timestampMs=1_717_000_000_000,
        surface=t.Surface.HOME,
        trackingToken=b"tok",
    )


BASE_CALLS = [
    Call("health", lambda m: (), lambda m: _t(m).HealthStatus),
    Call("version", lambda m: (), lambda m: str),
]

CALLS: dict[str, list[Call]] = {
    "pinstore": [
        *BASE_CALLS,
        Call("getPin", lambda m: (1001,), lambda m: _t(m).Pin),
        Call("getPins", lambda m: ([1001, 1002, 1003], True), lambda m: m["pinstore_ttypes"].GetPinsResponse),
        Call("getBoardPins", lambda m: (101, 10), lambda m: dict),
    ],
    "usergraph": [
        *BASE_CALLS,
        Call("getFollowees", lambda m: (1, 0, 20), lambda m: m["usergraph_ttypes"].FolloweePage),
        Call("getUser", lambda m: (1,), lambda m: _t(m).User),
        Call("getInterestTree", lambda m: (1, 2), lambda m: _t(m).Topic),
    ],
    "candidates": [
        *BASE_CALLS,
        Call(
            "getCandidates",
            lambda m: (_candidate_request(m),),
            lambda m: m["candidates_ttypes"].CandidateResponse,
        ),
    ],
    "ranker": [
        *BASE_CALLS,
        Call("rank", lambda m: (_rank_request(m),), lambda m: m["ranker_ttypes"].RankResponse),
        Call("score", lambda m: (1, [1001, 1002]), lambda m: dict),
        Call("logImpression", lambda m: (_impression(m),), None),
    ],
}

#: Every demo method name, per IDL (what the Java and Node clients must print too).
METHODS: dict[str, list[str]] = {idl: [c.method for c in calls] for idl, calls in CALLS.items()}


def protocol_factory(protocol: str, accelerated: bool = False) -> Any:
    """An Apache protocol factory for ``binary`` or ``compact``."""
    if protocol == "binary":
        if accelerated:
            return TBinaryProtocol.TBinaryProtocolAcceleratedFactory()
        return TBinaryProtocol.TBinaryProtocolFactory()
    if protocol == "compact":
        return TCompactProtocol.TCompactProtocolFactory()
    raise ValueError(f"unknown protocol {protocol!r}")


@contextmanager
def connect(
    service_module: ModuleType,
    host: str,
    port: int,
    protocol: str = "binary",
    transport: str = "buffered",
    multiplexed_name: str | None = None,
    accelerated: bool = False,
    timeout_ms: int = 10_000,
) -> Any:
    """An open Apache client of ``service_module`` (``homefeed.pinstore.PinStore`` etc.)."""
    sock = TSocket.TSocket(host, port)
    sock.setTimeout(timeout_ms)
    if transport == "buffered":
        trans: Any = TTransport.TBufferedTransport(sock)
    elif transport == "framed":
        trans = TTransport.TFramedTransport(sock)
    else:
        raise ValueError(f"unknown transport {transport!r}")
    proto = protocol_factory(protocol, accelerated).getProtocol(trans)
    if multiplexed_name is not None:
        proto = TMultiplexedProtocol.TMultiplexedProtocol(proto, multiplexed_name)
    client = service_module.Client(proto)
    trans.open()
    try:
        yield client
    finally:
        trans.close()


def call_all(client: Any, mods: Mods, idl: str) -> list[tuple[str, Any]]:
    """Call every method of ``idl`` once; check each answer's type; return (method, answer) pairs."""
    answers = []
    for call in CALLS[idl]:
        answer = getattr(client, call.method)(*call.args(mods))
        if call.returns is None:
            assert answer is None, f"{idl}.{call.method} is oneway but returned {answer!r}"
        else:
            expected = call.returns(mods)
            assert isinstance(answer, expected), (
                f"{idl}.{call.method} returned {answer!r}, expected {expected}"
            )
        answers.append((call.method, answer))
    return answers
