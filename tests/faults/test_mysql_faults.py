"""MySQL faults as PyMySQL and the mariadb client see them: codes, texts, SQLSTATEs, state after."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from simdb.errors import ConfigError
from simdb.faults.files import read_fault_file
from simdb.mysql.fake import MySQLConfig, MySQLFake
from tests.faults.support import admin
from tests.fixtures.common import require_program

pytestmark = pytest.mark.fake


@pytest.fixture
def fake() -> Iterator[MySQLFake]:
    f = MySQLFake(MySQLConfig(admin_port=0))
    f.start()
    with connect(f) as c, c.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(2000))")
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    yield f
    f.stop()


def connect(f: MySQLFake, **kwargs: Any) -> pymysql.connections.Connection[Any]:
    ep = f.endpoint
    return pymysql.connect(host=ep.host, port=ep.port, user="root", database="simdb", autocommit=True,
                           **kwargs)


def count(f: MySQLFake, where: str = "1=1") -> int:
    with connect(f) as c, c.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM t WHERE {where}")
        return int(cur.fetchone()[0])


def test_deadlock_rolls_the_whole_transaction_back(fake: MySQLFake) -> None:
    fake.set_faults([{"match": {"kind": "update", "table": "t"}, "error_rate": 1, "error": 1213}])
    with connect(fake) as c, c.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO t VALUES (3, 'c')")
        with pytest.raises(pymysql.err.OperationalError) as info:
            cur.execute("UPDATE t SET v = 'z' WHERE id = 1")
        assert info.value.args == (1213, "Deadlock found when trying to get lock; try restarting transaction")
        cur.execute("INSERT INTO t VALUES (4, 'd')")  # autocommit again: this one stays
    assert count(fake, "id = 3") == 0 and count(fake, "id = 4") == 1


def test_lock_wait_timeout_keeps_the_transaction(fake: MySQLFake) -> None:
    rule = {"match": {"digest": "update t set v = ? where id = ?"}, "error_rate": 1, "error": 1205}
    fake.set_faults([rule])
    with connect(fake) as c, c.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO t VALUES (3, 'c')")
        with pytest.raises(pymysql.err.OperationalError) as info:
            cur.execute("UPDATE t SET v = 'z' WHERE id = 1")
        assert info.value.args[0] == 1205
        cur.execute("COMMIT")
    assert count(fake, "id = 3") == 1 and count(fake, "v = 'z'") == 0


@pytest.mark.parametrize("code", [2013, 2006])
def test_lost_connection_closes_it_and_rolls_back(fake: MySQLFake, code: int) -> None:
    fake.set_faults([{"match": {"kind": "delete"}, "error_rate": 1, "error": code}])
    c = connect(fake)
    cur = c.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO t VALUES (3, 'c')")
    with pytest.raises(pymysql.err.OperationalError) as info:
        cur.execute("DELETE FROM t")
    assert info.value.args == (2013, "Lost connection to MySQL server during query")
    with pytest.raises(pymysql.err.InterfaceError):
        cur.execute("SELECT 1")  # the client knows the connection is gone
    c.close()
    assert count(fake) == 2  # the open transaction was rolled back, the DELETE never ran


def test_reset_drops_the_connection(fake: MySQLFake) -> None:
    fake.set_faults([{"match": {"kind": "select", "table": "t"}, "reset_rate": 1}])
    with connect(fake) as c, c.cursor() as cur, pytest.raises(pymysql.err.OperationalError) as info:
        cur.execute("SELECT * FROM t")
    assert info.value.args[0] in (2013, 2006)


def test_too_many_connections_at_connect(fake: MySQLFake) -> None:
    fake.set_faults([{"match": {"kind": "connect"}, "error_rate": 1, "error": 1040}])
    with pytest.raises(pymysql.err.OperationalError) as info:
        connect(fake)
    assert info.value.args == (1040, "Too many connections")
    fake.set_faults([])
    assert count(fake) == 2


def test_a_stall_trips_the_read_timeout(fake: MySQLFake) -> None:
    fake.set_faults([{"match": {"kind": "select", "table": "t"}, "stall_rate": 1}])
    with connect(fake, read_timeout=0.5) as c, c.cursor() as cur:
        started = time.monotonic()
        with pytest.raises(pymysql.err.OperationalError) as info:
            cur.execute("SELECT * FROM t")
        assert time.monotonic() - started >= 0.45
        assert info.value.args[0] == 2013
    fake.set_faults([])
    assert count(fake) == 2


def test_latency_per_statement_shape(fake: MySQLFake) -> None:
    fake.set_faults([{"match": {"digest": "SELECT * FROM t WHERE id = ?"}, "fixed_ms": 80}])
    with connect(fake) as c, c.cursor() as cur:
        started = time.monotonic()
        cur.execute("SELECT * FROM t WHERE id = 1")
        assert cur.fetchall() == ((1, "a"),)
        assert time.monotonic() - started >= 0.08
        started = time.monotonic()
        cur.execute("SELECT * FROM t WHERE id > 0")
        assert time.monotonic() - started < 0.05


def test_bandwidth_streams_rows_slowly(fake: MySQLFake) -> None:
    with connect(fake) as c, c.cursor() as cur:
        cur.executemany("INSERT INTO t VALUES (%s, %s)", [(i, "x" * 1000) for i in range(10, 30)])
        fake.set_faults([{"match": {"kind": "select", "table": "t"}, "bandwidth_bytes_per_s": 100_000}])
        started = time.monotonic()
        cur.execute("SELECT * FROM t")
        assert len(cur.fetchall()) == 22
        assert time.monotonic() - started >= 0.18  # ~20 KB at 100 KB/s
        cur.execute("SELECT 1")
        assert cur.fetchall() == ((1,),)


def test_interrupted_and_read_only_texts(fake: MySQLFake) -> None:
    fake.set_faults([
        {"match": {"kind": "select"}, "error_rate": 1, "error": 1317},
        {"match": {"kind": "insert"}, "error_rate": 1, "error": {"code": 1290}},
        {"match": {"kind": "update"}, "error_rate": 1, "error": {"code": 1105, "message": "injected"}},
    ])
    with connect(fake) as c, c.cursor() as cur:
        for sql, expected in [
            ("SELECT * FROM t", (1317, "Query execution was interrupted")),
            ("INSERT INTO t VALUES (5, 'e')", (1290, "The MariaDB server is running with the --read-only "
                                                     "option so it cannot execute this statement")),
            ("UPDATE t SET v = 'q'", (1105, "injected")),
        ]:
            with pytest.raises(pymysql.err.MySQLError) as info:
                cur.execute(sql)
            assert info.value.args == expected


def test_the_mariadb_client_sees_code_and_sqlstate(fake: MySQLFake) -> None:
    client = require_program("mariadb", "mariadb-client")
    fake.set_faults([{"match": {"kind": "update"}, "error_rate": 1, "error": 1213}])
    ep = fake.endpoint
    done = subprocess.run(
        [client, "-h", ep.host, "-P", str(ep.port), "-u", "root", "simdb", "-e", "UPDATE t SET v = 'x'"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        "ERROR 1213 (40001) at line 1: Deadlock found when trying to get lock; try restarting transaction"
    )


def test_rates_are_reproducible(fake: MySQLFake) -> None:
    def outcomes() -> list[str]:
        rule = {"match": {"kind": "select"}, "error_rate": 0.5, "error": 1317}
        fake.set_faults({"seed": 9, "rules": [rule]})
        seen = []
        with connect(fake) as c, c.cursor() as cur:
            for i in range(20):
                try:
                    cur.execute(f"SELECT * FROM t WHERE id = {i % 3}")
                    seen.append("ok")
                except pymysql.err.OperationalError:
                    seen.append("err")
        return seen

    first = outcomes()
    assert first == outcomes() and set(first) == {"ok", "err"}


def test_admin_api_and_reset(fake: MySQLFake) -> None:
    port = fake.endpoint.admin_port
    rule = {"match": {"kind": "select"}, "error_rate": 1, "error": 1317}
    assert admin(port, "PUT", "/faults", [rule])[1]["rules"] == [rule]
    status, body = admin(port, "PUT", "/faults", [{"error_rate": 1, "error": 99999}])
    assert status == 400 and "rules[0].error: error code 99999" in body["error"]
    assert admin(port, "GET", "/faults")[1]["rules"] == [rule]
    fake.reset()  # back to the configured faults: none
    assert admin(port, "GET", "/faults")[1]["rules"] == []
    with connect(fake) as c, c.cursor() as cur:
        cur.execute("SELECT 1")  # the rule is gone
        assert cur.fetchall() == ((1,),)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"match": {"kind": "connect", "table": "t"}}], r"kind 'connect' matches connections"),
        ([{"match": {"tables": "t"}}], r"faults\.rules\[0\]\.match: unknown key\(s\) tables"),
        ([{"error_rate": 1, "error": 4242}], r"give the message of error 4242"),
        ([{"error_rate": 1, "error": "deadlock"}], r"expected an error code"),
        ([{"error_rate": 1}], r"error_rate needs the error to send"),
    ],
)
def test_bad_rules_name_the_key(rules: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MySQLConfig(faults=rules)


def test_fault_files(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("faults:\n  seed: 3\n  rules:\n    - {match: {kind: select}, fixed_ms: 1}\n")
    assert MySQLConfig(faults=read_fault_file(path)).faults == {"seed": 3, "rules": [
        {"match": {"kind": "select"}, "fixed_ms": 1}]}
    path.write_text("- [")
    with pytest.raises(ConfigError, match=r"f\.yaml: not valid YAML"):
        read_fault_file(path)
