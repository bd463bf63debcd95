"""Bad input sent as raw bytes: a precise error where the framing allows, a log line, and the server
keeps serving."""

from __future__ import annotations

import logging
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator

import pytest
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TApplicationException

from simdb.thrift.fake import ThriftFake
from simdb.thrift.idl import load_idl
from simdb.thrift.scan import Limits
from tests.fixtures.common import wait_until
from tests.thrift.serving import (
    PINSTORE,
    ROOT,
    call_bytes,
    client,
    closed_by_peer,
    connect,
    frame,
    read_reply,
    running,
)

pytestmark = pytest.mark.fake

LIMITS = Limits(max_frame_size=64 * 1024, max_string_size=1024, max_container_length=100, max_depth=16,
                read_timeout_s=0.3)
PROTOCOL_ERROR = TApplicationException.PROTOCOL_ERROR


def header(name: str, seqid: int = 9, mtype: int = 1) -> bytes:
    """A strict binary-protocol message header."""
    raw = name.encode()
    return struct.pack(">iI", -2147418112 | mtype, len(raw)) + raw + struct.pack(">i", seqid)


def field(ttype: int, fid: int) -> bytes:
    return struct.pack(">bh", ttype, fid)


@pytest.fixture
def buffered() -> Iterator[ThriftFake]:
    with running(limits=LIMITS) as fake:
        yield fake


@pytest.fixture
def framed() -> Iterator[ThriftFake]:
    with running(limits=LIMITS, transport="framed") as fake:
        yield fake


def still_serving(fake: ThriftFake) -> None:
    c = client(fake)
    try:
        assert isinstance(c.getPin(1).id, int)
    finally:
        c.close()


def expect_protocol_error(fake: ThriftFake, sock: socket.socket, *words: str) -> str:
    name, _mtype, seqid, exc = read_reply(fake, sock)
    assert isinstance(exc, TApplicationException), exc
    assert exc.type == PROTOCOL_ERROR
    assert (name, seqid) == ("getPin", 9)
    for word in words:
        assert word in exc.message, exc.message
    return str(exc.message)


def logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in r.getMessage() and r.levelno >= logging.WARNING for r in caplog.records)


