"""What simdb knows about a Thrift service: its methods, argument, result and exception types.

Built once from a thriftpy2 module (see :func:`simdb.thrift.idl.load_idl`) by
:func:`service_model`; the processor, the stubs, the generator and the faults
all work from these frozen objects.

Type descriptors: a Thrift type is handled as the pair ``(ttype, spec)`` that
thriftpy2 stores in ``thrift_spec``: ``ttype`` a :class:`thriftpy2.thrift.TType`
number, ``spec`` ``None`` for base types, the enum class for enums, the struct
class for structs, unions and exceptions, the element descriptor for lists and
sets and a ``(key, value)`` pair of descriptors for maps (an element descriptor
is a bare ``ttype`` int or a ``(ttype, spec)`` tuple).
"""

from __future__ import annotations

import contextlib
import types
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from thriftpy2.thrift import TType

from simdb.errors import IdlError

__all__ = [
    "ExceptionModel",
    "FieldModel",
    "MethodModel",
    "ServiceModel",
    "field_models",
    "service_model",
    "split_spec",
]


@dataclass(frozen=True)
class FieldModel:
    """One field of a struct, union, exception or argument list."""

    id: int
    name: str
    ttype: int
    spec: Any
    required: bool


def split_spec(entry: tuple[Any, ...]) -> tuple[int, Any, bool]:
    """``(ttype, spec, required)`` of one ``thrift_spec`` entry (3 or 4 items)."""
    if len(entry) == 3:
        return entry[0], None, bool(entry[2])
    return entry[0], entry[2], bool(entry[3])


_FIELDS: weakref.WeakKeyDictionary[type, tuple[FieldModel, ...]] = weakref.WeakKeyDictionary()


def field_models(cls: type) -> tuple[FieldModel, ...]:
    """The fields of a thriftpy2 struct class, in field-id order (cached per class)."""
    try:
        cached = _FIELDS.get(cls)
    except TypeError:  # not weak-referenceable (never a thriftpy2 class)
        cached = None
    if cached is not None:
        return cached
    fields = _field_models(cls)
    with contextlib.suppress(TypeError):
        _FIELDS[cls] = fields
    return fields


def _field_models(cls: type) -> tuple[FieldModel, ...]:
    spec: dict[int, tuple[Any, ...]] = getattr(cls, "thrift_spec", {})
    out = []
    for fid in sorted(spec):
        entry = spec[fid]
        ttype, sub, required = split_spec(entry)
        out.append(FieldModel(fid, entry[1], ttype, sub, required))
    return tuple(out)


@dataclass(frozen=True)
class ExceptionModel:
    """One declared exception of a method: ``throws (1: PinNotFound nf)``."""

    field_name: str
    field_id: int
    cls: type
    name: str


@dataclass(frozen=True, eq=False)
class MethodModel:
    """One method of a service (identity equality: cheap to hash on the request path).

    ``service`` is the name of the service that declares the method (for an
    inherited method, the base service). ``return_ttype``/``return_spec``
    describe the return type (``TType.VOID``/``None`` for void).
    """

    name: str
    args_cls: type
    result_cls: type
    oneway: bool
    has_return: bool
    exceptions: tuple[ExceptionModel, ...]
    service: str
    return_ttype: int = TType.VOID
    return_spec: Any = None
    args: tuple[FieldModel, ...] = ()

    def exception_named(self, name: str) -> ExceptionModel | None:
        """The declared exception whose class name or ``throws`` field name is ``name``."""
        for exc in self.exceptions:
            if name in (exc.name, exc.field_name):
                return exc
        return None

    def exception_for(self, value: BaseException) -> ExceptionModel | None:
        """The declared exception ``value`` is an instance of, if any."""
        for exc in self.exceptions:
            if type(value) is exc.cls:
                return exc
        for exc in self.exceptions:
            if isinstance(value, exc.cls):
                return exc
        return None


@dataclass(frozen=True, eq=False)
class ServiceModel:
    """A service with every method of its ``extends`` chain."""

    name: str
    thrift_service: type
    methods: Mapping[str, MethodModel]
    module: types.ModuleType | None = None

    def method(self, name: str) -> MethodModel | None:
        """The method called ``name``, or ``None``."""
        return self.methods.get(name)


def _method_model(service_cls: type, name: str) -> MethodModel:
    declaring = service_cls
    for klass in service_cls.__mro__:
        if f"{name}_args" in klass.__dict__:
            declaring = klass
            break
    args_cls = getattr(service_cls, f"{name}_args")
    result_cls = getattr(service_cls, f"{name}_result")
    spec: dict[int, tuple[Any, ...]] = result_cls.thrift_spec
    exceptions = []
    return_ttype: int = TType.VOID
    return_spec: Any = None
    for fid in sorted(spec):
        entry = spec[fid]
        ttype, sub, _ = split_spec(entry)
        if fid == 0:
            return_ttype, return_spec = ttype, sub
        else:
            exceptions.append(ExceptionModel(entry[1], fid, sub, sub.__name__))
    return MethodModel(
        name=name,
        args_cls=args_cls,
        result_cls=result_cls,
        oneway=bool(getattr(result_cls, "oneway", False)),
        has_return=0 in spec,
        exceptions=tuple(exceptions),
        service=declaring.__name__,
        return_ttype=return_ttype,
        return_spec=return_spec,
        args=field_models(args_cls),
    )


def _services_of(module: types.ModuleType, prefix: str = "") -> list[str]:
    names = [prefix + s.__name__ for s in getattr(module, "__thrift_meta__", {}).get("services", ())]
    return names


def service_model(module: types.ModuleType, name: str) -> ServiceModel:
    """The model of service ``name`` (``Svc`` or ``included.Svc``) in ``module``.

    Raises :class:`IdlError` listing the services the IDL declares when ``name`` is unknown.
    """
    target: Any = module
    for part in name.split("."):
        target = getattr(target, part, None) if target is not None else None
    if target is None or not isinstance(target, type) or not hasattr(target, "thrift_services"):
        known = _services_of(module)
        for inc in getattr(module, "__thrift_meta__", {}).get("includes", ()):
            known.extend(_services_of(inc, inc.__name__ + "."))
        file = getattr(module, "__thrift_file__", module.__name__)
        listing = ", ".join(known) if known else "none"
        raise IdlError(f"{file}: no service {name!r} in this IDL (services: {listing})")
    methods = {m: _method_model(target, m) for m in target.thrift_services}
    return ServiceModel(
        name=target.__name__,
        thrift_service=target,
        methods=types.MappingProxyType(methods),
        module=module,
    )
