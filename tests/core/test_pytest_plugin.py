"""The pytest plugin, as a user meets it: fixtures in a fresh pytest run (pytester)."""

from __future__ import annotations

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
