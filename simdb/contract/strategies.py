"""Hypothesis strategies for every type of a loaded IDL, and for a method's arguments and result.

Values are what thriftpy2 (and so simdb's codecs) takes and gives: ``int`` for
``i8``..``i64`` and enums, ``float`` for ``double``, ``str`` for ``string``,
``bytes`` for ``binary``, :class:`uuid.UUID` for ``uuid``, ``list``/``set``/``dict``
for containers and instances of the IDL's classes for structs, unions and
exceptions. A set element or map key that is itself a container is frozen
(``list`` -> ``tuple``, ``set`` -> ``frozenset``, ``map`` -> a hashable
:class:`~simdb.thrift.thriftpy2_compat.FrozenDict`); structs hash by value.

Example::

    from simdb.contract import Options, args, for_type
    from simdb.thrift.idl import load_idl

    idl = load_idl("thrift/homefeed/pinstore.thrift")
    pins = for_type(idl, "types.Pin", Options(max_size=2))
    get_pin_args = args(idl, "PinStore.getPin")

Every integer type covers its full range, strings its full Unicode range
(astral characters included, never lone surrogates), enums their declared
values (``undeclared_enums`` adds any other i32), unions set exactly one
field, fields with an IDL default are never unset (a trip over the wire would
fill in the default) and take either the default or a generated value, and
recursive structs end: below ``max_depth`` optional fields stay unset and
containers are empty.
"""

from __future__ import annotations

import copy
import re
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from thriftpy2.thrift import TType

from simdb.errors import SimdbError
from simdb.thrift.codec import norm_desc, type_name
from simdb.thrift.idl import is_union, load_idl
from simdb.thrift.model import FieldModel, MethodModel, ServiceModel, field_models, service_model
from simdb.thrift.pywire import UUID
from simdb.thrift.thriftpy2_compat import FrozenDict

__all__ = [
    "ContractError",
    "Options",
    "args",
    "for_type",
    "from_type",
    "idl_module",
    "method_of",
    "resolve_type",
    "result",
    "returns",
]

_INT_BITS = {TType.BYTE: 8, TType.I16: 16, TType.I32: 32, TType.I64: 64}
_BASE = {
    "bool": TType.BOOL,
    "byte": TType.BYTE,
    "i8": TType.BYTE,
    "i16": TType.I16,
    "i32": TType.I32,
    "i64": TType.I64,
    "double": TType.DOUBLE,
    "string": TType.STRING,
    "binary": TType.BINARY,
    "uuid": UUID,
}
# Past max_depth only required fields are built; a chain of required fields this much deeper is a cycle.
_CYCLE_SLACK = 32


class ContractError(SimdbError):
    """A contract cannot be built or checked as asked (unknown type or method, no finite value)."""


@dataclass(frozen=True)
class Options:
    """Bounds and choices for generated values.

    ``max_size`` bounds every list, set and map; ``max_text`` and ``max_binary``
    the characters of a string and bytes of a binary; ``max_depth`` the nesting
    of structs and containers (below it optional fields stay unset and
    containers empty). ``nan`` and ``infinity`` allow those doubles (never as
    set elements or map keys, where NaN equals nothing); ``undeclared_enums``
    adds i32 values an enum does not declare (to test robustness).
    """

    max_size: int = 4
    max_text: int = 16
    max_binary: int = 16
    max_depth: int = 3
    nan: bool = False
    infinity: bool = False
    undeclared_enums: bool = False

    def __post_init__(self) -> None:
        for name in ("max_size", "max_text", "max_binary", "max_depth"):
            if getattr(self, name) < 0:
                raise ContractError(f"Options.{name} must be >= 0, got {getattr(self, name)}")


_TEXT_CHARS = st.characters(exclude_categories=["Cs"])  # every code point but lone surrogates


