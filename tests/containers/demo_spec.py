"""The demo home-feed stack as container specs (six fakes from thrift/homefeed and seeds/homefeed)."""

from __future__ import annotations

from pathlib import Path

from simdb.containers.spec import ContainerSpec, StackSpec

REPO = Path(__file__).resolve().parents[2]
THRIFT = {"pinstore": "PinStore", "usergraph": "UserGraph", "candidates": "CandidateGenerator",
          "ranker": "Ranker"}


def demo_stack(image: str, name: str = "simdbtest", snapshot: str = "/snapshot") -> StackSpec:
    mounts = ((REPO / "seeds" / "homefeed", "/snapshot"), (REPO / "thrift" / "homefeed", "/idl"))
    fakes = [
        ContainerSpec(
            fake, "thrift", image,
            ("thrift", "serve", f"/idl/{fake}.thrift", "--service", service, "-I", "/idl", "--name", fake,
             "--host", "0.0.0.0", "--port", "9090", "--snapshot", snapshot),
            9090, "thrift://{host}:{port}", mounts=mounts,
        )
        for fake, service in THRIFT.items()
    ]
    fakes.append(ContainerSpec(
        "cache", "redis", image,
        ("redis", "serve", "--host", "0.0.0.0", "--port", "6379", "--snapshot", snapshot),
        6379, "redis://{host}:{port}/0", mounts=mounts,
    ))
    fakes.append(ContainerSpec(
        "db", "mysql", image,
        ("mysql", "serve", "--host", "0.0.0.0", "--port", "3306", "--snapshot", snapshot, "--database",
         "homefeed"),
        3306, "mysql://root@{host}:{port}/homefeed", mounts=mounts,
    ))
    return StackSpec(name, tuple(fakes))
