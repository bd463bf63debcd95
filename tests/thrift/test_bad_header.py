"""A message header whose method-name length is negative (issue 11): a protocol error, never a
traceback or a misparsed name. Raw bytes, binary and compact, framed and buffered."""

from __future__ import annotations

import logging
import struct

import pytest
from thriftpy2.thrift import TApplicationException

from tests.thrift.serving import call_bytes, client, closed_by_peer, connect, frame, read_reply, running
from tests.thrift.test_bad_input import LIMITS, varint

pytestmark = pytest.mark.fake

LENGTHS = [-16, -2147483640, -1]


def bad_header(protocol: str, length: int) -> bytes:
    """A CALL to getPin whose name length is ``length``, followed by the name, a seqid and an empty body."""
    if protocol == "binary":
        return struct.pack(">ii", -2147418111, length) + b"getPin" + struct.pack(">i", 9) + b"\x00"
    return b"\x82\x21" + varint(9) + varint(length & 0xFFFFFFFF) + b"getPin" + b"\x00"


def traceback_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("protocol", ["binary", "compact"])
@pytest.mark.parametrize("length", LENGTHS)
def test_buffered_closes_with_a_log_line(
    caplog: pytest.LogCaptureFixture, protocol: str, length: int
) -> None:
    caplog.set_level(logging.WARNING)
    with running(protocol=protocol, limits=LIMITS) as fake:
        before = len(fake.journal)
        with connect(fake) as sock:
            sock.sendall(bad_header(protocol, length))
            assert closed_by_peer(sock)  # buffered: no way to find where the next message starts
        assert any(f"negative method name length {length}" in r.getMessage() for r in caplog.records)
        assert not traceback_logged(caplog)
        assert len(fake.journal) == before
        c = client(fake)
        try:
            assert isinstance(c.getPin(1).id, int)
        finally:
            c.close()


@pytest.mark.parametrize("protocol", ["binary", "compact"])
@pytest.mark.parametrize("length", LENGTHS)
def test_framed_answers_protocol_error_and_goes_on(
    caplog: pytest.LogCaptureFixture, protocol: str, length: int
) -> None:
    caplog.set_level(logging.WARNING)
    with running(protocol=protocol, transport="framed", limits=LIMITS) as fake, connect(fake) as sock:
        before = len(fake.journal)
        sock.sendall(frame(bad_header(protocol, length)))
        name, _mtype, seqid, exc = read_reply(fake, sock)
        assert isinstance(exc, TApplicationException)
        assert exc.type == TApplicationException.PROTOCOL_ERROR
        assert f"negative method name length {length}" in exc.message
        assert (name, seqid) == ("", 0)  # neither can be read from this header
        assert len(fake.journal) == before
        getpin = fake.state(None).model.methods["getPin"]
        sock.sendall(call_bytes(fake, "getPin", getpin.args_cls(id=5), seqid=10))
        assert read_reply(fake, sock, getpin.result_cls)[2] == 10  # same connection serves on
        assert any(f"negative method name length {length}" in r.getMessage() for r in caplog.records)
        assert not traceback_logged(caplog)
