"""The Thrift fake engine: IDL loading, canonical JSON, generated values, stubs and faults.

Library modules (no sockets): :mod:`~simdb.thrift.idl` (IDL to a thriftpy2 module),
:mod:`~simdb.thrift.model` (services, methods, fields), :mod:`~simdb.thrift.codec` (canonical
JSON of every Thrift value), :mod:`~simdb.thrift.generate` (deterministic generated answers),
:mod:`~simdb.thrift.stubs` and :mod:`~simdb.thrift.reply` (stub matching and the answers it
gives), :mod:`~simdb.thrift.faults` (seeded latency, exceptions and resets). The wire layer
(processor, server, fake) builds on them.
"""
