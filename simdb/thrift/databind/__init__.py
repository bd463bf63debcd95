"""Data-backed Thrift methods: answer a method from the stack's MySQL and Redis fakes.

:func:`parse_bindings` reads a fake's ``bindings:``; :func:`check_bindings`
checks them before anything starts; :class:`~simdb.thrift.fake.ThriftFake`
answers with them once :meth:`~simdb.thrift.fake.ThriftFake.bind_stack`
connected it to the other fakes. See ``docs/bindings.md``.
"""

from __future__ import annotations

from simdb.thrift.databind.check import check_bindings, parse_bindings
from simdb.thrift.databind.model import DataBinding
from simdb.thrift.databind.schema import load_schema

__all__ = ["DataBinding", "check_bindings", "load_schema", "parse_bindings"]
