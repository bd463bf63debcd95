"""Compare two versions of a Thrift IDL: every change, classified for old clients and old servers.

:func:`compare_files` loads both IDLs with :func:`simdb.thrift.idl.load_idl` and returns a
:class:`CompatReport`; :func:`compare` does the same for loaded modules. Each :class:`Change` names the
:class:`~simdb.thrift.compat_rules.Rule` it falls under (see :data:`~simdb.thrift.compat_rules.RULES`)
and its two verdicts. A change to a type (a struct, union, exception or enum) gets its verdicts from
the directions the type travels in the compared services: in a request, as the rule says; in a reply,
swapped; both ways, the worse of the two. Types no compared service uses are left out, unless the IDLs
declare no service at all (a file of shared types): then every type counts as travelling both ways.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from thriftpy2.thrift import TType

from simdb.errors import IdlError
from simdb.thrift.compat_rules import BREAKING, SAFE, Rule, Verdict, rule
from simdb.thrift.idl import is_union, iter_modules, load_idl
from simdb.thrift.model import FieldModel, MethodModel, field_models, service_model
from simdb.thrift.pywire import UUID

__all__ = ["Change", "CompatReport", "Side", "compare", "compare_files"]

Side = Literal["clients", "servers", "both"]
Direction = Literal["request", "reply"]

_BASE = {
    TType.BOOL: "bool",
    TType.BYTE: "byte",
    TType.DOUBLE: "double",
    TType.I16: "i16",
    TType.I32: "i32",
    TType.I64: "i64",
    TType.STRING: "string",
    TType.BINARY: "binary",
    TType.VOID: "void",
}


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new IDL."""

    rule: Rule
    where: str
    """What changed, e.g. ``PinStore.getPin(id)`` or ``struct Pin field 3``."""
    detail: str
    old_clients: Verdict
    old_servers: Verdict

    @property
    def breaking(self) -> bool:
        """Breaking for old clients or old servers."""
        return BREAKING in (self.old_clients, self.old_servers)

    def to_json(self) -> dict[str, Any]:
        """The change as a JSON object."""
        return {
            "rule": self.rule.id,
            "where": self.where,
            "detail": self.detail,
            "old_clients": self.old_clients,
            "old_servers": self.old_servers,
            "reason": self.rule.reason,
        }


@dataclass(frozen=True)
class CompatReport:
    """Every change between two IDLs (in a stable order)."""

    old: str
    new: str
    changes: tuple[Change, ...]

    def breaking(self, side: Side = "both") -> bool:
        """True when a change breaks old clients (``clients``), old servers (``servers``) or either."""
        return any(
            (side != "servers" and c.old_clients == BREAKING)
            or (side != "clients" and c.old_servers == BREAKING)
            for c in self.changes
        )

    def rule_ids(self) -> list[str]:
        """The rule of each change, in order."""
        return [c.rule.id for c in self.changes]

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "old": self.old,
            "new": self.new,
            "breaking": {"old_clients": self.breaking("clients"), "old_servers": self.breaking("servers")},
            "changes": [c.to_json() for c in self.changes],
        }

    def render_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_json(), indent=2)

    def render_text(self) -> str:
        """The report as lines of text, one per change, then a summary line."""
        lines = []
        for c in self.changes:
            mark = "BREAKING" if c.breaking else "safe"
            lines.append(
                f"{mark:8}  {c.rule.id:24} {c.where}: {c.detail} "
                f"[old clients: {c.old_clients}, old servers: {c.old_servers}]"
            )
        clients = "BREAKING" if self.breaking("clients") else "safe"
        servers = "BREAKING" if self.breaking("servers") else "safe"
        n = len(self.changes)
        lines.append(
            f"{n} change{'s' if n != 1 else ''} from {self.old} to {self.new}: "
            f"old clients {clients}, old servers {servers}"
        )
        return "\n".join(lines)


def compare_files(
    old: Path | str,
    new: Path | str,
    *,
    service: str | None = None,
    include_dirs: Sequence[Path | str] = (),
) -> CompatReport:
    """Load ``old`` and ``new`` (includes next to each file, then in ``include_dirs``) and compare them.

    Raises :class:`IdlError` when a file does not load or ``service`` is in neither.
    """
    old_mod = load_idl(old, include_dirs)
    new_mod = load_idl(new, include_dirs)
    return compare(old_mod, new_mod, service=service, old_name=str(old), new_name=str(new))


