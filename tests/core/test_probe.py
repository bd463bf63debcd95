"""simdb's readiness probes speak each fake's own protocol, from the fake's endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from simdb.mysql.fake import MySQLConfig, MySQLFake
from simdb.probe import ProbeError, probe, probe_url, protocol_probe
from simdb.redis.fake import RedisConfig, RedisFake
from simdb.thrift.fake import ThriftConfig, ThriftFake

pytestmark = pytest.mark.fake

IDL = Path(__file__).resolve().parents[2] / "thrift" / "homefeed"


@pytest.mark.parametrize(
    "config",
    [
        {"services": ("PinStore",)},
        {"services": ("PinStore",), "protocol": "compact", "transport": "framed"},
        {"services": ("PinStore",), "multiplexed": True},
    ],
    ids=["binary-buffered", "compact-framed", "multiplexed"],
)
def test_thrift_probe_url_carries_the_wire_settings(config: dict[str, object]) -> None:
    fake = ThriftFake(ThriftConfig(idl=IDL / "pinstore.thrift", include_dirs=(IDL,), **config))  # type: ignore[arg-type]
    fake.start()
    try:
        assert protocol_probe(probe_url(fake.endpoint))() is True
    finally:
        fake.stop()


def test_thrift_probe_is_neither_a_warning_nor_a_journaled_call(caplog: pytest.LogCaptureFixture) -> None:
    """Health checks run every few seconds: they must not fill the log or the journal."""
    fake = ThriftFake(ThriftConfig(idl=IDL / "pinstore.thrift", include_dirs=(IDL,), services=("PinStore",)))
    fake.start()
    try:
        with caplog.at_level("DEBUG", logger="simdb"):
            for _ in range(3):
                assert protocol_probe(probe_url(fake.endpoint))() is True
        assert fake.journal.total == 0
        assert not [r for r in caplog.records if r.levelname == "WARNING"], caplog.text
    finally:
        fake.stop()


def test_storage_probes_and_a_wrong_password() -> None:
    redis_fake = RedisFake(RedisConfig(password="pw"))
    mysql_fake = MySQLFake(MySQLConfig(database="x"))
    redis_fake.start()
    mysql_fake.start()
    try:
        probe(probe_url(redis_fake.endpoint))
        probe(probe_url(mysql_fake.endpoint))
        with pytest.raises(ProbeError):
            probe(f"redis://:wrong@127.0.0.1:{redis_fake.endpoint.port}/0")
        with pytest.raises(ConnectionError):
            protocol_probe(f"redis://127.0.0.1:{redis_fake.endpoint.port}/0")()
    finally:
        redis_fake.stop()
        mysql_fake.stop()


def test_probe_from_env_waits_for_the_ready_file_serve_makes_once_seeded(tmp_path: Path) -> None:
    """A port that answers is not yet a seeded fake: ``serve`` makes the ready file after loading."""
    import os
    import subprocess
    import sys

    from tests.fixtures.common import free_port, wait_until

    ready = tmp_path / "ready"
    ready.write_text("stale, from a run before a restart\n")
    port = free_port()
    env = {**os.environ, "SIMDB_READY_FILE": str(ready), "SIMDB_PROBE": f"redis://127.0.0.1:{port}/0"}

    def probe_cmd() -> int:
        return subprocess.run(
            [sys.executable, "-m", "simdb", "probe", "--from-env"], env=env, capture_output=True, timeout=60
        ).returncode

    proc = subprocess.Popen(
        [sys.executable, "-m", "simdb", "redis", "serve", "--port", str(port), "--snapshot",
         str(IDL.parents[1] / "seeds" / "homefeed"), "--part", "cache"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "ready at redis://" in first, first
        assert ready.read_text().strip() == str(proc.pid)  # the stale file was replaced after seeding
        assert probe_cmd() == 0
        ready.unlink()
        assert probe_cmd() == 1  # answers on its port, but no ready file: not ready
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    wait_until(lambda: probe_cmd() == 1, timeout=10, what="probe failing after stop")
