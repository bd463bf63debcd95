"""The Thrift protocol fuzzer (structure-aware: mutations of valid messages), shared by the tests and
``bench/fuzz_thrift.py``. After every input: a fresh connection gets a valid answer within a bound,
nothing was logged with a traceback, and the fake's state is what it was."""

from __future__ import annotations

import logging
import random
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from simdb.thrift.fake import ThriftFake
from simdb.thrift.generate import ValueGenerator
from simdb.thrift.scan import CALL, REPLY, Incomplete, Limits, message_end
from simdb.thrift.wire import encode_message
from tests.thrift.serving import PINSTORE, running

CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
LIMITS = Limits(max_frame_size=64 * 1024, max_string_size=4096, max_container_length=1000, max_depth=16,
                read_timeout_s=0.2)
KINDS = [(p, t) for p in ("binary", "compact") for t in ("buffered", "framed")]


class Tracebacks(logging.Handler):
    """Collects log records that carry a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


UUIDS = Path(__file__).resolve().parent / "idl" / "uuids.thrift"
#: What is fuzzed: (IDL, service, a method to call as the health check).
TARGETS = {"pinstore": (PINSTORE, "PinStore", "getPin"), "uuids": (UUIDS, "Sessions", "newId")}


@contextmanager
def fuzz_target(
    protocol: str, transport: str, target: str = "pinstore"
) -> Iterator[tuple[ThriftFake, Tracebacks]]:
    """A fake of ``target`` with small limits and a handler catching tracebacks."""
    idl, service, _ = TARGETS[target]
    handler = Tracebacks()
    logger = logging.getLogger("simdb")
    logger.addHandler(handler)
    try:
        with running(idl, (service,), protocol=protocol, transport=transport, limits=LIMITS) as fake:
            yield fake, handler
    finally:
        logger.removeHandler(handler)


def valid_messages(fake: ThriftFake) -> list[bytes]:
    """A few valid calls (unframed) to mutate: each method with generated arguments."""
    methods = fake.state(None).model.methods
    gen = ValueGenerator(seed=1)
    out = []
    for seq, name in enumerate(sorted(methods), start=1):
        method = methods[name]
        for variant in range(2):
            rng = random.Random(f"{name}-{variant}")
            args = method.args_cls(**{a.name: gen.value(a.ttype, a.spec, rng, a.name) for a in method.args})
            out.append(encode_message(fake.config.protocol, name, CALL, seq * (1 - 2 * variant), args))
    return out


def wrap(fake: ThriftFake, msg: bytes) -> bytes:
    return struct.pack(">i", len(msg)) + msg if fake.config.transport == "framed" else msg


@st.composite
def mutated(draw: st.DrawFn, messages: list[bytes]) -> bytes:
    """A valid message with a few structure-aware edits: byte flips, inserted or cut bytes,
    length-like 4-byte words set to extremes, truncation."""
    data = bytearray(draw(st.sampled_from(messages)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "word", "truncate", "byte"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and data:
            data[at] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF, 0x0F, 0x0B, 0x0C, 0x0D, 0x0E, 0x10]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "word" and len(data) >= at + 4:
            word = draw(st.sampled_from([-1, -16, -2147483640, 2**31 - 1, 65537, 0]))
            data[at : at + 4] = struct.pack(">i", word)
        elif op == "truncate":
            del data[at:]
    return bytes(data)


def send_and_drain(fake: ThriftFake, data: bytes, half_close: bool = True) -> None:
    """Send ``data`` (then end the sending side, or leave it open to stall) and read until the server
    closes or goes quiet."""
    with socket.create_connection((fake.endpoint.host, fake.endpoint.port), timeout=5) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LIMITS.read_timeout_s * 3)
        try:
            while sock.recv(65536):
                pass
        except (TimeoutError, ConnectionResetError):
            pass


def health_call(fake: ThriftFake) -> bytes:
    """The valid call the health check sends (framed if the fake is)."""
    name = next(m for _i, _s, m in TARGETS.values() if m in fake.state(None).model.methods)
    method = fake.state(None).model.methods[name]
    args = method.args_cls(**{a.name: 1 for a in method.args})
    return wrap(fake, encode_message(fake.config.protocol, name, CALL, 4242, args))


def check_healthy(fake: ThriftFake, tracebacks: Tracebacks, stubs_before: Any) -> None:
    """A fresh connection gets a reply to a valid call (within 5 s), no traceback, state unchanged."""
    with socket.create_connection((fake.endpoint.host, fake.endpoint.port), timeout=5) as sock:
        sock.sendall(health_call(fake))
        buf = b""
        skip = 4 if fake.config.transport == "framed" else 0
        while True:
            chunk = sock.recv(65536)
            assert chunk, "connection closed instead of a reply"
            buf += chunk
            try:
                header, _end = message_end(fake.config.protocol, buf[skip:], 0, Limits())  # type: ignore[arg-type]
            except Incomplete:
                continue
            assert (header.mtype, header.seqid) == (REPLY, 4242)
            break
    assert not tracebacks.records, [r.getMessage() for r in tracebacks.records]
    assert state_of(fake) == stubs_before


def state_of(fake: ThriftFake) -> Any:
    """What bad input must never change: the stubs."""
    return repr(getattr(fake.state(None), "stubs", None))


def corpus() -> list[tuple[str, str, bytes, str]]:
    """``(protocol, transport, bytes, file name)`` for every past finding."""
    out = []
    for path in sorted(CORPUS.glob("*.hex")):  # <protocol>-<transport>-<what>.hex, against PinStore
        protocol, transport, _ = path.name.split("-", 2)
        out.append((protocol, transport, bytes.fromhex(path.read_text().strip()), path.name))
    return out
