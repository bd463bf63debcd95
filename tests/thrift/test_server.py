"""The Thrift fake over real sockets: every protocol and transport, stubs, generated values, oneway,
multiplexing."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from thriftpy2.thrift import TApplicationException

from simdb.errors import ConfigError, IdlError
from simdb.thrift.fake import ThriftConfig, ThriftFake
from simdb.thrift.scan import Limits
from tests.fixtures.common import wait_until
from tests.thrift.serving import (
    HOMEFEED,
    PINSTORE,
    RANKER,
    args_of,
    call_bytes,
    client,
    connect,
    read_reply,
    running,
)

pytestmark = pytest.mark.fake

COMBOS = [("binary", "buffered"), ("binary", "framed"), ("compact", "buffered"), ("compact", "framed")]

STUBS = """
stubs:
  - id: pin-1001
    method: getPin
    args: {id: 1001}
    reply: {return: {id: 1001, ownerId: 7, title: "Blue kitchen", tags: [b, a]}}
  - id: missing
    method: getPin
    args: {id: 404}
    reply: {raise: {PinNotFound: {id: 404, message: "no such pin"}}}
  - id: flaky
    method: getPin
    args: {id: 7}
    replies:
      - {app_error: {type: INTERNAL_ERROR, message: "try again"}, times: 2}
      - {return: {id: 7, ownerId: 1}}
