"""The latency fault: the seeded delays follow the configured percentiles, and every call waits them.

Deterministic checks only; the client-side p50/p99 measurement is ``bench/thrift_latency.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import thriftpy2
from thriftpy2.rpc import make_client

from simdb.thrift.fake import ThriftConfig, ThriftFake
from simdb.thrift.faults import FaultPlan, FaultRule
from simdb.thrift.idl import load_idl
from simdb.thrift.model import service_model

HOMEFEED = Path(__file__).resolve().parents[2] / "thrift" / "homefeed"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def test_seeded_delays_follow_the_configured_p50_and_p99() -> None:
    service = service_model(load_idl(HOMEFEED / "pinstore.thrift", [HOMEFEED]), "PinStore")
    method = service.methods["getPin"]
    rule = FaultRule.model_validate({"p50_ms": 40.0, "p99_ms": 100.0})
    plan = FaultPlan({"getPin": rule}, seed=3)
    delays = [plan.decide(method).delay_s * 1000 for _ in range(2000)]
    assert _percentile(delays, 0.50) == pytest.approx(40.0, rel=0.10)
    assert _percentile(delays, 0.99) == pytest.approx(100.0, rel=0.10)
    replay = FaultPlan({"getPin": rule}, seed=3)
    assert [replay.decide(method).delay_s * 1000 for _ in range(2000)] == delays


def test_every_call_waits_at_least_the_fixed_latency() -> None:
    fake = ThriftFake(
        ThriftConfig(
            idl=HOMEFEED / "pinstore.thrift", services=("PinStore",), include_dirs=(HOMEFEED,),
            faults={"getPin": {"fixed_ms": 30.0}},
        )
    )
    ep = fake.start()
    try:
        module = thriftpy2.load(str(HOMEFEED / "pinstore.thrift"), include_dirs=[str(HOMEFEED)])
        client = make_client(module.PinStore, ep.host, ep.port, timeout=10_000)
        try:
            client.version()
            waited = []
            for _ in range(10):
                started = time.perf_counter()
                client.getPin(1001)
                waited.append((time.perf_counter() - started) * 1000)
        finally:
            client.close()
    finally:
        fake.stop()
    assert min(waited) >= 30.0 * 0.999, waited
