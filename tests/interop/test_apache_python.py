"""simdb against the official Apache Thrift Python library, with code from Debian's thrift compiler.

Every demo method over binary/compact x buffered/framed, one service per port
(in-process ThriftFake) and all services multiplexed on one port (``simdb thrift
serve`` started as a user would). Declared exceptions arrive as the generated
classes and the connection survives application errors.
"""

from __future__ import annotations

from types import ModuleType

import pytest
from thrift.Thrift import TApplicationException

from tests.interop.calls import call_all, connect
from tests.interop.codegen import SERVICES

pytestmark = pytest.mark.interop

PROTOCOLS = ["binary", "compact"]
TRANSPORTS = ["buffered", "framed"]
ALL = tuple(SERVICES)
IN_PROCESS = "inprocess"
CLI = "cli"


@pytest.mark.parametrize("idl", ALL)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_method_one_service_per_port(
    apache_py: dict[str, ModuleType], servers, idl: str, protocol: str, transport: str
) -> None:
    server = servers.get((idl,), protocol, transport, mode=IN_PROCESS)
    with connect(apache_py[idl], server.host, server.port, protocol, transport) as client:
        answers = call_all(client, apache_py, idl)
    assert [method for method, _ in answers] == [c for c in _methods(idl)]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_method_multiplexed(
    apache_py: dict[str, ModuleType], servers, protocol: str, transport: str
) -> None:
    server = servers.get(ALL, protocol, transport, multiplexed=True, mode=CLI)
    for idl, service in SERVICES.items():
        with connect(
            apache_py[idl], server.host, server.port, protocol, transport, multiplexed_name=service
        ) as client:
            call_all(client, apache_py, idl)


@pytest.mark.parametrize(("protocol", "transport"), [("binary", "buffered"), ("compact", "framed")])
def test_declared_exception_is_the_generated_class_and_connection_survives(
    apache_py: dict[str, ModuleType], servers, protocol: str, transport: str
) -> None:
    types = apache_py["types"]
    server = servers.get(("pinstore",), protocol, transport, mode=IN_PROCESS)
    with connect(apache_py["pinstore"], server.host, server.port, protocol, transport) as client:
        with pytest.raises(types.PinNotFound) as caught:
            client.getPin(999_999)
        assert caught.value.id == 999_999
        with pytest.raises(types.PinNotFound):
            client.getPin(1)
        pin = client.getPin(1001)
        assert isinstance(pin, types.Pin)
        assert pin.id == 1001


def test_declared_exception_multiplexed(apache_py: dict[str, ModuleType]) -> None:
    """Multiplexed (no stubs there): a fault rule raises the declared exception; the connection survives."""
    from simdb.thrift.fake import ThriftConfig, ThriftFake
    from tests.interop.servers import ALL_IDL, HOMEFEED

    fake = ThriftFake(
        ThriftConfig(
            idl=ALL_IDL,
            services=("pinstore.PinStore", "usergraph.UserGraph"),
            multiplexed=True,
            transport="framed",
            include_dirs=(HOMEFEED,),
            faults={
                "UserGraph": {"getUser": {"exception_rate": 1.0, "exception": {"UserNotFound": {"id": 404}}}}
            },
        )
    )
    endpoint = fake.start()
    types = apache_py["types"]
    try:
        with connect(
            apache_py["usergraph"], endpoint.host, endpoint.port, "binary", "framed", "UserGraph"
        ) as c:
            with pytest.raises(types.UserNotFound) as caught:
                c.getUser(404)
            assert caught.value.id == 404
            assert isinstance(c.health(), types.HealthStatus)
            with pytest.raises(types.UserNotFound):
                c.getUser(1)
        with connect(
            apache_py["pinstore"], endpoint.host, endpoint.port, "binary", "framed", "PinStore"
        ) as c:
            assert isinstance(c.getPin(1001), types.Pin)
    finally:
        fake.stop()


