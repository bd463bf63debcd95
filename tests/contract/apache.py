"""The official Apache Thrift Python library as a round-trip partner (no pytest in here)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from thrift.protocol.TBinaryProtocol import TBinaryProtocol, TBinaryProtocolAccelerated
from thrift.protocol.TCompactProtocol import TCompactProtocol, TCompactProtocolAccelerated
from thrift.transport.TTransport import TMemoryBuffer

from simdb.thrift import wire
from simdb.thrift.codec import canonical_dumps, struct_to_json
from simdb.thrift.scan import Limits, read_header
from tests.interop import codegen

HERE = Path(__file__).resolve().parent
EVERYTHING = HERE / "idl" / "everything.thrift"
PROTOCOLS = ("binary", "compact")


def generate_everything(thrift: str, out: Path) -> dict[str, ModuleType]:
    """``thrift --gen py`` for tests/contract/idl/everything.thrift; its service modules by name."""
    out.mkdir(parents=True, exist_ok=True)
    codegen.run([thrift, "-r", "--gen", "py", "-out", str(out), str(EVERYTHING)])
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    return {
        name: importlib.import_module(f"contract_everything.{name}")
        for name in ("Everything", "HashedService", "Base")
    }


def _proto(protocol: str, trans: Any, accelerated: bool) -> Any:
    if accelerated:  # the C extension (fastbinary) of Apache's library
        if protocol == "binary":
            return TBinaryProtocolAccelerated(trans, fallback=False)
        return TCompactProtocolAccelerated(trans, fallback=False)
    return TBinaryProtocol(trans) if protocol == "binary" else TCompactProtocol(trans)


def apache_roundtrip(protocol: str, apache_cls: type, message: bytes, accelerated: bool = False) -> bytes:
    """Decode a whole message with the Apache-generated class ``apache_cls`` and encode it again.

    ``accelerated``: with the library's C extension (pure Python otherwise).
    """
    iprot = _proto(protocol, TMemoryBuffer(message), accelerated)
    name, mtype, seqid = iprot.readMessageBegin()
    obj = apache_cls()
    obj.read(iprot)
    iprot.readMessageEnd()
    out = TMemoryBuffer()
    oprot = _proto(protocol, out, accelerated)
    oprot.writeMessageBegin(name, mtype, seqid)
    obj.write(oprot)
    oprot.writeMessageEnd()
    return bytes(out.getvalue())


def simdb_decode(protocol: str, message: bytes, cls: type) -> Any:
    """Decode a whole message into a new ``cls`` (a thriftpy2 class) with simdb's wire codec."""
    header = read_header(protocol, message, 0, Limits())  # type: ignore[arg-type]
    return wire.decode_struct(protocol, message[header.body_start :], cls())  # type: ignore[arg-type]


def canonical(obj: Any) -> str:
    """Canonical JSON text of a struct: equal Thrift values, equal texts (set order, NaN, -0.0 aside)."""
    return canonical_dumps(struct_to_json(obj))