def compare(
    old: types.ModuleType,
    new: types.ModuleType,
    *,
    service: str | None = None,
    old_name: str = "old",
    new_name: str = "new",
) -> CompatReport:
    """Every change from ``old`` to ``new`` (loaded IDL modules); only ``service`` when given."""
    old_services = _services(old)
    new_services = _services(new)
    if service is not None:
        if service not in old_services and service not in new_services:
            known = ", ".join(sorted(set(old_services) | set(new_services))) or "none"
            raise IdlError(f"no service {service!r} in {old_name} or {new_name} (services: {known})")
        old_services = {k: v for k, v in old_services.items() if k == service}
        new_services = {k: v for k, v in new_services.items() if k == service}
    cmp = _Comparer(old, new, old_services, new_services)
    return CompatReport(old_name, new_name, tuple(cmp.run()))


def _services(module: types.ModuleType) -> dict[str, type]:
    return {s.__name__: s for s in module.__thrift_meta__.get("services", ())}


# --- type keys ---------------------------------------------------------------------------------------


def _qualified(cls: type, mains: frozenset[str]) -> str:
    """``Name`` for a type of the main file (module in ``mains``), ``include.Name`` for an included one."""
    if cls.__module__ in mains:
        return cls.__name__
    module = cls.__module__.removesuffix("_thrift")  # thriftpy2 names an included module file_thrift
    return f"{module}.{cls.__name__}"


def _kind(cls: type) -> str:
    if hasattr(cls, "_VALUES_TO_NAMES"):
        return "enum"
    if is_union(cls):
        return "union"
    if isinstance(cls, type) and issubclass(cls, BaseException):
        return "exception"
    return "struct"


def _type_key(ttype: int, spec: Any, mains: frozenset[str]) -> Any:
    """A comparable, printable description of a type descriptor."""
    if ttype == UUID:
        return "uuid"
    if isinstance(ttype, tuple):  # an element descriptor given whole
        return _type_key(ttype[0], ttype[1], mains)
    if ttype in (TType.LIST, TType.SET):
        return ("list" if ttype == TType.LIST else "set", _elem_key(spec, mains))
    if ttype == TType.MAP:
        return ("map", _elem_key(spec[0], mains), _elem_key(spec[1], mains))
    if isinstance(spec, type):
        return (_kind(spec), _qualified(spec, mains))
    return _BASE.get(ttype, f"ttype{ttype}")


def _elem_key(desc: Any, mains: frozenset[str]) -> Any:
    if isinstance(desc, tuple):
        return _type_key(desc[0], desc[1], mains)
    return _type_key(desc, None, mains)


def _show(key: Any) -> str:
    """IDL spelling of a type key."""
    if isinstance(key, str):
        return key
    head = key[0]
    if head in ("list", "set"):
        return f"{head}<{_show(key[1])}>"
    if head == "map":
        return f"map<{_show(key[1])}, {_show(key[2])}>"
    return str(key[1])


def _referenced(ttype: int, spec: Any) -> Iterator[type]:
    """Every named type (struct, union, exception, enum) a type descriptor mentions, not recursively."""
    if ttype == UUID:
        return
    if isinstance(ttype, tuple):
        yield from _referenced(ttype[0], ttype[1])
        return
    if ttype in (TType.LIST, TType.SET):
        yield from _referenced_elem(spec)
    elif ttype == TType.MAP:
        yield from _referenced_elem(spec[0])
        yield from _referenced_elem(spec[1])
    elif isinstance(spec, type):
        yield spec


def _referenced_elem(desc: Any) -> Iterator[type]:
    if isinstance(desc, tuple):
        yield from _referenced(desc[0], desc[1])


def _defaults(cls: type) -> dict[str, Any]:
    return dict(getattr(cls, "default_spec", ()))


# --- the comparison ----------------------------------------------------------------------------------


