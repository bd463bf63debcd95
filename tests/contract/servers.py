"""Servers for the verify tests: thriftpy2 servers that break the contract on purpose (no pytest here)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
from thriftpy2.rpc import make_server
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

from simdb.probe import reachable
from simdb.thrift.idl import load_idl
from tests.fixtures.common import free_port, wait_until

SHOP = Path(__file__).resolve().parent / "idl" / "shop.thrift"

#: How each broken server's IDL differs from the client's (text replaced in shop.thrift).
VARIANTS: dict[str, tuple[str, str]] = {
    "correct": ("", ""),
    "missing_required": ("2: required string name", "2: optional string name"),
    "wrong_enum": ("L = 3", "L = 3, XL = 4"),
    "undeclared_exception": (
        "throws (1: NoSuchItem missing)",
        "throws (1: NoSuchItem missing, 2: Banned banned)",
    ),
    "wrong_type": ("2: required string name", "2: required i32 name"),
    "app_error": ("", ""),
    "renamed": ("", ""),
    "no_result": ("", ""),
}


def server_idl(variant: str, work: Path) -> Any:
    """The server's IDL module for ``variant`` (written under ``work``)."""
    old, new = VARIANTS[variant]
    text = SHOP.read_text(encoding="utf-8")
    if old:
        assert old in text
        text = text.replace(old, new)
    path = work / f"shop_{variant}.thrift"
    path.write_text(text, encoding="utf-8")
    return load_idl(path)


class Handler:
    """Answers of the Shop service, right or wrong as the variant says."""

    def __init__(self, module: Any, variant: str) -> None:
        self.m = module
        self.variant = variant

    def getItem(self, id: int) -> Any:
        m, v = self.m, self.variant
        if v == "app_error":
            raise RuntimeError("database unavailable")
        if v == "undeclared_exception":
            raise m.Banned(why="nope")
        if id < -1000:
            raise m.NoSuchItem(id=id)  # declared: fine
        if v == "missing_required":
            return m.Item(id=id)
        if v == "wrong_enum":
            return m.Item(id=id, name="x", size=4)
        if v == "wrong_type":
            return m.Item(id=id, name=5)
        if v == "renamed":
            return m.Item(id=id, name=f"thing {id}", tags=["a"])
        return m.Item(id=id, name=f"item {id}", tags=["a"])

    def count(self, ids: list[int]) -> int | None:
        return None if self.variant == "no_result" else len(ids)

    def touch(self, id: int) -> None:
        return None


@contextmanager
def shop_server(
    variant: str, work: Path, protocol: str = "binary", transport: str = "buffered"
) -> Iterator[tuple[str, int]]:
    """A thriftpy2 Shop server answering as ``variant`` says, on a free port; ``(host, port)``."""
    module = server_idl(variant, work)
    port = free_port()
    server = make_server(
        module.Shop,
        Handler(module, variant),
        "127.0.0.1",
        port,
        proto_factory=TBinaryProtocolFactory() if protocol == "binary" else TCompactProtocolFactory(),
        trans_factory=TBufferedTransportFactory() if transport == "buffered" else TFramedTransportFactory(),
    )
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    wait_until(lambda: reachable("127.0.0.1", port), timeout=10, what=f"shop server ({variant})")
    try:
        yield "127.0.0.1", port
    finally:
        server.close()


@contextmanager
def raw_server(on_connection: Callable[[socket.socket], None]) -> Iterator[tuple[str, int]]:
    """A TCP server calling ``on_connection`` for each client (e.g. to hang up at once)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                on_connection(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", port
    finally:
        stop.set()
        listener.close()
