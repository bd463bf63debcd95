"""Bulk seeding internals: chunked line reading, multi-row INSERTs on SQLite, and refusals
that land inside a multi-row statement or a fast-path batch (state kept, exact line named)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from simdb.errors import SnapshotError
from simdb.mysql.engine import Store
from simdb.mysql.seed import _line_batches, iter_batches, open_part, seed
from tests.mysql.test_snapshot import USERS, make_snapshot

pytestmark = pytest.mark.fake


def _users(n: int) -> list[object]:
    return [{**USERS[1], "id": i, "name": f"u{i}"} for i in range(1, n + 1)]


@pytest.mark.parametrize(
    "text",
    ["", "a", "a\n", "a\nb", "a\nb\n", "a\n\nb\n\n", "\n", "x" * 10 + "\n" + "y" * 7, "ab\ncd\nef\ngh\n" * 5],
)
@pytest.mark.parametrize("batch", [1, 2, 3, 1000])
@pytest.mark.parametrize("chunk", [1, 2, 3, 64])
def test_line_batches_match_file_iteration(text: str, batch: int, chunk: int) -> None:
    expected = [line.removesuffix("\n") for line in io.StringIO(text)]
    got = list(_line_batches(io.StringIO(text), batch, chunk))
    assert [line for b in got for line in b] == expected
    assert all(len(b) == batch for b in got[:-1]) and all(got)


@pytest.mark.parametrize("batch", [7, 5000])
def test_multi_row_inserts_keep_every_row_in_order(tmp_path: Path, batch: int) -> None:
    users = _users(1234)  # not a multiple of the rows per statement nor of the batch
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        counts = seed(engine, make_snapshot(tmp_path / "snap", users=users, pins=[]), batch=batch)
        assert counts == {"users": 1234, "pins": 0}
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT rowid, id, name FROM users ORDER BY rowid").all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(i, i, f"u{i}") for i in range(1, 1235)]


def test_duplicate_key_inside_a_multi_row_insert_is_refused_and_state_kept(tmp_path: Path) -> None:
    store = Store("db")
    try:
        store.load(make_snapshot(tmp_path / "good"))
        users = _users(1200)  # rows 500-999 go in one statement
        users[650] = {**USERS[1], "id": 3, "name": "dup"}
        with pytest.raises(SnapshotError, match=r"UNIQUE constraint failed: users\.id"):
            store.load(make_snapshot(tmp_path / "bad", users=users, pins=[]))
        assert store.row_counts() == {"users": 2, "pins": 2}
    finally:
        store.close()


def test_two_rows_on_one_line_are_refused_with_the_line(tmp_path: Path) -> None:
    snap = make_snapshot(tmp_path / "snap", users=_users(3), pins=[])
    rows = snap / "sql/db/tables/users.jsonl"
    lines = rows.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1] + ", " + lines[2].replace('"id":3', '"id":4')
    rows.write_text("\n".join(lines) + "\n", encoding="utf-8")
    part = open_part(snap, verify=False)  # the edit breaks the checksum; check the decoding itself
    with pytest.raises(SnapshotError, match=r"users.jsonl:2: not valid JSON: Extra data"):
        list(iter_batches(part, part.table("users")))