@dataclass
class _Comparer:
    old: types.ModuleType
    new: types.ModuleType
    old_services: dict[str, type]
    new_services: dict[str, type]
    directions: dict[str, set[Direction]] = field(default_factory=dict)
    walked: set[tuple[type, Direction]] = field(default_factory=set)
    out: list[Change] = field(default_factory=list)
    mains: frozenset[str] = frozenset()

    def run(self) -> list[Change]:
        self.mains = frozenset({self.old.__name__, self.new.__name__})
        for module, services in ((self.old, self.old_services), (self.new, self.new_services)):
            for cls in services.values():
                self._walk_service(module, cls)
        for name in sorted(set(self.old_services) | set(self.new_services)):
            self._service(name)
        self._types()
        return self.out

    # directions ---------------------------------------------------------------------------------------

    def _walk_service(self, module: types.ModuleType, cls: type) -> None:
        model = service_model(module, cls.__name__)
        for method in model.methods.values():
            for f in method.args:
                self._walk(f.ttype, f.spec, "request")
            for ttype, spec in self._reply_types(method):
                self._walk(ttype, spec, "reply")

    @staticmethod
    def _reply_types(method: MethodModel) -> Iterator[tuple[int, Any]]:
        if method.has_return:
            yield method.return_ttype, method.return_spec
        for exc in method.exceptions:
            yield TType.STRUCT, exc.cls

    def _walk(self, ttype: int, spec: Any, direction: Direction) -> None:
        todo = list(_referenced(ttype, spec))
        while todo:
            cls = todo.pop()
            if (cls, direction) in self.walked:  # by class: the old and the new R have other fields
                continue
            self.walked.add((cls, direction))
            self.directions.setdefault(_qualified(cls, self.mains), set()).add(direction)
            for f in field_models(cls):
                todo.extend(_referenced(f.ttype, f.spec))

    # changes ------------------------------------------------------------------------------------------

    def _add(self, rule_id: str, where: str, detail: str, directions: Iterable[Direction] = ()) -> None:
        r = rule(rule_id)
        clients, servers = r.old_clients, r.old_servers
        if r.data:
            ways = set(directions) or {"request", "reply"}
            c_break = ("request" in ways and r.old_clients == BREAKING) or (
                "reply" in ways and r.old_servers == BREAKING
            )
            s_break = ("request" in ways and r.old_servers == BREAKING) or (
                "reply" in ways and r.old_clients == BREAKING
            )
            clients = BREAKING if c_break else SAFE
            servers = BREAKING if s_break else SAFE
        self.out.append(Change(r, where, detail, clients, servers))

    def _service(self, name: str) -> None:
        old_cls = self.old_services.get(name)
        new_cls = self.new_services.get(name)
        if old_cls is None:
            self._add("service-added", f"service {name}", "new service")
            return
        if new_cls is None:
            self._add("service-removed", f"service {name}", "service removed")
            return
        old_base = _base_name(old_cls, self.mains)
        new_base = _base_name(new_cls, self.mains)
        if old_base != new_base:
            if old_base and new_base:
                self._add("extends-changed", f"service {name}", f"extends {old_base}, now {new_base}")
            elif old_base:
                self._add("extends-removed", f"service {name}", f"no longer extends {old_base}")
            else:
                self._add("extends-added", f"service {name}", f"now extends {new_base}")
        old_model = service_model(self.old, name)
        new_model = service_model(self.new, name)
        removed = [m for n, m in old_model.methods.items() if n not in new_model.methods]
        added = [m for n, m in new_model.methods.items() if n not in old_model.methods]
        for m in list(removed):
            twin = next((a for a in added if _signature(a, self.mains) == _signature(m, self.mains)), None)
            if twin is not None:
                removed.remove(m)
                added.remove(twin)
                self._add("method-renamed", f"{name}.{m.name}", f"renamed to {twin.name}")
        for m in removed:
            self._add("method-removed", f"{name}.{m.name}", "method removed")
        for m in added:
            self._add("method-added", f"{name}.{m.name}", "new method")
        for mname, old_m in old_model.methods.items():
            new_m = new_model.methods.get(mname)
            if new_m is None:
                continue
            base = old_m.service
            if (
                base != name
                and base == new_m.service
                and base in self.old_services
                and base in self.new_services
            ):
                continue  # inherited from a compared base both times: reported once, under the base
            self._method(f"{name}.{mname}", old_m, new_m)

    def _method(self, where: str, old: MethodModel, new: MethodModel) -> None:
        if old.oneway != new.oneway:
            self._add(
                "oneway-added" if new.oneway else "oneway-removed",
                where,
                "now oneway" if new.oneway else "no longer oneway",
            )
        if old.has_return and not new.has_return:
            self._add(
                "return-removed",
                where,
                f"returned {_show(_type_key(old.return_ttype, old.return_spec, self.mains))}, now void",
            )
        elif new.has_return and not old.has_return:
            self._add(
                "return-added",
                where,
                f"returns {_show(_type_key(new.return_ttype, new.return_spec, self.mains))}, was void",
            )
        elif old.has_return:
            ok, nk = (
                _type_key(old.return_ttype, old.return_spec, self.mains),
                _type_key(new.return_ttype, new.return_spec, self.mains),
            )
            if ok != nk:
                self._add("return-type-changed", where, f"returned {_show(ok)}, now {_show(nk)}")
        old_exc = {e.field_id: e for e in old.exceptions}
        new_exc = {e.field_id: e for e in new.exceptions}
        for fid in sorted(set(old_exc) | set(new_exc)):
            o, n = old_exc.get(fid), new_exc.get(fid)
            if n is None and o is not None:
                self._add(
                    "exception-removed", where, f"no longer throws {o.name} (field {fid} {o.field_name})"
                )
            elif o is None and n is not None:
                self._add("exception-added", where, f"now throws {n.name} (field {fid} {n.field_name})")
            elif (
                o is not None
                and n is not None
                and _qualified(o.cls, self.mains) != _qualified(n.cls, self.mains)
            ):
                self._add("exception-type-changed", where, f"field {fid} threw {o.name}, now {n.name}")
        self._fields(
            f"{where}()",
            old.args,
            new.args,
            _defaults(old.args_cls),
            _defaults(new.args_cls),
            False,
            ("request",),
        )

    def _types(self) -> None:
        old_types = _named_types(self.old, self.mains)
        new_types = _named_types(self.new, self.mains)
        for qname in sorted(set(old_types) & set(new_types)):
            o, n = old_types[qname], new_types[qname]
            short = qname
            ways = self.directions.get(qname, set())
            if not ways and (self.old_services or self.new_services):
                continue  # no compared service uses it (an included file's other types)
            if _kind(o) == "enum" or _kind(n) == "enum":
                if _kind(o) == _kind(n):
                    self._enum(f"enum {short}", o, n, ways)
                continue
            union = is_union(o) or is_union(n)
            self._fields(
                f"{_kind(n)} {short}",
                field_models(o),
                field_models(n),
                _defaults(o),
                _defaults(n),
                union,
                ways,
            )

    def _enum(self, where: str, old: Any, new: Any, ways: Iterable[Direction]) -> None:
        o_names: dict[str, int] = dict(old._NAMES_TO_VALUES)
        n_names: dict[str, int] = dict(new._NAMES_TO_VALUES)
        n_values: dict[int, str] = dict(new._VALUES_TO_NAMES)
        o_values: dict[int, str] = dict(old._VALUES_TO_NAMES)
        for name, value in o_names.items():
            if name in n_names:
                if n_names[name] != value:
                    self._add("enum-value-changed", where, f"{name} was {value}, now {n_names[name]}", ways)
            elif value in n_values and n_values[value] not in o_names:
                self._add("enum-value-renamed", where, f"{name} = {value} renamed to {n_values[value]}", ways)
            else:
                self._add("enum-value-removed", where, f"{name} = {value} removed", ways)
        for name, value in n_names.items():
            if name not in o_names and not (value in o_values and o_values[value] not in n_names):
                self._add("enum-value-added", where, f"{name} = {value} added", ways)

    def _fields(
        self,
        where: str,
        old: Sequence[FieldModel],
        new: Sequence[FieldModel],
        old_defaults: dict[str, Any],
        new_defaults: dict[str, Any],
        union: bool,
        ways: Iterable[Direction],
    ) -> None:
        ways = tuple(ways)
        o_by_id = {f.id: f for f in old}
        n_by_id = {f.id: f for f in new}
        n_by_name = {f.name: f for f in new}
        moved_old: set[int] = set()
        moved_new: set[int] = set()
        for f in old:
            twin = n_by_name.get(f.name)
            if twin is not None and twin.id != f.id:
                moved_old.add(f.id)
                moved_new.add(twin.id)
                self._add("field-id-changed", f"{where} field {f.name}", f"id {f.id}, now {twin.id}", ways)
        for fid in sorted(set(o_by_id) | set(n_by_id)):
            o = o_by_id.get(fid) if fid not in moved_old else None
            n = n_by_id.get(fid) if fid not in moved_new else None
            if o is None and n is None:
                continue
            label = f"{where} field {fid}"
            if n is None:
                assert o is not None
                rid = (
                    "union-field-removed"
                    if union
                    else ("field-removed-required" if o.required else "field-removed-optional")
                )
                self._add(rid, label, f"{_describe(o, self.mains)} removed", ways)
                continue
            if o is None:
                rid = (
                    "union-field-added"
                    if union
                    else ("field-added-required" if n.required else "field-added-optional")
                )
                self._add(rid, label, f"{_describe(n, self.mains)} added", ways)
                continue
            ok, nk = _type_key(o.ttype, o.spec, self.mains), _type_key(n.ttype, n.spec, self.mains)
            if o.name != n.name:
                if _wire_type(o.ttype) == _wire_type(n.ttype):
                    self._add(
                        "field-id-reused",
                        label,
                        f"was {_describe(o, self.mains)}, now {_describe(n, self.mains)}",
                        ways,
                    )
                    continue
                note = " (its id reused with another wire type)"
                removed_id = "field-removed-required" if o.required else "field-removed-optional"
                added_id = "field-added-required" if n.required else "field-added-optional"
                if union:
                    removed_id, added_id = "union-field-removed", "union-field-added"
                self._add(removed_id, label, f"{_describe(o, self.mains)} removed{note}", ways)
                self._add(added_id, label, f"{_describe(n, self.mains)} added{note}", ways)
                continue
            if ok != nk:
                self._add("field-type-changed", label, f"{o.name}: {_show(ok)}, now {_show(nk)}", ways)
                continue
            if not union and o.required != n.required:
                rid = "required-to-optional" if o.required else "optional-to-required"
                self._add(
                    rid,
                    label,
                    f"{n.name}: was {_req(o)}, now {_req(n)}",
                    ways,
                )
            od, nd = old_defaults.get(o.name), new_defaults.get(n.name)
            if od != nd:
                self._add("default-changed", label, f"{n.name}: default {od!r}, now {nd!r}", ways)


