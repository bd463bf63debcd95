"""The recording proxy in front of a real Apache Thrift server written here, replayed by the fake.

Clients are the official Apache Thrift Python library with code from Debian's
``thrift --gen py``; the upstream server is Apache's ``TThreadedServer``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.server import TServer
from thrift.Thrift import TApplicationException
from thrift.transport import TSocket, TTransport

from simdb.errors import SnapshotError
from simdb.snapshot.reader import iter_recordings, open_snapshot
from simdb.snapshot.record import RecordConfig, RecordingProxy, latency_profile, parse_hostport
from simdb.thrift.fake import ThriftConfig, ThriftFake
from tests.fixtures.common import free_port, require_program, wait_until
from tests.interop.codegen import generate, import_gen_py

pytestmark = pytest.mark.real

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "thrift" / "homefeed"


@pytest.fixture(scope="module")
def apache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    thrift = require_program("thrift", "thrift-compiler")
    return import_gen_py(generate(thrift, tmp_path_factory.mktemp("gen") / "gen-py", "py"))


class Handler:
    """The 'real' pin store: pins below 2000 exist; 2500 breaks with an undeclared error."""

    def __init__(self, ttypes: ModuleType) -> None:
        self.t = ttypes
        self.calls = 0

    def health(self) -> Any:
        return self.t.HealthStatus(state=0, uptimeMs=5)

    def version(self) -> str:
        return "real-1.0"

    def getPin(self, id: int) -> Any:
        self.calls += 1
        if id == 2500:
            raise RuntimeError("database on fire")
        if id >= 2000:
            raise self.t.PinNotFound(id=id, message=f"no pin {id}")
        return self.t.Pin(
            id=id,
            ownerId=id % 20 + 1,
            boardId=101,
            title=f"real pin {id}",
            tags={"a", "b"},
            embedding=b"\x00\xff",
            images=[self.t.Image(url="u", width=1, height=2)],
            createdAtMs=1_700_000_000_000 + id,
            aspectRatio=1.5,
            qualityTier=2,
        )

    def getPins(self, ids: list[int], includeEmbeddings: bool) -> Any:
        pins = {i: self.getPin(i) for i in ids if i < 2000}
        return self.mod.GetPinsResponse(pins=pins, missing={i for i in ids if i >= 2000})


@pytest.fixture(scope="module")
def upstream(apache: dict[str, ModuleType]) -> Iterator[tuple[int, Handler]]:
    types_mod = __import__("homefeed.types.ttypes", fromlist=["ttypes"])
    handler = Handler(types_mod)
    handler.mod = apache["pinstore_ttypes"]  # type: ignore[attr-defined]
    processor = apache["pinstore"].Processor(handler)
    port = free_port()
    server = TServer.TThreadedServer(
        processor,
        TSocket.TServerSocket("127.0.0.1", port),
        TTransport.TBufferedTransportFactory(),
        TBinaryProtocol.TBinaryProtocolAcceleratedFactory(),
        daemon=True,
    )
    threading.Thread(target=server.serve, daemon=True).start()

    def probe() -> bool:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True

    wait_until(probe, 10, "Apache Thrift server")
    yield port, handler


def client(apache: dict[str, ModuleType], port: int, compact: bool = False) -> tuple[Any, Any]:
    sock = TSocket.TSocket("127.0.0.1", port)
    trans = TTransport.TBufferedTransport(sock)
    proto = TCompactProtocol.TCompactProtocol(trans) if compact else TBinaryProtocol.TBinaryProtocol(trans)
    trans.open()
    return apache["pinstore"].Client(proto), trans


def calls(c: Any, t: ModuleType) -> list[Any]:
    """The same calls against any server; returns what came back (answers or exception reprs)."""
    out: list[Any] = []
    for pid in (1001, 1002, 2001, 1001):
        try:
            out.append(c.getPin(pid))
        except t.PinNotFound as exc:
            out.append(("PinNotFound", exc.id, exc.message))
    out.append(c.getPins([1003, 2002], False))
    out.append(c.version())
    try:
        c.getPin(2500)
    except TApplicationException as exc:
        out.append(("app_error", exc.type))
    out.append(c.getPin(1002))  # the connection survives the application error
    return out


def test_record_then_replay_through_the_fake(
    apache: dict[str, ModuleType], upstream: tuple[int, Handler], tmp_path: Path
) -> None:
    port, handler = upstream
    t = __import__("homefeed.types.ttypes", fromlist=["ttypes"])
    direct_c, direct_t = client(apache, port)
    expected = calls(direct_c, t)
    direct_t.close()
    out = tmp_path / "snap"
    proxy = RecordingProxy(
        RecordConfig(
            upstream=("127.0.0.1", port),
            idl=IDL / "pinstore.thrift",
            service="PinStore",
            out=out,
            include_dirs=(IDL,),
        )
    ).start()
    c, trans = client(apache, proxy.port)
    through_proxy = calls(c, t)
    trans.close()
    root = proxy.stop()
    assert through_proxy == expected
    assert proxy.calls == 8
    snap = open_snapshot(root, verify_checksums=True)
    recs = [r for _, _, r in iter_recordings(snap, "pinstore")]
    assert [r["method"] for r in recs] == ["getPin"] * 4 + ["getPins", "version", "getPin", "getPin"]
    assert recs[2]["reply"] == {"raise": {"PinNotFound": {"id": 2001, "message": "no pin 2001"}}}
    assert recs[6]["reply"]["app_error"]["type"] == 6
    assert all(r["latency_ms"] >= 0 for r in recs)
    assert set(latency_profile(recs)) == {"getPin", "getPins", "version"}

    calls_before = handler.calls
    fake = ThriftFake(
        ThriftConfig(
            idl=IDL / "pinstore.thrift",
            services=("PinStore",),
            name="pinstore",
            include_dirs=(IDL,),
            strict=True,
        )
    )
    fake.start()
    try:
        fake.load(root)
        fc, ft = client(apache, fake.endpoint.port)
        replayed = calls(fc, t)
        ft.close()
    finally:
        fake.stop()
    assert handler.calls == calls_before  # the fake answered, not the real service
    assert replayed == expected


def test_invalid_recording_refused_and_fake_keeps_its_stubs(
    apache: dict[str, ModuleType], upstream: tuple[int, Handler], tmp_path: Path
) -> None:
    port, _ = upstream
    out = tmp_path / "snap"
    proxy = RecordingProxy(
        RecordConfig(
            upstream=("127.0.0.1", port),
            idl=IDL / "pinstore.thrift",
            service="PinStore",
            out=out,
            include_dirs=(IDL,),
        )
    ).start()
    c, trans = client(apache, proxy.port)
    good = c.getPin(1005)
    trans.close()
    root = proxy.stop()
    fake = ThriftFake(
        ThriftConfig(
            idl=IDL / "pinstore.thrift",
            services=("PinStore",),
            name="pinstore",
            include_dirs=(IDL,),
            strict=True,
        )
    )
    fake.start()
    try:
        fake.load(root)
        bad = tmp_path / "bad"
        import shutil

        shutil.copytree(root, bad)
        rel = "thrift/pinstore/recordings.jsonl"
        text = (bad / rel).read_text().replace('"title":"real pin 1005"', '"title":12345')
        from tests.snapshot.test_reader_verify import _rewrite

        _rewrite(bad, rel, text, fix_checksum=True)
        with pytest.raises(SnapshotError, match=r"recordings\.jsonl:1"):
            fake.load(bad)
        fc, ft = client(apache, fake.endpoint.port)
        assert fc.getPin(1005) == good
        ft.close()
    finally:
        fake.stop()


def test_compact_framed_proxy(apache: dict[str, ModuleType], tmp_path: Path) -> None:
    """Upstream here is the simdb fake itself (compact, framed): the proxy speaks what it is told."""
    fake = ThriftFake(
        ThriftConfig(
            idl=IDL / "pinstore.thrift",
            services=("PinStore",),
            name="pinstore",
            include_dirs=(IDL,),
            protocol="compact",
            transport="framed",
            seed=3,
        )
    )
    ep = fake.start()
    try:
        proxy = RecordingProxy(
            RecordConfig(
                upstream=("127.0.0.1", ep.port),
                idl=IDL / "pinstore.thrift",
                service="PinStore",
                out=tmp_path / "s",
                include_dirs=(IDL,),
                protocol="compact",
                transport="framed",
            )
        ).start()
        sock = TSocket.TSocket("127.0.0.1", proxy.port)
        trans = TTransport.TFramedTransport(sock)
        trans.open()
        c = apache["pinstore"].Client(TCompactProtocol.TCompactProtocol(trans))
        pin = c.getPin(42)
        trans.close()
        root = proxy.stop()
    finally:
        fake.stop()
    recs = [r for _, _, r in iter_recordings(open_snapshot(root), "pinstore")]
    assert recs[0]["args"] == {"id": 42} and recs[0]["reply"]["return"]["id"] == pin.id


def test_parse_hostport() -> None:
    assert parse_hostport("db:9090") == ("db", 9090)
    assert parse_hostport("9090") == ("127.0.0.1", 9090)


def test_record_command_end_to_end(tmp_path: Path) -> None:
    import subprocess
    import sys

    import yaml
    from thriftpy2.rpc import make_client

    from simdb.thrift.idl import load_idl

    fake = ThriftFake(
        ThriftConfig(
            idl=IDL / "pinstore.thrift", services=("PinStore",), name="pinstore", include_dirs=(IDL,), seed=5
        )
    )
    ep = fake.start()
    port = free_port()
    simdb = str(Path(sys.executable).with_name("simdb"))
    proc = subprocess.Popen(
        [
            simdb,
            "thrift",
            "record",
            "--upstream",
            f"127.0.0.1:{ep.port}",
            "--listen",
            str(port),
            "--idl",
            str(IDL / "pinstore.thrift"),
            "--include-dir",
            str(IDL),
            "--service",
            "PinStore",
            "--out",
            str(tmp_path / "snap"),
            "--max-calls",
            "2",
            "--faults-out",
            str(tmp_path / "faults.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "recording PinStore calls" in proc.stdout.readline()
        client = make_client(
            load_idl(IDL / "pinstore.thrift", [IDL]).PinStore, "127.0.0.1", port, timeout=5000
        )
        first = client.getPin(7)
        client.getPin(8)
        client.close()
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.stop()
    recs = [
        r for _, _, r in iter_recordings(open_snapshot(tmp_path / "snap", verify_checksums=True), "pinstore")
    ]
    assert [r["args"]["id"] for r in recs] == [7, 8]
    assert recs[0]["reply"]["return"]["title"] == first.title
    faults = yaml.safe_load((tmp_path / "faults.yaml").read_text())
    assert set(faults["faults"]["getPin"]) == {"p50_ms", "p99_ms"}
