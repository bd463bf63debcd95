"""One bound fake served by itself: ``simdb thrift serve --bindings ... --store NAME=URL`` (what a
container of the stack runs), against the stack's MySQL fake reached over its socket."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import thriftpy2
import yaml
from thriftpy2.rpc import make_client

from simdb.mysql.fake import MySQLConfig, MySQLFake
from tests.fixtures.common import free_port

pytestmark = pytest.mark.fake
REPO = Path(__file__).resolve().parents[2]
IDL = REPO / "thrift" / "homefeed"
SEEDS = REPO / "seeds" / "homefeed"
PINSTORE = yaml.safe_load((REPO / "examples" / "homefeed" / "bindings.yaml").read_text())["pinstore"]


@pytest.fixture(scope="module")
def db() -> Iterator[MySQLFake]:
    fake = MySQLFake(MySQLConfig(name="db", database="homefeed", snapshot=SEEDS, part="db"))
    fake.start()
    yield fake
    fake.stop()


def serve(*extra: str) -> list[str]:
    return [sys.executable, "-m", "simdb", "thrift", "serve", str(IDL / "pinstore.thrift"), "--service",
            "PinStore", "-I", str(IDL), "--name", "pinstore", "--admin-port", "0", *extra]


def test_a_bound_fake_answers_from_the_store_url(db: MySQLFake) -> None:
    port = free_port()
    url = f"mysql://root@127.0.0.1:{db.endpoint.port}/homefeed"
    proc = subprocess.Popen(
        serve("--port", str(port), "--snapshot", str(SEEDS), "--snapshot-stubs", "unbound",
              "--bindings", json.dumps(PINSTORE), "--store", f"db={url}"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "serving PinStore" in line, line + proc.stderr.read() if proc.poll() is not None else line
        rows = [json.loads(x) for x in (SEEDS / "sql/db/tables/pins.jsonl").read_text().splitlines() if x]
        titles = {int(r["id"]): r["title"] for r in rows[:5]}
        module = thriftpy2.load(str(IDL / "pinstore.thrift"), module_name="servebound_thrift",
                                include_dirs=[str(IDL)])
        client = make_client(module.PinStore, "127.0.0.1", port, timeout=10_000)
        try:
            assert {i: client.getPin(i).title for i in titles} == titles
        finally:
            client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--bindings", json.dumps(PINSTORE)), "no fake 'db'"),
        (("--bindings", json.dumps(PINSTORE), "--store", "db=redis://127.0.0.1:1/0"),
         "'db' is a redis fake; this step needs a mysql fake"),
        (("--bindings", json.dumps(PINSTORE), "--store", "db=http://x:1"), "a URL is redis://"),
        (("--bindings", "{not json"), "not valid JSON/YAML"),
        (("--bindings", json.dumps({"getPin": {"sql": {"store": "db", "query": "SELECT 1"}}}), "--store",
          "nameless"), "NAME=URL"),
        (("--snapshot-stubs", "some"), "all, unbound or none"),
    ],
    ids=["store-missing", "store-wrong-kind", "bad-url", "bad-json", "bad-store-option", "bad-stub-mode"],
)
def test_bad_binding_options_are_one_clear_error(extra: tuple[str, ...], message: str) -> None:
    proc = subprocess.run(serve("--port", "0", *extra), capture_output=True, text=True, timeout=60)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert message in output and "Traceback" not in output, output
