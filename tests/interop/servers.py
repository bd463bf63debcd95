"""Servers under test for the interop tests.

``start_server`` starts simdb serving the demo IDLs, either in-process
(``mode="inprocess"``: ThriftFake) or the way a user would
(``mode="cli"``: ``simdb thrift serve ... --port 0`` as a subprocess, reading the
printed endpoint). ``mode="thriftpy2"`` serves the hand-written reference
handlers on thriftpy2's own server, to check the harness itself.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fixtures.common import wait_until
from tests.interop.codegen import HOMEFEED, SERVICES


@dataclass
class ServerHandle:
    """A running server: where it listens and how to stop it."""

    host: str
    port: int
    idls: tuple[str, ...]
    multiplexed: bool
    stop_fn: Callable[[], None] = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def stop(self) -> None:
        self.stop_fn()


def start_server(
    idls: tuple[str, ...],
    *,
    protocol: str,
    transport: str,
    multiplexed: bool,
    mode: str,
    work: Path,
) -> ServerHandle:
    """Start a server for the demo ``idls`` (names from codegen.SERVICES)."""
    if not multiplexed and len(idls) != 1:
        raise ValueError("a non-multiplexed server serves exactly one service")
    if mode == "thriftpy2":
        return _start_thriftpy2(idls, protocol, transport, multiplexed)
    raise ValueError(f"unknown server mode {mode!r}")


def _probe(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1):
        return True


def _start_thriftpy2(idls: tuple[str, ...], protocol: str, transport: str, multiplexed: bool) -> ServerHandle:
    import thriftpy2
    from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
    from thriftpy2.server import TThreadedServer
    from thriftpy2.thrift import TMultiplexedProcessor, TProcessor
    from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory, TServerSocket

    from tests.interop.reference_handlers import build_handler

    processors = {}
    for idl in idls:
        module = thriftpy2.load(
            str(HOMEFEED / f"{idl}.thrift"), module_name=f"ref_{idl}_thrift", include_dirs=[str(HOMEFEED)]
        )
        service = SERVICES[idl]
        processors[service] = TProcessor(getattr(module, service), build_handler(module, service))
    if multiplexed:
        processor: Any = TMultiplexedProcessor()
        for name, proc in processors.items():
            processor.register_processor(name, proc)
    else:
        (processor,) = processors.values()
    sock = TServerSocket(host="127.0.0.1", port=0, client_timeout=None)
    proto = TBinaryProtocolFactory() if protocol == "binary" else TCompactProtocolFactory()
    trans = TBufferedTransportFactory() if transport == "buffered" else TFramedTransportFactory()
    server = TThreadedServer(processor, sock, iprot_factory=proto, itrans_factory=trans, daemon=True)
    sock.listen()
    port = sock.sock.getsockname()[1]
    sock.listen = lambda: None  # already listening on the chosen port
    thread = threading.Thread(target=server.serve, daemon=True, name=f"thriftpy2-{'-'.join(idls)}")
    thread.start()
    wait_until(lambda: _probe("127.0.0.1", port), timeout=10, what="thriftpy2 reference server")
    return ServerHandle("127.0.0.1", port, idls, multiplexed, stop_fn=server.close)
