"""The IDL of the stack fake serving a service, so strategies can take ``"Service.method"`` alone.

The stack file is ``stack=``, else the test session's (``--simdb-stack``, see
:mod:`simdb.testing.current`), else ``./simdb.yaml``.
"""

from __future__ import annotations

import types
from pathlib import Path

from simdb.errors import SimdbError


def stack_idl(method: str, stack: str | Path | None = None) -> types.ModuleType:
    """The IDL module of the Thrift fake whose services include ``method``'s service."""
    from simdb.contract.strategies import ContractError, idl_module
    from simdb.stack.load import find_stack_file, load_stack
    from simdb.stack.model import ThriftSpec
    from simdb.testing.current import stack_file

    service = method.rpartition(".")[0]
    chosen = Path(stack) if stack is not None else stack_file()
    try:
        loaded = load_stack(find_stack_file(chosen))
    except SimdbError as exc:
        raise ContractError(f"{method}: no IDL given (idl=FILE) and no stack to find it in: {exc}") from None
    served = []
    for name, spec in loaded.spec.fakes.items():
        if not isinstance(spec, ThriftSpec):
            continue
        for svc in spec.services:
            served.append(f"{svc} ({name})")
            if service in (svc, svc.rpartition(".")[2]):
                return idl_module(spec.idl, spec.include_dirs)
    raise ContractError(
        f"{method}: no Thrift fake of stack {loaded.name} ({loaded.path}) serves {service}; "
        f"served: {', '.join(served) or 'none'}"
    )