def _req(f: FieldModel) -> str:
    return "required" if f.required else "optional"


def _wire_type(ttype: int) -> int:
    """The type byte a field travels with (string and binary share one)."""
    return TType.STRING if ttype == TType.BINARY else ttype


def _describe(f: FieldModel, mains: frozenset[str]) -> str:
    req = "required " if f.required else ""
    return f"{f.name} ({req}{_show(_type_key(f.ttype, f.spec, mains))})"


def _base_name(cls: type, mains: frozenset[str]) -> str:
    for base in cls.__bases__:
        if hasattr(base, "thrift_services"):
            return _qualified(base, mains)
    return ""


def _signature(m: MethodModel, mains: frozenset[str]) -> Any:
    return (
        m.oneway,
        _type_key(m.return_ttype, m.return_spec, mains) if m.has_return else "void",
        tuple((f.id, f.required, _type_key(f.ttype, f.spec, mains)) for f in m.args),
        tuple((e.field_id, _qualified(e.cls, mains)) for e in m.exceptions),
    )


def _named_types(module: types.ModuleType, mains: frozenset[str]) -> dict[str, type]:
    """Every enum, struct, union and exception of ``module`` and its includes, by qualified name."""
    out: dict[str, type] = {}
    for mod in iter_modules(module):
        meta = getattr(mod, "__thrift_meta__", {})
        for kind in ("enums", "structs", "unions", "exceptions"):
            for cls in meta.get(kind, ()):
                out[_qualified(cls, mains)] = cls
    return out
