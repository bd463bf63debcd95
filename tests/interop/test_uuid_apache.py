"""The ``uuid`` type against the official Apache Thrift Python library 0.25.0 (issue 11).

Debian's compiler (0.17) cannot generate code for uuid, so the client side is written here with the
library's protocol classes directly (``writeFieldBegin(name, TType.UUID, id)``, ``writeUuid``, ...)
over a real socket, and the reply is read the same way. Binary and compact, buffered and framed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.Thrift import TMessageType, TType
from thrift.transport.TSocket import TSocket
from thrift.transport.TTransport import TBufferedTransport, TFramedTransport

from simdb.thrift.fake import ThriftConfig, ThriftFake

pytestmark = pytest.mark.interop

IDL = Path(__file__).resolve().parents[1] / "thrift" / "idl" / "uuids.thrift"
KINDS = [(p, t) for p in ("binary", "compact") for t in ("buffered", "framed")]
SENT = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
TAGS = [uuid.UUID(int=1), uuid.UUID(int=2**128 - 1)]
STUBBED = uuid.UUID("00000000-0000-0000-0000-00000000abcd")


def test_the_library_is_the_one_with_uuid() -> None:
    assert version("thrift") == "0.25.0"
    assert TType.UUID == 16


@pytest.fixture(params=KINDS, ids=lambda k: "-".join(k))
def fake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ThriftFake]:
    protocol, transport = request.param
    stubs = tmp_path / "stubs.json"
    stubs.write_text(json.dumps({"stubs": [
        {"method": "get", "args": {"id": str(STUBBED)},
         "reply": {"return": {"id": str(STUBBED), "name": "stubbed", "peers": [str(SENT)],
                              "scores": [[str(TAGS[0]), 5]]}}},
        {"method": "get", "args": {"id": str(TAGS[1])},
         "reply": {"raise": {"NoSession": {"id": str(TAGS[1])}}}},
    ]}))
    f = ThriftFake(ThriftConfig(idl=IDL, services=("Sessions",), protocol=protocol, transport=transport,
                                stubs=(stubs,)))
    f.start()
    try:
        yield f
    finally:
        f.stop()


def connect(fake: ThriftFake) -> tuple[Any, Any]:
    sock = TSocket(fake.endpoint.host, fake.endpoint.port)
    sock.setTimeout(5000)
    trans: Any = TFramedTransport(sock) if fake.config.transport == "framed" else TBufferedTransport(sock)
    proto: Any = TBinaryProtocol(trans) if fake.config.protocol == "binary" else TCompactProtocol(trans)
    trans.open()
    return trans, proto


def call_get(proto: Any, trans: Any, seqid: int, id_: uuid.UUID) -> None:
    proto.writeMessageBegin("get", TMessageType.CALL, seqid)
    proto.writeStructBegin("get_args")
    proto.writeFieldBegin("id", TType.UUID, 1)
    proto.writeUuid(id_)
    proto.writeFieldEnd()
    proto.writeFieldBegin("tags", TType.SET, 2)
    proto.writeSetBegin(TType.UUID, len(TAGS))
    for tag in TAGS:
        proto.writeUuid(tag)
    proto.writeSetEnd()
    proto.writeFieldEnd()
    proto.writeFieldStop()
    proto.writeStructEnd()
    proto.writeMessageEnd()
    trans.flush()


def read_session(proto: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    proto.readStructBegin()
    while True:
        _, ftype, fid = proto.readFieldBegin()
        if ftype == TType.STOP:
            break
        if fid == 1:
            assert ftype == TType.UUID
            out["id"] = proto.readUuid()
        elif fid == 2:
            assert ftype == TType.STRING
            out["name"] = proto.readString()
        elif fid == 3:
            assert ftype == TType.LIST
            etype, size = proto.readListBegin()
            assert etype == TType.UUID
            out["peers"] = [proto.readUuid() for _ in range(size)]
            proto.readListEnd()
        elif fid == 4:
            assert ftype == TType.MAP
            ktype, vtype, size = proto.readMapBegin()
            assert size == 0 or (ktype, vtype) == (TType.UUID, TType.I32)
            out["scores"] = {proto.readUuid(): proto.readI32() for _ in range(size)}
            proto.readMapEnd()
        else:
            proto.skip(ftype)
        proto.readFieldEnd()
    proto.readStructEnd()
    return out


def read_get_reply(proto: Any, seqid: int) -> tuple[int, dict[str, Any]]:
    """(field id of the result: 0 success / 1 NoSession, its fields)."""
    name, mtype, got_seqid = proto.readMessageBegin()
    assert (name, mtype, got_seqid) == ("get", TMessageType.REPLY, seqid)
    proto.readStructBegin()
    _, ftype, fid = proto.readFieldBegin()
    assert ftype == TType.STRUCT
    value = read_session(proto)
    proto.readFieldEnd()
    assert proto.readFieldBegin()[1] == TType.STOP
    proto.readStructEnd()
    proto.readMessageEnd()
    return fid, value


def test_a_stubbed_reply_carries_uuids_on_the_uuid_wire_type(fake: ThriftFake) -> None:
    trans, proto = connect(fake)
    try:
        call_get(proto, trans, 7, STUBBED)
        fid, session = read_get_reply(proto, 7)
        assert fid == 0
        assert session == {"id": STUBBED, "name": "stubbed", "peers": [SENT], "scores": {TAGS[0]: 5}}
        call_get(proto, trans, 8, TAGS[1])  # a declared exception holding a uuid
        fid, exc = read_get_reply(proto, 8)
        assert (fid, exc) == (1, {"id": TAGS[1]})
    finally:
        trans.close()
    entry = fake.journal.entries("get")[0]
    assert str(STUBBED) in json.dumps(entry.args, default=str)


def test_generated_uuids_are_deterministic(fake: ThriftFake) -> None:
    answers = []
    for _ in range(2):
        trans, proto = connect(fake)
        try:
            call_get(proto, trans, 3, SENT)
            fid, session = read_get_reply(proto, 3)
            assert fid == 0 and isinstance(session["id"], uuid.UUID)
            answers.append(session)
            proto.writeMessageBegin("newId", TMessageType.CALL, 4)
            proto.writeStructBegin("newId_args")
            proto.writeFieldStop()
            proto.writeStructEnd()
            proto.writeMessageEnd()
            trans.flush()
            assert proto.readMessageBegin() == ("newId", TMessageType.REPLY, 4)
            proto.readStructBegin()
            assert proto.readFieldBegin()[1:] == (TType.UUID, 0)
            answers.append(proto.readUuid())
        finally:
            trans.close()
    assert answers[:2] == answers[2:]