class _Builder:
    """Builds (and caches) the strategy of each (type, depth, hashable) for one :class:`Options`."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.cache: dict[tuple[int, Any, int, bool], st.SearchStrategy[Any]] = {}

    def value(self, ttype: int, spec: Any, depth: int, frozen: bool = False) -> st.SearchStrategy[Any]:
        key = (ttype, spec, depth, frozen)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self._make(ttype, spec, depth, frozen)
        return found

    def _make(self, ttype: int, spec: Any, depth: int, frozen: bool) -> st.SearchStrategy[Any]:
        o = self.options
        if ttype == TType.BOOL:
            return st.booleans()
        if ttype in _INT_BITS:
            if ttype == TType.I32 and isinstance(spec, type):
                return self._enum(spec)
            bits = _INT_BITS[ttype]
            return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if ttype == TType.DOUBLE:
            return st.floats(allow_nan=o.nan and not frozen, allow_infinity=o.infinity)
        if ttype == TType.STRING:
            return st.text(alphabet=_TEXT_CHARS, max_size=o.max_text)
        if ttype == TType.BINARY:
            return st.binary(max_size=o.max_binary)
        if ttype == UUID:
            return st.uuids()
        if ttype == TType.STRUCT:
            return self._struct(spec, depth)
        if depth > o.max_depth + _CYCLE_SLACK:
            raise ContractError(f"type {type_name(ttype, spec)} nests without end")
        size = o.max_size if depth < o.max_depth else 0
        if ttype == TType.LIST:
            items = self.value(*norm_desc(spec), depth + 1, frozen)
            out = st.lists(items, max_size=size)
            return out.map(tuple) if frozen else out
        if ttype == TType.SET:
            items = self.value(*norm_desc(spec), depth + 1, True)
            return st.frozensets(items, max_size=size) if frozen else st.sets(items, max_size=size)
        if ttype == TType.MAP:
            keys = self.value(*norm_desc(spec[0]), depth + 1, True)
            values = self.value(*norm_desc(spec[1]), depth + 1, frozen)
            maps = st.dictionaries(keys, values, max_size=size)
            return maps.map(FrozenDict) if frozen else maps
        raise ContractError(f"no strategy for Thrift type {type_name(ttype, spec)}")

    def _enum(self, cls: type) -> st.SearchStrategy[int]:
        declared = sorted(getattr(cls, "_VALUES_TO_NAMES", {}))
        if self.options.undeclared_enums:
            anything = st.integers(-(2**31), 2**31 - 1)
            return st.sampled_from(declared) | anything if declared else anything
        if not declared:
            raise ContractError(f"enum {cls.__name__} declares no values (allow undeclared_enums)")
        return st.sampled_from(declared)

    def _field(self, cls: type, f: FieldModel, default: Any, depth: int) -> st.SearchStrategy[Any]:
        inner = st.deferred(lambda: self.value(f.ttype, f.spec, depth + 1))
        if default is not None:  # a default: never unset; the default itself or a generated value
            return st.builds(copy.deepcopy, st.just(default)) | inner
        if f.required:
            return inner
        if depth >= self.options.max_depth:
            return st.none()
        return st.none() | inner

    def _struct(self, cls: type, depth: int) -> st.SearchStrategy[Any]:
        fields = field_models(cls)
        defaults = dict(getattr(cls, "default_spec", ()))
        if depth > self.options.max_depth + _CYCLE_SLACK:
            nested = [f.name for f in fields if f.required and f.ttype == TType.STRUCT] or [
                f.name for f in fields if f.required
            ]
            raise ContractError(
                f"struct {cls.__name__} has no finite value: required field(s) "
                f"{', '.join(map(repr, nested))} nest without end"
            )
        if is_union(cls):
            if not fields:
                raise ContractError(f"union {cls.__name__} has no fields")
            empty = {f.name: None for f in fields}
            shallow = [f for f in fields if f.ttype != TType.STRUCT]
            usable = shallow if depth >= self.options.max_depth and shallow else list(fields)

            def one(f: FieldModel) -> st.SearchStrategy[Any]:
                inner = st.deferred(lambda: self.value(f.ttype, f.spec, depth + 1))
                return inner.map(lambda v: cls(**{**empty, f.name: v}))

            return st.one_of([one(f) for f in usable])
        parts = {f.name: self._field(cls, f, defaults.get(f.name), depth) for f in fields}
        return st.fixed_dictionaries(parts).map(lambda kw: _build(cls, kw))


def _build(cls: type, kwargs: dict[str, Any]) -> Any:
    obj = cls()
    for name, value in kwargs.items():
        setattr(obj, name, value)
    return obj


_BUILDERS: dict[Options, _Builder] = {}


def _builder(options: Options | None) -> _Builder:
    opts = options or Options()
    found = _BUILDERS.get(opts)
    if found is None:
        if len(_BUILDERS) > 64:
            _BUILDERS.clear()
        found = _BUILDERS[opts] = _Builder(opts)
    return found


def from_type(ttype: int, spec: Any = None, options: Options | None = None) -> st.SearchStrategy[Any]:
    """Strategy for values of a type descriptor ``(ttype, spec)`` as in thriftpy2's ``thrift_spec``.

    See :mod:`simdb.thrift.model` for descriptors; :func:`for_type` takes a type by its IDL name.
    """
    return _builder(options).value(ttype, spec, 0)


def resolve_type(module: types.ModuleType, name: str) -> tuple[int, Any]:
    """The descriptor of a type named as in the IDL: ``i64``, ``Pin``, ``types.PinId`` (a typedef), ..."""
    if name in _BASE:
        return _BASE[name], None
    target: Any = module
    for part in name.split("."):
        target = getattr(target, part, None)
        if target is None:
            break
    if isinstance(target, bool) or target is None:
        pass
    elif isinstance(target, int):  # a typedef of a base type
        return target, None
    elif isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], int):
        return target[0], target[1]  # a typedef of a container, enum or struct
    elif isinstance(target, type) and hasattr(target, "thrift_spec"):
        return TType.STRUCT, target
    elif isinstance(target, type) and hasattr(target, "_VALUES_TO_NAMES"):
        return TType.I32, target
    file = getattr(module, "__thrift_file__", module.__name__)
    raise ContractError(f"{file}: no type {name!r} (a base type, struct, union, exception, enum or typedef)")


def for_type(
    module: types.ModuleType | str | Path, name: str, options: Options | None = None
) -> st.SearchStrategy[Any]:
    """Strategy for values of the IDL type ``name`` in ``module`` (from :func:`load_idl`, or an IDL file)."""
    if isinstance(module, str | Path):
        module = idl_module(module)
    return from_type(*resolve_type(module, name), options)


Target = types.ModuleType | ServiceModel | MethodModel | str | Path
"""What :func:`args`, :func:`returns` and :func:`result` take: a loaded IDL module or an IDL file
(with ``name`` as ``"Service.method"``), a :class:`ServiceModel` (``name`` the method), or a method."""

_IDLS: dict[tuple[str, int, tuple[str, ...]], types.ModuleType] = {}


def idl_module(path: str | Path, include_dirs: Sequence[str | Path] = ()) -> types.ModuleType:
    """The IDL file ``path`` loaded (once per file version; includes next to it, in its directory or
    in ``include_dirs``)."""
    file = Path(path).resolve()
    dirs = tuple(str(Path(d).resolve()) for d in include_dirs)
    try:
        key = (str(file), file.stat().st_mtime_ns, dirs)
    except OSError:
        raise ContractError(f"{path}: no such IDL file") from None
    module = _IDLS.get(key)
    if module is None:
        if len(_IDLS) > 32:
            _IDLS.clear()
        try:
            module = _IDLS[key] = load_idl(file, dirs)
        except SimdbError as exc:
            raise ContractError(str(exc)) from None
    return module


_METHOD_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def _names_method(target: object) -> bool:
    """Whether ``target`` is ``Service.method`` rather than an IDL file."""
    return (
        isinstance(target, str)
        and bool(_METHOD_NAME.match(target))
        and not target.endswith(".thrift")
        and not Path(target).exists()
    )


def method_of(
    target: Target, name: str = "", *, idl: str | Path | None = None, stack: str | Path | None = None
) -> MethodModel:
    """The method ``Service.method`` of a module or IDL file, ``method`` of a service model, or ``target``.

    ``method_of("PinStore.getPin", idl=FILE)`` names the IDL file by keyword;
    ``method_of("PinStore.getPin")`` (or with ``stack=FILE``) finds the IDL of the stack's fake
    serving ``PinStore``: the stack file given, else the test session's ``--simdb-stack``, else
    ``./simdb.yaml``.
    """
    if idl is not None or stack is not None or (not name and _names_method(target)):
        if name or not isinstance(target, str):
            raise ContractError(
                f"with idl= or stack=, name the method first: args('Service.method', idl=...), got {target!r}"
            )
        name = target
        if idl is not None:
            target = idl_module(idl)
        else:
            from simdb.contract.stack_idl import stack_idl

            target = stack_idl(name, stack)
    if isinstance(target, str | Path):
        target = idl_module(target)
    if isinstance(target, MethodModel):
        return target
    if isinstance(target, ServiceModel):
        service, method = target, name
    else:
        service_name, _, method = name.rpartition(".")
        if not service_name:
            raise ContractError(f"name the method as Service.method, got {name!r}")
        try:
            service = service_model(target, service_name)
        except SimdbError as exc:
            raise ContractError(str(exc)) from None
    found = service.method(method)
    if found is None:
        known = ", ".join(service.methods) or "none"
        raise ContractError(f"service {service.name} has no method {method!r} (methods: {known})")
    return found


def args(
    target: Target,
    name: str = "",
    options: Options | None = None,
    *,
    idl: str | Path | None = None,
    stack: str | Path | None = None,
) -> st.SearchStrategy[Any]:
    """Strategy for a method's arguments: ``<method>_args`` objects with every argument set.

    ``target`` is a loaded IDL module or an IDL file with ``name`` as ``"Service.method"``,
    a :class:`ServiceModel` with ``name`` the method, or a :class:`MethodModel`; or
    ``"Service.method"`` itself, with ``idl=FILE`` or from a stack (see :func:`method_of`):
    ``@given(args("PinStore.getPin"))`` in a test run with ``--simdb-stack``.
    """
    method = method_of(target, name, idl=idl, stack=stack)
    builder = _builder(options)
    cls = method.args_cls
    parts = {f.name: builder.value(f.ttype, f.spec, 1) for f in method.args}
    return st.fixed_dictionaries(parts).map(lambda kw: _build(cls, kw))


def returns(
    target: Target,
    name: str = "",
    options: Options | None = None,
    *,
    idl: str | Path | None = None,
    stack: str | Path | None = None,
) -> st.SearchStrategy[Any]:
    """Strategy for a method's return value (``None`` for void); targets as for :func:`args`."""
    method = method_of(target, name, idl=idl, stack=stack)
    if not method.has_return:
        return st.none()
    return _builder(options).value(method.return_ttype, method.return_spec, 0)


def result(
    target: Target,
    name: str = "",
    options: Options | None = None,
    exceptions: bool = True,
    *,
    idl: str | Path | None = None,
    stack: str | Path | None = None,
) -> st.SearchStrategy[Any]:
    """Strategy for a method's ``<method>_result``: its return value or one of its declared exceptions.

    ``exceptions=False`` gives successful results only. A oneway method has no result. Targets as
    for :func:`args`.
    """
    method = method_of(target, name, idl=idl, stack=stack)
    if method.oneway:
        raise ContractError(f"{method.service}.{method.name} is oneway: it has no result")
    cls = method.result_cls
    builder = _builder(options)
    choices: list[st.SearchStrategy[Any]] = []
    if method.has_return:
        choices.append(returns(method, options=options).map(lambda v: _build(cls, {"success": v})))
    else:
        choices.append(st.builds(cls))
    if exceptions:
        for exc in method.exceptions:
            choices.append(builder.value(TType.STRUCT, exc.cls, 0).map(_setter(cls, exc.field_name)))
    return st.one_of(choices)


def _setter(cls: type, field: str) -> Callable[[Any], Any]:
    return lambda value: _build(cls, {field: value})
