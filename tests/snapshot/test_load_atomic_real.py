"""The two-phase load on the real engines: a Redis fake over a real redis-server and a MariaDB,
prepared, committed and rolled back like the fake engines (tests/snapshot/test_load_atomic.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pymysql
import pytest
import redis

from simdb.errors import SnapshotError
from simdb.mysql.fake import MySQLFake
from simdb.redis.fake import RedisConfig, RedisFake
from simdb.snapshot.load import LoadFailed, load_into_fakes
from tests.fixtures.common import require_program
from tests.snapshot.test_load_atomic import SEED, _bad_sql, _edit, _new_values, _phase

pytestmark = pytest.mark.real


def test_real_engine_redis_fake_prepares_commits_and_rolls_back(tmp_path: Path) -> None:
    require_program("redis-server", "redis-server")
    fake = RedisFake(RedisConfig(name="cache", engine="real", admin_port=0))
    fake.start()
    try:
        url = f"http://127.0.0.1:{fake.endpoint.admin_port}"
        load_into_fakes(SEED, {"cache": url})
        c = redis.Redis.from_url(f"redis://{fake.endpoint.address}")
        seed = _new_values(tmp_path)
        staged = _phase(url, {"phase": "prepare", "path": str(seed)})[1]["staged"]
        assert c.get("~only:in:new") is None
        assert _phase(url, {"phase": "commit", "staged": staged})[0] == 200
        assert c.get("~only:in:new") == b"1"
        assert _phase(url, {"phase": "rollback", "staged": staged})[0] == 200
        assert c.get("~only:in:new") is None and c.zrange("followees:1", 0, -1) != []
        bad = Path(shutil.copytree(SEED, tmp_path / "bad"))
        _edit(bad, "redis/cache/db0.jsonl", lambda lines: lines.__setitem__(4, lines[4][:20]))
        with pytest.raises(LoadFailed, match=r"db0\.jsonl:5"):
            load_into_fakes(bad, {"cache": url})
        assert c.zrange("followees:1", 0, -1) != []
        c.close()
    finally:
        fake.stop()


def test_real_mariadb_prepares_commits_and_rolls_back(mysql_real_session: MySQLFake, tmp_path: Path) -> None:
    fake = mysql_real_session
    ep = fake.endpoint
    extra = dict(ep.extra)

    def title() -> str | None:
        conn = pymysql.connect(
            host=ep.host,
            port=ep.port,
            user=extra["user"],
            password=extra["password"],
            database=extra["database"],
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT title FROM pins WHERE id = 1001")
                row = cur.fetchone()
        finally:
            conn.close()
        return None if row is None else str(row[0])

    try:
        fake.load(SEED)
        before = title()
        seed = _new_values(tmp_path)
        staged = fake.prepare(seed)
        assert title() == before
        staged.commit()
        assert title() == "NEW TITLE"
        staged.rollback()
        assert title() == before
        bad = Path(shutil.copytree(SEED, tmp_path / "bad"))
        _bad_sql(bad)
        with pytest.raises(SnapshotError, match=r"pins\.jsonl:7"):
            fake.prepare(bad)
        assert title() == before
    finally:
        fake.unload()
