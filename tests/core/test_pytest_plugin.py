"""The pytest plugin, as a user meets it: fixtures in a fresh pytest run (pytester)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]


def test_plugin_fixtures_serve_real_clients(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pymysql
        import redis
        import thriftpy2
        from thriftpy2.rpc import make_client

        IDL = {str(ROOT / "thrift/homefeed/pinstore.thrift")!r}

        def test_redis_is_reset_between_tests_first(simdb_redis):
            r = redis.Redis.from_url(simdb_redis.endpoint.url())
            r.set("left-over", "1")

        def test_redis_is_reset_between_tests_second(simdb_redis):
            r = redis.Redis.from_url(simdb_redis.endpoint.url())
            assert r.get("left-over") is None

        def test_mysql(simdb_mysql):
            ep = simdb_mysql.endpoint
            conn = pymysql.connect(host=ep.host, port=ep.port, user="root", password="")
            with conn.cursor() as cur:
                cur.execute("SELECT 1 + 1")
                assert cur.fetchone()[0] == 2

        def test_thrift(simdb_thrift):
            fake = simdb_thrift(IDL, "PinStore")
            mod = thriftpy2.load(IDL, module_name="plugin_pinstore_thrift")
            client = make_client(mod.PinStore, fake.endpoint.host, fake.endpoint.port)
            assert isinstance(client.version(), str)
            client.close()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=4)


def test_simdb_thrift_loads_its_part_of_the_snapshot(pytester: pytest.Pytester) -> None:
    seeds = ROOT / "seeds" / "homefeed"
    stub = json.loads((seeds / "thrift" / "pinstore" / "stubs.jsonl").read_text().splitlines()[0])
    pytester.makepyfile(
        f"""
        import pytest
        import thriftpy2
        from thriftpy2.rpc import make_client
        from simdb.errors import ConfigError

        IDL = {str(ROOT / "thrift/homefeed/pinstore.thrift")!r}
        CANDIDATES = {str(ROOT / "thrift/homefeed/candidates.thrift")!r}

        def test_answers_come_from_the_snapshot(simdb_thrift):
            fake = simdb_thrift(IDL, "PinStore")
            mod = thriftpy2.load(IDL, module_name="plugin_pinstore_thrift")
            client = make_client(mod.PinStore, fake.endpoint.host, fake.endpoint.port)
            assert client.getPin({stub["args"]["id"]}).title == {stub["reply"]["return"]["title"]!r}
            client.close()

        def test_a_fake_without_a_part_is_refused(simdb_thrift):
            with pytest.raises(ConfigError, match="no thrift/candidategenerator/ part"):
                simdb_thrift(CANDIDATES, "CandidateGenerator")
            assert simdb_thrift(CANDIDATES, "CandidateGenerator", name="candidates").endpoint.port
            assert simdb_thrift(CANDIDATES, "CandidateGenerator", snapshot=None).endpoint.port
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--simdb-snapshot", str(seeds))
    result.assert_outcomes(passed=2)
