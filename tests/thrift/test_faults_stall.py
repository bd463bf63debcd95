"""Stall and bandwidth faults as a Thrift client sees them: a timeout, and a reply that trickles in."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from thriftpy2.transport import TTransportException

from tests.thrift.serving import client, running

pytestmark = pytest.mark.fake


@pytest.mark.parametrize("transport", ["buffered", "framed"])
def test_a_stall_trips_the_client_timeout_and_others_are_served(transport: str) -> None:
    with running(transport=transport, faults={"getPin": {"stall_rate": 1.0}}) as fake:
        stalled = client(fake, timeout_ms=300)
        try:
            started = time.monotonic()
            with pytest.raises((TTransportException, socket.timeout, TimeoutError)):
                stalled.getPin(1)
            assert time.monotonic() - started >= 0.29
            other = client(fake)
            try:
                assert isinstance(other.version(), str)  # the server goes on for everyone else
            finally:
                other.close()
        finally:
            stalled.close()
        [entry] = fake.journal.entries("getPin")
        assert entry.answered == "fault:stall"


def test_stall_at_a_rate_is_reproducible() -> None:
    def outcomes() -> list[str]:
        seen = []
        with running(seed=4, faults={"getPin": {"stall_rate": 0.5}}) as fake:
            for i in range(12):
                c = client(fake, timeout_ms=150)
                try:
                    c.getPin(i)
                    seen.append("ok")
                except (TTransportException, TimeoutError):
                    seen.append("stall")
                finally:
                    c.close()
        return seen

    first = outcomes()
    assert first == outcomes() and set(first) == {"ok", "stall"}


def test_bandwidth_paces_the_reply(tmp_path: Path) -> None:
    stubs = tmp_path / "s.yaml"
    stubs.write_text("stubs:\n  - {method: version, reply: {return: " + "x" * 6000 + "}}\n")
    rate = 30_000.0
    with running(stubs=(stubs,), faults={"version": {"bandwidth_bytes_per_s": rate}}) as fake:
        c = client(fake)
        try:
            fast_started = time.monotonic()
            c.getPin(1)  # no rule: not paced
            fast = time.monotonic() - fast_started
            started = time.monotonic()
            assert c.version() == "x" * 6000  # the whole reply arrives, just slowly
            elapsed = time.monotonic() - started
            assert c.version() == "x" * 6000  # and the connection carries on
        finally:
            c.close()
    assert elapsed >= 6000 / rate * 0.9 > fast
