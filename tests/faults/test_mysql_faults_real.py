"""The MySQL fake's fault errors against a real MariaDB made to produce them: code, text, and state after."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pymysql
import pytest

from simdb.mysql.fake import MySQLConfig, MySQLFake
from tests.fixtures.common import wait_until

pytestmark = pytest.mark.real


def connect(server: MySQLFake, **kwargs: Any) -> pymysql.connections.Connection[Any]:
    ep = server.endpoint
    opts = dict(ep.extra)
    return pymysql.connect(host=ep.host, port=ep.port, user=opts["user"], password=opts["password"],
                           database=opts["database"], autocommit=True, **kwargs)


@pytest.fixture
def real(mysql_real_session: MySQLFake) -> Iterator[MySQLFake]:
    mysql_real_session.unload()
    with connect(mysql_real_session) as c, c.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
        cur.execute("INSERT INTO t VALUES (1, 0), (2, 0)")
    yield mysql_real_session
    mysql_real_session.unload()


def fake_with(rules: list[dict[str, Any]]) -> MySQLFake:
    fake = MySQLFake(MySQLConfig(user="simdb", password="secret", database="simdb_test"))
    fake.start()
    with connect(fake) as c, c.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        cur.execute("INSERT INTO t VALUES (1, 0), (2, 0)")
    fake.set_faults(rules)
    return fake


def waiting(server: MySQLFake, statement: str) -> bool:
    """``statement`` has been blocked for a while (InnoDB's trx view is not reliable here: the process
    list is, a statement stuck in "Updating" for more than 300 ms is waiting for a row lock)."""
    with server.real.admin() as c, c.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.processlist WHERE info = %s AND time_ms > 300",
            (statement,),
        )
        row = cur.fetchone()
        return bool(row and row[0] == 1)


def error_of(call: Callable[[], object]) -> tuple[int, str]:
    with pytest.raises(pymysql.err.MySQLError) as info:
        call()
    code, message = info.value.args
    return int(code), str(message)


def test_a_real_deadlock_and_the_fakes_are_the_same_to_the_client(real: MySQLFake) -> None:
    a, b = connect(real), connect(real)
    try:
        ca, cb = a.cursor(), b.cursor()
        ca.execute("BEGIN")
        ca.execute("INSERT INTO t VALUES (10, 0), (11, 0), (12, 0)")  # the heavier one: InnoDB spares it
        ca.execute("UPDATE t SET v = 1 WHERE id = 1")
        cb.execute("BEGIN")
        cb.execute("INSERT INTO t VALUES (3, 0)")
        cb.execute("UPDATE t SET v = 2 WHERE id = 2")
        blocked = "UPDATE t SET v = 1 WHERE id = 2"
        waiter = threading.Thread(target=lambda: ca.execute(blocked))
        waiter.start()
        wait_until(lambda: waiting(real, blocked), 10, "a lock wait")
        real_error = error_of(lambda: cb.execute("UPDATE t SET v = 2 WHERE id = 1"))
        waiter.join(10)
        cb.execute("SELECT COUNT(*) FROM t WHERE id = 3")
        real_after = cb.fetchone()[0]  # the victim's whole transaction was rolled back
        ca.execute("ROLLBACK")
    finally:
        a.close()
        b.close()
    fake = fake_with([{"match": {"kind": "update", "table": "t"}, "error_rate": 1, "error": 1213}])
    try:
        with connect(fake) as c, c.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO t VALUES (3, 0)")
            fake_error = error_of(lambda: cur.execute("UPDATE t SET v = 2 WHERE id = 1"))
            cur.execute("SELECT COUNT(*) FROM t WHERE id = 3")
            fake_after = cur.fetchone()[0]
    finally:
        fake.stop()
    assert real_error[0] == 1213
    assert fake_error == real_error
    assert fake_after == real_after == 0


def test_lock_wait_timeout_refuses_only_the_statement(real: MySQLFake) -> None:
    a, b = connect(real), connect(real)
    try:
        ca, cb = a.cursor(), b.cursor()
        ca.execute("BEGIN")
        ca.execute("UPDATE t SET v = 1 WHERE id = 1")
        cb.execute("SET SESSION innodb_lock_wait_timeout = 1")
        cb.execute("BEGIN")
        cb.execute("INSERT INTO t VALUES (3, 0)")
        real_error = error_of(lambda: cb.execute("UPDATE t SET v = 2 WHERE id = 1"))
        cb.execute("SELECT COUNT(*) FROM t WHERE id = 3")
        real_after = cb.fetchone()[0]  # innodb_rollback_on_timeout=OFF: the transaction goes on
        cb.execute("ROLLBACK")
        ca.execute("ROLLBACK")
    finally:
        a.close()
        b.close()
    rule = {"match": {"digest": "UPDATE t SET v = ? WHERE id = ?"}, "error_rate": 1, "error": 1205}
    fake = fake_with([rule])
    try:
        with connect(fake) as c, c.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO t VALUES (3, 0)")
            fake_error = error_of(lambda: cur.execute("UPDATE t SET v = 2 WHERE id = 1"))
            cur.execute("SELECT COUNT(*) FROM t WHERE id = 3")
            fake_after = cur.fetchone()[0]
    finally:
        fake.stop()
    assert fake_error == real_error and real_error[0] == 1205
    assert fake_after == real_after == 1


def test_an_interrupted_query(real: MySQLFake) -> None:
    victim = connect(real)
    try:
        vid = victim.thread_id()
        errors: list[tuple[int, str]] = []
        cur = victim.cursor()
        thread = threading.Thread(target=lambda: errors.append(
            error_of(lambda: cur.execute("SELECT SLEEP(30)"))))
        thread.start()
        with connect(real) as killer, killer.cursor() as kc:
            wait_until(lambda: kc.execute(f"SELECT COUNT(*) FROM information_schema.processlist "
                                          f"WHERE id = {vid} AND info LIKE 'SELECT SLEEP%'") is not None
                       and kc.fetchone()[0] == 1, 10, "the query to run")
            kc.execute(f"KILL QUERY {vid}")
        thread.join(10)
    finally:
        victim.close()
    fake = fake_with([{"match": {"kind": "select"}, "error_rate": 1, "error": 1317}])
    try:
        with connect(fake) as c, c.cursor() as fc:
            fake_error = error_of(lambda: fc.execute("SELECT * FROM t"))
    finally:
        fake.stop()
    assert errors == [fake_error] and fake_error[0] == 1317


def test_read_only_server(real: MySQLFake) -> None:
    ep = real.endpoint
    with real.real.admin() as root, root.cursor() as rc:
        # ALL PRIVILEGES carries READ_ONLY ADMIN: an ordinary user is what read_only refuses.
        rc.execute("CREATE USER IF NOT EXISTS 'plain'@'%' IDENTIFIED BY 'p'")
        rc.execute("CREATE USER IF NOT EXISTS 'plain'@'localhost' IDENTIFIED BY 'p'")
        rc.execute("GRANT SELECT, INSERT ON simdb_test.* TO 'plain'@'%'")
        rc.execute("GRANT SELECT, INSERT ON simdb_test.* TO 'plain'@'localhost'")
        rc.execute("SET GLOBAL read_only = 1")
        try:
            with pymysql.connect(host=ep.host, port=ep.port, user="plain", password="p",
                                 database="simdb_test", autocommit=True) as c, c.cursor() as cur:
                real_error = error_of(lambda: cur.execute("INSERT INTO t VALUES (9, 9)"))
        finally:
            rc.execute("SET GLOBAL read_only = 0")
    assert real_error[0] == 1290
    fake = fake_with([{"match": {"kind": ["insert", "update", "delete"]}, "error_rate": 1, "error": 1290}])
    try:
        with connect(fake) as c, c.cursor() as cur:
            assert error_of(lambda: cur.execute("INSERT INTO t VALUES (9, 9)")) == real_error
            cur.execute("SELECT COUNT(*) FROM t WHERE id = 9")
            assert cur.fetchone()[0] == 0
    finally:
        fake.stop()
