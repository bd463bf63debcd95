""":class:`MySQLFake`: the MySQL kind of :class:`simdb.fake.Fake`, on the fake or the real engine."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from simdb.admin import AdminServer, Request, Response, Route, generic_routes
from simdb.admin_security import AdminPolicy
from simdb.errors import ConfigError, SimdbError
from simdb.fake import Endpoint, FakeKind, Health
from simdb.faults.admin import fault_routes
from simdb.mysql.engine import Store
from simdb.mysql.faults import MySQLFaultPlan, parse_plan
from simdb.mysql.real import RealMariaDB
from simdb.mysql.server import FakeServer, ServerThread
from simdb.mysql.wire import WireLimits
from simdb.staging import Staged

log = logging.getLogger("simdb.mysql")

EngineKind = Literal["fake", "real"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,63}$")


@dataclass(frozen=True)
class MySQLConfig:
    """How to run one MySQL fake.

    ``name`` is the fake's name in its stack; ``part`` the snapshot part it loads
    (``sql/<part>/``, default ``db``). ``admin_port``: ``None`` for no admin API, ``0`` for any.
    """

    name: str = "db"
    engine: EngineKind = "fake"
    host: str = "127.0.0.1"
    port: int = 0
    database: str = "simdb"
    user: str = "root"
    password: str = ""
    admin_port: int | None = None
    admin_host: str = "127.0.0.1"
    """Where the admin API listens, whatever ``host`` is (beyond loopback it needs a token)."""
    admin_policy: AdminPolicy | None = None
    """Token, snapshot roots and limits of the admin API; None: defaults and ``SIMDB_ADMIN_TOKEN``."""
    snapshot: Path | None = None
    part: str = "db"
    lock_wait_timeout: float = 10.0
    wire: WireLimits = field(default_factory=WireLimits)
    """``max_allowed_packet`` and the connect/read/idle timeouts (MariaDB's defaults)."""
    faults: Any = None
    """Fault rules (``docs/faults.md``): a list of rules or ``{"seed": n, "rules": [...]}``."""

    def __post_init__(self) -> None:
        if self.engine not in ("fake", "real"):
            raise ConfigError(f"mysql engine must be 'fake' or 'real', got {self.engine!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"mysql port must be 0-65535, got {self.port}")
        if self.admin_port is not None and not 0 <= self.admin_port <= 65535:
            raise ConfigError(f"mysql admin port must be 0-65535, got {self.admin_port}")
        if not _NAME.match(self.database):
            raise ConfigError(f"mysql database name {self.database!r} is not a plain identifier")
        if not self.user:
            raise ConfigError("mysql user must not be empty")
        if not self.name:
            raise ConfigError("mysql fake name must not be empty")
        if self.faults:
            if self.engine == "real":
                raise ConfigError("mysql faults need the fake engine (a real MariaDB cannot inject them)")
            parse_plan(self.faults, f"mysql {self.name}: faults")


class MySQLFake:
    """A MySQL server any client can reach, seeded from a snapshot's SQL part and resettable to it."""

    def __init__(self, config: MySQLConfig | None = None) -> None:
        self.config = config or MySQLConfig()
        self._store: Store | None = None
        self._server: FakeServer | None = None
        self._loaded_faults: MySQLFaultPlan | None = None
        self._thread: ServerThread | None = None
        self._real: RealMariaDB | None = None
        self._admin: AdminServer | None = None
        self._endpoint: Endpoint | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The fake's name in its stack."""
        return self.config.name

    @property
    def kind(self) -> FakeKind:
        """Always ``mysql``."""
        return "mysql"

    @property
    def store(self) -> Store:
        """The embedded store (fake engine only)."""
        if self._store is None:
            raise SimdbError(f"mysql fake {self.name!r} is not started with the fake engine")
        return self._store

    @property
    def real(self) -> RealMariaDB:
        """The MariaDB child process (real engine only)."""
        if self._real is None:
            raise SimdbError(f"mysql fake {self.name!r} is not started with the real engine")
        return self._real

    def start(self) -> Endpoint:
        """Start the server (and the admin API), load the configured snapshot, return the endpoint."""
        cfg = self.config
        if cfg.engine == "fake":
            self._store = Store(cfg.database, cfg.lock_wait_timeout)
            self._server = FakeServer(self._store, cfg.user, cfg.password, cfg.wire)
            if cfg.faults:
                self._loaded_faults = parse_plan(cfg.faults, f"mysql {self.name}: faults")
                self._server.faults = self._loaded_faults
            self._thread = ServerThread(self._server, cfg.host, cfg.port)
            try:
                port = self._thread.start()
            except OSError as exc:
                self._store.close()
                raise SimdbError(f"mysql fake cannot listen on {cfg.host}:{cfg.port}: {exc}") from exc
        else:
            self._real = RealMariaDB(cfg.host, cfg.port, cfg.database, cfg.user, cfg.password)
            port = self._real.start()
        try:
            if cfg.snapshot is not None:
                self.load(cfg.snapshot)
            admin_port = None
            if cfg.admin_port is not None:
                self._admin = AdminServer(
                    generic_routes(self) + self._routes(), cfg.admin_host, cfg.admin_port, cfg.admin_policy
                ).start()
                admin_port = self._admin.port
        except BaseException:
            self.stop()
            raise
        self._endpoint = Endpoint(
            "mysql",
            cfg.host,
            port,
            admin_port,
            (
                ("user", cfg.user),
                ("password", cfg.password),
                ("database", cfg.database),
                ("engine", cfg.engine),
            ),
        )
        log.info("mysql fake %s (%s engine) serving on %s:%d", self.name, cfg.engine, cfg.host, port)
        return self._endpoint

    def stop(self) -> None:
        """Stop serving and release everything."""
        if self._admin is not None:
            self._admin.stop()
            self._admin = None
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._real is not None:
            self._real.stop()
            self._real = None
        self._endpoint = None

    @property
    def endpoint(self) -> Endpoint:
        """Where clients connect."""
        if self._endpoint is None:
            raise SimdbError(f"mysql fake {self.name!r} is not started")
        return self._endpoint

    def load(self, snapshot_dir: Path) -> None:
        """Load the SQL part atomically: on error the previous state stays."""
        staged = self.prepare(snapshot_dir)
        staged.commit()
        staged.release()

    def prepare(self, snapshot_dir: Path) -> Staged:
        """Seed the SQL part into a staged template (fake engine) or check every row (real engine)."""
        snapshot_dir = Path(snapshot_dir)
        store, real, part = self._store, self._real, self.config.part
        if store is not None:
            path, tables, counts = store.stage(snapshot_dir, part)

            kept: list[Path] = []  # the previous template, until released or rolled back to

            def commit() -> Callable[[], None]:
                with self._lock:
                    old_path, old_tables, old_from = store.install(path, tables, str(snapshot_dir), True)
                if old_path is not None:
                    kept.append(old_path)
                log.info("mysql fake %s loaded %s: %s", self.name, snapshot_dir, counts)

                def undo() -> None:
                    if old_path is not None:
                        with self._lock:  # deletes the staged template, now unused
                            store.install(old_path, old_tables, old_from)
                        kept.clear()

                return undo

            def release() -> None:
                for old in kept:
                    old.unlink(missing_ok=True)

            rows = sum(counts.values())
            return Staged(
                f"{rows} rows in {len(counts)} tables",
                commit,
                abort=lambda: path.unlink(missing_ok=True),
                release=release,
            )
        if real is not None:
            from simdb.snapshot.load_sql import check_sql_part

            check_sql_part(snapshot_dir, part)  # decodes every row against its DDL, file:line on error
            before = real.loaded_from

            def commit_real() -> Callable[[], None]:
                with self._lock:
                    counts = real.load(snapshot_dir, part)
                log.info("mysql fake %s loaded %s: %s", self.name, snapshot_dir, counts)

                def undo() -> None:
                    with self._lock:
                        if before is None:
                            real.unload()
                        else:
                            real.load(Path(before), part)

                return undo

            return Staged("rows checked", commit_real)
        raise SimdbError(f"mysql fake {self.name!r} is not started")

    def reset(self) -> None:
        """Back to the last loaded state (open transactions are rolled back)."""
        with self._lock:
            if self._server is not None:  # the configured faults, their streams from the start
                if self._loaded_faults is not None:
                    self._loaded_faults.reset()
                self._server.faults = self._loaded_faults
            if self._store is not None:
                self._store.reset()
            elif self._real is not None:
                self._real.reset()
            else:
                raise SimdbError(f"mysql fake {self.name!r} is not started")

    def unload(self) -> None:
        """Forget the loaded snapshot and empty the database (what reset then returns to)."""
        with self._lock:
            if self._store is not None:
                self._store.unload()
            elif self._real is not None:
                self._real.unload()

    def health(self) -> Health:
        """Serving or not, with query and connection counters."""
        if self._store is not None and self._server is not None:
            stats: dict[str, int | float | str] = {
                "engine": "fake",
                "queries": self._server.queries,
                "connections": self._server.connections,
                "plan_cache_hits": self._store.translator.hits,
                "plan_cache_misses": self._store.translator.misses,
                "tables": len(self._store.tables),
            }
            return Health(True, "serving", stats)
        if self._real is not None:
            ok = self._real.alive()
            return Health(
                ok, "serving" if ok else "mariadbd exited", {"engine": "real", "port": self._real.port}
            )
        return Health(False, "not started")

    def _routes(self) -> list[Route]:
        def tables(_: Request) -> Response:
            if self._store is not None:
                return Response(200, {"tables": self._store.row_counts()})
            return Response(200, {"tables": {}})

        return [Route("GET", "/tables", tables), *fault_routes(self.faults, self.set_faults)]

    # -- faults ----------------------------------------------------------------------------------------
    def faults(self) -> MySQLFaultPlan:
        """The live fault plan (empty when none)."""
        plan = self._server.faults if self._server is not None else None
        return plan if plan is not None else parse_plan(None)

    def set_faults(self, data: Any) -> MySQLFaultPlan:
        """Replace the fault rules (``{"seed", "rules"}`` or a list); ConfigError leaves the old ones."""
        if self._server is None:
            raise SimdbError(f"mysql fake {self.name!r}: faults need the fake engine, started")
        plan = parse_plan(data, "faults")
        self._server.faults = plan
        return plan
