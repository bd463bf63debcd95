""":class:`RedisFake`: the Redis kind of :class:`simdb.fake.Fake`, on the fake or the real engine."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import redis

from simdb.admin import AdminServer, Request, Response, Route, generic_routes
from simdb.admin_security import AdminPolicy
from simdb.errors import ConfigError, SimdbError
from simdb.fake import Endpoint, FakeKind, Health
from simdb.faults.admin import fault_routes
from simdb.redis.engine import RedisEngine
from simdb.redis.faults import RedisFaultPlan, parse_plan
from simdb.redis.limits import Limits
from simdb.redis.real import RealRedis
from simdb.redis.seed import Template, fill_engine, read_template
from simdb.redis.seed_real import Spool, load_real
from simdb.redis.server import RespServer
from simdb.staging import Staged

log = logging.getLogger("simdb.redis")

EngineKind = Literal["fake", "real"]


@dataclass(frozen=True)
class RedisConfig:
    """How to run one Redis fake. ``name`` is also the snapshot part it loads (``redis/<name>/``).

    ``admin_port``: ``None`` for no admin API, ``0`` for any free port.
    """

    name: str = "cache"
    engine: EngineKind = "fake"
    host: str = "127.0.0.1"
    port: int = 0
    password: str | None = None
    admin_port: int | None = None
    admin_host: str = "127.0.0.1"
    """Where the admin API listens, whatever ``host`` is (beyond loopback it needs a token)."""
    admin_policy: AdminPolicy | None = None
    """Token, snapshot roots and limits of the admin API; None: defaults and ``SIMDB_ADMIN_TOKEN``."""
    snapshot: Path | None = None
    faults: Any = None
    """Fault rules (``docs/faults.md``): a list of rules or ``{"seed": n, "rules": [...]}``."""
    limits: Limits = field(default_factory=Limits)
    """Query buffer limits and timeouts (the engine gets a copy, which ``CONFIG SET`` changes)."""

    def __post_init__(self) -> None:
        if self.engine not in ("fake", "real"):
            raise ConfigError(f"redis engine must be 'fake' or 'real', got {self.engine!r}")
        if self.faults:
            if self.engine == "real":
                raise ConfigError(
                    "redis faults need the fake engine (a real redis-server cannot inject them)"
                )
            parse_plan(self.faults, f"redis {self.name}: faults")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"redis port must be 0-65535, got {self.port}")
        if self.admin_port is not None and not 0 <= self.admin_port <= 65535:
            raise ConfigError(f"redis admin port must be 0-65535, got {self.admin_port}")
        if not self.name:
            raise ConfigError("redis fake name must not be empty")


class RedisFake:
    """A Redis server any client can reach, seeded from a snapshot part and resettable to it."""

    def __init__(self, config: RedisConfig | None = None) -> None:
        self.config = config or RedisConfig()
        self._engine: RedisEngine | None = None
        self._server: RespServer | None = None
        self._real: RealRedis | None = None
        self._admin: AdminServer | None = None
        self._endpoint: Endpoint | None = None
        self._template: Template = {}
        self._spool: Spool | None = None
        self._loaded_from: Path | None = None
        self._load_lock = threading.Lock()
        self._loaded_faults: RedisFaultPlan | None = None
        self._fault_seed = 0

    # -- Fake protocol -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The fake's name (and snapshot part)."""
        return self.config.name

    @property
    def kind(self) -> FakeKind:
        """Always ``redis``."""
        return "redis"

    @property
    def engine(self) -> RedisEngine:
        """The fakeredis engine (fake mode only)."""
        if self._engine is None:
            raise SimdbError(
                f"redis fake {self.name!r} has no fake engine (engine={self.config.engine}, or not started)"
            )
        return self._engine

    def start(self) -> Endpoint:
        """Start serving (and load ``config.snapshot`` if set); return once clients can connect."""
        cfg = self.config
        if cfg.engine == "fake":
            self._engine = RedisEngine(password=cfg.password, limits=replace(cfg.limits))
            self._server = RespServer(self._engine, cfg.host, cfg.port)
            if cfg.faults:
                self._loaded_faults = parse_plan(cfg.faults, f"redis {self.name}: faults")
                self._server.faults = self._loaded_faults
            try:
                host, port = self._server.start()
            except OSError as exc:
                self._server = None
                raise SimdbError(
                    f"redis fake cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}"
                ) from exc
        else:
            options = tuple((k.decode(), v.decode()) for k, v in cfg.limits.config().items())
            self._real = RealRedis(cfg.host, cfg.port, cfg.password, options)
            host, port = self._real.start()
        admin_port = None
        try:
            if cfg.snapshot is not None:
                self.load(cfg.snapshot)
            if cfg.admin_port is not None:
                routes = generic_routes(self) + self._routes()
                self._admin = AdminServer(routes, cfg.admin_host, cfg.admin_port, cfg.admin_policy).start()
                admin_port = self._admin.port
        except BaseException:
            self.stop()
            raise
        extra = (("engine", cfg.engine),) + ((("password", cfg.password),) if cfg.password else ())
        self._endpoint = Endpoint("redis", host, port, admin_port, extra)
        log.info("redis fake %r (%s engine) on %s:%d", self.name, cfg.engine, host, port)
        return self._endpoint

    def stop(self) -> None:
        """Stop the server (or the child ``redis-server``) and the admin API."""
        if self._admin is not None:
            self._admin.stop()
            self._admin = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._real is not None:
            self._real.stop()
            self._real = None
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        self._endpoint = None

    @property
    def endpoint(self) -> Endpoint:
        """Where clients connect (raises if not started)."""
        if self._endpoint is None:
            raise SimdbError(f"redis fake {self.name!r} is not started")
        return self._endpoint

    def load(self, snapshot_dir: Path) -> None:
        """Load part ``redis/<name>/`` of a snapshot; on any error the previous state stays."""
        if self._real is not None:  # one fake: stream into scratch databases, swap them in at once
            real = self._real
            with self._load_lock:
                spool = load_real(Path(snapshot_dir), self.name, real.host, real.port, real.password)
                if self._spool is not None:
                    self._spool.close()
                self._spool, self._loaded_from = spool, Path(snapshot_dir)
            log.info("redis fake %r loaded %d keys from %s", self.name, spool.keys, snapshot_dir)
            return
        staged = self.prepare(snapshot_dir)
        staged.commit()
        staged.release()

    def prepare(self, snapshot_dir: Path) -> Staged:
        """Read and check part ``redis/<name>/`` into memory (fake engine) or a spool (real engine)."""
        snapshot_dir = Path(snapshot_dir)
        started = time.monotonic()
        if self._engine is not None:
            template = read_template(snapshot_dir, self.name)  # raises before anything changes
            keys = sum(len(k) for plain, rich in template.values() for k, _ in plain) + sum(
                len(rich) for _, rich in template.values()
            )

            def commit() -> Callable[[], None]:
                with self._load_lock:
                    old = (self._template, self._loaded_from)
                    self._template, self._loaded_from = template, snapshot_dir
                    self._fill()

                def undo() -> None:
                    with self._load_lock:
                        self._template, self._loaded_from = old
                        self._fill()

                return undo

            staged = Staged(f"{keys} keys", commit)
        elif self._real is not None:
            spool = Spool.from_snapshot(snapshot_dir, self.name)  # reads and checks the whole part
            real = self._real

            def commit_real() -> Callable[[], None]:
                with self._load_lock:
                    spool.send(real.host, real.port, real.password)
                    old = (self._spool, self._loaded_from)
                    self._spool, self._loaded_from = spool, snapshot_dir

                def undo() -> None:
                    with self._load_lock:
                        self._spool, self._loaded_from = old
                    self.reset()
                    spool.close()

                return undo

            def release() -> None:
                if old_spool is not None and old_spool is not self._spool:
                    old_spool.close()

            old_spool = self._spool
            staged = Staged(f"{spool.keys} keys", commit_real, abort=spool.close, release=release)
        else:
            raise SimdbError(f"redis fake {self.name!r} is not started")
        log.info(
            "redis fake %r staged %s from %s in %.2fs",
            self.name,
            staged.detail,
            snapshot_dir,
            time.monotonic() - started,
        )
        return staged

    def reset(self) -> None:
        """Back to exactly the last loaded snapshot (empty if none), TTLs counted from now."""
        with self._load_lock:
            if self._server is not None:  # the configured faults, their streams from the start
                if self._loaded_faults is not None:
                    self._loaded_faults.reset()
                self._server.faults = self._loaded_faults or None
            if self._engine is not None:
                self._fill()
            elif self._real is not None:
                if self._spool is not None:
                    self._spool.send(self._real.host, self._real.port, self._real.password)
                else:
                    with self._real.client() as client:
                        client.flushall()
            else:
                raise SimdbError(f"redis fake {self.name!r} is not started")

    def health(self) -> Health:
        """Whether the server answers, with key and connection counts."""
        try:
            if self._engine is not None and self._server is not None:
                engine = self._engine
                with engine.lock:
                    keys = sum(len(db) for db in engine.dbs.values())
                    stats: dict[str, int | float | str] = {
                        "engine": "fake",
                        "keys": keys,
                        "connections": len(engine.sessions),
                        "commands": engine.commands_processed,
                    }
                return Health(True, f"serving on {self.endpoint.address}", stats)
            if self._real is not None and self._real.running():
                with self._real.client() as client:
                    client.ping()
                    keys = int(client.dbsize())
                return Health(
                    True,
                    f"redis-server pid {self._real.pid} on {self.endpoint.address}",
                    {"engine": "real", "keys_db0": keys},
                )
        except (redis.RedisError, OSError, SimdbError) as exc:
            return Health(False, f"not answering: {exc}")
        return Health(False, "not started")

    # -- helpers ---------------------------------------------------------------------------------------
    def _fill(self) -> int:
        engine = self.engine
        with engine.lock:
            return fill_engine(engine.dbs, self._template)

    def _routes(self) -> list[Route]:
        def flush(_: Request) -> Response:
            if self._engine is not None:
                with self._engine.lock:
                    self._engine.flushall()
            elif self._real is not None:
                with self._real.client() as client:
                    client.flushall()
            return Response(200, {"ok": True, "flushed": self.name})

        return [Route("POST", "/flush", flush), *fault_routes(self.faults, self.set_faults)]

    # -- faults ----------------------------------------------------------------------------------------
    def faults(self) -> RedisFaultPlan:
        """The live fault plan (empty when none)."""
        plan = self._server.faults if self._server is not None else None
        return plan if plan is not None else parse_plan({"seed": self._fault_seed, "rules": []})

    def set_faults(self, data: Any) -> RedisFaultPlan:
        """Replace the fault rules (``{"seed", "rules"}`` or a list); ConfigError leaves the old ones."""
        if self._server is None:
            raise SimdbError(f"redis fake {self.name!r}: faults need the fake engine, started")
        plan = parse_plan(data, "faults")
        self._fault_seed = plan.seed
        self._server.faults = plan if plan else None  # no rules: not even the hook's check
        return plan
