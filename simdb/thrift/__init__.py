"""The Thrift fake engine: IDL loading, canonical JSON, generated values, stubs and faults.

Library modules (no sockets): :mod:`~simdb.thrift.idl`, :mod:`~simdb.thrift.model`,
:mod:`~simdb.thrift.codec`, :mod:`~simdb.thrift.generate`, :mod:`~simdb.thrift.stubs`,
:mod:`~simdb.thrift.faults`. The wire layer (processor, server, fake) builds on them.
"""
