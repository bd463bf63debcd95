"""``up --docker`` for the demo stack against plain containers of the same dependencies.

simdb: the demo stack's six fakes as containers of simdb's image (DockerStack.up: network, containers,
snapshot loaded, each probed over its own protocol from the host).
Baseline: the same six dependencies as plain containers: ``redis-server`` and MariaDB (``mariadb-install-db``
then ``mariadbd``) from the real-engine image, and the four Thrift fakes from simdb's image, each waited on
the way Testcontainers does (probe until ready). Images are built before timing starts.
Target (issue 9): Docker stack ready in under 5 s, and faster than the baseline.

    .venv/bin/python bench/stack.py --docker [--base IMAGE] [--runs N]   (or this file directly)
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simdb.containers.run import DockerStack  # noqa: E402
from simdb.images.build import BuildOptions, build_image  # noqa: E402
from simdb.images.engine import docker_client  # noqa: E402
from simdb.probe import ProbeError, probe  # noqa: E402
from tests.containers.demo_spec import THRIFT, demo_stack  # noqa: E402

TARGET_S = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe(url, timeout=1)
            return
        except ProbeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def baseline(client: Any, fake_image: str, real_image: str) -> float:
    """Plain containers started at once, probed until ready, then seeded from the host as a Testcontainers
    test would (the snapshot's Redis and SQL parts loaded over the wire; the Thrift fakes load the
    snapshot's stubs themselves); returns seconds to all-ready-and-seeded."""
    import pymysql

    from simdb.snapshot.load import load_all

    idl = str(REPO / "thrift" / "homefeed")
    seeds = str(REPO / "seeds" / "homefeed")
    started: list[Any] = []
    t0 = time.perf_counter()
    try:
        urls = []
        port = free_port()
        started.append(client.containers.run(
            real_image, ["redis-server", "--port", "6379", "--save", "", "--protected-mode", "no"],
            entrypoint=[], detach=True,
            ports={"6379/tcp": ("127.0.0.1", port)},
        ))
        urls.append(f"redis://127.0.0.1:{port}/0")
        port = free_port()
        mariadb = (
            "mariadb-install-db --no-defaults --user=10001 --datadir=/tmp/db --skip-test-db "
            "--auth-root-authentication-method=normal >/dev/null && printf \"CREATE USER 'root'@'%%';\\n"
            "GRANT ALL ON *.* TO 'root'@'%%';\\n\" > /tmp/init.sql && exec mariadbd --no-defaults "
            "--init-file=/tmp/init.sql "
            "--datadir=/tmp/db --socket=/tmp/db.sock --port=3306 --bind-address=0.0.0.0 --skip-log-bin "
            "--innodb-buffer-pool-size=64M --innodb-log-file-size=16M"
        )
        started.append(client.containers.run(real_image, ["sh", "-c", mariadb], entrypoint=[], detach=True,
                                             ports={"3306/tcp": ("127.0.0.1", port)}))
        urls.append(f"mysql://root@127.0.0.1:{port}/")
        for fake, service in THRIFT.items():
            port = free_port()
            started.append(client.containers.run(
                fake_image,
                ["thrift", "serve", f"/idl/{fake}.thrift", "--service", service, "-I", "/idl", "--host",
                 "0.0.0.0", "--port", "9090", "--name", fake, "--snapshot", "/snapshot"],
                detach=True, ports={"9090/tcp": ("127.0.0.1", port)},
                volumes={idl: {"bind": "/idl", "mode": "ro"}, seeds: {"bind": "/snapshot", "mode": "ro"}},
            ))
            urls.append(f"thrift://127.0.0.1:{port}")
        for url in urls:
            wait(url)
        redis_url, mysql_url = urls[0], urls[1]
        host_port = mysql_url.split("@", 1)[1].rstrip("/")
        conn = pymysql.connect(host="127.0.0.1", port=int(host_port.split(":")[1]), user="root")
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE homefeed")
        conn.close()
        load_all(Path(seeds), {}, {"cache": redis_url}, {"db": f"mysql+pymysql://root@{host_port}/homefeed"})
        return time.perf_counter() - t0
    finally:
        for container in started:
            container.remove(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="simdb-base:bookworm")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    subprocess.run(["bash", str(REPO / "scripts" / "make-offline-base.sh"), args.base], check=True)
    client = docker_client()
    fake = build_image(BuildOptions("fake", args.base, "simdb-bench:fake"))
    real = build_image(BuildOptions("real", args.base, "simdb-bench:real"))
    ours, theirs = [], []
    for _ in range(args.runs):
        stack = DockerStack(demo_stack(fake.tag, name="simdbbench"), client)
        t0 = time.perf_counter()
        try:
            stack.up(timeout=120)
            ours.append(time.perf_counter() - t0)
        finally:
            stack.down()
        theirs.append(baseline(client, fake.tag, real.tag))
    simdb_s, plain_s = statistics.median(ours), statistics.median(theirs)
    print(f"simdb up --docker (demo stack, 6 fakes, seeded): median {simdb_s:.2f} s of {args.runs} "
          f"({', '.join(f'{x:.2f}' for x in ours)})")
    print(f"baseline plain containers (redis-server, MariaDB, 4 thrift fakes; seeded from the host): "
          f"median {plain_s:.2f} s ({', '.join(f'{x:.2f}' for x in theirs)})")
    verdict = "met" if plain_s > simdb_s else "MISSED"
    print(f"ratio baseline/simdb: {plain_s / simdb_s:.2f} (target > 1: {verdict})")
    print(f"target under {TARGET_S:.0f} s: {'met' if simdb_s < TARGET_S else 'MISSED'}")
    base = int(client.images.get(args.base).attrs.get("Size", 0))
    extra = (fake.size - base) / 1e6
    print(f"image sizes: base {base / 1e6:.1f} MB, fake-only {fake.size / 1e6:.1f} MB (+{extra:.1f} MB over"
          f" the base; target <= 60 MB: {'met' if extra <= 60 else 'MISSED'}),"
          f" real-engine {real.size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
