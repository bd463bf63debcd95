"""Bounded protocol fuzzing of the Thrift fake (long runs: ``bench/fuzz_thrift.py --minutes N``)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.thrift.fuzzing import (
    KINDS,
    TARGETS,
    check_healthy,
    corpus,
    fuzz_target,
    health_call,
    mutated,
    send_and_drain,
    state_of,
    valid_messages,
    wrap,
)
from tests.thrift.serving import read_reply

pytestmark = pytest.mark.fake


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize(("protocol", "transport"), KINDS)
def test_mutated_messages_never_hurt_the_server(protocol: str, transport: str, target: str) -> None:
    with fuzz_target(protocol, transport, target) as (fake, tracebacks):
        messages = valid_messages(fake)
        before = state_of(fake)

        @settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
        @given(data=st.data())
        def run(data: st.DataObject) -> None:
            raw = data.draw(mutated(messages))
            send_and_drain(fake, wrap(fake, raw), half_close=data.draw(st.integers(0, 3)) > 0)
            check_healthy(fake, tracebacks, before)

        run()


@pytest.mark.parametrize(("protocol", "transport"), KINDS)
def test_a_valid_exchange_split_at_every_byte_is_answered(protocol: str, transport: str) -> None:
    from tests.thrift.serving import connect

    with fuzz_target(protocol, transport) as (fake, tracebacks):
        getpin = fake.state(None).model.methods["getPin"]
        msg = health_call(fake)  # getPin(id=1)
        with connect(fake) as sock:
            for cut in range(1, len(msg)):
                sock.sendall(msg[:cut])
                sock.sendall(msg[cut:])
                _name, _mtype, seqid, result = read_reply(fake, sock, getpin.result_cls)
                assert seqid == 4242 and result.success is not None
        assert not tracebacks.records


@pytest.mark.parametrize(("protocol", "transport", "data", "name"), corpus(), ids=[c[3] for c in corpus()])
def test_past_findings_replay(protocol: str, transport: str, data: bytes, name: str) -> None:
    with fuzz_target(protocol, transport) as (fake, tracebacks):
        before = state_of(fake)
        send_and_drain(fake, data)
        check_healthy(fake, tracebacks, before)
