"""Fault rules and plans: validation naming the key, reproducible seeded decisions, rates, latency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simdb.errors import ConfigError
from simdb.thrift.faults import NO_FAULT, FaultPlan, FaultRule, parse_rules
from simdb.thrift.idl import load_idl
from simdb.thrift.model import service_model
from simdb.thrift.reply import APP_ERROR_TYPES

pytestmark = pytest.mark.fake

ROOT = Path(__file__).parent.parent.parent
MODULE = load_idl(ROOT / "thrift" / "homefeed" / "pinstore.thrift")
PINSTORE = service_model(MODULE, "PinStore")
GET_PIN = PINSTORE.methods["getPin"]
GET_PINS = PINSTORE.methods["getPins"]
VERSION = PINSTORE.methods["version"]


def plan(rules: dict[str, Any], seed: int = 1) -> FaultPlan:
    return FaultPlan(parse_rules(rules, "faults", PINSTORE), seed, PINSTORE)


def trace(p: FaultPlan, method: Any, n: int) -> list[tuple[float, str | None]]:
    return [(d.delay_s, d.action) for d in (p.decide(method) for _ in range(n))]


# --- rules ------------------------------------------------------------------------------------------------


def test_rule_shapes_and_shorthands() -> None:
    fixed = FaultRule.model_validate({"fixed_ms": 20})
    assert fixed.latency is not None and fixed.latency.fixed_ms == 20
    dist = FaultRule.model_validate({"latency": {"p50_ms": 5, "p99_ms": 80}, "exception_rate": 0.1})
    assert dist.latency is not None and (dist.latency.p50_ms, dist.latency.p99_ms) == (5, 80)
    named = FaultRule.model_validate({"exception_rate": 1, "exception": "PinNotFound"})
    assert named.exception == {"PinNotFound": {}}
    assert dist.to_json() == {"latency": {"p50_ms": 5.0, "p99_ms": 80.0}, "exception_rate": 0.1}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"fixed_ms": 5, "p50_ms": 1, "p99_ms": 2},
            r"faults\.getPin\.latency: give either fixed_ms or p50_ms/p99_ms",
        ),
        ({"p50_ms": 5}, r"faults\.getPin\.latency: a latency distribution needs both p50_ms and p99_ms"),
        ({"p50_ms": 50, "p99_ms": 5}, r"p99_ms \(5\.0\) is below p50_ms \(50\.0\)"),
        ({"fixed_ms": -1}, r"faults\.getPin\.latency\.fixed_ms: Input should be greater than or equal to 0"),
        ({"exception_rate": 1.5}, r"faults\.getPin\.exception_rate: Input should be less than or equal to 1"),
        (
            {"exception_rate": 0.6, "reset_rate": 0.6},
            r"exception_rate \+ reset_rate is 1\.2, more than 1",
        ),
        ({"exception": {"A": {}, "B": {}}}, r"faults\.getPin\.exception: .*name exactly one exception"),
        ({"app_error_type": "NOPE"}, r"faults\.getPin\.app_error_type: .*unknown TApplicationException type"),
        ({"latency_ms": 5}, r"faults\.getPin\.latency_ms: Extra inputs are not permitted"),
        (
            {"exception_rate": 0.5, "exception": {"UserNotFound": {}}},
            r"faults\.getPin\.exception: getPin does not declare exception 'UserNotFound' "
            r"\(declares: PinNotFound\)",
        ),
        (
            {"exception_rate": 0.5, "exception": {"PinNotFound": {"nope": 1}}},
            r"faults\.getPin\.exception\.PinNotFound: PinNotFound has no field 'nope'",
        ),
    ],
)
def test_bad_rules_name_the_key(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rules({"getPin": rule}, "faults", PINSTORE)


def test_rules_for_unknown_methods_or_exceptionless_methods_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"faults\.getPn: service PinStore has no method 'getPn'"):
        parse_rules({"getPn": {"fixed_ms": 1}}, "faults", PINSTORE)
    with pytest.raises(ConfigError, match=r"version declares no exception; use app_error_rate instead"):
        plan({"version": {"exception_rate": 0.5}})
    with pytest.raises(ConfigError, match=r"faults: expected a mapping of method name to fault rule"):
        parse_rules(["getPin"], "faults", PINSTORE)


# --- decisions --------------------------------------------------------------------------------------------


def test_no_rule_means_no_fault() -> None:
    p = plan({"getPins": {"fixed_ms": 3}})
    assert p.decide(GET_PIN) is NO_FAULT
    assert FaultPlan({}, 1).decide(GET_PIN) is NO_FAULT
    assert not FaultPlan({}, 1) and p


def test_decisions_are_reproducible_for_a_seed_and_differ_across_seeds() -> None:
    rules = {
        "getPin": {
            "p50_ms": 2,
            "p99_ms": 30,
            "exception_rate": 0.2,
            "app_error_rate": 0.1,
            "reset_rate": 0.05,
        }
    }
    first = trace(plan(rules, seed=7), GET_PIN, 300)
    second = trace(plan(rules, seed=7), GET_PIN, 300)
    other = trace(plan(rules, seed=8), GET_PIN, 300)
    assert first == second
    assert first != other
    assert {a for _, a in first} == {None, "exception", "app_error", "reset"}


def test_each_method_has_its_own_stream() -> None:
    rules = {
        "getPin": {"p50_ms": 2, "p99_ms": 30, "exception_rate": 0.3},
        "getPins": {"fixed_ms": 1, "app_error_rate": 0.3},
    }
    alone = trace(plan(rules), GET_PIN, 100)
    mixed_plan = plan(rules)
    mixed = []
    for _ in range(100):
        mixed_plan.decide(GET_PINS)
        mixed.append(trace(mixed_plan, GET_PIN, 1)[0])
    assert alone == mixed


def test_rates_hold_over_many_calls() -> None:
    p = plan({"getPin": {"exception_rate": 0.2, "app_error_rate": 0.1, "reset_rate": 0.05}}, seed=3)
    actions = [d.action for d in (p.decide(GET_PIN) for _ in range(20_000))]
    assert 0.18 < actions.count("exception") / 20_000 < 0.22
    assert 0.08 < actions.count("app_error") / 20_000 < 0.12
    assert 0.04 < actions.count("reset") / 20_000 < 0.06


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_latency_distribution_has_the_configured_percentiles() -> None:
    p = plan({"getPin": {"latency": {"p50_ms": 10, "p99_ms": 120}}}, seed=5)
    delays = [p.decide(GET_PIN).delay_s * 1000 for _ in range(40_000)]
    assert percentile(delays, 0.50) == pytest.approx(10, rel=0.05)
    assert percentile(delays, 0.99) == pytest.approx(120, rel=0.08)
    fixed = plan({"getPin": {"fixed_ms": 25}})
    assert {fixed.decide(GET_PIN).delay_s for _ in range(20)} == {0.025}
    flat = plan({"getPin": {"p50_ms": 7, "p99_ms": 7}})
    assert {round(flat.decide(GET_PIN).delay_s, 9) for _ in range(20)} == {0.007}


def test_exception_and_app_error_replies() -> None:
    p = plan(
        {
            "getPin": {"exception_rate": 1, "exception": {"PinNotFound": {"id": 0, "message": "injected"}}},
            "getPins": {"exception_rate": 1},
            "version": {"app_error_rate": 1, "app_error_type": "PROTOCOL_ERROR", "app_error_message": "nope"},
        }
    )
    declared = p.decide(GET_PIN)
    assert declared.action == "exception" and declared.reply is not None
    assert declared.reply.kind == "raise" and declared.reply.exception_field == "nf"
    assert isinstance(declared.reply.value, MODULE.types.PinNotFound)
    assert vars(declared.reply.value) == {"id": 0, "message": "injected"}
    assert declared.reply.source == "fault"
    first_declared = p.decide(GET_PINS)
    assert first_declared.reply is not None and isinstance(
        first_declared.reply.value, MODULE.types.InvalidRequest
    )
    app = p.decide(VERSION)
    assert app.action == "app_error" and app.reply is not None
    assert app.reply.app_error_type == APP_ERROR_TYPES["PROTOCOL_ERROR"] and app.reply.message == "nope"
    default = plan({"version": {"app_error_rate": 1}}).decide(VERSION)
    assert default.reply is not None and default.reply.app_error_type == APP_ERROR_TYPES["INTERNAL_ERROR"]
    assert "injected fault" in default.reply.message


def test_star_rule_covers_every_method_without_its_own() -> None:
    p = plan(
        {"*": {"fixed_ms": 4, "exception_rate": 1, "exception": "PinNotFound"}, "getPins": {"fixed_ms": 1}}
    )
    assert p.decide(GET_PIN).action == "exception"
    assert p.decide(GET_PINS) == type(NO_FAULT)(0.001, None, None)
    fallback = p.decide(VERSION)  # version declares no PinNotFound: INTERNAL_ERROR saying so
    assert fallback.action == "app_error" and fallback.reply is not None
    assert fallback.reply.app_error_type == APP_ERROR_TYPES["INTERNAL_ERROR"]
    assert "version does not declare exception 'PinNotFound'" in fallback.reply.message
    assert fallback.delay_s == 0.004


def test_json_round_trip_for_the_admin_api() -> None:
    p = plan(
        {
            "getPin": {
                "p50_ms": 3,
                "p99_ms": 9,
                "exception_rate": 0.5,
                "exception": {"PinNotFound": {"id": 1}},
            },
            "*": {"reset_rate": 0.01},
        },
        seed=99,
    )
    data = p.to_json()
    assert data == {
        "seed": 99,
        "rules": {
            "getPin": {
                "latency": {"p50_ms": 3.0, "p99_ms": 9.0},
                "exception_rate": 0.5,
                "exception": {"PinNotFound": {"id": 1}},
            },
            "*": {"reset_rate": 0.01},
        },
    }
    again = FaultPlan.from_json(data, PINSTORE)
    assert again.to_json() == data
    assert trace(again, GET_PIN, 50) == trace(plan({}, 0).__class__.from_json(data, PINSTORE), GET_PIN, 50)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], r"^faults: expected an object with 'rules'"),
        ({"rules": {}, "sead": 1}, r"^faults: unknown key\(s\) sead"),
        ({"seed": "x"}, r"^faults\.seed: expected an integer"),
        ({"rules": {"getPin": {"exception_rate": -1}}}, r"^faults\.rules\.getPin\.exception_rate: "),
    ],
)
def test_from_json_errors_name_the_key(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FaultPlan.from_json(data, PINSTORE)


def test_reset_starts_the_streams_again() -> None:
    p = plan({"getPin": {"p50_ms": 2, "p99_ms": 30, "exception_rate": 0.3}}, seed=4)
    first = trace(p, GET_PIN, 40)
    assert trace(p, GET_PIN, 40) != first
    p.reset()
    assert trace(p, GET_PIN, 40) == first


LEAVES = st.none() | st.booleans() | st.integers(-5, 5) | st.floats() | st.text(max_size=4)
KEYS = st.sampled_from(
    [
        "seed",
        "rules",
        "getPin",
        "version",
        "*",
        "latency",
        "fixed_ms",
        "p50_ms",
        "p99_ms",
        "exception_rate",
        "exception",
        "PinNotFound",
        "id",
        "app_error_rate",
        "reset_rate",
    ]
)
JSON = st.recursive(
    LEAVES | KEYS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_json_is_a_fault_plan_or_a_config_error(data: Any) -> None:
    try:
        p = FaultPlan.from_json(data, PINSTORE)
    except ConfigError:
        return
    for method in (GET_PIN, VERSION):
        decision = p.decide(method)
        assert decision.delay_s >= 0 and decision.action in (None, "exception", "app_error", "reset")


@pytest.mark.parametrize(
    "rule",
    [
        {"fixed_ms": float("inf")},
        {"p50_ms": 1, "p99_ms": float("nan")},
        {"exception_rate": float("nan")},
        {"fixed_ms": 10**9},
    ],
)
def test_latency_and_rates_must_be_finite_and_bounded(rule: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"faults\.getPin\."):
        parse_rules({"getPin": rule}, "faults", PINSTORE)


def test_sampled_delays_are_capped() -> None:
    p = plan({"getPin": {"p50_ms": 100_000, "p99_ms": 600_000}}, seed=2)
    assert max(p.decide(GET_PIN).delay_s for _ in range(2000)) <= 600.0
