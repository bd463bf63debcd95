"""Official clients against the fake and a real MariaDB: PyMySQL, SQLAlchemy, the mariadb CLI."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal

import pymysql
import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from simdb.mysql.fake import MySQLFake
from tests.fixtures.common import require_program
from tests.mysql.helpers import connect, engine, run

SCHEMA = [
    "CREATE TABLE users (id INT NOT NULL AUTO_INCREMENT, name VARCHAR(64) NOT NULL, "
    "score DECIMAL(10,2) DEFAULT NULL, born DATE DEFAULT NULL, seen DATETIME DEFAULT NULL, "
    "avatar BLOB, PRIMARY KEY (id), UNIQUE KEY uq_name (name), KEY ix_score (score))",
    "CREATE TABLE pins (id BIGINT NOT NULL, user_id INT NOT NULL, title TEXT, "
    "PRIMARY KEY (id), KEY ix_user (user_id), "
    "CONSTRAINT fk_pins_user FOREIGN KEY (user_id) REFERENCES users (id))",
]


def test_handshake_reports_autocommit_on(mysql_server: MySQLFake) -> None:
    with connect(mysql_server, autocommit=None) as conn:
        assert conn.get_autocommit() is True
        with conn.cursor() as cur:
            cur.execute("SELECT @@autocommit")
            assert cur.fetchone()[0] == 1


def test_pymysql_round_trips_types(mysql_server: MySQLFake) -> None:
    with connect(mysql_server) as conn, conn.cursor() as cur:
        for stmt in SCHEMA:
            cur.execute(stmt)
        cur.execute(
            "INSERT INTO users (name, score, born, seen, avatar) VALUES (%s, %s, %s, %s, %s)",
            (
                "ann",
                Decimal("12.50"),
                dt.date(1990, 5, 17),
                dt.datetime(2024, 1, 2, 3, 4, 5),
                b"\x00\xff\x80",
            ),
        )
        assert cur.lastrowid == 1
        cur.execute("INSERT INTO users (name) VALUES ('bob'), ('it''s \\\\ \"q\"')")
        assert cur.rowcount == 2
        cur.execute("SELECT id, name, score, born, seen, avatar FROM users ORDER BY id")
        rows = cur.fetchall()
        assert rows[0] == (
            1,
            "ann",
            Decimal("12.50"),
            dt.date(1990, 5, 17),
            dt.datetime(2024, 1, 2, 3, 4, 5),
            b"\x00\xff\x80",
        )
        assert rows[1] == (2, "bob", None, None, None, None)
        assert rows[2][1] == 'it\'s \\ "q"'
        cur.execute("SELECT COUNT(*), MAX(id) FROM users WHERE name LIKE 'b%'")
        assert cur.fetchone() == (1, 2)


def test_errors_have_mariadb_codes_and_connection_survives(mysql_server: MySQLFake) -> None:
    db = mysql_server.config.database
    with connect(mysql_server) as conn, conn.cursor() as cur:
        cur.execute(SCHEMA[0])
        cur.execute("INSERT INTO users (id, name) VALUES (1, 'ann')")
        with pytest.raises(pymysql.err.IntegrityError) as dup:
            cur.execute("INSERT INTO users (id, name) VALUES (1, 'zed')")
        assert dup.value.args == (1062, "Duplicate entry '1' for key 'PRIMARY'")
        with pytest.raises(pymysql.err.ProgrammingError) as missing:
            cur.execute("SELECT * FROM no_such_table")
        assert missing.value.args == (1146, f"Table '{db}.no_such_table' doesn't exist")
        with pytest.raises(pymysql.err.ProgrammingError) as syntax:
            cur.execute("SELEC 1")
        assert syntax.value.args[0] == 1064
        assert syntax.value.args[1].startswith("You have an error in your SQL syntax; check the manual")
        cur.execute("SELECT name FROM users")
        assert cur.fetchall() == (("ann",),)


def test_wrong_password_and_unknown_database(mysql_server: MySQLFake) -> None:
    user = mysql_server.config.user
    with pytest.raises(pymysql.err.OperationalError) as denied:
        connect(mysql_server, password="wrong")
    assert denied.value.args == (1045, f"Access denied for user '{user}'@'localhost' (using password: YES)")
    with pytest.raises(pymysql.err.OperationalError) as unknown:
        connect(mysql_server, database="nope")
    assert unknown.value.args == (1049, "Unknown database 'nope'")
    assert run(mysql_server, "SELECT 1") == [(1,)]


def test_transactions_roll_back_and_isolate(mysql_server: MySQLFake) -> None:
    run(mysql_server, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "INSERT INTO t VALUES (1, 10)")
    with connect(mysql_server) as a, connect(mysql_server) as b, a.cursor() as ca, b.cursor() as cb:
        ca.execute("BEGIN")
        ca.execute("UPDATE t SET v = 11 WHERE id = 1")
        ca.execute("INSERT INTO t VALUES (2, 20)")
        cb.execute("SELECT id, v FROM t ORDER BY id")
        assert cb.fetchall() == ((1, 10),)  # uncommitted work is invisible to others
        ca.execute("ROLLBACK")
        ca.execute("SELECT id, v FROM t ORDER BY id")
        assert ca.fetchall() == ((1, 10),)
        ca.execute("START TRANSACTION")
        ca.execute("INSERT INTO t VALUES (3, 30)")
        ca.execute("COMMIT")
        cb.execute("SELECT id FROM t ORDER BY id")
        assert cb.fetchall() == ((1,), (3,))
    with connect(mysql_server, autocommit=False) as c, c.cursor() as cur:
        cur.execute("INSERT INTO t VALUES (4, 40)")
        c.rollback()
        cur.execute("SELECT COUNT(*) FROM t")
        assert cur.fetchone() == (2,)


class Base(orm.DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    pins: orm.Mapped[list[Pin]] = orm.relationship(back_populates="user")


class Pin(Base):
    __tablename__ = "pins"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    user_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("users.id"), index=True)
    title: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    user: orm.Mapped[User] = orm.relationship(back_populates="pins")


def test_sqlalchemy_orm_session_and_rollback(mysql_server: MySQLFake) -> None:
    eng = engine(mysql_server)
    try:
        Base.metadata.create_all(eng)
        with orm.Session(eng) as session:
            ann = User(name="ann", pins=[Pin(id=1, title="first"), Pin(id=2, title="second")])
            session.add(ann)
            session.commit()
            session.add(User(name="bob"))
            session.flush()
            session.rollback()
            names = session.scalars(sa.select(User.name).order_by(User.name)).all()
            assert names == ["ann"]
            loaded = session.scalars(sa.select(User).where(User.name == "ann")).one()
            assert sorted(p.title for p in loaded.pins) == ["first", "second"]
            count = session.scalar(
                sa.select(sa.func.count()).select_from(Pin).where(Pin.user_id == loaded.id)
            )
            assert count == 2
    finally:
        eng.dispose()


def test_sqlalchemy_reflection(mysql_server: MySQLFake) -> None:
    run(mysql_server, *SCHEMA)
    eng = engine(mysql_server)
    try:
        insp = sa.inspect(eng)
        assert sorted(insp.get_table_names()) == ["pins", "users"]
        cols = {c["name"]: c for c in insp.get_columns("users")}
        assert list(cols) == ["id", "name", "score", "born", "seen", "avatar"]
        assert isinstance(cols["name"]["type"], sa.VARCHAR) and cols["name"]["type"].length == 64
        assert cols["score"]["type"].scale == 2 and cols["name"]["nullable"] is False
        assert cols["id"]["autoincrement"] is True
        assert insp.get_pk_constraint("users")["constrained_columns"] == ["id"]
        indexes = {
            i["name"]: (tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes("users")
        }
        assert indexes == {"uq_name": (("name",), True), "ix_score": (("score",), False)}
        fks = insp.get_foreign_keys("pins")
        assert [
            (f["name"], f["constrained_columns"], f["referred_table"], f["referred_columns"]) for f in fks
        ] == [("fk_pins_user", ["user_id"], "users", ["id"])]
        assert insp.has_table("users") and not insp.has_table("nope")
    finally:
        eng.dispose()


def test_mariadb_command_line_client(mysql_server: MySQLFake) -> None:
    client = require_program("mariadb", "mariadb-client")
    run(
        mysql_server,
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO t VALUES (1, 'ann'), (2, NULL)",
    )
    ep, cfg = mysql_server.endpoint, mysql_server.config
    base = [
        client,
        "--protocol=TCP",
        "-h",
        ep.host,
        "-P",
        str(ep.port),
        "-u",
        cfg.user,
        f"-p{cfg.password}",
        "--batch",
        cfg.database,
    ]
    out = subprocess.run(
        [*base, "-e", "SELECT id, name FROM t ORDER BY id"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout == "id\tname\n1\tann\n2\tNULL\n"
    bad = subprocess.run(
        [*base, "-e", "SELECT * FROM missing"], capture_output=True, text=True, timeout=30, check=False
    )
    assert bad.returncode == 1
    assert f"ERROR 1146 (42S02) at line 1: Table '{cfg.database}.missing' doesn't exist" in bad.stderr
