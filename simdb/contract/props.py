"""User properties: domain rules a service's answers must keep, checked by ``simdb contract verify``.

A properties file is plain Python::

    from simdb.contract import prop

    @prop("getPins")
    def every_pin_was_asked_for(args, result):
        assert set(result.pins) <= set(args.ids)

    @prop("PinStore.getPin", exceptions=True)
    def not_found_names_the_id(args, result):
        if isinstance(result, Exception):
            assert result.id == args.id

A property gets the call's arguments (the ``<method>_args`` object, one attribute
per argument) and its result: the return value, or, with ``exceptions=True``,
the declared exception the method raised (properties without it are not
called for exceptions). It fails by raising (``assert``) or by returning
``False``; the verifier then shrinks the arguments to a smallest failing call.
"""

from __future__ import annotations

import runpy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simdb.errors import SimdbError

__all__ = ["Property", "load_properties", "prop"]

PropertyFunction = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Property:
    """One registered property: the method it is about (``method`` or ``Service.method``) and its check."""

    method: str
    function: PropertyFunction
    exceptions: bool = False

    @property
    def name(self) -> str:
        """The function's name, for reports."""
        return getattr(self.function, "__name__", repr(self.function))

    def applies_to(self, service: str, method: str) -> bool:
        """True if this property is about ``service.method`` (also matches a bare method name)."""
        return self.method in (method, f"{service}.{method}")


_LOCK = threading.Lock()
_COLLECTED: list[Property] = []


def prop(method: str, *, exceptions: bool = False) -> Callable[[PropertyFunction], PropertyFunction]:
    """Register the decorated function as a property of ``method`` (``"getPins"`` or ``"PinStore.getPins"``).

    The function is called as ``function(args, result)``; see the module docs.
    """
    if not isinstance(method, str) or not method:
        raise SimdbError("@prop needs the method name, e.g. @prop('getPins')")

    def register(function: PropertyFunction) -> PropertyFunction:
        _COLLECTED.append(Property(method, function, exceptions))
        return function

    return register


def load_properties(path: Path | str) -> list[Property]:
    """Run a properties file and return the properties it registered (in definition order)."""
    file = Path(path)
    if not file.is_file():
        raise SimdbError(f"{file}: no such properties file")
    with _LOCK:
        start = len(_COLLECTED)
        try:
            runpy.run_path(str(file), run_name="simdb_contract_properties")
        except SimdbError:
            raise
        except Exception as exc:
            raise SimdbError(f"{file}: cannot load properties: {type(exc).__name__}: {exc}") from exc
        found = _COLLECTED[start:]
        del _COLLECTED[start:]
    if not found:
        raise SimdbError(f"{file}: defines no properties (decorate functions with @simdb.contract.prop)")
    return found
