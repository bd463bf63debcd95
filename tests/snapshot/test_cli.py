"""The `simdb snapshot ...` commands map flags onto the library: exit codes, output, files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from simdb.cli import app
from simdb.redis.fake import RedisConfig, RedisFake
from tests.snapshot.helpers import make_snapshot

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "homefeed"
runner = CliRunner()


def test_verify_ok_and_json() -> None:
    result = runner.invoke(
        app,
        [
            "snapshot",
            "verify",
            str(SEED),
            "--json",
            "--idl",
            f"ranker={ROOT}/thrift/homefeed/ranker.thrift:Ranker",
            "--include-dir",
            str(ROOT / "thrift/homefeed"),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["records"]["db"] > 700


def test_verify_fails_with_exit_1(tmp_path: Path) -> None:
    root = make_snapshot(tmp_path / "s", boards=[{"id": 1, "user_id": 99, "title": "x"}])
    result = runner.invoke(app, ["snapshot", "verify", str(root)])
    assert result.exit_code == 1
    assert "has no row in users" in result.output


def test_diff_exit_codes(tmp_path: Path) -> None:
    a = make_snapshot(tmp_path / "a")
    b = make_snapshot(tmp_path / "b", users=[{"id": 1, "email": "x@y", "name": None}])
    same = runner.invoke(app, ["snapshot", "diff", str(a), str(a)])
    assert same.exit_code == 0 and "same data" in same.stdout
    differs = runner.invoke(app, ["snapshot", "diff", str(a), str(b), "--json"])
    assert differs.exit_code == 1
    assert json.loads(differs.stdout)["same"] is False


def test_scrub_and_synth(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("sql:\n  users.email: hash\n")
    src = make_snapshot(tmp_path / "src")
    result = runner.invoke(
        app, ["snapshot", "scrub", str(src), "--rules", str(rules), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "ann@example.com" not in (tmp_path / "o/sql/db/tables/users.jsonl").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("sql:\n  users.email: shred\n")
    result = runner.invoke(app, ["snapshot", "scrub", str(src), "--rules", str(bad)])
    assert result.exit_code == 2 and "unknown action 'shred'" in result.output
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, name VARCHAR(10));")
    result = runner.invoke(
        app,
        [
            "snapshot",
            "synth",
            "--sql-schema",
            str(schema),
            "--rows",
            "5",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "syn"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "syn/sql/db/tables/t.jsonl").read_text().splitlines()) == 5


def test_capture_needs_a_source(tmp_path: Path) -> None:
    result = runner.invoke(app, ["snapshot", "capture", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "nothing to capture" in result.output


def test_capture_load_reset_through_a_fake(tmp_path: Path) -> None:
    fake = RedisFake(RedisConfig(name="cache", admin_port=0))
    ep = fake.start()
    try:
        c = redis.Redis(host=ep.host, port=ep.port)
        c.set("user:1:name", "Ann")
        c.hset("user:1:features", mapping={"a": "1"})
        out = tmp_path / "snap"
        result = runner.invoke(
            app, ["snapshot", "capture", "--out", str(out), "--redis", f"cache=redis://{ep.address}"]
        )
        assert result.exit_code == 0, result.output
        assert (out / "redis/cache/db0.jsonl").read_text().count("\n") == 2
        c.flushall()
        admin = f"cache=http://{ep.host}:{ep.admin_port}"
        result = runner.invoke(app, ["snapshot", "load", str(out), "--admin", admin])
        assert result.exit_code == 0, result.output
        assert c.get("user:1:name") == b"Ann"
        c.set("junk", "1")
        result = runner.invoke(app, ["snapshot", "load", str(out), "--admin", admin, "--reset"])
        assert result.exit_code == 0, result.output
        assert c.get("junk") is None
        broken = Path(shutil.copytree(out, tmp_path / "broken"))
        (broken / "redis/cache/db0.jsonl").write_text("{}\n")
        result = runner.invoke(app, ["snapshot", "load", str(broken), "--admin", admin])
        assert result.exit_code == 2 and "checksum mismatch" in result.output
        assert c.get("user:1:name") == b"Ann"
    finally:
        fake.stop()


def test_capture_sql_with_filters_and_scrub(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(50) NOT NULL)")
        conn.exec_driver_sql(
            "CREATE TABLE pins (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL "
            "REFERENCES users(id), title VARCHAR(20))"
        )
        conn.exec_driver_sql("INSERT INTO users VALUES (1, 'a@x.org'), (2, 'b@x.org'), (3, 'c@x.org')")
        conn.exec_driver_sql("INSERT INTO pins VALUES (10, 3, 't'), (11, 1, 'u'), (12, 2, 'v')")
    engine.dispose()
    rules = tmp_path / "rules.yaml"
    rules.write_text("sql:\n  users.email: fake:email\n")
    out = tmp_path / "snap"
    result = runner.invoke(
        app,
        [
            "snapshot",
            "capture",
            "--out",
            str(out),
            "--sql",
            url,
            "--table",
            "pins",
            "--where",
            "pins:id >= 11",
            "--limit",
            "1",
            "--scrub",
            str(rules),
        ],
    )
    assert result.exit_code == 0, result.output
    pins = (out / "sql/db/tables/pins.jsonl").read_text().splitlines()
    users = [json.loads(line) for line in (out / "sql/db/tables/users.jsonl").read_text().splitlines()]
    assert [json.loads(p)["id"] for p in pins] == [11]
    assert [u["id"] for u in users] == [1] and users[0]["email"] != "a@x.org"
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    verify = runner.invoke(app, ["snapshot", "verify", str(out)])
    assert verify.exit_code == 0, verify.output


def test_load_into_a_fake_the_snapshot_has_no_part_for_names_the_parts() -> None:
    result = runner.invoke(
        app, ["snapshot", "load", str(SEED), "--admin", "cahce=http://127.0.0.1:9/"], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert "has no part 'cahce'" in flat and "did you mean 'cache'?" in flat, flat
    assert "candidates, db, pinstore" in flat and "nothing loaded" not in flat


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("format: 1", "fromat: 1", "unknown manifest key 'fromat' (did you mean 'format'?)"),
        (
            "    kind: redis",
            "    kidn: redis",
            "unknown manifest key 'parts.cache.kidn' (did you mean 'kind'?)",
        ),
    ],
)
def test_a_misspelled_manifest_key_is_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    snap = Path(shutil.copytree(SEED, tmp_path / "s"))
    manifest = snap / "snapshot.yaml"
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new, 1))
    result = runner.invoke(app, ["snapshot", "diff", str(snap), str(SEED)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()), result.output
