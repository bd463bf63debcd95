"""The example home-feed service (examples/homefeed-service) run against the demo stack, and what the
snapshot says its answers must be. Shared by the embedded and the Docker end-to-end tests."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SERVICE_DIR = REPO / "examples" / "homefeed-service"
SEEDS = REPO / "seeds" / "homefeed"
IDL = REPO / "thrift" / "homefeed"


def render_config(
    endpoints: dict[str, tuple[str, int]],
    listen_port: int,
    idl_dir: Path | str,
    listen_host: str = "127.0.0.1",
) -> str:
    """The service's config file for ``endpoints`` (fake name -> host, port), via the shipped template."""
    import jinja2

    template = jinja2.Template((SERVICE_DIR / "service.yaml.j2").read_text())
    eps = {name: {"host": host, "port": port} for name, (host, port) in endpoints.items()}
    return template.render(
        endpoints=eps, listen_host=listen_host, listen_port=listen_port, idl_dir=str(idl_dir)
    )


def apache_client_modules(thrift: str, out: Path) -> tuple[ModuleType, ModuleType]:
    """Apache-generated Python code (Debian's ``thrift --gen py``) for HomeFeedService: (service, ttypes)."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [thrift, "-r", "--gen", "py", "-I", str(IDL), "-out", str(out),
         str(SERVICE_DIR / "idl" / "homefeed.thrift")],
        check=True, capture_output=True, timeout=120,
    )
    # The generated code includes the demo's ``homefeed.types`` package; the interop tests import their own
    # ``homefeed`` package (all services) later, so ours must not stay in sys.modules or on sys.path.
    before = set(sys.modules)
    sys.path.insert(0, str(out))
    try:
        return (importlib.import_module("homefeedsvc.HomeFeedService"),
                importlib.import_module("homefeedsvc.ttypes"))
    finally:
        sys.path.remove(str(out))
        for name in [m for m in set(sys.modules) - before if m == "homefeed" or m.startswith("homefeed.")]:
            del sys.modules[name]


def call_home_feed(service: ModuleType, host: str, port: int, user_id: int, count: int) -> Any:
    """``getHomeFeed`` through the official Apache Thrift library (binary protocol, buffered)."""
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport

    sock = TSocket.TSocket(host, port)
    sock.setTimeout(20_000)
    transport = TTransport.TBufferedTransport(sock)
    client = service.Client(TBinaryProtocol.TBinaryProtocol(transport))
    transport.open()
    try:
        return client.getHomeFeed(user_id, count)
    finally:
        transport.close()


def snapshot_rows(table: str) -> list[dict[str, Any]]:
    path = SEEDS / "sql" / "db" / "tables" / f"{table}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def snapshot_redis() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted((SEEDS / "redis" / "cache").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            out[record["key"]] = record
    return out


def expected_followees(user_id: int) -> list[int]:
    """``followees:<uid>`` from the snapshot, highest score first (ZREVRANGE order)."""
    record = snapshot_redis()[f"followees:{user_id}"]
    pairs = [(float(score), str(member)) for member, score in record["value"]]
    return [int(member) for _, member in sorted(pairs, reverse=True)]


def check_feed(feed: Any, user_id: int, count: int) -> None:
    """Every item of ``feed`` agrees with the snapshot: titles and image URLs are the pins table's rows,
    followees are the Redis sorted set, no item repeats, at most ``count`` items."""
    pins = {int(row["id"]): row for row in snapshot_rows("pins")}
    board_owner = {int(row["id"]): int(row["owner_id"]) for row in snapshot_rows("boards")}
    assert feed.userId == user_id
    assert list(feed.followees) == expected_followees(user_id)
    assert len(feed.items) <= count
    ids = [item.pinId for item in feed.items]
    assert len(set(ids)) == len(ids)
    for item in feed.items:
        assert item.pinId in pins, item
        assert (item.title, item.imageUrl) == (pins[item.pinId]["title"], pins[item.pinId]["image_url"])
        # a candidate is a pin on a board of someone the user follows (the stack answers from its data)
        assert board_owner[int(pins[item.pinId]["board_id"])] in feed.followees, item
