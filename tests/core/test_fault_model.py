"""The kind-neutral fault model: latency shapes, histogram sampling, rates, seeded draws."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.errors import ConfigError
from simdb.faults.decide import Draw, stream
from simdb.faults.rules import ErrorEffects, Latency, ValidationError, format_validation

pytestmark = pytest.mark.fake


def check(raw: dict[str, Any]) -> ErrorEffects:
    try:
        return ErrorEffects.model_validate(raw)
    except ValidationError as exc:
        raise format_validation(exc, "rule") from None


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_histogram_gives_back_its_own_percentiles() -> None:
    # 50% of calls in (0, 2] ms, 40% in (2, 10], 10% in (10, 100]
    lat = Latency(histogram=((2, 50), (10, 40), (100, 10)))
    rng = random.Random(3)
    delays = [lat.sample_s(rng) * 1000 for _ in range(40_000)]
    assert quantile(delays, 0.50) == pytest.approx(2.0, rel=0.05)
    assert quantile(delays, 0.90) == pytest.approx(10.0, rel=0.05)
    assert quantile(delays, 0.95) == pytest.approx(55.0, rel=0.08)
    assert max(delays) <= 100 and min(delays) >= 0


def test_empty_buckets_are_never_drawn() -> None:
    lat = Latency(histogram=((1, 0), (5, 1), (9, 0)))
    rng = random.Random(1)
    assert all(1 <= lat.sample_s(rng) * 1000 <= 5 for _ in range(2000))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"histogram": []}, r"rule\.latency: histogram needs at least one"),
        ({"histogram": [[5, 1], [5, 1]]}, r"histogram\[1\]: upper bounds must increase"),
        ({"histogram": [[5, 0]]}, r"histogram: every bucket is empty"),
        ({"histogram": [[5, 1]], "fixed_ms": 1}, r"give histogram alone"),
        ({"histogram": [[5, -1], [6, 1]]}, r"histogram\[0\]: count -1 is negative"),
        ({"error_rate": 0.5}, r"rule: error_rate needs the error to send"),
        ({"error_rate": 0.6, "stall_rate": 0.6, "error": "x"}, r"stall_rate \+ error_rate is 1\.2"),
        ({"bandwidth_bytes_per_s": 0}, r"rule\.bandwidth_bytes_per_s: Input should be greater than 0"),
        ({"reset_rate": float("nan")}, r"rule\.reset_rate"),
        ({"nope": 1}, r"rule\.nope: Extra inputs are not permitted"),
    ],
)
def test_bad_rules_name_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check(raw)


def test_scaled_keeps_the_shape() -> None:
    assert Latency(fixed_ms=3).scaled(2) == Latency(fixed_ms=6)
    assert Latency(p50_ms=1, p99_ms=5).scaled(2) == Latency(p50_ms=2, p99_ms=10)
    assert Latency(histogram=((1, 1), (4, 2))).scaled(0.5) == Latency(histogram=((0.5, 1), (2, 2)))


@given(st.integers(0, 2**32), st.text(max_size=8), st.floats(0, 0.5), st.floats(0, 0.5))
def test_draws_are_reproducible_and_the_rates_are_exclusive(seed: int, key: str, a: float, b: float) -> None:
    def run() -> list[tuple[float, str | None]]:
        draw = Draw(stream(seed, key), Latency(p50_ms=1, p99_ms=9), (("error", a, "E"), ("stall", b, None)))
        return [(d.delay_s, d.action) for d in (draw.decide() for _ in range(50))]

    first = run()
    assert first == run()
    assert {action for _, action in first} <= {None, "error", "stall"}
