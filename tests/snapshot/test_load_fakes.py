"""Load the demo seed into the fakes through their admin API, read it back with ordinary clients,
and check that every refused snapshot leaves the fake exactly as it was."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
import redis
import yaml

from simdb.errors import SnapshotError
from simdb.mysql.fake import MySQLConfig, MySQLFake
from simdb.redis.fake import RedisConfig, RedisFake
from simdb.snapshot.capture_redis import capture_redis
from simdb.snapshot.capture_sql import capture_sql
from simdb.snapshot.diff import diff_snapshots
from simdb.snapshot.load import LoadFailed, load_into_fakes, reset_fakes
from simdb.snapshot.writer import SnapshotWriter
from tests.snapshot.test_reader_verify import _rewrite

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "homefeed"


@pytest.fixture(scope="module")
def redis_fake() -> Iterator[RedisFake]:
    fake = RedisFake(RedisConfig(name="cache", admin_port=0))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def mysql_fake() -> Iterator[MySQLFake]:
    fake = MySQLFake(MySQLConfig(name="db", admin_port=0, database="homefeed"))
    fake.start()
    yield fake
    fake.stop()


def admin(fake: RedisFake | MySQLFake) -> str:
    ep = fake.endpoint
    return f"http://{ep.host}:{ep.admin_port}/_simdb/"


def copy_seed(tmp: Path) -> Path:
    return Path(shutil.copytree(SEED, tmp / "seed"))


def test_redis_fake_round_trip(redis_fake: RedisFake, tmp_path: Path) -> None:
    load_into_fakes(SEED, {"cache": admin(redis_fake)})
    url = f"redis://{redis_fake.endpoint.address}"
    c = redis.Redis.from_url(url)
    assert c.zrange("followees:1", 0, -1) != []
    c.set("extra", "1")
    reset_fakes({"cache": admin(redis_fake)})
    assert c.get("extra") is None
    with SnapshotWriter(tmp_path / "again", "again") as w:
        capture_redis(w, "cache", url)
        again = w.commit()
    d = diff_snapshots(SEED, again)
    part = next(p for p in d.parts if p.name == "cache")
    f = part.files[0]
    # session keys carry a TTL that ticks; every other key comes back byte-identical
    assert (f.added, f.removed) == (0, 0)
    assert f.changed == 20 and all(ex.startswith('db0 key "session:') for ex in f.examples["changed"])


def test_mysql_fake_round_trip(mysql_fake: MySQLFake, tmp_path: Path) -> None:
    load_into_fakes(SEED, {"db": admin(mysql_fake)})
    ep = mysql_fake.endpoint
    conn = pymysql.connect(host=ep.host, port=ep.port, user="root", database="homefeed")
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM pins WHERE id BETWEEN 1001 AND 1200")
        assert cur.fetchone() == (200,)
    conn.close()
    with SnapshotWriter(tmp_path / "again", "again") as w:
        capture_sql(
            w,
            "db",
            f"mysql+pymysql://root@{ep.host}:{ep.port}/homefeed",
            tables=["users", "follows", "boards", "pins", "pin_tags"],
        )
        again = w.commit()
    d = diff_snapshots(SEED, again)
    part = next(p for p in d.parts if p.name == "db")
    rows = [f for f in part.files if f.path.endswith(".jsonl")]
    assert rows and all(not f.differs for f in rows), d.render()


def _marker(fake: RedisFake) -> redis.Redis:
    c = redis.Redis.from_url(f"redis://{fake.endpoint.address}")
    c.flushall()
    c.set("marker", "before")
    return c


@pytest.mark.parametrize("damage", ["corrupt_line", "checksum", "format", "bad_record"])
def test_refused_snapshot_leaves_redis_fake_unchanged(
    redis_fake: RedisFake, tmp_path: Path, damage: str
) -> None:
    seed = copy_seed(tmp_path)
    rel = "redis/cache/db0.jsonl"
    lines = (seed / rel).read_text().splitlines()
    expected = {
        "corrupt_line": r"db0\.jsonl:5: not valid JSON",
        "checksum": "checksum mismatch",
        "format": "format 9 is newer",
        "bad_record": r"db0\.jsonl:3:",
    }[damage]
    if damage == "corrupt_line":
        lines[4] = lines[4][:20]
        _rewrite(seed, rel, "\n".join(lines) + "\n", fix_checksum=True)
    elif damage == "checksum":
        (seed / rel).write_text("\n".join(lines[:-1]) + "\n")
    elif damage == "format":
        man = yaml.safe_load((seed / "snapshot.yaml").read_text())
        man["format"] = 9
        (seed / "snapshot.yaml").write_text(yaml.safe_dump(man))
    else:
        lines[2] = lines[2].replace('"type":"', '"type":"x')
        _rewrite(seed, rel, "\n".join(lines) + "\n", fix_checksum=True)
    c = _marker(redis_fake)
    with pytest.raises(SnapshotError, match=expected):
        redis_fake.load(seed)
    with pytest.raises(LoadFailed):
        load_into_fakes(seed, {"cache": admin(redis_fake)})
    assert c.keys("*") == [b"marker"]
    assert c.get("marker") == b"before"


def test_refused_sql_part_leaves_mysql_fake_unchanged(mysql_fake: MySQLFake, tmp_path: Path) -> None:
    load_into_fakes(SEED, {"db": admin(mysql_fake)})
    seed = copy_seed(tmp_path)
    rel = "sql/db/tables/pins.jsonl"
    lines = (seed / rel).read_text().splitlines()
    lines[6] = lines[6].replace('"board_id":', '"board_idx":')
    _rewrite(seed, rel, "\n".join(lines) + "\n", fix_checksum=True)
    ep = mysql_fake.endpoint
    conn = pymysql.connect(host=ep.host, port=ep.port, user="root", database="homefeed", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET locale='xx-XX' WHERE id=1")
    with pytest.raises(LoadFailed, match=r"pins\.jsonl:7"):
        load_into_fakes(seed, {"db": admin(mysql_fake)})
    with conn.cursor() as cur:
        cur.execute("SELECT locale FROM users WHERE id=1")
        assert cur.fetchone() == ("xx-XX",)
        cur.execute("SELECT COUNT(*) FROM pin_tags")
        count = cur.fetchone()
        assert count is not None and count[0] > 300
    conn.close()