@pytest.mark.parametrize(("protocol", "transport"), [("binary", "buffered"), ("compact", "framed")])
def test_unknown_method_is_an_application_error_and_connection_survives(
    apache_py: dict[str, ModuleType], servers, protocol: str, transport: str
) -> None:
    """A PinStore client talking to the UserGraph server: getPin is UNKNOWN_METHOD, then health() works."""
    server = servers.get(("usergraph",), protocol, transport, mode=IN_PROCESS)
    with connect(apache_py["usergraph"], server.host, server.port, protocol, transport) as graph:
        wrong = apache_py["pinstore"].Client(graph._iprot)
        with pytest.raises(TApplicationException) as caught:
            wrong.getPin(1001)
        assert caught.value.type == TApplicationException.UNKNOWN_METHOD
        assert "getPin" in str(caught.value.message)
        assert isinstance(graph.health(), apache_py["types"].HealthStatus)
        assert isinstance(graph.getUser(2), apache_py["types"].User)


def test_unknown_service_multiplexed_is_an_application_error(
    apache_py: dict[str, ModuleType], servers
) -> None:
    server = servers.get(ALL, "compact", "buffered", multiplexed=True, mode=CLI)
    with (
        connect(
            apache_py["pinstore"], server.host, server.port, "compact", "buffered", "NoSuchService"
        ) as client,
        pytest.raises(TApplicationException),
    ):
        client.getPin(1001)
    with connect(
        apache_py["pinstore"], server.host, server.port, "compact", "buffered", "PinStore"
    ) as client:
        assert isinstance(client.getPin(1001), apache_py["types"].Pin)


def test_oneway_then_call_on_same_connection(apache_py: dict[str, ModuleType], servers) -> None:
    server = servers.get(("ranker",), "binary", "framed", mode=IN_PROCESS)
    ranker = apache_py["ranker_ttypes"]
    with connect(apache_py["ranker"], server.host, server.port, "binary", "framed") as client:
        for position in range(5):
            client.logImpression(ranker.Impression(userId=1, pinId=1001 + position, position=position))
        assert client.version() == "homefeed-2024.06"


def _methods(idl: str) -> list[str]:
    from tests.interop.calls import METHODS

    return METHODS[idl]


@pytest.mark.parametrize(("protocol", "transport"), [("binary", "framed"), ("compact", "buffered")])
def test_stub_answers_arrive_exactly(
    apache_py: dict[str, ModuleType], servers, protocol: str, transport: str
) -> None:
    """Values from examples/homefeed-stubs/pinstore.yaml, decoded by the generated Apache classes."""
    types = apache_py["types"]
    server = servers.get(("pinstore",), protocol, transport, mode=CLI)
    with connect(apache_py["pinstore"], server.host, server.port, protocol, transport) as client:
        pin = client.getPin(1001)
        assert pin.title == "Weeknight lemon pasta"
        assert pin.mediaType == types.MediaType.IMAGE
        assert pin.tags == {"dinner", "pasta", "recipe"}
        assert pin.embedding == bytes(range(8))
        assert pin.qualityTier == 1
        assert pin.aspectRatio == 1.5
        assert pin.attributes == {"cuisine": "italian", "diet": "vegetarian"}
        assert [image.width for image in pin.images] == [236, 736]
        templated = client.getPin(1177)
        assert (templated.id, templated.title) == (1177, "pin 1177")
        many = client.getPins([1001, 5000], False)
        assert sorted(many.pins) == [1001]
        assert many.missing == {5000}
        with pytest.raises(types.InvalidRequest) as caught:
            client.getPins([], False)
        assert caught.value.field == "ids"
        board = client.getBoardPins(101, 10)
        assert sorted(board) == ["desserts", "main"]
        assert [p.id for p in board["main"]] == [1001, 1041]
        assert client.version() == "homefeed-2024.06"


