"""Fault profiles from measurements: Redis LATENCY HISTOGRAM (a real redis-server) and scaling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis
import yaml

from simdb.faults.files import read_fault_file
from simdb.faults.profile import parse_latency_histogram, redis_profile, scale, scale_thrift
from simdb.redis.fake import RedisConfig
from simdb.redis.faults import parse_plan
from simdb.redis.real import RealRedis

# What redis-py returns for LATENCY HISTOGRAM on RESP2: flat arrays.
REPLY = [b"get", [b"calls", 10, b"histogram_usec", [1, 2, 4, 7, 8, 10]],
         b"set", [b"calls", 1, b"histogram_usec", [16, 1]]]


@pytest.mark.fake
def test_cumulative_buckets_become_a_histogram_rule_per_command() -> None:
    parsed = parse_latency_histogram(REPLY)
    assert parsed == {"get": (10, [(1, 2), (4, 7), (8, 10)]), "set": (1, [(16, 1)])}
    profile = redis_profile(parsed, min_calls=2)
    assert profile["rules"] == [{"name": "measured:get", "match": {"command": "get"},
                                 "histogram": [[0.001, 2.0], [0.004, 5.0], [0.008, 3.0]]}]
    assert parse_plan(profile)  # a valid plan for the Redis fake
    doubled = scale(profile, 2.0)["rules"][0]["latency"]["histogram"]
    assert doubled == [[0.002, 2.0], [0.008, 5.0], [0.016, 3.0]]
    assert scale_thrift({"rank": {"p50_ms": 4, "p99_ms": 40}}, 1.5) == {"rank": {"p50_ms": 6, "p99_ms": 60}}


@pytest.mark.fake
def test_scale_keeps_other_keys_and_refuses_nonsense() -> None:
    rules = {"seed": 2, "rules": [{"match": {"command": "get"}, "p50_ms": 2, "p99_ms": 8, "error_rate": 0.1,
                                   "error": "OOM"}, {"match": {"command": "del"}, "reset_rate": 0.5}]}
    scaled = scale(rules, 3)
    assert scaled["seed"] == 2 and scaled["rules"][1] == {"match": {"command": "del"}, "reset_rate": 0.5}
    assert scaled["rules"][0]["latency"] == {"p50_ms": 6.0, "p99_ms": 24.0}
    assert scaled["rules"][0]["error"] == "OOM"
    parse_plan(scaled)
    from simdb.errors import SimdbError

    with pytest.raises(SimdbError, match="--scale must be above 0"):
        scale(rules, 0)


@pytest.mark.real
def test_profile_of_a_real_redis_loads_into_the_fake(real_redis: RealRedis, tmp_path: Path) -> None:
    with redis.Redis(host=real_redis.host, port=real_redis.port) as client:
        client.execute_command("LATENCY", "RESET")
        client.config_resetstat()
        for i in range(50):
            client.set(f"k{i}", "v")
            client.get(f"k{i}")
    out = tmp_path / "cache-faults.yaml"
    done = subprocess.run([sys.executable, "-m", "simdb", "latency", "profile", "redis",
                           f"redis://{real_redis.host}:{real_redis.port}/0", "-o", str(out), "--scale", "2",
                           "--min-calls", "50"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    profile = yaml.safe_load(out.read_text())
    commands = {r["match"]["command"] for r in profile["rules"]}
    assert {"get", "set"} <= commands and "config" not in commands  # config ran once: under --min-calls
    for rule in profile["rules"]:
        counts = [c for _, c in rule["histogram"]]
        assert sum(counts) >= 50
    RedisConfig(faults=read_fault_file(out))  # the fake takes it as is


@pytest.mark.fake
def test_profile_of_an_unreachable_redis_says_so() -> None:
    done = subprocess.run([sys.executable, "-m", "simdb", "latency", "profile", "redis", "redis://127.0.0.1:1/0"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "redis://127.0.0.1:1/0" in done.stderr
