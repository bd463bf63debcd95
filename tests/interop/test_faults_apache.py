"""Thrift faults as the official Apache Thrift Python client sees them: stall, reset, bandwidth, errors."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

import pytest
from thrift.Thrift import TApplicationException
from thrift.transport.TTransport import TTransportException

from tests.interop.calls import connect
from tests.thrift.serving import running

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("transport", ["buffered", "framed"])
def test_stall_trips_the_apache_client_timeout(apache_py: dict[str, ModuleType], transport: str) -> None:
    with running(transport=transport, faults={"getPin": {"stall_rate": 1.0}}) as fake:
        ep = fake.endpoint
        with connect(apache_py["pinstore"], ep.host, ep.port, "binary", transport, timeout_ms=300) as c:
            started = time.monotonic()
            with pytest.raises(TTransportException) as caught:
                c.getPin(1001)
            assert caught.value.type == TTransportException.TIMED_OUT
            assert time.monotonic() - started >= 0.29
        with connect(apache_py["pinstore"], ep.host, ep.port, "binary", transport) as c:
            assert isinstance(c.version(), str)


def test_reset_and_app_error_reach_the_apache_client(apache_py: dict[str, ModuleType]) -> None:
    error = {"app_error_rate": 1.0, "app_error_type": "UNKNOWN", "app_error_message": "injected"}
    faults = {"getPin": {"reset_rate": 1.0}, "version": error}
    with running(faults=faults) as fake:
        ep = fake.endpoint
        with connect(apache_py["pinstore"], ep.host, ep.port) as c:
            with pytest.raises(TApplicationException) as app:
                c.version()
            assert (app.value.type, app.value.message) == (TApplicationException.UNKNOWN, "injected")
            with pytest.raises((TTransportException, ConnectionError)):
                c.getPin(1001)


def test_bandwidth_sends_the_whole_reply_slowly(apache_py: dict[str, ModuleType], tmp_path: Path) -> None:
    stubs = tmp_path / "s.yaml"
    stubs.write_text("stubs:\n  - {method: version, reply: {return: " + "v" * 8000 + "}}\n")
    with running(stubs=(stubs,), faults={"version": {"bandwidth_bytes_per_s": 40_000}}) as fake:
        ep = fake.endpoint
        with connect(apache_py["pinstore"], ep.host, ep.port) as c:
            started = time.monotonic()
            assert c.version() == "v" * 8000
            assert time.monotonic() - started >= 8000 / 40_000 * 0.9