def test_sequence_fails_twice_then_succeeds_on_one_connection(
    apache_py: dict[str, ModuleType], servers
) -> None:
    """examples/homefeed-stubs/usergraph.yaml: user 7 fails twice, then answers (and keeps answering)."""
    server = servers.get(("usergraph",), "compact", "framed", mode=IN_PROCESS)
    server.extra["fake"].reset()
    with connect(apache_py["usergraph"], server.host, server.port, "compact", "framed") as client:
        for _ in range(2):
            with pytest.raises(TApplicationException) as caught:
                client.getFollowees(7, 0, 10)
            assert caught.value.type == TApplicationException.INTERNAL_ERROR
            assert "graph shard 3 unavailable" in str(caught.value.message)
        for _ in range(2):
            assert client.getFollowees(7, 0, 10).followees == [1, 2, 3]
        page = client.getFollowees(1, 0, 10)
        assert (page.followees[0], page.nextCursor, page.total) == (2, 10, 19)
        last = client.getFollowees(1, page.nextCursor, 10)
        assert last.followees[-1] == 20
        assert last.nextCursor is None


def test_templates_priorities_and_exceptions_from_example_stubs(
    apache_py: dict[str, ModuleType], servers
) -> None:
    """examples/homefeed-stubs/{candidates,ranker}.yaml: templates copy request fields; priorities decide."""
    types, cand = apache_py["types"], apache_py["candidates_ttypes"]
    server = servers.get(("candidates",), "binary", "buffered", mode=IN_PROCESS)
    with connect(apache_py["candidates"], server.host, server.port, "binary", "buffered") as client:
        home = client.getCandidates(cand.CandidateRequest(userId=1, surface=types.Surface.HOME))
        assert home.debugInfo == "user 1, surface HOME"
        assert [c.pinId for c in home.candidates][:2] == [1001, 1041]
        assert home.candidates[0].source == types.CandidateSource.FOLLOWING
        assert sorted(home.pinsBySource) == ["FOLLOWING", "TRENDING"]
        with pytest.raises(types.InvalidRequest) as invalid:
            client.getCandidates(cand.CandidateRequest(userId=1, numCandidates=0))
        assert invalid.value.field == "req.numCandidates"
        with pytest.raises(types.Overloaded) as overloaded:
            client.getCandidates(cand.CandidateRequest(userId=13))
        assert overloaded.value.retryAfterMs == 250
        other = client.getCandidates(cand.CandidateRequest(userId=5, surface=types.Surface.SEARCH))
        assert other.debugInfo == "fallback for user 5"

    rank = apache_py["ranker_ttypes"]
    server = servers.get(("ranker",), "binary", "buffered", mode=IN_PROCESS)
    with connect(apache_py["ranker"], server.host, server.port, "binary", "buffered") as client:
        ranked = client.rank(
            rank.RankRequest(userId=1, candidates=[1001, 1002], userFeatures={}, modelName="v9")
        )
        assert ranked.modelVersion == "v9"
        assert [s.pinId for s in ranked.ranked] == [1001, 1003, 1002]
        with pytest.raises(types.InvalidRequest):
            client.rank(rank.RankRequest(userId=1, candidates=[], userFeatures={}))
        assert client.score(1, [1001]) == {1001: 0.97, 1002: 0.52, 1003: 0.74}


def test_example_fault_file_loads() -> None:
    """examples/homefeed-stubs/ranker-faults.yaml parses into fault rules for rank and score."""
    from simdb.thrift.idl import load_idl
    from simdb.thrift.model import service_model
    from simdb.thrift.stubs import StubSet
    from tests.interop.servers import EXAMPLE_STUBS, HOMEFEED

    model = service_model(load_idl(HOMEFEED / "ranker.thrift", [HOMEFEED]), "Ranker")
    stubs = StubSet.load_files(model, [EXAMPLE_STUBS / "ranker.yaml", EXAMPLE_STUBS / "ranker-faults.yaml"])
    assert sorted(stubs.faults) == ["rank", "score"]
    latency = stubs.faults["rank"].latency
    assert latency is not None
    assert (latency.p50_ms, latency.p99_ms) == (12, 45)
