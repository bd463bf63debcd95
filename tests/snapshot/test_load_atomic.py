"""A load into several fakes is all or nothing: every part is prepared first, then all are swapped in,
and a failed swap rolls the swapped ones back. Real Redis, MySQL and Thrift fakes over their admin API,
through the library and the ``simdb snapshot load`` command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
import redis
from thriftpy2.rpc import make_client

from simdb.admin import AdminServer, generic_routes
from simdb.errors import SimdbError
from simdb.mysql.fake import MySQLConfig, MySQLFake
from simdb.redis.fake import RedisConfig, RedisFake
from simdb.snapshot.load import LoadFailed, load_into_fakes
from simdb.staging import Staged
from simdb.thrift.fake import ThriftConfig, ThriftFake
from simdb.thrift.idl import load_idl
from tests.snapshot.test_reader_verify import _rewrite

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "homefeed"
IDL = ROOT / "thrift" / "homefeed"


class Fakes:
    def __init__(self) -> None:
        self.redis = RedisFake(RedisConfig(name="cache", admin_port=0))
        self.mysql = MySQLFake(MySQLConfig(name="db", admin_port=0, database="homefeed"))
        self.thrift = ThriftFake(
            ThriftConfig(
                idl=IDL / "pinstore.thrift",
                services=("PinStore",),
                name="pinstore",
                include_dirs=(IDL,),
                admin_port=0,
            )
        )
        self.all = [self.redis, self.mysql, self.thrift]

    def admins(self) -> dict[str, str]:
        return {f.name: f"http://127.0.0.1:{f.endpoint.admin_port}" for f in self.all}

    def cache(self) -> redis.Redis:
        return redis.Redis.from_url(f"redis://{self.redis.endpoint.address}")

    def title(self, pin: int) -> str:
        ep = self.mysql.endpoint
        conn = pymysql.connect(host=ep.host, port=ep.port, user="root", database="homefeed")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT title FROM pins WHERE id = %s", (pin,))
                row = cur.fetchone()
        finally:
            conn.close()
        assert row is not None
        return str(row[0])

    def thrift_title(self, pin: int) -> str:
        ep = self.thrift.endpoint
        module = load_idl(IDL / "pinstore.thrift", [IDL])
        client = make_client(module.PinStore, ep.host, ep.port, timeout=5000)
        try:
            return str(client.getPin(pin).title)
        finally:
            client.close()


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    f = Fakes()
    for fake in f.all:
        fake.start()
    yield f
    for fake in f.all:
        fake.stop()


def _edit(seed: Path, rel: str, change: Callable[[list[str]], None]) -> None:
    lines = (seed / rel).read_text().splitlines()
    change(lines)
    _rewrite(seed, rel, "\n".join(lines) + "\n", fix_checksum=True)


def _new_values(tmp: Path) -> Path:
    """A valid copy of the seed where one Redis key, one pin title and one stub differ."""
    seed = Path(shutil.copytree(SEED, tmp / "new"))

    def redis_change(lines: list[str]) -> None:
        lines.append(json.dumps({"key": "~only:in:new", "ttl_ms": None, "type": "string", "value": "1"}))

    def title_change(lines: list[str]) -> None:
        for i, line in enumerate(lines):
            row = json.loads(line)
            if row["id"] == 1001:
                row["title"] = "NEW TITLE"
                lines[i] = json.dumps(row, sort_keys=True, separators=(",", ":"))

    def stub_change(lines: list[str]) -> None:
        lines[:] = [line.replace('"title":"', '"title":"NEW ', 1) for line in lines]

    _edit(seed, "redis/cache/db0.jsonl", redis_change)
    _edit(seed, "sql/db/tables/pins.jsonl", title_change)
    _edit(seed, "thrift/pinstore/stubs.jsonl", stub_change)
    return seed


def _bad_sql(seed: Path) -> None:
    def change(lines: list[str]) -> None:
        lines[6] = lines[6].replace('"board_id":', '"board_idx":')

    _edit(seed, "sql/db/tables/pins.jsonl", change)


def _before(fakes: Fakes) -> tuple[str, str]:
    load_into_fakes(SEED, fakes.admins())
    fakes.cache().set("marker", "client wrote this")
    return fakes.title(1001), fakes.thrift_title(1001)


def _unchanged(fakes: Fakes, before: tuple[str, str], marker: bool = True) -> None:
    c = fakes.cache()
    assert c.get("~only:in:new") is None
    assert (c.get("marker") == b"client wrote this") is marker
    assert c.zrange("followees:1", 0, -1) != []
    assert fakes.title(1001) == before[0] != "NEW TITLE"
    assert fakes.thrift_title(1001) == before[1]
    assert not before[1].startswith("NEW ")


def test_valid_load_switches_every_fake(fakes: Fakes, tmp_path: Path) -> None:
    _before(fakes)
    results = load_into_fakes(_new_values(tmp_path), fakes.admins())
    assert [r.part for r in results] == ["cache", "db", "pinstore"]
    assert fakes.cache().get("~only:in:new") == b"1"
    assert fakes.title(1001) == "NEW TITLE"
    assert fakes.thrift_title(1001).startswith("NEW ")


def test_bad_sql_part_changes_no_fake(fakes: Fakes, tmp_path: Path) -> None:
    before = _before(fakes)
    seed = _new_values(tmp_path)
    _bad_sql(seed)
    with pytest.raises(LoadFailed) as info:
        load_into_fakes(seed, fakes.admins())
    message = str(info.value)
    assert "part 'db'" in message and "pins.jsonl:7" in message, message
    assert "nothing changed" in message and "prepared and discarded: cache" in message, message
    _unchanged(fakes, before)


def test_bad_sql_part_through_the_cli(fakes: Fakes, tmp_path: Path) -> None:
    before = _before(fakes)
    seed = _new_values(tmp_path)
    _bad_sql(seed)
    args = [f"--admin={name}={url}" for name, url in fakes.admins().items()]
    proc = subprocess.run(
        [sys.executable, "-m", "simdb", "snapshot", "load", str(seed), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out
    flat = " ".join(out.split())
    assert "part 'db'" in flat and "pins.jsonl:7" in flat and "nothing changed" in flat, out
    _unchanged(fakes, before)


class FailingCommit:
    """A real Thrift fake whose swap fails (as a full disk or a dying process would make it)."""

    def __init__(self, fake: ThriftFake) -> None:
        self.fake = fake
        self.name = fake.name
        self.kind = fake.kind

    def prepare(self, snapshot_dir: Path) -> Staged:
        staged = self.fake.prepare(snapshot_dir)

        def commit() -> Callable[[], None]:
            raise SimdbError("no space left on device")

        return Staged(staged.detail, commit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fake, name)


def test_failed_swap_rolls_back_the_swapped_fakes(fakes: Fakes, tmp_path: Path) -> None:
    before = _before(fakes)
    failing = AdminServer(generic_routes(FailingCommit(fakes.thrift))).start()  # type: ignore[arg-type]
    try:
        admins = {
            "cache": fakes.admins()["cache"],
            "db": fakes.admins()["db"],
            "pinstore": f"http://127.0.0.1:{failing.port}",
        }
        with pytest.raises(LoadFailed) as info:
            load_into_fakes(_new_values(tmp_path), admins)
    finally:
        failing.stop()
    message = str(info.value)
    assert "fake 'pinstore' failed to swap in" in message and "no space left on device" in message
    assert "nothing changed: rolled back db, cache" in message, message
    # rolled back to the snapshot loaded before: what a reset returns to (the client's write is gone)
    _unchanged(fakes, before, marker=False)


def _phase(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(
        url + "/_simdb/snapshot",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("which", ["cache", "db", "pinstore"])
def test_admin_phases_prepare_commit_rollback(fakes: Fakes, tmp_path: Path, which: str) -> None:
    before = _before(fakes)
    url = fakes.admins()[which]
    seed = _new_values(tmp_path)
    status, answer = _phase(url, {"phase": "prepare", "path": str(seed)})
    assert status == 200 and answer["staged"], answer
    staged = answer["staged"]
    _unchanged(fakes, before)  # prepared: nothing visible yet
    assert _phase(url, {"phase": "commit", "staged": staged})[0] == 200
    assert _phase(url, {"phase": "commit", "staged": staged})[0] == 400  # once only
    assert _phase(url, {"phase": "rollback", "staged": staged})[0] == 200
    _unchanged(fakes, before, marker=which != "cache")
    status, answer = _phase(url, {"phase": "release", "staged": staged})
    assert status == 400 and "no staged load" in answer["error"]
    status, answer = _phase(url, {"phase": "swap", "staged": staged})
    assert status == 400 and "phase must be one of" in answer["error"]


def test_a_new_prepare_drops_the_older_one(fakes: Fakes, tmp_path: Path) -> None:
    before = _before(fakes)
    url = fakes.admins()["db"]
    seed = _new_values(tmp_path)
    first = _phase(url, {"phase": "prepare", "path": str(seed)})[1]["staged"]
    second = _phase(url, {"phase": "prepare", "path": str(seed)})[1]["staged"]
    assert _phase(url, {"phase": "commit", "staged": first})[0] == 400
    assert _phase(url, {"phase": "abort", "staged": second})[0] == 200
    _unchanged(fakes, before)
