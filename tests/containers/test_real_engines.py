"""``engine: real`` in Docker: the stack's Redis and MySQL run redis-server and MariaDB from the
real-engines image, loaded from the same snapshot, beside a Thrift fake bound to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymysql
import pytest
import redis
import thriftpy2
import yaml
from thriftpy2.rpc import make_client

from simdb.containers.from_stack import container_stack
from simdb.containers.run import DockerStack
from simdb.containers.spec import LABEL_STACK
from simdb.stack.load import load_stack

pytestmark = [pytest.mark.real, pytest.mark.docker]
REPO = Path(__file__).resolve().parents[2]
IDL = REPO / "thrift" / "homefeed"


def real_stack(tmp_path: Path) -> Path:
    bindings = yaml.safe_load((REPO / "examples" / "homefeed" / "bindings.yaml").read_text())
    spec = {
        "name": "simdbreal",
        "snapshot": str(REPO / "seeds" / "homefeed"),
        "fakes": {
            "cache": {"kind": "redis", "engine": "real"},
            "db": {"kind": "mysql", "engine": "real", "database": "homefeed"},
            "pinstore": {
                "kind": "thrift", "idl": str(IDL / "pinstore.thrift"), "include_dirs": [str(IDL)],
                "services": ["PinStore"], "snapshot_stubs": "unbound", "bindings": bindings["pinstore"],
            },
        },
    }
    # the snapshot's other Thrift parts are taken by nobody here: keep only what this stack serves
    snap = tmp_path / "snapshot"
    import shutil

    shutil.copytree(REPO / "seeds" / "homefeed", snap)
    manifest = yaml.safe_load((snap / "snapshot.yaml").read_text())
    for part in ("usergraph", "candidates", "ranker"):
        manifest["parts"].pop(part)
        shutil.rmtree(snap / "thrift" / part)
    (snap / "snapshot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    for path in [snap, *snap.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    spec["snapshot"] = str(snap)
    file = tmp_path / "simdb.yaml"
    file.write_text(yaml.safe_dump(spec, sort_keys=False))
    return file


def test_real_engines_in_containers_serve_the_snapshot(
    docker_engine: Any, simdb_image: str, simdb_real_image: str, tmp_path: Path
) -> None:
    stack = load_stack(real_stack(tmp_path))
    spec = container_stack(stack, simdb_image, simdb_real_image)
    assert {c.fake: c.image for c in spec.fakes} == {
        "cache": simdb_real_image, "db": simdb_real_image, "pinstore": simdb_image,
    }
    runner = DockerStack(spec, docker_engine)
    views = runner.up(timeout=180)
    try:
        with redis.Redis(host="127.0.0.1", port=views["cache"].host[1]) as r:
            info = r.info("server")
            assert "simdb_engine" not in info and "redis-server" in str(info.get("executable", "")), info
            assert r.zrange("followees:1", 0, -1)
        conn = pymysql.connect(host="127.0.0.1", port=views["db"].host[1], user="root", database="homefeed")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                row = cur.fetchone()
                assert row is not None and "MariaDB" in row[0], row
                cur.execute("SELECT id, title FROM pins ORDER BY id LIMIT 3")
                titles = dict(cur.fetchall())
                cur.execute("SELECT COUNT(*) FROM pins")
                assert cur.fetchone() == (200,)
        finally:
            conn.close()
        module = thriftpy2.load(str(IDL / "pinstore.thrift"), module_name="real_pinstore_thrift",
                                include_dirs=[str(IDL)])
        client = make_client(module.PinStore, "127.0.0.1", views["pinstore"].host[1], timeout=20_000)
        try:
            assert {pin_id: client.getPin(pin_id).title for pin_id in titles} == titles
        finally:
            client.close()
    finally:
        runner.down()
    label = {"label": [f"{LABEL_STACK}=simdbreal"]}
    assert docker_engine.containers.list(all=True, filters=label) == []
