"""`simdb up --detach` / ps / reset / env / config render / logs / down on the demo stack, as a user runs
them from a shell, and a failing fake that leaves nothing running."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml

from simdb.probe import probe, reachable
from tests.stack.test_stack_file import DEMO, REPO, demo_copy

pytestmark = pytest.mark.fake


def simdb(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simdb", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=None)


@pytest.fixture(scope="module")
def detached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, dict[str, object]]]]:
    cwd = tmp_path_factory.mktemp("stack")
    up = simdb(cwd, "up", "-f", str(DEMO), "--detach")
    assert up.returncode == 0, up.stdout + up.stderr
    endpoints = json.loads((cwd / ".simdb" / "homefeed" / "endpoints.json").read_text())
    try:
        yield cwd, endpoints
    finally:
        simdb(cwd, "down", "-f", str(DEMO))


def test_every_fake_is_up_and_seeded(detached: tuple[Path, dict[str, dict[str, object]]]) -> None:
    _, endpoints = detached
    assert sorted(endpoints) == ["cache", "candidates", "db", "pinstore", "ranker", "usergraph"]
    for ep in endpoints.values():
        probe(str(ep["url"]))
    cache = endpoints["cache"]
    with redis.Redis(host=str(cache["host"]), port=int(str(cache["port"]))) as client:
        assert client.zrevrange("followees:1", 0, -1)


def test_up_on_a_running_stack_reports_it(detached: tuple[Path, dict[str, dict[str, object]]]) -> None:
    cwd, _ = detached
    again = simdb(cwd, "up", "-f", str(DEMO), "--detach")
    assert "already running" in (again.stdout + again.stderr).lower() or "running" in again.stdout


def test_ps_reset_env_and_logs(detached: tuple[Path, dict[str, dict[str, object]]]) -> None:
    cwd, endpoints = detached
    cache = endpoints["cache"]
    with redis.Redis(host=str(cache["host"]), port=int(str(cache["port"]))) as client:
        client.flushall()
        reset = simdb(cwd, "reset", "-f", str(DEMO))
        assert reset.returncode == 0, reset.stderr
        assert client.zrevrange("followees:1", 0, -1)  # back to the snapshot
    ps = simdb(cwd, "ps", "-f", str(DEMO))
    assert ps.returncode == 0 and ps.stdout.count(" up ") >= 6, ps.stdout
    env = simdb(cwd, "env", "-f", str(DEMO), "--format", "dotenv")
    assert f"SIMDB_CACHE_PORT={cache['port']}" in env.stdout
    assert "SIMDB_PINSTORE_URL=thrift://" in env.stdout
    as_json = json.loads(simdb(cwd, "env", "-f", str(DEMO), "--format", "json").stdout)
    assert as_json["SIMDB_DB_PORT"] in (endpoints["db"]["port"], str(endpoints["db"]["port"]))
    assert yaml.safe_load(simdb(cwd, "env", "-f", str(DEMO), "--format", "yaml").stdout)
    logs = simdb(cwd, "logs", "-f", str(DEMO))
    assert logs.returncode == 0 and logs.stdout.strip()


def test_config_render_points_a_service_at_the_stack(
    detached: tuple[Path, dict[str, dict[str, object]]], tmp_path: Path
) -> None:
    cwd, endpoints = detached
    out = tmp_path / "service.yaml"
    rendered = simdb(cwd, "config", "render", str(REPO / "examples" / "homefeed-service" / "service.yaml.j2"),
                     "-f", str(DEMO), "-o", str(out))
    assert rendered.returncode == 0, rendered.stderr
    config = yaml.safe_load(out.read_text())
    assert config["candidates"]["port"] == endpoints["candidates"]["port"]
    assert config["redis"]["url"] == f"redis://127.0.0.1:{endpoints['cache']['port']}/0"


def test_a_failing_fake_leaves_nothing_running(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = demo_copy(tmp_path)
        data = yaml.safe_load(path.read_text())
        data["fakes"]["pinstore"]["port"] = port
        path.write_text(yaml.safe_dump(data))
        up = simdb(tmp_path, "up", "-f", str(path), "--detach")
        assert up.returncode != 0
        assert "pinstore" in up.stdout + up.stderr and "Traceback" not in up.stdout + up.stderr
    output = up.stdout + up.stderr
    started = [int(p) for p in re.findall(r"ready at 127\.0\.0\.1:(\d+)", output)]
    assert started, output  # storage fakes start first, so some were up when pinstore failed
    for started_port in started:
        assert not reachable("127.0.0.1", started_port, timeout=0.5), f"port {started_port} still serves"
    assert not (tmp_path / ".simdb" / "homefeed" / "state.json").exists()


def test_faults_set_and_clear_on_redis_and_mysql_fakes(
    detached: tuple[Path, dict[str, dict[str, object]]],
) -> None:
    import pymysql

    cwd, endpoints = detached
    cache, db = endpoints["cache"], endpoints["db"]
    rule = json.dumps([{"match": {"command": "get", "key": "fault:*"}, "error_rate": 1, "error": "OOM"}])
    done = simdb(cwd, "faults", "set", "cache", rule, "-f", str(DEMO))
    assert done.returncode == 0 and "cache: fault rules for 1 rule" in done.stdout, done.stdout + done.stderr
    with redis.Redis(host=str(cache["host"]), port=int(str(cache["port"]))) as client:
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            client.get("fault:1")
        assert simdb(cwd, "faults", "clear", "cache", "-f", str(DEMO)).returncode == 0
        assert client.get("fault:1") is None
    sql_rule = json.dumps([{"match": {"kind": "select"}, "error_rate": 1, "error": 1317}])
    assert simdb(cwd, "faults", "set", "db", sql_rule, "-f", str(DEMO)).returncode == 0
    from urllib.parse import unquote, urlsplit

    url = urlsplit(str(db["url"]))
    conn = pymysql.connect(host=str(db["host"]), port=int(str(db["port"])),
                           user=unquote(url.username or "root"), password=unquote(url.password or ""),
                           database=url.path.strip("/").split("?")[0])
    try:
        with conn.cursor() as cur, pytest.raises(pymysql.err.OperationalError) as info:
            cur.execute("SELECT 1")
        assert info.value.args == (1317, "Query execution was interrupted")
    finally:
        conn.close()
    assert simdb(cwd, "faults", "clear", "db", "-f", str(DEMO)).returncode == 0
    bad = simdb(cwd, "faults", "set", "db", '[{"error_rate": 1, "error": 1}]', "-f", str(DEMO))
    assert bad.returncode != 0 and "rules[0].error" in bad.stdout + bad.stderr
