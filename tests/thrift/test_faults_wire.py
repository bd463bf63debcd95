"""Faults as a client sees them: latency, declared exceptions, application errors, connection resets."""

from __future__ import annotations

import select
from pathlib import Path

import pytest
from thriftpy2.thrift import TApplicationException
from thriftpy2.transport import TTransportException

from tests.thrift.serving import call_bytes, client, connect, read_reply, running

pytestmark = pytest.mark.fake


def outcomes(seed: int, n: int = 24) -> list[str]:
    with running(seed=seed, faults={"getPin": {"app_error_rate": 0.5}}) as fake:
        c = client(fake)
        seen = []
        try:
            for i in range(n):
                try:
                    c.getPin(i % 3)  # repeated arguments: the reply cache must not skip the fault draw
                    seen.append("ok")
                except TApplicationException:
                    seen.append("error")
        finally:
            c.close()
        return seen


def test_faults_are_reproducible_for_a_seed() -> None:
    first = outcomes(7)
    assert first == outcomes(7)
    assert {"ok", "error"} == set(first)
    assert outcomes(8) != first


@pytest.mark.parametrize("transport", ["buffered", "framed"])
def test_reset_fault_resets_the_connection_and_the_server_goes_on(transport: str) -> None:
    with running(transport=transport, faults={"getPin": {"reset_rate": 1.0}}) as fake:
        c = client(fake)
        try:
            with pytest.raises((TTransportException, ConnectionError, OSError)):
                c.getPin(1)
        finally:
            c.close()
        c = client(fake)
        try:
            assert isinstance(c.version(), str)
        finally:
            c.close()
        assert [e.answered for e in fake.journal.entries("getPin")] == ["fault:reset"]


def test_declared_exception_fault_with_fields() -> None:
    faults = {"getPin": {"exception_rate": 1.0, "exception": {"PinNotFound": {"id": 9, "message": "gone"}}}}
    with running(faults=faults) as fake:
        nf = fake.state(None).model.methods["getPin"].exceptions[0].cls
        c = client(fake)
        try:
            with pytest.raises(nf) as info:
                c.getPin(1)
            assert (info.value.id, info.value.message) == (9, "gone")
            assert isinstance(c.version(), str)  # other methods unaffected, connection fine
        finally:
            c.close()


def test_app_error_fault_type_and_message() -> None:
    faults = {"*": {"app_error_rate": 1.0, "app_error_type": "UNKNOWN", "app_error_message": "chaos"}}
    with running(faults=faults) as fake:
        c = client(fake)
        try:
            for call in (lambda: c.getPin(1), c.version):
                with pytest.raises(TApplicationException) as info:
                    call()
                assert (info.value.type, info.value.message) == (TApplicationException.UNKNOWN, "chaos")
        finally:
            c.close()


def test_latency_fault_delays_only_its_own_connection() -> None:
    with running(faults={"getPins": {"fixed_ms": 3000}}) as fake:
        slow = connect(fake)
        with slow:
            getpins = fake.state(None).model.methods["getPins"]
            slow.sendall(call_bytes(fake, "getPins", getpins.args_cls(ids=[1]), seqid=1))
            c = client(fake)
            try:
                assert isinstance(c.getPin(1).id, int)  # answered while getPins still waits
            finally:
                c.close()
            assert select.select([slow], [], [], 0)[0] == []  # the delayed reply is not there yet
            assert read_reply(fake, slow, getpins.result_cls)[2] == 1
        [entry] = fake.journal.entries("getPins")
        assert entry.latency_s >= 3.0
        assert "latency fault +3000.0 ms" in entry.detail


def test_latency_distribution_and_stub_delay_are_journaled(tmp_path: Path) -> None:
    stubs = tmp_path / "s.yaml"
    stubs.write_text("stubs:\n  - {id: slow, method: version, reply: {return: v, delay_ms: 30}}\n"
                     "faults:\n  getPin: {p50_ms: 5, p99_ms: 20}\n")
    with running(stubs=(stubs,)) as fake:
        c = client(fake)
        try:
            assert c.version() == "v"
            c.getPin(1)
        finally:
            c.close()
        [version] = fake.journal.entries("version")
        assert version.latency_s >= 0.03 and version.answered == "stub:slow"
        [pin] = fake.journal.entries("getPin")
        assert pin.latency_s > 0 and "latency fault" in pin.detail


def test_faults_from_config_must_name_real_methods() -> None:
    from simdb.errors import ConfigError

    with pytest.raises(ConfigError, match="noSuchMethod"), running(faults={"noSuchMethod": {"fixed_ms": 1}}):
        pass


def test_reset_restarts_the_fault_streams() -> None:
    with running(seed=11, faults={"getPin": {"app_error_rate": 0.5}}) as fake:

        def draw() -> list[bool]:
            c = client(fake)
            seen = []
            try:
                for i in range(12):
                    try:
                        c.getPin(i)
                        seen.append(True)
                    except TApplicationException:
                        seen.append(False)
            finally:
                c.close()
            return seen

        first = draw()
        fake.reset()
        assert draw() == first