BAD_BODIES = {
    "oversized string": (field(11, 9) + struct.pack(">i", 1 << 30), ["string length", "exceeds", "1024"]),
    "negative string length": (field(11, 9) + struct.pack(">i", -5), ["negative string length"]),
    "oversized list": (field(15, 1) + b"\x0a" + struct.pack(">i", 10**8), ["list length 100000000"]),
    "oversized map": (field(13, 9) + b"\x0b\x0b" + struct.pack(">i", 5000), ["map length 5000"]),
    "unknown type": (field(99, 1) + b"\x00", ["unknown field type 99"]),
    "too deep": (field(12, 1) * 40 + b"\x00" * 41, ["nesting deeper than 16"]),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_malformed_body_on_buffered_gets_protocol_error_then_close(
    buffered: ThriftFake, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, words = BAD_BODIES[case]
    before = len(buffered.journal)
    with connect(buffered) as sock:
        sock.sendall(header("getPin") + body)
        message = expect_protocol_error(buffered, sock, *words)
        assert closed_by_peer(sock)  # buffered: there is no way to find the next message
    assert logged(caplog, message)
    assert len(buffered.journal) == before
    still_serving(buffered)


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_malformed_body_on_framed_gets_protocol_error_and_the_connection_goes_on(
    framed: ThriftFake, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, words = BAD_BODIES[case]
    with connect(framed) as sock:
        sock.sendall(frame(header("getPin") + body))
        message = expect_protocol_error(framed, sock, *words)
        getpin = framed.state(None).model.methods["getPin"]
        sock.sendall(call_bytes(framed, "getPin", getpin.args_cls(id=5), seqid=10))
        assert read_reply(framed, sock, getpin.result_cls)[2] == 10
    assert logged(caplog, message)


def test_oversized_frame_is_refused_and_skipped(framed: ThriftFake, caplog: pytest.LogCaptureFixture) -> None:
    size = 200_000  # more than LIMITS.max_frame_size (64 KiB)
    with connect(framed) as sock:
        msg = header("getPin") + field(11, 9) + struct.pack(">i", size - 30)
        sock.sendall(struct.pack(">i", size) + msg)
        expect_protocol_error(framed, sock, "frame of 200000 bytes", "65536")
        sock.sendall(b"\x00" * (size - len(msg)))  # the rest of the frame is skipped, not buffered
        getpin = framed.state(None).model.methods["getPin"]
        sock.sendall(call_bytes(framed, "getPin", getpin.args_cls(id=5), seqid=11))
        assert read_reply(framed, sock, getpin.result_cls)[2] == 11
    assert logged(caplog, "exceeds the maximum frame size")


def test_oversized_message_on_buffered_is_refused(buffered: ThriftFake) -> None:
    with connect(buffered) as sock:
        # 99 strings of 1000 bytes: each within limits, the whole message not (64 KiB max).
        body = field(15, 9) + b"\x0b" + struct.pack(">i", 99) + (struct.pack(">i", 1000) + b"x" * 1000) * 99
        sock.sendall(header("getPin") + body[:70_000])
        expect_protocol_error(buffered, sock, "more than the maximum of 65536")
        assert closed_by_peer(sock)
    still_serving(buffered)


def test_stray_bytes_after_the_message_in_a_frame(framed: ThriftFake) -> None:
    with connect(framed) as sock:
        getpin = framed.state(None).model.methods["getPin"]
        good = call_bytes(framed, "getPin", getpin.args_cls(id=5), seqid=9)[4:]
        sock.sendall(frame(good + b"junk"))
        expect_protocol_error(framed, sock, "4 stray bytes")
        still_serving(framed)


def test_frame_shorter_than_its_message(framed: ThriftFake) -> None:
    with connect(framed) as sock:
        sock.sendall(frame(header("getPin") + field(10, 1)))  # i64 field announced, no value, no stop
        expect_protocol_error(framed, sock, "frame ends before the message")


def test_negative_frame_size_closes(framed: ThriftFake, caplog: pytest.LogCaptureFixture) -> None:
    with connect(framed) as sock:
        sock.sendall(struct.pack(">i", -7) + b"abcd")
        assert closed_by_peer(sock)
    assert logged(caplog, "negative frame size -7")
    still_serving(framed)


@pytest.mark.parametrize("garbage", [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x82\x21\x01\x06getPin\x00",
                                     b"\x80\x02\x00\x01\x00\x00\x00\x01x\x00\x00\x00\x01\x00"])
def test_unreadable_header_closes_with_a_log_line(buffered: ThriftFake, caplog: pytest.LogCaptureFixture,
                                                  garbage: bytes) -> None:
    with connect(buffered) as sock:
        sock.sendall(garbage)
        assert closed_by_peer(sock)
    assert any("closing the connection" in r.getMessage() for r in caplog.records)
    still_serving(buffered)


def test_binary_bytes_to_a_compact_server_close_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with running(protocol="compact", limits=LIMITS) as fake, connect(fake) as sock:
        sock.sendall(header("getPin") + b"\x00")
        assert closed_by_peer(sock)
        assert logged(caplog, "bad compact protocol id 0x80")
        still_serving(fake)


def test_half_sent_message_times_out(buffered: ThriftFake, caplog: pytest.LogCaptureFixture) -> None:
    with connect(buffered) as sock, connect(buffered) as idle:
        sock.sendall(header("getPin") + field(10, 1) + b"\x00\x00")  # 6 of the 8 bytes of an i64
        assert closed_by_peer(sock)  # after read_timeout_s (0.3 s)
        assert logged(caplog, "message incomplete after 0.3 s")
        # The idle connection sent nothing and stays open.
        assert buffered.server is not None
        wait_until(lambda: buffered.server is not None and buffered.server.open_connections == 1,
                   timeout=5, what="one open connection")
        getpin = buffered.state(None).model.methods["getPin"]
        idle.sendall(call_bytes(buffered, "getPin", getpin.args_cls(id=5), seqid=3))
        assert read_reply(buffered, idle, getpin.result_cls)[2] == 3


def test_client_gone_mid_message_is_logged(buffered: ThriftFake, caplog: pytest.LogCaptureFixture) -> None:
    with connect(buffered) as sock:
        sock.sendall(header("getPin") + field(10, 1))
    wait_until(lambda: logged(caplog, "incomplete message"), timeout=5, what="log line")
    still_serving(buffered)


def test_a_reply_sent_to_the_server_is_invalid_message_type(buffered: ThriftFake) -> None:
    with connect(buffered) as sock:
        sock.sendall(header("getPin", mtype=2) + b"\x00")
        _name, _, _seqid, exc = read_reply(buffered, sock)
        assert exc.type == TApplicationException.INVALID_MESSAGE_TYPE
        getpin = buffered.state(None).model.methods["getPin"]
        sock.sendall(call_bytes(buffered, "getPin", getpin.args_cls(id=5), seqid=4))
        assert read_reply(buffered, sock, getpin.result_cls)[2] == 4


def test_bad_input_on_one_connection_does_not_disturb_another(buffered: ThriftFake) -> None:
    c = client(buffered)
    try:
        assert isinstance(c.getPin(1).id, int)
        with connect(buffered) as sock:
            sock.sendall(b"\xff" * 64)
            assert closed_by_peer(sock)
        assert isinstance(c.getPin(2).id, int)  # same client connection as before
    finally:
        c.close()


LOW_FD_SERVER = """
import logging, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_NOFILE, (60, 60))
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from simdb.thrift.fake import ThriftConfig, ThriftFake
fake = ThriftFake(ThriftConfig(idl=Path(sys.argv[1]), services=("PinStore",)))
print(fake.start().port, flush=True)
sys.stdin.read()
fake.stop()
"""


def test_running_out_of_file_descriptors_pauses_accepting_and_recovers() -> None:
    proc = subprocess.Popen([sys.executable, "-c", LOW_FD_SERVER, str(PINSTORE)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    socks: list[socket.socket] = []
    err = ""
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        for _ in range(80):  # more than the server's 60 descriptors
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        for s in socks:
            s.close()
        socks = []

        def serves() -> bool:
            c = make_client(load_idl(PINSTORE).PinStore, "127.0.0.1", port, timeout=2000)
            try:
                return isinstance(c.getPin(1).id, int)
            finally:
                c.close()

        wait_until(serves, timeout=20, what="server accepting again")
    finally:
        for s in socks:
            s.close()
        _, err = proc.communicate("", timeout=20)
    assert "pausing new connections" in err, err


def varint(n: int) -> bytes:
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def test_compact_bad_body_with_a_negative_seqid_gets_protocol_error() -> None:
    with running(protocol="compact", transport="framed", limits=LIMITS) as fake, connect(fake) as sock:
        msg = b"\x82\x21" + varint(0xFFFFFFF9) + varint(6) + b"getPin" + b"\x1e\x00"  # type 14: no such type
        sock.sendall(frame(msg))
        name, _, seqid, exc = read_reply(fake, sock)
        assert (name, seqid & 0xFFFFFFFF, exc.type) == ("getPin", 0xFFFFFFF9, PROTOCOL_ERROR)
        assert "unknown compact type 14" in exc.message
        still_serving(fake)
