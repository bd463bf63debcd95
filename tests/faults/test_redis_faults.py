"""Redis faults as redis-py sees them: errors as Redis words them, latency per command, drops, stalls."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from simdb.errors import ConfigError
from simdb.redis.fake import RedisConfig, RedisFake
from tests.faults.support import admin, raw_replies

pytestmark = pytest.mark.fake


def serving(faults: Any, **kwargs: Any) -> RedisFake:
    fake = RedisFake(RedisConfig(faults=faults, admin_port=0, **kwargs))
    fake.start()
    return fake


@pytest.fixture
def fake() -> Iterator[RedisFake]:
    f = serving(None)
    yield f
    f.stop()


def client(fake: RedisFake, **kwargs: Any) -> redis.Redis:
    # No retries: the test sees each faulted reply once (redis-py retries LOADING and timeouts by default).
    kwargs.setdefault("retry", Retry(NoBackoff(), 0))
    return redis.Redis(host=fake.endpoint.host, port=fake.endpoint.port, **kwargs)


@pytest.mark.parametrize(
    ("error", "exc", "text"),
    [
        ("OOM", redis.exceptions.OutOfMemoryError, "command not allowed when used memory > 'maxmemory'."),
        ("LOADING", redis.exceptions.BusyLoadingError, "Redis is loading the dataset in memory"),
        ("READONLY", redis.exceptions.ReadOnlyError, "You can't write against a read only replica."),
        ("BUSY", redis.exceptions.ResponseError, "BUSY Redis is busy running a script."),
        ("ERR disk on fire", redis.exceptions.ResponseError, "disk on fire"),
    ],
)
def test_errors_reach_redis_py_as_from_redis(fake: RedisFake, error: str, exc: type, text: str) -> None:
    fake.set_faults([{"match": {"command": "set", "key": "user:*"}, "error_rate": 1, "error": error}])
    with client(fake) as r:
        with pytest.raises(exc) as info:
            r.set("user:1", "x")
        assert str(info.value).startswith(text)
        assert r.get("user:1") is None  # a refused write is not applied
        assert r.set("other", "x") and r.get("other") == b"x"  # not matched: served


def test_moved_and_ask_carry_the_key_slot(fake: RedisFake) -> None:
    from redis.crc import key_slot

    fake.set_faults([
        {"match": {"command": "get", "key": "a*"}, "error_rate": 1, "error": "MOVED 127.0.0.1:7001"},
        {"match": {"command": "get"}, "error_rate": 1, "error": "ASK 10.0.0.2:7002"},
    ])
    with client(fake) as r:
        with pytest.raises(redis.exceptions.MovedError) as moved:
            r.get("apple")
        assert str(moved.value) == f"{key_slot(b'apple')} 127.0.0.1:7001"
        with pytest.raises(redis.exceptions.AskError) as ask:
            r.get("{user1}:feed")
        assert str(ask.value) == f"{key_slot(b'user1')} 10.0.0.2:7002"


def test_a_pipeline_sees_latency_command_by_command(fake: RedisFake) -> None:
    fake.set_faults([{"match": {"command": "get", "key": "slow:*"}, "fixed_ms": 60}])
    with client(fake) as r:
        r.set("fast", "1")
        for transaction in (False, True):
            pipe = r.pipeline(transaction=transaction)
            pipe.get("slow:1").get("fast").get("slow:2").set("after", "y")
            started = time.monotonic()
            assert pipe.execute() == [None, b"1", None, True]
            elapsed = time.monotonic() - started
            assert 0.12 <= elapsed < 0.5, (transaction, elapsed)
        started = time.monotonic()
        assert r.get("fast") == b"1"
        assert time.monotonic() - started < 0.05


def test_a_refused_command_in_multi_aborts_exec_and_nothing_is_applied(fake: RedisFake) -> None:
    fake.set_faults([{"match": {"command": "incr"}, "error_rate": 1, "error": "OOM"}])
    commands: list[tuple[bytes | str, ...]] = [
        ("MULTI",), ("SET", "k", "v"), ("INCR", "n"), ("EXEC",), ("GET", "k")
    ]
    replies = raw_replies(fake.endpoint.port, commands)
    assert replies == [
        b"+OK\r\n",
        b"+QUEUED\r\n",
        b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
        b"$-1\r\n",
    ]


def test_drop_closes_the_connection_and_the_server_goes_on(fake: RedisFake) -> None:
    fake.set_faults([{"match": {"command": "del"}, "reset_rate": 1}])
    with client(fake) as r:
        r.set("k", "v")
        with pytest.raises(redis.exceptions.ConnectionError):
            r.delete("k")
    with client(fake) as r:
        assert r.get("k") == b"v"  # the dropped DEL did not run


def test_a_stall_trips_the_client_timeout(fake: RedisFake) -> None:
    fake.set_faults([{"match": {"command": "hgetall"}, "stall_rate": 1}])
    with client(fake, socket_timeout=0.3) as r:
        started = time.monotonic()
        with pytest.raises(redis.exceptions.TimeoutError):
            r.hgetall("h")
        assert time.monotonic() - started >= 0.29
    with client(fake) as r:
        assert r.ping()


def test_latency_with_an_error_waits_then_refuses(fake: RedisFake) -> None:
    fake.set_faults([{"match": {"command": "get"}, "fixed_ms": 50, "error_rate": 1, "error": "LOADING"}])
    with client(fake) as r:
        started = time.monotonic()
        with pytest.raises(redis.exceptions.BusyLoadingError):
            r.get("x")
        assert time.monotonic() - started >= 0.05


def test_bandwidth_paces_a_big_reply(fake: RedisFake) -> None:
    fake.set_faults([{"match": {"command": "get", "key": "big"}, "bandwidth_bytes_per_s": 50_000}])
    with client(fake) as r:
        r.set("big", "x" * 10_000)
        started = time.monotonic()
        assert r.get("big") == b"x" * 10_000
        assert time.monotonic() - started >= 0.18
        assert r.ping()


def test_rates_are_reproducible_for_a_seed_and_differ_across_seeds() -> None:
    def outcomes(seed: int) -> list[str]:
        rule = {"match": {"command": "get"}, "error_rate": 0.5, "error": "OOM"}
        f = serving({"seed": seed, "rules": [rule]})
        try:
            seen = []
            with client(f) as r:
                for i in range(30):
                    try:
                        r.get(f"k{i % 3}")
                        seen.append("ok")
                    except redis.exceptions.OutOfMemoryError:
                        seen.append("oom")
            return seen
        finally:
            f.stop()

    first = outcomes(5)
    assert first == outcomes(5) and set(first) == {"ok", "oom"}
    assert first != outcomes(6)


def test_admin_api_sets_shows_and_clears_faults(fake: RedisFake) -> None:
    port = fake.endpoint.admin_port
    rule = {"match": {"command": "get"}, "error_rate": 1, "error": "READONLY"}
    status, body = admin(port, "PUT", "/faults", {"seed": 2, "rules": [rule]})
    assert status == 200 and body["rules"] == [rule] and body["seed"] == 2
    with client(fake) as r:
        with pytest.raises(redis.exceptions.ReadOnlyError):
            r.get("x")
        bad = {"rules": [{"match": {"command": "get"}, "error_rate": 2}]}
        status, body = admin(port, "PUT", "/faults", bad)
        assert status == 400 and "rules[0].error_rate" in body["error"]
        assert admin(port, "GET", "/faults")[1]["rules"] == [rule]  # the old plan stays
        assert admin(port, "DELETE", "/faults")[0] == 200
        assert r.get("x") is None


def test_reset_returns_to_the_configured_faults() -> None:
    f = serving([{"match": {"command": "get"}, "error_rate": 1, "error": "OOM"}])
    try:
        f.set_faults([])
        f.reset()
        with client(f) as r, pytest.raises(redis.exceptions.OutOfMemoryError):
            r.get("x")
    finally:
        f.stop()


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"match": {"cmd": "get"}}], r"faults\.rules\[0\]\.match: unknown key\(s\) cmd"),
        ([{"error_rate": 1, "error": "nope"}], r"faults\.rules\[0\]\.error: 'nope' is not an error name"),
        ([{"error_rate": 1, "error": "MOVED 7001"}], r"MOVED needs the node as 'host:port'"),
        ([{"error_rate": 1, "error": "ERR a\r\nb"}], r"cannot hold a line break"),
        ([{"p50_ms": 5}], r"faults\.rules\[0\]\.latency: a latency distribution needs both"),
        ({"rules": {}}, r"faults\.rules: expected a list"),
    ],
)
def test_bad_rules_are_refused_naming_the_key(rules: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RedisConfig(faults=rules)


def test_faults_need_the_fake_engine() -> None:
    with pytest.raises(ConfigError, match="redis faults need the fake engine"):
        RedisConfig(engine="real", faults=[{"fixed_ms": 1}])