"""


@pytest.fixture
def stub_file(tmp_path: Path) -> Path:
    path = tmp_path / "pins.yaml"
    path.write_text(STUBS)
    return path


@pytest.mark.parametrize(("protocol", "transport"), COMBOS)
def test_every_method_answers_on_every_protocol_and_transport(protocol: str, transport: str,
                                                               stub_file: Path) -> None:
    with running(protocol=protocol, transport=transport, stubs=(stub_file,)) as fake:
        c = client(fake)
        try:
            pin = c.getPin(1001)
            assert (pin.id, pin.ownerId, pin.title, sorted(pin.tags)) == (1001, 7, "Blue kitchen", ["a", "b"])
            generated = c.getPin(5)
            assert isinstance(generated.id, int)
            pins = c.getPins([1, 2, 3], True)
            assert pins.__class__.__name__ == "GetPinsResponse"
            board = c.getBoardPins(101, 10)
            assert isinstance(board, dict)
            assert isinstance(c.version(), str)
            assert c.health().__class__.__name__ == "HealthStatus"
        finally:
            c.close()


@pytest.mark.parametrize(("protocol", "transport"), COMBOS)
def test_declared_exception_and_app_error_keep_the_connection(protocol: str, transport: str,
                                                              stub_file: Path) -> None:
    with running(protocol=protocol, transport=transport, stubs=(stub_file,)) as fake:
        c = client(fake)
        nf_cls = fake.state(None).model.methods["getPin"].exceptions[0].cls
        try:
            with pytest.raises(nf_cls) as info:
                c.getPin(404)
            assert (info.value.id, info.value.message) == (404, "no such pin")
            for _ in range(2):  # sequence: fail twice, then succeed, then the last answer repeats
                with pytest.raises(TApplicationException) as app:
                    c.getPin(7)
                assert app.value.type == TApplicationException.INTERNAL_ERROR
                assert app.value.message == "try again"
            assert c.getPin(7).id == 7
            assert c.getPin(7).id == 7
            assert c.getPin(1001).ownerId == 7  # same connection, still fine
        finally:
            c.close()


def test_generated_values_are_deterministic_across_restarts() -> None:
    answers = []
    for _ in range(2):
        with running(seed=42) as fake:
            c = client(fake)
            answers.append(repr((c.getPin(12345), c.getPins([1, 2], False), c.version())))
            c.close()
    assert answers[0] == answers[1]  # each fake loads its own classes: compare the values' text
    with running(seed=43) as fake:
        c = client(fake)
        other = repr((c.getPin(12345), c.getPins([1, 2], False), c.version()))
        c.close()
    assert other != answers[0]


def test_same_call_twice_gets_the_same_generated_answer_and_both_are_journaled() -> None:
    with running() as fake:
        c = client(fake)
        first, second = c.getPin(99), c.getPin(99)
        c.close()
        assert first == second
        entries = fake.journal.entries("getPin")
        assert [e.answered for e in entries] == ["generated", "generated"]


def test_strict_mode_names_the_method_without_a_stub(stub_file: Path) -> None:
    with running(strict=True, stubs=(stub_file,)) as fake:
        c = client(fake)
        try:
            assert c.getPin(1001).id == 1001
            with pytest.raises(TApplicationException) as info:
                c.getPin(2)
            assert "getPin" in info.value.message
            assert "no stub matched" in info.value.message
            assert c.getPin(1001).id == 1001
        finally:
            c.close()


def test_unknown_method_is_unknown_method_and_the_connection_survives() -> None:
    with running() as fake:
        sock = connect(fake)
        with sock:
            getpin = fake.state(None).model.methods["getPin"]
            sock.sendall(call_bytes(fake, "noSuchMethod", getpin.args_cls(id=1), seqid=5))
            name, _, seqid, exc = read_reply(fake, sock)
            assert (name, seqid) == ("noSuchMethod", 5)
            assert isinstance(exc, TApplicationException)
            assert exc.type == TApplicationException.UNKNOWN_METHOD
            assert "noSuchMethod" in exc.message and "getPin" in exc.message
            sock.sendall(call_bytes(fake, "getPin", args_of(fake, "getPin", id=3), seqid=6))
            name, _, seqid, result = read_reply(fake, sock, getpin.result_cls)
            assert (name, seqid, result.success.id is not None) == ("getPin", 6, True)


def test_pipelined_requests_are_answered_in_order() -> None:
    with running() as fake, connect(fake) as sock:
        getpin = fake.state(None).model.methods["getPin"]
        calls = [call_bytes(fake, "getPin", getpin.args_cls(id=i), seqid=i) for i in range(1, 6)]
        sock.sendall(b"".join(calls))
        seqids = [read_reply(fake, sock, getpin.result_cls)[2] for _ in range(5)]
        assert seqids == [1, 2, 3, 4, 5]


def test_oneway_gets_no_reply_and_is_journaled() -> None:
    with running(idl=RANKER, services=("Ranker",)) as fake:
        c = client(fake)
        try:
            impression_cls = fake.state(None).model.methods["logImpression"].args[0].spec
            c.logImpression(impression_cls(userId=1, pinId=1001, position=3, timestampMs=5))
            assert isinstance(c.version(), str)  # the next reply is the version's, not a stray one
        finally:
            c.close()
        entries = fake.journal.entries("logImpression")
        assert len(entries) == 1
        assert fake.entry_args_json(entries[0])["impression"]["pinId"] == 1001


@pytest.mark.parametrize(("protocol", "transport"), COMBOS)
def test_multiplexed_services_on_one_port(protocol: str, transport: str, tmp_path: Path) -> None:
    umbrella = tmp_path / "all.thrift"
    umbrella.write_text(f'include "{PINSTORE}"\ninclude "{RANKER}"\n')
    with running(idl=umbrella, services=("pinstore.PinStore", "ranker.Ranker"), multiplexed=True,
                 protocol=protocol, transport=transport, include_dirs=(HOMEFEED,)) as fake:
        pins, ranker = client(fake, "PinStore"), client(fake, "Ranker")
        try:
            assert isinstance(pins.getPin(1).id, int)
            assert isinstance(ranker.score(1, [1, 2]), dict)
            assert isinstance(pins.version(), str) and isinstance(ranker.version(), str)
        finally:
            pins.close()
            ranker.close()
        assert {e.service for e in fake.journal.entries()} == {"PinStore", "Ranker"}


def test_multiplexed_server_refuses_a_bare_method_name_and_keeps_the_connection(tmp_path: Path) -> None:
    umbrella = tmp_path / "all.thrift"
    umbrella.write_text(f'include "{PINSTORE}"\ninclude "{RANKER}"\n')
    with running(idl=umbrella, services=("pinstore.PinStore", "ranker.Ranker"), multiplexed=True,
                 include_dirs=(HOMEFEED,)) as fake, connect(fake) as sock:
        getpin = fake.state("PinStore").model.methods["getPin"]
        sock.sendall(call_bytes(fake, "getPin", getpin.args_cls(id=1), seqid=1))
        _, _, _, exc = read_reply(fake, sock)
        assert exc.type == TApplicationException.UNKNOWN_METHOD
        assert "multiplexed" in exc.message
        sock.sendall(call_bytes(fake, "Nope:getPin", getpin.args_cls(id=1), seqid=2))
        _, _, _, exc = read_reply(fake, sock)
        assert exc.type == TApplicationException.UNKNOWN_METHOD and "PinStore" in exc.message
        sock.sendall(call_bytes(fake, "PinStore:getPin", getpin.args_cls(id=1), seqid=3))
        name, _, seqid, result = read_reply(fake, sock, getpin.result_cls)
        assert (name, seqid) == ("getPin", 3)  # like Apache's TMultiplexedProcessor: the bare name
        assert result.success is not None


def test_idle_connections_are_not_closed() -> None:
    # The read timeout (here 0.2 s) applies to half-sent messages only, never to idle connections.
    with running(limits=Limits(read_timeout_s=0.2)) as fake:
        c = client(fake)
        try:
            c.getPin(1)
            idle_until = time.monotonic() + 0.6
            wait_until(lambda: time.monotonic() > idle_until, timeout=5, what="idle period")
            assert fake.server is not None and fake.server.open_connections == 1
            assert isinstance(c.getPin(2).id, int)
        finally:
            c.close()


def test_many_connections_at_once() -> None:
    with running() as fake:
        clients = [client(fake) for _ in range(20)]
        try:
            for i, c in enumerate(clients):
                assert isinstance(c.getPin(i).id, int)
        finally:
            for c in clients:
                c.close()


def test_port_zero_picks_a_port_and_endpoint_names_it() -> None:
    with running() as fake:
        ep = fake.endpoint
        assert ep.port > 0 and ep.url() == f"thrift://127.0.0.1:{ep.port}"
        with socket.create_connection((ep.host, ep.port), timeout=2):
            pass


def test_config_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(IdlError, match="Nope"):
        ThriftFake(ThriftConfig(idl=PINSTORE, services=("Nope",)))
    with pytest.raises(ConfigError, match="multiplexed"):
        ThriftFake(ThriftConfig(idl=PINSTORE, services=("PinStore", "BaseService")))
    with pytest.raises(ConfigError, match="does not exist"):
        ThriftFake(ThriftConfig(idl=tmp_path / "missing.thrift", services=("PinStore",)))
    with pytest.raises(ConfigError, match="journal size"):
        ThriftFake(ThriftConfig(idl=PINSTORE, services=("PinStore",), journal_size=0))


def test_port_in_use_is_a_config_error() -> None:
    with running() as fake:
        taken = fake.endpoint.port
        other = ThriftFake(ThriftConfig(idl=PINSTORE, services=("PinStore",), port=taken))
        with pytest.raises(ConfigError, match=str(taken)):
            other.start()


@pytest.mark.parametrize("transport", ["buffered", "framed"])
def test_large_request_arriving_in_small_pieces(transport: str) -> None:
    with running(transport=transport) as fake, connect(fake) as sock:
        getpins = fake.state(None).model.methods["getPins"]
        data = call_bytes(fake, "getPins", getpins.args_cls(ids=list(range(60_000)), includeEmbeddings=False),
                          seqid=8)
        assert len(data) > 400_000
        for i in range(0, len(data), 4096):
            sock.sendall(data[i:i + 4096])
        name, _, seqid, result = read_reply(fake, sock, getpins.result_cls)
        assert (name, seqid) == ("getPins", 8) and result.success is not None
        [entry] = fake.journal.entries("getPins")
        assert len(entry.args.ids) == 60_000


@pytest.mark.parametrize(("protocol", "transport"), COMBOS)
def test_cached_replies_carry_each_request_seqid(protocol: str, transport: str, stub_file: Path) -> None:
    with running(protocol=protocol, transport=transport, stubs=(stub_file,)) as fake, connect(fake) as sock:
        getpin = fake.state(None).model.methods["getPin"]
        replies = []
        for seqid in (5, 300, -7, 2**31 - 1):  # 300: a two-byte varint in compact; negative ids are legal
            sock.sendall(call_bytes(fake, "getPin", getpin.args_cls(id=1001), seqid=seqid))
            name, _, got, result = read_reply(fake, sock, getpin.result_cls)
            replies.append((name, got & 0xFFFFFFFF, result.success.title))  # compact reads it unsigned
        assert replies == [("getPin", s & 0xFFFFFFFF, "Blue kitchen") for s in (5, 300, -7, 2**31 - 1)]
        assert fake.processor is not None and len(fake.processor.cache) == 1  # answered from the cache
        assert [e.answered for e in fake.journal.entries()] == ["stub:pin-1001"] * 4
