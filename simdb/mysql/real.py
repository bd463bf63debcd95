"""A real MariaDB server as a child process: temporary data directory, chosen port, unix socket.

Used by ``--engine real`` and by the differential tests. Seeded through SQLAlchemy with the
same :mod:`simdb.mysql.seed` code as the fake; loads go into a staging database first and
are swapped in with one ``RENAME TABLE``, so a bad part leaves the previous state.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pymysql
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from simdb.errors import MissingDependencyError, SimdbError, SnapshotError
from simdb.mysql.seed import open_part, schema_statements, seed_connection

STAGING_SUFFIX = "__simdb_staging"
TEMPLATE_SUFFIX = "__simdb_template"


def find_program(name: str) -> str:
    """Path of a MariaDB program, looking in ``/usr/sbin`` too; MissingDependencyError if absent."""
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise MissingDependencyError(
            f"{name} not found: install the Debian package mariadb-server (scripts/install-system-deps.sh)"
        )
    return found


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class RealMariaDB:
    """``mariadbd`` in a temporary directory, with one database and one user."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        database: str = "simdb",
        user: str = "root",
        password: str = "",
        startup_timeout: float = 60.0,
    ) -> None:
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.startup_timeout = startup_timeout
        self.dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._schema: list[str] = []
        self._tables: list[str] = []
        self.loaded_from: str | None = None

    @property
    def socket_path(self) -> str:
        """The server's unix socket."""
        assert self.dir is not None
        return str(self.dir / "mysqld.sock")

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL as the configured user, over TCP."""
        auth = f"{self.user}:{self.password}" if self.password else self.user
        return f"mysql+pymysql://{auth}@{self.host}:{self.port}/{database or self.database}"

    def admin(self, database: str | None = None) -> Any:
        """A root connection over the unix socket (autocommit)."""
        return pymysql.connect(unix_socket=self.socket_path, user="root", database=database, autocommit=True)

    def start(self) -> int:
        """Initialise a data directory, start ``mariadbd``, wait until it answers; return the port."""
        mariadbd = find_program("mariadbd")
        install = find_program("mariadb-install-db")
        self.dir = Path(tempfile.mkdtemp(prefix="simdb-mariadb-"))
        datadir = self.dir / "data"
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # a uid with no passwd entry (containers run as a bare uid)
            user = str(os.getuid())
        init = subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                f"--user={user}",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if init.returncode != 0:
            tail = (init.stderr or init.stdout).decode(errors="replace")[-800:]
            self._cleanup()
            raise SimdbError(f"mariadb-install-db failed (exit {init.returncode}): {tail}")
        if not self.port:
            self.port = _free_port(self.host)
        log = self.dir / "error.log"
        args = [
            mariadbd,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--port={self.port}",
            f"--bind-address={self.host}",
            f"--socket={self.socket_path}",
            f"--pid-file={self.dir}/mysqld.pid",
            f"--log-error={log}",
            f"--user={user}",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=16M",
            "--innodb-flush-log-at-trx-commit=0",
            "--max-connections=200",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.proc.poll() is not None:
                text = log.read_text(errors="replace")[-1500:] if log.exists() else ""
                self._cleanup()
                raise SimdbError(f"mariadbd exited with {self.proc.returncode} during startup: {text}")
            try:
                conn = self.admin()
                break
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise SimdbError(f"mariadbd did not answer within {self.startup_timeout}s") from None
                time.sleep(0.05)
        with conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {_q(self.database)}")
            for host in ("localhost", "%", "127.0.0.1"):
                if self.user == "root" and host == "localhost":
                    if self.password:
                        cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (self.password,))
                    continue
                cur.execute(
                    "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (self.user, host, self.password)
                )
                cur.execute("GRANT ALL PRIVILEGES ON *.* TO %s@%s WITH GRANT OPTION", (self.user, host))
            cur.execute("FLUSH PRIVILEGES")
        return self.port

    def stop(self) -> None:
        """Stop the server by PID and delete its directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def alive(self) -> bool:
        """Whether the child process runs."""
        return self.proc is not None and self.proc.poll() is None

    def _drop_tables(self, cur: Any, database: str) -> None:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (database,))
        names = [r[0] for r in cur.fetchall()]
        if names:
            cur.execute("SET FOREIGN_KEY_CHECKS=0")
            cur.execute("DROP TABLE " + ", ".join(f"{_q(database)}.{_q(n)}" for n in names))
            cur.execute("SET FOREIGN_KEY_CHECKS=1")

    def load(self, snapshot_dir: Path, part: str = "db") -> dict[str, int]:
        """Seed the SQL part into a staging database, then swap it in atomically."""
        sql_part = open_part(Path(snapshot_dir), part)
        staging = self.database + STAGING_SUFFIX
        template = self.database + TEMPLATE_SUFFIX
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {_q(staging)}")
            cur.execute(f"CREATE DATABASE {_q(staging)}")
        engine = sa.create_engine(self._root_url(staging), poolclass=NullPool)
        try:
            with engine.begin() as sconn:
                counts = seed_connection(sconn, sql_part)
        except sa.exc.DBAPIError as exc:
            with self.admin() as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {_q(staging)}")
            raise SnapshotError(
                f"MariaDB refused the part: {exc.orig}", str(sql_part.root / "sql" / part)
            ) from exc
        except BaseException:
            with self.admin() as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {_q(staging)}")
            raise
        finally:
            engine.dispose()
        tables = [t.name for t in sql_part.tables]
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {_q(template)}")
            cur.execute(f"CREATE DATABASE {_q(template)}")
            if tables:
                cur.execute(
                    "RENAME TABLE "
                    + ", ".join(f"{_q(staging)}.{_q(t)} TO {_q(template)}.{_q(t)}" for t in tables)
                )
            cur.execute(f"DROP DATABASE IF EXISTS {_q(staging)}")
        self._schema = schema_statements(sql_part, "mysql")
        self._tables = list(sql_part.part.tables) or tables
        self.loaded_from = str(snapshot_dir)
        self.reset()
        return counts

    def unload(self) -> None:
        """Forget the loaded snapshot: the loaded state becomes an empty database."""
        self._schema = []
        self._tables = []
        self.loaded_from = None
        self.reset()

    def reset(self) -> None:
        """Recreate the loaded schema in the live database and copy the loaded rows back."""
        template = self.database + TEMPLATE_SUFFIX
        with self.admin(self.database) as conn, conn.cursor() as cur:
            # Open transactions would hold metadata locks on the tables: end them, as the fake
            # rolls back every session's transaction on reset.
            cur.execute(
                "SELECT trx_mysql_thread_id FROM information_schema.innodb_trx "
                "WHERE trx_mysql_thread_id <> CONNECTION_ID()"
            )
            for (pid,) in cur.fetchall():
                with contextlib.suppress(pymysql.err.MySQLError):
                    cur.execute(f"KILL {int(pid)}")
            cur.execute("SET SESSION lock_wait_timeout = 10")
            self._drop_tables(cur, self.database)
            cur.execute("SET FOREIGN_KEY_CHECKS=0")
            for stmt in self._schema:
                cur.execute(stmt)
            for t in self._tables:
                cur.execute(f"INSERT INTO {_q(t)} SELECT * FROM {_q(template)}.{_q(t)}")
            cur.execute("SET FOREIGN_KEY_CHECKS=1")

    def _root_url(self, database: str) -> str:
        return f"mysql+pymysql://root@localhost/{database}?unix_socket={self.socket_path}"
