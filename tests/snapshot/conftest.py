"""Real servers for the snapshot tests: one redis-server and one MariaDB per session.

Started here (on free ports, temporary directories) until the shared fixtures in
tests/fixtures/ offer the same; each test gets a clean database.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.fixtures.common import free_port, require_program, wait_until


@pytest.fixture(scope="session")
def snap_redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real redis-server (no persistence) for this session."""
    exe = require_program("redis-server", "redis-server")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--databases",
            "16",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        wait_until(lambda: bool(client.ping()), 20, "redis-server")
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def redis_url(snap_redis_server: str) -> Iterator[str]:
    """The session redis-server, flushed before and after the test."""
    client = redis.Redis.from_url(snap_redis_server)
    client.flushall()
    yield snap_redis_server
    client.flushall()
    client.close()


def _mariadb_ready(port: int) -> bool:
    import pymysql

    try:
        pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=1).close()
    except pymysql.err.OperationalError:
        return False
    return True


@pytest.fixture(scope="session")
def snap_mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Port of a real MariaDB started from a temporary data directory."""
    mariadbd = require_program("mariadbd", "mariadb-server")
    install = require_program("mariadb-install-db", "mariadb-server")
    base: Path = tmp_path_factory.mktemp("mariadb")
    data = base / "data"
    subprocess.run(
        [
            install,
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--user=" + _user(),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            mariadbd,
            "--no-defaults",
            f"--datadir={data}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={base / 'sock'}",
            f"--pid-file={base / 'pid'}",
            "--skip-grant-tables=0",
            "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=0",
            "--skip-log-bin",
            "--user=" + _user(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _mariadb_ready(port), 60, "mariadbd")
        yield port
    finally:
        proc.terminate()
        proc.wait(30)


def _user() -> str:
    import getpass

    return getpass.getuser()


@pytest.fixture
def mariadb_url(snap_mariadb_server: int, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database on the session MariaDB, as an SQLAlchemy URL."""
    import pymysql

    name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:50]
    conn = pymysql.connect(host="127.0.0.1", port=snap_mariadb_server, user="root")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}`")
    yield f"mysql+pymysql://root@127.0.0.1:{snap_mariadb_server}/{name}"
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()
