"""simdb.testing without pytester: clients of every wire setting, overrides undone exactly, journal limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from thriftpy2.thrift import TApplicationException

from simdb.errors import ConfigError, SimdbError
from simdb.testing.journal import JournalView
from simdb.testing.overrides import Overrides
from simdb.testing.session import StackSession
from simdb.thrift.fake import ThriftConfig, ThriftFake

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = ROOT / "tests" / "contract" / "idl" / "everything.thrift"
PINSTORE = ROOT / "thrift" / "homefeed" / "pinstore.thrift"


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackSession]:
    """A stack of one multiplexed Thrift fake speaking compact over framed, and a Redis fake."""
    stack = tmp_path_factory.mktemp("multi") / "simdb.yaml"
    stack.write_text(
        "name: multi\n"
        "fakes:\n"
        "  cache:\n    kind: redis\n"
        "  both:\n    kind: thrift\n"
        f"    idl: {EVERYTHING}\n"
        "    services: [Everything, HashedService]\n"
        "    protocol: compact\n    transport: framed\n"
    )
    session = StackSession(stack)
    session.start()
    try:
        yield session
    finally:
        session.stop()


def test_a_client_per_service_of_a_multiplexed_compact_framed_fake(multi: StackSession) -> None:
    multi.reset()
    client, close = _client(multi, "both", "Everything")
    try:
        client.ping()
        client.nothing(3)
    finally:
        close()
    journal = multi.journal("both")
    journal.assert_called("Everything.ping", times=1)
    journal.assert_order("ping", ("nothing", {"id": 3}))
    with pytest.raises(SimdbError, match=r"serves no method 'HashedService\.ping'"):
        journal.assert_called("HashedService.ping")


def _client(session: StackSession, name: str, service: str | None = None) -> tuple[object, object]:
    from simdb.testing.clients import client_for

    client, close = client_for(session.fake(name), service)
    return client, close


def test_a_multiplexed_fake_needs_the_service_named(multi: StackSession) -> None:
    with pytest.raises(ConfigError, match="several services are served"):
        _client(multi, "both")
    with pytest.raises(ConfigError, match="service= is for Thrift fakes"):
        _client(multi, "cache", "Everything")


def test_overrides_are_undone_exactly(multi: StackSession) -> None:
    multi.reset()
    fake = multi.thrift("both")
    state = fake.state("Everything")
    plan_before = state.plan
    stubs_before = state.stubs.list()
    overrides = Overrides(multi)
    (stub_id,) = overrides.stub(
        "both", {"method": "nothing", "args": {"id": 1}, "reply": {"raise": {"NotFound": {}}}}
    )
    overrides.faults("both", {"ping": {"app_error_rate": 1.0}}, service="Everything")
    assert state.stubs.get(stub_id) is not None
    client = multi.client("both", "Everything")
    with pytest.raises(TApplicationException):
        client.ping()
    with pytest.raises(Exception) as raised:
        client.nothing(1)
    assert type(raised.value).__name__ == "NotFound"
    overrides.undo()
    assert state.plan is plan_before and state.stubs.list() == stubs_before
    client.ping()
    assert client.nothing(1) is None
    with pytest.raises(ConfigError, match="fake 'cache' of stack multi is a redis fake"):
        overrides.stub("cache", {})
    with pytest.raises(ConfigError, match="fake 'both': faults: "):
        overrides.faults("both", {"noSuchMethod": {"app_error_rate": 1.0}}, service="Everything")


def test_a_journal_that_dropped_calls_refuses_to_count() -> None:
    fake = ThriftFake(ThriftConfig(idl=PINSTORE, services=("PinStore",), journal_size=2))
    fake.start()
    try:
        from simdb.testing.clients import thrift_client

        client, close = thrift_client(fake)
        for _ in range(3):
            client.version()
        close()
        with pytest.raises(SimdbError, match=r"dropped 1 of 3 calls \(it keeps 2\)"):
            JournalView("pinstore", fake).assert_called("version", times=3)
        fake.reset()
        assert fake.journal.dropped == 0
        JournalView("pinstore", fake).assert_not_called("version")
    finally:
        fake.stop()


def test_call_count_and_readable_listing(multi: StackSession) -> None:
    multi.reset()
    client = multi.client("both", "Everything")
    client.ping()
    journal = multi.journal("both")
    journal.assert_call_count(1)
    with pytest.raises(AssertionError, match=r"expected 2 calls in all, got 1\n.*\n  1\. ping\(\{\}\) -> "):
        journal.assert_call_count(2)
