"""Fault rules given inline (JSON) to the serve commands: how a stack's rules reach its containers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import yaml

from simdb.containers.from_stack import container_stack
from simdb.faults.files import read_fault_file
from simdb.stack.load import load_stack
from tests.fixtures.common import free_port, wait_until

pytestmark = pytest.mark.fake
RULES = [{"match": {"command": "set"}, "error_rate": 1.0, "error": "OOM"}]


def test_inline_json_reads_like_the_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(yaml.safe_dump(RULES))
    assert read_fault_file(json.dumps(RULES)) == read_fault_file(path) == RULES


def test_a_stack_hands_redis_and_mysql_rules_to_their_containers(tmp_path: Path) -> None:
    spec = {"name": "inl", "fakes": {"cache": {"kind": "redis", "faults": RULES},
                                    "db": {"kind": "mysql", "faults": [{"match": {"kind": "select"},
                                                                       "p50_ms": 1, "p99_ms": 2}]}}}
    file = tmp_path / "simdb.yaml"
    file.write_text(yaml.safe_dump(spec))
    specs = {c.fake: c for c in container_stack(load_stack(file)).fakes}
    for name in ("cache", "db"):
        args = list(specs[name].args)
        assert json.loads(args[args.index("--faults") + 1]) == spec["fakes"][name]["faults"]  # type: ignore[index]


def test_redis_serve_takes_inline_rules() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simdb", "redis", "serve", "--port", str(port), "--admin-port", "0",
         "--faults", json.dumps(RULES)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        client = redis.Redis(port=port, socket_timeout=5)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(up, timeout=30, what="redis fake")
        with pytest.raises(redis.ResponseError, match="command not allowed when used memory"):
            client.set("k", "v")
        assert client.get("k") is None
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
