"""The example home-feed service as a local process, pointed at the embedded demo stack by its config."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simdb.fake import Endpoint
from simdb.probe import ProbeError, probe
from tests.e2e.homefeed import (
    IDL,
    SERVICE_DIR,
    apache_client_modules,
    call_home_feed,
    check_feed,
    render_config,
)
from tests.fixtures.common import free_port, wait_until

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def service_port(
    demo_endpoints: dict[str, Endpoint], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    port = free_port()
    config = tmp_path_factory.mktemp("homefeed-service") / "service.yaml"
    eps = {name: (ep.host, ep.port) for name, ep in demo_endpoints.items()}
    config.write_text(render_config(eps, port, IDL))
    log = config.with_suffix(".log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(SERVICE_DIR / "service.py"), "--config", str(config)], stdout=log, stderr=log
    )

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the service exited: {Path(log.name).read_text()}")
        try:
            probe(f"thrift://127.0.0.1:{port}", timeout=1)
        except ProbeError:
            return False
        return True

    try:
        wait_until(ready, timeout=30, what="homefeed-service")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_the_feed_agrees_with_the_snapshot(service_port: int, apache_thrift: str, gen_dir: Path) -> None:
    service, _ = apache_client_modules(apache_thrift, gen_dir)
    for user_id in (1, 2, 7):
        feed = call_home_feed(service, "127.0.0.1", service_port, user_id, 5)
        check_feed(feed, user_id, 5)


def test_the_service_got_items_through_every_dependency(
    service_port: int, apache_thrift: str, gen_dir: Path
) -> None:
    service, _ = apache_client_modules(apache_thrift, gen_dir)
    feed = call_home_feed(service, "127.0.0.1", service_port, 1, 5)
    assert feed.followees, "followees come from the Redis fake"
    assert feed.items, "items need candidates, ranking and pin rows from the fakes"
