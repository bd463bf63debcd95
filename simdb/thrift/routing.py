"""Which served service each stub and fault rule belongs to (rules: ``docs/thrift-stubs.md``).

A fake serving one service sends everything to it. A multiplexed fake decides
per stub, in this order:

1. the stub's own ``service:`` key, or a qualified method ``Service.method``;
2. the file's top-level ``service:`` key;
3. the one served service that has the method;
4. for a method several served services have (``health`` from a shared base
   service), the one service the file's other stubs and fault rules go to.

Otherwise it is a :class:`ConfigError` naming the candidates (or the method,
when no served service has it). Fault rule keys follow the same rules
(``PinStore.getPin``, ``getPin``, ``PinStore.*``); a bare ``*`` goes to the
file's service when it has one, else to every served service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simdb.errors import ConfigError
from simdb.thrift.model import ServiceModel

__all__ = ["FileRoutes", "Router", "split_method"]


def split_method(text: str) -> tuple[str | None, str]:
    """``"PinStore.getPin"`` -> ``("PinStore", "getPin")``; ``"getPin"`` -> ``(None, "getPin")``."""
    service, dot, method = text.rpartition(".")
    return (service, method) if dot else (None, text)


@dataclass
class FileRoutes:
    """One file's stubs (with their position in the file) and fault rules, by service."""

    stubs: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)


class Router:
    """Routes stubs and fault rules to the served services (keyed by ``ServiceModel.name``)."""

    def __init__(
        self, services: Mapping[str, ServiceModel], aliases: Mapping[str, str] | None = None
    ) -> None:
        self.services = dict(services)
        self.names: dict[str, str] = {name: name for name in self.services}
        for alias, name in (aliases or {}).items():
            self.names.setdefault(alias, name)
        self.owners: dict[str, list[str]] = {}
        for name, model in self.services.items():
            for method in model.methods:
                self.owners.setdefault(method, []).append(name)

    @property
    def single(self) -> str | None:
        """The only served service, or None when several are."""
        return next(iter(self.services)) if len(self.services) == 1 else None

    def service(self, name: Any, where: str) -> str:
        """The served service called ``name`` (``PinStore`` or ``pinstore.PinStore``)."""
        if isinstance(name, str):
            found = self.names.get(name)
            if found is None:
                found = self.names.get(name.rpartition(".")[2])
            if found is not None:
                return found
        raise ConfigError(
            f"{where}: service {name!r} is not served here (served: {', '.join(self.services)})"
        )

    def _owners(self, method: str, where: str) -> list[str]:
        owners = self.owners.get(method, [])
        if not owners:
            raise ConfigError(
                f"{where}: no served service has a method {method!r} (served: {', '.join(self.services)})"
            )
        return owners

    def route_stub(self, raw: Any, where: str, default: str | None) -> str | None:
        """The service of one stub, or None when only the file's other stubs can tell."""
        if self.single is not None or not isinstance(raw, dict):
            return self.single or default or next(iter(self.services))
        method = raw.get("method")
        prefix, bare = split_method(method) if isinstance(method, str) else (None, "")
        named = raw.get("service", prefix)
        if named is not None:
            service = self.service(named, f"{where}.service")
            if prefix is not None and "service" in raw and self.service(prefix, f"{where}.method") != service:
                raise ConfigError(f"{where}: service {raw['service']!r} and method {method!r} disagree")
            return service
        if default is not None:
            return default
        if not isinstance(method, str):
            return next(iter(self.services))  # the stub parser names the missing method
        owners = self._owners(bare, f"{where}.method")
        return owners[0] if len(owners) == 1 else None

    def route_fault(self, key: Any, where: str, default: str | None) -> list[str] | None:
        """The services a fault rule key applies to, or None when only the file can tell."""
        if not isinstance(key, str):
            return [self.single or default or next(iter(self.services))]
        prefix, bare = split_method(key)
        if prefix is not None:
            return [self.service(prefix, f"{where}.{key}")]
        if self.single is not None:
            return [self.single]
        if default is not None:
            return [default]
        if bare == "*":
            return None
        owners = self._owners(bare, f"{where}.{key}")
        return owners if len(owners) == 1 else None

    def route_file(self, data: Any, where: str) -> FileRoutes:
        """Split the parsed contents of one stub file by service (ConfigError naming file and key)."""
        routes = FileRoutes()
        default: str | None = None
        items: Any = data
        faults: Any = None
        if isinstance(data, dict):
            items = data.get("stubs") or []
            faults = data.get("faults")
            if data.get("service") is not None:
                default = self.service(data["service"], f"{where}: service")
        if not isinstance(items, list):
            return routes
        pending: list[tuple[int, Any]] = []
        used: set[str] = set()
        if self.single is not None:  # one service: the stub parser checks any service it names
            routes.stubs[self.single] = list(enumerate(items))
            items = []
        for i, raw in enumerate(items):
            service = self.route_stub(raw, f"{where}: stubs[{i}]", default)
            if service is None:
                pending.append((i, raw))
            else:
                used.add(service)
                routes.stubs.setdefault(service, []).append((i, raw))
        pending_faults: list[tuple[str, Any]] = []
        if isinstance(faults, dict):
            for key, rule in faults.items():
                targets = self.route_fault(key, f"{where}: faults", default)
                if targets is None:
                    pending_faults.append((key, rule))
                    continue
                used.update(targets)
                bare = split_method(key)[1] if isinstance(key, str) else key
                for service in targets:
                    routes.faults.setdefault(service, {})[bare] = rule
        file_service = next(iter(used)) if len(used) == 1 else None
        for i, raw in pending:
            method = raw.get("method")
            owners = self.owners.get(method, []) if isinstance(method, str) else []
            if file_service is None or file_service not in owners:
                raise ConfigError(
                    f"{where}: stubs[{i}].method: {method!r} is a method of several served services "
                    f"({', '.join(owners)}); name one with 'service: NAME' on the stub or the file, "
                    f"or 'method: {owners[0]}.{method}'"
                )
            routes.stubs.setdefault(file_service, []).append((i, raw))
        for key, rule in pending_faults:
            if key == "*":
                targets = [file_service] if file_service is not None else list(self.services)
            elif file_service is not None and file_service in self.owners.get(key, []):
                targets = [file_service]
            else:
                owners = self.owners.get(key, [])
                raise ConfigError(
                    f"{where}: faults.{key}: {key!r} is a method of several served services "
                    f"({', '.join(owners)}); write the key as {owners[0]}.{key}"
                )
            for service in targets:
                routes.faults.setdefault(service, {})[key] = rule
        for stubs in routes.stubs.values():
            stubs.sort(key=lambda pair: pair[0])
        return routes
