"""Contract tests from the IDL: hypothesis strategies, provider verification and user properties.

* :mod:`simdb.contract.strategies`: strategies for any IDL type and for a method's
  arguments and result (:func:`for_type`, :func:`args`, :func:`result`, ...).
* :mod:`simdb.contract.props`: the :func:`prop` decorator for domain rules checked by
  ``simdb contract verify --properties FILE.py``.
* :mod:`simdb.contract.verify`: calls every method of a live service and checks each answer.

See docs/contracts.md.
"""

from __future__ import annotations

from simdb.contract.props import prop
from simdb.contract.strategies import (
    ContractError,
    Options,
    args,
    for_type,
    from_type,
    method_of,
    resolve_type,
    result,
    returns,
)

__all__ = [
    "ContractError",
    "Options",
    "args",
    "for_type",
    "from_type",
    "method_of",
    "prop",
    "resolve_type",
    "result",
    "returns",
]
