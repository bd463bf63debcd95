"""The processor guards every call: whatever the answer source does, the client gets a TApplicationException
that says what was wrong, and the connection stays usable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TApplicationException

from simdb.thrift.idl import load_idl
from simdb.thrift.journal import Journal
from simdb.thrift.metrics import Metrics
from simdb.thrift.model import MethodModel, ServiceModel, service_model
from simdb.thrift.processor import Binding, Processor
from simdb.thrift.reply import Reply
from simdb.thrift.server import ThriftServer
from tests.thrift.serving import PINSTORE

pytestmark = pytest.mark.fake

INTERNAL_ERROR = TApplicationException.INTERNAL_ERROR


@contextmanager
def serving(
    resolve: Callable[[MethodModel, Any], tuple[Any, bool]],
) -> Iterator[tuple[Any, ServiceModel, Journal]]:
    model = service_model(load_idl(PINSTORE), "PinStore")
    journal = Journal(50)
    processor = Processor("binary", {"PinStore": Binding(model, resolve)}, multiplexed=False, journal=journal,
                          metrics=Metrics("guard"))
    server = ThriftServer(processor).start()
    c = make_client(model.thrift_service, "127.0.0.1", server.port, timeout=5000)
    try:
        yield c, model, journal
    finally:
        c.close()
        server.stop()


def test_undeclared_exception_is_internal_error_naming_it() -> None:
    def resolve(method: MethodModel, args: Any) -> tuple[Reply, bool]:
        if args.id == 1:  # getPin declares PinNotFound only
            return Reply("raise", ValueError("boom"), source="stub:odd"), False
        return Reply("return", method.return_spec(id=args.id, ownerId=1), source="stub:ok"), True

    with serving(resolve) as (c, _, journal):
        with pytest.raises(TApplicationException) as info:
            c.getPin(1)
        assert info.value.type == INTERNAL_ERROR
        assert "ValueError" in info.value.message and "does not declare" in info.value.message
        assert "PinNotFound" in info.value.message
        assert c.getPin(2).id == 2
        entry = journal.entries()[0]
        assert entry.answered == "error:internal_error" and "stub:odd" in entry.detail


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, ["null"]),
        ("a string", ["expected a Pin", "str"]),
        (12, ["expected a Pin", "int"]),
    ],
)
def test_reply_not_fitting_the_return_type_is_internal_error(value: Any, words: list[str]) -> None:
    def resolve(method: MethodModel, args: Any) -> tuple[Reply, bool]:
        if args.id == 1:
            return Reply("return", value, source="stub:bad"), True
        return Reply("return", method.return_spec(id=args.id, ownerId=1), source="stub:ok"), True

    with serving(resolve) as (c, _, _journal):
        for _ in range(2):  # the second time comes from the reply cache: same error
            with pytest.raises(TApplicationException) as info:
                c.getPin(1)
            assert info.value.type == INTERNAL_ERROR
            for word in words:
                assert word in info.value.message
            assert "stub:bad" in info.value.message
        assert c.getPin(2).id == 2


def test_value_that_cannot_be_encoded_is_internal_error() -> None:
    def resolve(method: MethodModel, args: Any) -> tuple[Reply, bool]:
        if method.name == "version":
            return Reply("return", "v1", source="gen"), True
        pin = method.return_spec(id="not a number", ownerId=1)  # right class, wrong field type
        return Reply("return", pin, source="stub:typo"), True

    with serving(resolve) as (c, _, _journal):
        with pytest.raises(TApplicationException) as info:
            c.getPin(1)
        assert info.value.type == INTERNAL_ERROR
        assert "stub:typo" in info.value.message and "does not fit" in info.value.message
        assert c.version() == "v1"


def test_answer_source_raising_is_internal_error() -> None:
    def resolve(method: MethodModel, args: Any) -> tuple[Reply, bool]:
        if method.name == "getPin":
            raise KeyError("template field args.req.userId is unset")
        return Reply("return", "v2", source="gen"), True

    with serving(resolve) as (c, _, journal):
        with pytest.raises(TApplicationException) as info:
            c.getPin(1)
        assert info.value.type == INTERNAL_ERROR
        assert "PinStore.getPin" in info.value.message and "userId" in info.value.message
        assert c.version() == "v2"
        assert journal.entries("getPin")[0].answered == "error:internal_error"


def test_app_error_reply_reaches_the_client_as_is() -> None:
    def resolve(method: MethodModel, args: Any) -> tuple[Reply, bool]:
        return Reply("app_error", TApplicationException(5, "nope"), app_error_type=5, message="nope",
                     source="stub:x"), True

    with serving(resolve) as (c, _, _journal):
        for _ in range(2):
            with pytest.raises(TApplicationException) as info:
                c.getPin(1)
            assert (info.value.type, info.value.message) == (5, "nope")


def test_a_bug_in_the_loop_costs_one_connection_not_the_server(caplog: pytest.LogCaptureFixture) -> None:
    from tests.thrift.serving import client, running

    class Exploding(dict[bytes, Any]):
        def get(self, key: bytes, default: Any = None) -> Any:
            raise RuntimeError("simulated bug")

    with running() as fake:
        assert fake.processor is not None and fake.server is not None
        healthy = client(fake)
        try:
            healthy.getPin(1)
            fake.processor.cache = Exploding()
            victim = client(fake)
            with pytest.raises(Exception):  # noqa: B017 - the client sees its connection drop, nothing else
                victim.getPin(2)
            victim.close()
            fake.processor.cache = {}
            assert isinstance(healthy.getPin(3).id, int)  # the other connection and the server live on
        finally:
            healthy.close()
    assert any("simulated bug" in (r.exc_text or "") or "unexpected error" in r.getMessage()
               for r in caplog.records)
