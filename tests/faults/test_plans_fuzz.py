"""Any JSON given as Redis or MySQL faults is a plan or a ConfigError naming the key, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.errors import ConfigError
from simdb.mysql.faults import MySQLFaultPlan, Statement
from simdb.mysql.faults import parse_plan as mysql_plan
from simdb.redis.faults import CommandCall, RedisFaultPlan
from simdb.redis.faults import parse_plan as redis_plan

pytestmark = pytest.mark.fake

LEAVES = (st.none() | st.booleans() | st.integers(-3, 70000) | st.floats(allow_nan=True)
          | st.sampled_from(["OOM", "MOVED 127.0.0.1:7000", "ERR x", "get", "select", "t", "*", 1213, 2013]))
KEYS = st.sampled_from(["match", "command", "key", "kind", "table", "digest", "error", "error_rate",
                        "fixed_ms", "p50_ms", "p99_ms", "histogram", "reset_rate", "stall_rate",
                        "bandwidth_bytes_per_s", "seed", "rules", "code", "message", "name"])
JSON = st.recursive(LEAVES | KEYS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)


@given(JSON)
def test_any_json_is_a_redis_plan_or_a_config_error(data: Any) -> None:
    try:
        plan = redis_plan(data)
    except ConfigError as exc:
        assert str(exc).startswith("faults")
        return
    assert isinstance(plan, RedisFaultPlan)
    for argv in ([b"GET", b"k"], [b"set", b"feed:1", b"v"], [b"PING"]):
        decision, _ = plan.decide_argv(argv)
        assert decision.delay_s >= 0 and decision.action in (None, "error", "reset", "stall")
    assert redis_plan(plan.to_json()).to_json() == plan.to_json()


@given(JSON)
def test_any_json_is_a_mysql_plan_or_a_config_error(data: Any) -> None:
    try:
        plan = mysql_plan(data)
    except ConfigError as exc:
        assert str(exc).startswith("faults")
        return
    assert isinstance(plan, MySQLFaultPlan)
    for sql in ("SELECT * FROM t WHERE id = 1", "UPDATE `t` SET v = 'x'", "BEGIN", ""):
        decision = plan.decide(Statement.of(sql))
        assert decision.delay_s >= 0 and decision.action in (None, "error", "reset", "stall")
    assert mysql_plan(plan.to_json()).to_json() == plan.to_json()


def test_statement_shapes() -> None:
    s = Statement.of("  /* app */ SELECT p.id FROM `homefeed`.`pins` p JOIN boards b ON b.id = p.board "
                     "WHERE p.id IN (1, 2)   AND b.name = 'x y';")
    assert s.kind == "select" and s.tables == ("pins", "boards")
    assert s.digest == "/* app */ SELECT p.id FROM `homefeed`.`pins` p JOIN boards b ON b.id = p.board " \
                       "WHERE p.id IN (?, ?) AND b.name = ?"
    assert Statement.of("start transaction").kind == "begin"
    assert Statement.of("INSERT INTO t (a) VALUES (1)").tables == ("t",)
    assert CommandCall.of([b"MSET", b"a", b"1", b"b", b"2"]).keys == (b"a", b"b")
    assert CommandCall.of([b"PING"]) == ("ping", ())
