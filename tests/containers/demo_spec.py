"""The demo home-feed stack file (examples/homefeed/simdb.yaml) as container specs, under a test's name."""

from __future__ import annotations

from pathlib import Path

from simdb.containers.from_stack import container_stack
from simdb.containers.spec import StackSpec
from simdb.stack.load import Stack, load_stack

REPO = Path(__file__).resolve().parents[2]
DEMO_FILE = REPO / "examples" / "homefeed" / "simdb.yaml"
THRIFT = {"pinstore": "PinStore", "usergraph": "UserGraph", "candidates": "CandidateGenerator",
          "ranker": "Ranker"}


def demo_stack(image: str, name: str = "simdbtest", snapshot: Path | None = None) -> StackSpec:
    """The containers ``simdb up --docker`` runs for the demo stack file (bindings included), named
    ``name``; ``snapshot`` replaces the stack's snapshot (a broken one, for failure tests)."""
    stack = load_stack(DEMO_FILE)
    update: dict[str, object] = {"name": name}
    if snapshot is not None:
        update["snapshot"] = snapshot
    renamed = Stack(stack.spec.model_copy(update=update), stack.path, stack.bases, stack.binding_origins)
    return container_stack(renamed, image)
