"""``ThriftFake``: one Thrift service (or several, multiplexed) served straight from IDL.

It implements :class:`simdb.fake.Fake`. The configuration is a frozen
:class:`ThriftConfig`; the CLI (``simdb thrift serve``), the stack runner and
the pytest plugin all build one and call :meth:`ThriftFake.start`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from simdb.admin import AdminServer
from simdb.admin_security import AdminPolicy
from simdb.errors import ConfigError, SimdbError, SnapshotError
from simdb.fake import Endpoint, FakeKind, Health
from simdb.staging import Staged
from simdb.thrift.codec import args_key, args_to_json
from simdb.thrift.faults import FaultPlan
from simdb.thrift.generate import ValueGenerator
from simdb.thrift.idl import load_idl
from simdb.thrift.journal import DEFAULT_SIZE, Entry, Journal
from simdb.thrift.metrics import Metrics
from simdb.thrift.model import MethodModel, ServiceModel, service_model
from simdb.thrift.processor import Binding, Processor
from simdb.thrift.reply import Reply, app_error_reply
from simdb.thrift.scan import Limits, ProtocolName
from simdb.thrift.server import ThriftServer, TransportName
from simdb.thrift.stubs import StubSet

if TYPE_CHECKING:
    from simdb.thrift.databind.model import DataBinding
    from simdb.thrift.databind.runtime import BoundMethod

log = logging.getLogger("simdb.thrift")

__all__ = ["ThriftConfig", "ThriftFake"]

SnapshotStubs = Literal["all", "unbound", "none"]


@dataclass(frozen=True)
class ThriftConfig:
    """Everything a Thrift fake needs; validated by :meth:`check`."""

    idl: Path
    services: tuple[str, ...]
    name: str = ""
    """The fake's name in its stack and of its snapshot part (default: first service, lower case)."""
    multiplexed: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    protocol: ProtocolName = "binary"
    transport: TransportName = "buffered"
    include_dirs: tuple[Path, ...] = ()
    stubs: tuple[Path, ...] = ()
    seed: int = 0
    strict: bool = False
    admin_port: int | None = None
    """Port of the admin HTTP API (0 picks one); None: no admin server."""
    admin_host: str = "127.0.0.1"
    admin_policy: AdminPolicy | None = None
    """Token, snapshot roots and limits of the admin API; None: defaults and ``SIMDB_ADMIN_TOKEN``."""
    journal_size: int = DEFAULT_SIZE
    limits: Limits = field(default_factory=Limits)
    faults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Fault rules by method (``{"getPin": {"p50_ms": 5}}``); keyed by service first when multiplexed."""
    watch: bool = False
    bindings: tuple[DataBinding, ...] = ()
    """Methods answered from the stack's stores (:mod:`simdb.thrift.databind`), once bound."""
    snapshot_stubs: SnapshotStubs = "all"
    """Which stubs of a loaded snapshot part to serve: ``all``, ``unbound`` (not those of bound
    methods, which then answer from the stores) or ``none`` (recordings only)."""

    def bound_methods(self, service: str) -> frozenset[str]:
        """Methods of ``service`` that have a binding (``Service.method`` keys when multiplexed)."""
        out = set()
        for b in self.bindings:
            svc, _, method = b.method.rpartition(".")
            if not svc or svc == service:
                out.add(method)
        return frozenset(out)

    @property
    def fake_name(self) -> str:
        """The name used for the fake (and its snapshot part)."""
        return self.name or self.services[0].split(".")[-1].lower()

    def check(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid setting."""
        if not self.services:
            raise ConfigError("thrift: name at least one service (--service NAME)")
        if len(self.services) > 1 and not self.multiplexed:
            raise ConfigError(
                f"thrift: {len(self.services)} services given; serving several needs --multiplexed"
            )
        if len(set(self.services)) != len(self.services):
            raise ConfigError(f"thrift: a service is named twice in {list(self.services)}")
        if self.protocol not in ("binary", "compact"):
            raise ConfigError(f"thrift: protocol must be binary or compact, not {self.protocol!r}")
        if self.transport not in ("buffered", "framed"):
            raise ConfigError(f"thrift: transport must be buffered or framed, not {self.transport!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"thrift: port {self.port} is out of range")
        if self.admin_port is not None and not 0 <= self.admin_port <= 65535:
            raise ConfigError(f"thrift: admin port {self.admin_port} is out of range")
        if self.journal_size < 1:
            raise ConfigError(f"thrift: journal size must be at least 1, got {self.journal_size}")
        lim = self.limits
        for key in ("max_frame_size", "max_string_size", "max_container_length", "max_depth"):
            if getattr(lim, key) < 1:
                raise ConfigError(f"thrift: {key} must be positive, got {getattr(lim, key)}")
        if lim.read_timeout_s <= 0:
            raise ConfigError(f"thrift: read timeout must be positive, got {lim.read_timeout_s}")
        if not self.idl.is_file():
            raise ConfigError(f"thrift: IDL file {self.idl} does not exist")
        for path in self.stubs:
            if not path.exists():
                raise ConfigError(f"thrift: stub file {path} does not exist")


class ServiceState:
    """One served service: its model, stubs, faults and value generator."""

    def __init__(self, model: ServiceModel, stubs: StubSet, plan: FaultPlan, seed: int, strict: bool) -> None:
        self.model = model
        self.stubs = stubs
        self.plan = plan
        self.loaded_plan = plan
        self.generator = ValueGenerator(seed)
        self.strict = strict
        self._single_answer: dict[str, bool] = {}
        self.bound: Mapping[str, BoundMethod] = {}
        """Data-bound methods by name (after :meth:`ThriftFake.bind_stack`)."""
        self.unbound: frozenset[str] = frozenset()
        """Methods with a binding that is not connected yet: answered with an error, never a guess."""

    def _cacheable(self, reply: Reply) -> bool:
        """Whether this stub answer depends on the arguments alone (not a sequence, not a recording)."""
        source = reply.source
        if not source.startswith("stub:"):
            return False
        stub_id = source[5:]
        known = self._single_answer.get(stub_id)
        if known is None:
            raw = self.stubs.get(stub_id)
            known = self._single_answer[stub_id] = raw is not None and "replies" not in raw
        return known

    def forget(self) -> None:
        """Drop what was learnt about stubs (after they change)."""
        self._single_answer = {}

    def resolve(self, method: MethodModel, args: Any) -> tuple[Reply, Any]:
        """A stub's answer, else a binding's, else a recording's, else (strict) an error, else generated."""
        if self.unbound and method.name in self.unbound and self.stubs.match_stub_id(method, args) is None:
            bound = self.bound.get(method.name)
            if bound is None:
                return app_error_reply(
                    f"simdb binding {self.model.name}.{method.name} is not connected to the stack's stores "
                    "(the runner calls bind_stack once every fake started)",
                    "binding",
                ), False
            return bound.resolve(args)
        reply = self.stubs.match(method, args)
        if reply is not None:
            return reply, self._cacheable(reply)
        if self.strict:
            shown = args_key(method, args)
            return app_error_reply(
                f"simdb strict mode: no stub matched {self.model.name}.{method.name}({shown})", "strict"
            ), True
        value = self.generator.value_for(method, args)
        return Reply(kind="return", value=value, source="generated"), True

    def has_fault(self, method: MethodModel) -> bool:
        """Whether a fault rule covers ``method`` (such calls are never answered from the cache)."""
        rules = self.plan.rules
        return bool(rules) and (method.name in rules or "*" in rules)

    def fault(self, method: MethodModel) -> Any:
        """This call's fault decision."""
        return self.plan.decide(method)

    def binding(self) -> Binding:
        """The processor's view of this service."""
        return Binding(self.model, self.resolve, self.fault, self.has_fault)


def _plan_for(config: ThriftConfig, model: ServiceModel, stubs: StubSet, where: str) -> FaultPlan:
    raw: Any = config.faults
    if config.multiplexed and raw:
        raw = raw.get(model.name, {})
    rules: dict[str, Any] = {}
    stub_rules = getattr(stubs, "faults", None) or {}
    for name, rule in dict(stub_rules).items():
        rules[name] = rule.model_dump() if hasattr(rule, "model_dump") else rule
    rules.update(dict(raw or {}))
    return FaultPlan.from_json({"seed": config.seed, "rules": rules}, model, where)


class ThriftFake:
    """A Thrift fake: answers from stubs, data bindings, recordings, generated values; faults, journal."""

    kind: FakeKind = "thrift"

    def __init__(self, config: ThriftConfig) -> None:
        config.check()
        self.config = config
        self.journal = Journal(config.journal_size)
        self.metrics = Metrics(config.fake_name)
        self.states: dict[str, ServiceState] = {}
        self.processor: Processor | None = None
        self.server: ThriftServer | None = None
        self.admin: AdminServer | None = None
        self._watcher: Any = None
        self._endpoint: Endpoint | None = None
        self._snapshot: Path | None = None
        self._started_at = 0.0
        self._lock = threading.RLock()
        self._bound: dict[str, dict[str, BoundMethod]] = {}
        self._stores: dict[str, Any] = {}
        self.states = self._build_states(config.stubs)

    # -- Fake protocol -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The fake's name (also its snapshot part ``thrift/<name>/``)."""
        return self.config.fake_name

    def start(self) -> Endpoint:
        """Bind, start serving, start the admin API (and the watcher); return the endpoint."""
        if self.server is not None:
            return self.endpoint
        cfg = self.config
        self.processor = Processor(
            cfg.protocol,
            {name: st.binding() for name, st in self.states.items()},
            multiplexed=cfg.multiplexed,
            journal=self.journal,
            metrics=self.metrics,
        )
        try:
            self.server = ThriftServer(
                self.processor, host=cfg.host, port=cfg.port, transport=cfg.transport, limits=cfg.limits
            ).start()
        except OSError as exc:
            raise ConfigError(
                f"thrift: cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}"
            ) from exc
        admin_port: int | None = None
        if cfg.admin_port is not None:
            from simdb.thrift.admin_routes import admin_routes

            try:
                self.admin = AdminServer(
                    admin_routes(self), cfg.admin_host, cfg.admin_port, cfg.admin_policy
                ).start()
            except (OSError, ConfigError) as exc:
                self.server.stop()
                self.server = None
                if isinstance(exc, ConfigError):
                    raise
                raise ConfigError(
                    f"thrift: cannot listen for the admin API on {cfg.admin_host}:{cfg.admin_port}: {exc}"
                ) from exc
            admin_port = self.admin.port
        extra = (
            ("protocol", cfg.protocol),
            ("transport", cfg.transport),
            ("services", ",".join(cfg.services)),
            ("multiplexed", str(cfg.multiplexed).lower()),
        )
        self._endpoint = Endpoint("thrift", self.server.host, self.server.port, admin_port, extra)
        self._started_at = time.monotonic()
        if cfg.watch:
            from simdb.thrift.watch import Watcher

            self._watcher = Watcher(self).start()
        return self._endpoint

    def bind_stack(self, endpoints: Mapping[str, Endpoint], fakes: Mapping[str, Any] | None = None) -> None:
        """Connect the bindings to the stack's other fakes (by name); call once all of them started.

        Raises :class:`ConfigError` when a binding names a fake that is not in ``endpoints`` or is
        of the wrong kind. Calling it again reconnects (for fakes that moved). ``fakes``, the
        stack's fake objects by name when they run in this process, lets SQL bindings query an
        embedded MySQL fake without a socket (same answers, much faster).
        """
        if not self.config.bindings:
            return
        from simdb.thrift.databind.connect import connect

        with self._lock:
            models = {name: st.model for name, st in self.states.items()}
            stores, bound = connect(self.config.bindings, models, endpoints, f"{self.name}.bindings", fakes)
            self._close_stores()
            self._stores, self._bound = stores, bound
            for name, st in self.states.items():
                st.bound = bound.get(name, {})
            self._changed()

    def _close_stores(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores = {}

    def stop(self) -> None:
        """Stop serving; release the ports and threads."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self.admin is not None:
            self.admin.stop()
            self.admin = None
        if self.server is not None:
            self.server.stop()
            self.server = None
        self._close_stores()
        self._bound = {}
        for st in self.states.values():
            st.bound = {}
        self._endpoint = None

    @property
    def endpoint(self) -> Endpoint:
        """Where the running fake is reached."""
        if self._endpoint is None:
            raise SimdbError(f"thrift fake {self.name!r} is not started")
        return self._endpoint

    def load(self, snapshot_dir: Path) -> None:
        """Load ``thrift/<name>/`` of a snapshot into every served service, all or nothing."""
        staged = self.prepare(snapshot_dir)
        staged.commit()
        staged.release()

    def prepare(self, snapshot_dir: Path) -> Staged:
        """Read and check ``thrift/<name>/`` into new stub sets; the served ones stay until commit."""
        snapshot_dir = Path(snapshot_dir)
        with self._lock:
            loaded: dict[str, StubSet] = {}
            parts = {name: self._part_name(name) for name in self.states}
            present = [p for p in parts.values() if (snapshot_dir / "thrift" / p).is_dir()]
            if self.config.multiplexed and not present:
                expected = ", ".join(f"thrift/{p}/" for p in parts.values())
                raise SnapshotError(
                    f"no part for fake {self.name!r}: expected one of {expected}", str(snapshot_dir)
                )
            from_files = self._load_stub_files(
                {name: st.model for name, st in self.states.items()}, self.config.stubs
            )
            for name in self.states:
                stubs = from_files[name]
                part = parts[name]
                if self.config.multiplexed and not (snapshot_dir / "thrift" / part).is_dir():
                    loaded[name] = stubs
                    continue
                stubs.add_part(snapshot_dir, part, self._skipped_snapshot_methods(name))
                loaded[name] = stubs

        def commit() -> Callable[[], None]:
            with self._lock:
                old = ({name: st.stubs for name, st in self.states.items()}, self._snapshot)
                for name, stubs in loaded.items():
                    self.states[name].stubs = stubs
                self._snapshot = snapshot_dir
                self.journal.clear()
                self._changed()

            def undo() -> None:
                with self._lock:
                    for name, stubs in old[0].items():
                        if name in self.states:
                            self.states[name].stubs = stubs
                    self._snapshot = old[1]
                    self._changed()

            return undo

        return Staged(f"{sum(len(s) for s in loaded.values())} stubs", commit)

    def reset(self) -> None:
        """Stubs, sequences, faults and the journal back to the last loaded state."""
        with self._lock:
            for st in self.states.values():
                st.stubs.reset()
                # A fresh plan from the loaded rules: the random streams start over, as after a restart.
                st.plan = FaultPlan(st.loaded_plan.rules, st.loaded_plan.seed)
                st.loaded_plan = st.plan
            self.journal.clear()
            self._changed()

    def _skipped_snapshot_methods(self, service: str) -> frozenset[str]:
        """Methods whose snapshot stubs are not served (``snapshot_stubs``)."""
        mode = self.config.snapshot_stubs
        if mode == "none":
            return frozenset(self.states[service].model.methods)
        if mode == "unbound":
            return self.config.bound_methods(service)
        return frozenset()

    def _part_name(self, service: str) -> str:
        """``<name>`` (one service) or ``<name>/<Service>`` (multiplexed) below ``thrift/`` of a snapshot."""
        return f"{self.name}/{service}" if self.config.multiplexed else self.name

    def health(self) -> Health:
        """Serving or not, with a few counters."""
        server = self.server
        if server is None:
            return Health(False, "not started")
        stats: dict[str, int | float | str] = {
            "connections": server.open_connections,
            "connections_total": server.connections_total,
            "bad_input_total": server.bad_input_total,
            "calls_total": self.journal.total,
            "journal_entries": len(self.journal),
            "uptime_s": round(time.monotonic() - self._started_at, 3),
            "services": ",".join(self.states),
        }
        return Health(True, f"serving {', '.join(self.states)} on {server.host}:{server.port}", stats)

    # -- used by the admin API and the watcher -----------------------------------------------------
    @property
    def watcher(self) -> Any:
        """The :class:`simdb.thrift.watch.Watcher` when started with ``watch=True``, else None."""
        return self._watcher

    def state(self, service: str | None) -> ServiceState:
        """The served service ``service`` (may be omitted when only one is served)."""
        if service is None or service == "":
            if len(self.states) == 1:
                return next(iter(self.states.values()))
            raise ConfigError(
                f"several services are served; name one with ?service= ({', '.join(self.states)})"
            )
        st = self.states.get(service)
        if st is None:
            raise ConfigError(f"no service {service!r} is served here (served: {', '.join(self.states)})")
        return st

    def state_for_stub(self, service: str | None, stub_json: Any) -> ServiceState:
        """The service a stub added at runtime goes to: ``service``, else the stub's own
        ``service:``/``Service.method``, else the one served service having its method."""
        if service or len(self.states) == 1:
            return self.state(service)
        from simdb.thrift.routing import Router

        aliases = {svc: svc.rpartition(".")[2] for svc in self.config.services}
        router = Router({name: st.model for name, st in self.states.items()}, aliases)
        name = router.route_stub(stub_json, "stub", None)
        if name is None:
            method = stub_json.get("method") if isinstance(stub_json, dict) else None
            owners = router.owners.get(method, []) if isinstance(method, str) else []
            raise ConfigError(
                f"stub.method: {method!r} is a method of several served services ({', '.join(owners)}); "
                "name one with ?service=, 'service' in the stub or 'method': 'Service.method'"
            )
        return self.states[name]

    def state_with_stub(self, service: str | None, stub_id: str) -> ServiceState | None:
        """The service holding live stub ``stub_id`` (searched in every service unless named)."""
        if service or len(self.states) == 1:
            st = self.state(service)
            return st if st.stubs.get(stub_id) is not None else None
        for st in self.states.values():
            if st.stubs.get(stub_id) is not None:
                return st
        return None

    def set_faults(self, service: str | None, data: Any) -> FaultPlan:
        """Replace the fault plan of one service from its JSON form (ConfigError when invalid)."""
        with self._lock:
            st = self.state(service)
            plan = FaultPlan.from_json(data, st.model, "faults")
            st.plan = plan
            self._changed()
            return plan

    def changed(self) -> None:
        """Tell the processor that stubs or faults changed (clears its reply cache)."""
        self._changed()

    def entry_args_json(self, entry: Entry) -> Any:
        """Arguments of a journal entry in canonical JSON."""
        if entry.args is None:
            return None
        st = self.states.get(entry.service)
        method = st.model.method(entry.method) if st is not None else None
        if method is None:
            from simdb.thrift.codec import struct_to_json

            return struct_to_json(entry.args)
        return args_to_json(method, entry.args)

    def reload(self) -> None:
        """Reload the IDL and the stub files (``--watch``); keep the old state on any error."""
        with self._lock:
            states = self._build_states(self.config.stubs)
            self.states = states
            if self.processor is not None:
                self.processor.set_bindings({name: st.binding() for name, st in states.items()})

    def _build_states(self, stub_files: Sequence[Path]) -> dict[str, ServiceState]:
        cfg = self.config
        module = load_idl(cfg.idl, cfg.include_dirs)
        models = {}
        for svc in cfg.services:
            model = service_model(module, svc)
            models[model.name] = model
        sets = self._load_stub_files(models, stub_files)
        states: dict[str, ServiceState] = {}
        for name, model in models.items():
            plan = _plan_for(cfg, model, sets[name], "faults")
            states[name] = ServiceState(model, sets[name], plan, cfg.seed, cfg.strict)
        if cfg.bindings:
            from simdb.thrift.databind.connect import bound_names

            names = bound_names(cfg.bindings, models, f"{self.name}.bindings")
            for name, st in states.items():
                st.unbound = frozenset(names.get(name, ()))
                st.bound = self._bound.get(name, {})
        return states

    def _load_stub_files(
        self, models: Mapping[str, ServiceModel], paths: Sequence[Path]
    ) -> dict[str, StubSet]:
        """One StubSet per service; a multiplexed fake routes each stub to its service."""
        if not paths:
            return {name: StubSet(model) for name, model in models.items()}
        aliases = {svc: svc.rpartition(".")[2] for svc in self.config.services}
        return StubSet.load_files_for(models, list(paths), aliases)

    def _changed(self) -> None:
        for st in self.states.values():
            st.forget()
        if self.processor is not None:
            self.processor.set_bindings({name: st.binding() for name, st in self.states.items()})
