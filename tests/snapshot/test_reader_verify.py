"""Reader, verify and diff on snapshots built with the real writer."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import yaml

from simdb.errors import SnapshotError
from simdb.snapshot.diff import diff_snapshots
from simdb.snapshot.reader import iter_recordings, iter_redis, iter_sql_rows, open_snapshot, split_sql
from simdb.snapshot.verify import verify_snapshot
from tests.snapshot.helpers import make_snapshot

pytestmark = pytest.mark.fake


def test_reader_streams_every_part(tmp_path: Path) -> None:
    snap = open_snapshot(make_snapshot(tmp_path / "s"), verify_checksums=True)
    entries = list(iter_redis(snap, "cache"))
    assert [e.key for e in entries] == [b"followees:1", b"user:1:profile", b"user:2:name", b"\xff\x00"]
    assert entries[0].value == [(b"2", 1.0), (b"3", 2.5)]
    assert entries[2].ttl_ms == 60000
    assert entries[3].value == [b"a", b"\x80"]
    assert [r["id"] for _, r in iter_sql_rows(snap, "db", "boards")] == [101, 102]


def test_gzip_parts_read_transparently(tmp_path: Path) -> None:
    root = make_snapshot(tmp_path / "s", compress=True)
    assert (root / "redis/cache/db0.jsonl.gz").is_file()
    assert verify_snapshot(root).ok


def _rewrite(root: Path, rel: str, text: str, fix_checksum: bool) -> None:
    (root / rel).write_text(text, encoding="utf-8")
    if fix_checksum:
        from simdb.snapshot.format import sha256_of

        man = yaml.safe_load((root / "snapshot.yaml").read_text())
        for part in man["parts"].values():
            for f in part["files"]:
                if f["path"] == rel:
                    f["sha256"] = sha256_of(root / rel)
        (root / "snapshot.yaml").write_text(yaml.safe_dump(man))


def test_checksum_mismatch_names_the_file(tmp_path: Path) -> None:
    root = make_snapshot(tmp_path / "s")
    rel = "redis/cache/db0.jsonl"
    _rewrite(root, rel, (root / rel).read_text().replace("Bob", "Rob"), fix_checksum=False)
    with pytest.raises(SnapshotError, match=r"db0\.jsonl: checksum mismatch"):
        open_snapshot(root).verify_part("cache")
    report = verify_snapshot(root)
    assert not report.ok
    assert "checksum mismatch" in str(report.findings[0])


def test_corrupt_line_names_file_and_line(tmp_path: Path) -> None:
    root = make_snapshot(tmp_path / "s")
    rel = "redis/cache/db0.jsonl"
    lines = (root / rel).read_text().splitlines()
    lines[2] = lines[2][:-5]
    _rewrite(root, rel, "\n".join(lines) + "\n", fix_checksum=True)
    with pytest.raises(SnapshotError, match=r"db0\.jsonl:3: not valid JSON"):
        list(iter_redis(open_snapshot(root), "cache"))


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"key": "k", "type": "stream", "value": [], "ttl_ms": None}, "unknown Redis type"),
        ({"key": "k", "type": "set", "value": ["b", "a"], "ttl_ms": None}, "sorted"),
        ({"key": "k", "type": "zset", "value": [["a", "x"]], "ttl_ms": None}, "zset score"),
        ({"key": "k", "type": "string", "value": "v", "ttl_ms": -5}, "ttl_ms"),
        ({"key": "k", "type": "string", "value": {"b64": "!!"}, "ttl_ms": None}, "string value"),
        ({"key": "k", "type": "hash", "value": [], "ttl_ms": None}, "empty hash"),
    ],
)
def test_invalid_redis_records_refused(tmp_path: Path, record: dict[str, object], message: str) -> None:
    root = make_snapshot(tmp_path / "s", redis=[record])
    with pytest.raises(SnapshotError, match=message) as info:
        list(iter_redis(open_snapshot(root, verify_checksums=True), "cache"))
    assert info.value.line == 1
    assert not verify_snapshot(root).ok


def test_truncated_file_is_refused_by_record_count(tmp_path: Path) -> None:
    root = make_snapshot(tmp_path / "s")
    rel = "sql/db/tables/users.jsonl"
    _rewrite(root, rel, (root / rel).read_text().splitlines()[0] + "\n", fix_checksum=True)
    with pytest.raises(SnapshotError, match="1 records but the manifest says 2"):
        list(iter_sql_rows(open_snapshot(root), "db", "users"))


def test_newer_format_refused(tmp_path: Path) -> None:
    root = make_snapshot(tmp_path / "s")
    man = yaml.safe_load((root / "snapshot.yaml").read_text())
    man["format"] = 2
    (root / "snapshot.yaml").write_text(yaml.safe_dump(man))
    with pytest.raises(SnapshotError, match="format 2 is newer"):
        open_snapshot(root)
    assert "newer" in str(verify_snapshot(root).findings[0])


def test_manifest_path_outside_part_refused(tmp_path: Path) -> None:
    root = make_snapshot(tmp_path / "s")
    man = yaml.safe_load((root / "snapshot.yaml").read_text())
    man["parts"]["cache"]["files"][0]["path"] = "../etc/passwd"
    (root / "snapshot.yaml").write_text(yaml.safe_dump(man))
    with pytest.raises(SnapshotError, match="outside redis/cache/"):
        open_snapshot(root)


def test_verify_checks_rows_against_ddl_and_foreign_keys(tmp_path: Path) -> None:
    root = make_snapshot(
        tmp_path / "s",
        users=[{"id": 1, "email": None, "name": "x"}, {"id": 1, "email": "a", "name": "y", "age": 3}],
        boards=[{"id": 101, "user_id": 9, "title": "t"}],
    )
    report = verify_snapshot(root)
    text = "\n".join(str(f) for f in report.findings)
    assert "NOT NULL" in text
    assert "duplicate primary key" in text
    assert "unknown column 'age'" in text
    assert "has no row in users" in text
    assert "users.jsonl:2" in text


def test_verify_reports_cross_references(tmp_path: Path) -> None:
    redis = [{"key": "user:7:name", "type": "string", "value": "x", "ttl_ms": None}]
    recs = [
        {
            "method": "rank",
            "args": {"req": {"userId": 1, "pinIds": [101, 5]}},
            "reply": {"return": []},
            "latency_ms": 1.5,
        }
    ]
    root = make_snapshot(tmp_path / "s", redis=redis, recordings=recs)
    report = verify_snapshot(root)
    assert report.ok
    assert report.references["cache"] == {"checked": 1, "missing": 1}
    assert report.references["ranker"] == {"checked": 1, "missing": 0}
    assert any("user 7" in f.message for f in report.findings)


def test_invalid_recording_refused(tmp_path: Path) -> None:
    root = make_snapshot(
        tmp_path / "s", recordings=[{"method": "rank", "args": {}, "reply": {"oops": 1}, "latency_ms": 1}]
    )
    with pytest.raises(SnapshotError, match=r"recordings\.jsonl:1: a recording's 'reply'"):
        list(iter_recordings(open_snapshot(root), "ranker"))


def test_diff_counts_added_removed_changed(tmp_path: Path) -> None:
    a = make_snapshot(tmp_path / "a")
    b = make_snapshot(
        tmp_path / "b",
        users=[
            {"id": 1, "email": "ann@example.com", "name": "Annie"},
            {"id": 3, "email": "c@x", "name": None},
        ],
    )
    d = diff_snapshots(a, b)
    assert not d.same
    users = next(f for p in d.parts for f in p.files if f.path.endswith("users.jsonl"))
    assert (users.added, users.removed, users.changed) == (1, 1, 1)
    assert "users id=3" in users.examples["added"]
    data = d.to_json()
    assert json.loads(json.dumps(data))["same"] is False
    assert "+1 -1 ~1" in d.render()
    assert diff_snapshots(a, make_snapshot(tmp_path / "c")).same


def test_split_sql_respects_quotes_and_comments() -> None:
    text = "-- c;\nCREATE TABLE a (x varchar(3) DEFAULT ';');\n/* ; */ CREATE TABLE b (y int);"
    assert split_sql(text) == ["CREATE TABLE a (x varchar(3) DEFAULT ';')", "CREATE TABLE b (y int)"]


def test_gzip_truncated_is_an_error(tmp_path: Path) -> None:
    root = make_snapshot(tmp_path / "s", compress=True)
    rel = root / "redis/cache/db0.jsonl.gz"
    data = gzip.compress(b'{"key":"a","type":"string","value":"v","ttl_ms":null}\n' * 50)
    rel.write_bytes(data[: len(data) // 2])
    with pytest.raises(SnapshotError, match=r"db0\.jsonl\.gz"):
        list(iter_redis(open_snapshot(root), "cache"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("format:", "fromat:", "unknown manifest key 'fromat' (did you mean 'format'?)"),
        ("parts:", "prats:", "unknown manifest key 'prats' (did you mean 'parts'?)"),
    ],
)
def test_a_misspelled_manifest_key_is_named_with_the_closest_one(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    import shutil

    from simdb.snapshot.format import read_manifest

    snap = tmp_path / "snap"
    shutil.copytree(Path(__file__).resolve().parents[2] / "seeds" / "homefeed", snap)
    manifest = snap / "snapshot.yaml"
    manifest.write_text(manifest.read_text().replace(old, new, 1))
    with pytest.raises(SnapshotError, match=re.escape(message)):
        read_manifest(snap)
