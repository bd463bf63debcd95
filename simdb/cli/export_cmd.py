"""``simdb compose export`` and ``simdb k8s export``: a stack file as Compose or Kubernetes manifests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from simdb.containers.spec import StackSpec

compose_app = typer.Typer(
    help="Export a stack as docker-compose.yml.\n\nExample:\n\n  simdb compose export -f simdb.yaml -o .",
    no_args_is_help=True,
)
k8s_app = typer.Typer(
    help="Export a stack as Kubernetes manifests.\n\nExample:\n\n  simdb k8s export -f simdb.yaml -o k8s/",
    no_args_is_help=True,
)

FILE = typer.Option(None, "--file", "-f", help="Stack file [default: ./simdb.yaml].")
IMAGE = typer.Option("", "--image", help="simdb's image [default: simdb:VERSION].")


def _containers(file: Path | None, image: str) -> StackSpec:
    from simdb.containers.from_stack import DEFAULT_IMAGE, container_stack
    from simdb.errors import SimdbError
    from simdb.stack.load import check_files, load_stack

    try:
        stack = load_stack(file)
        check_files(stack)
        return container_stack(stack, image or DEFAULT_IMAGE)
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@compose_app.command("export")
def compose_export(
    file: Path | None = FILE,
    out: Path = typer.Option(
        Path("."), "--output", "-o", help="A file, or a directory for docker-compose.yml."
    ),
    image: str = IMAGE,
) -> None:
    """Write docker-compose.yml for the stack (ports on 127.0.0.1, health checks, read-only mounts)."""
    from simdb.containers.compose import write_compose

    path = write_compose(_containers(file, image), out)
    typer.echo(f"wrote {path}; run it with: docker-compose -f {path} up -d")


@k8s_app.command("export")
def k8s_export(
    file: Path | None = FILE,
    out: Path = typer.Option(..., "--output", "-o", help="Directory for the manifests."),
    image: str = IMAGE,
    mounts_in_image: bool = typer.Option(
        False, "--mounts-in-image", help="Snapshot and IDL are baked into the image (no ConfigMaps)."
    ),
) -> None:
    """Write a Namespace, and a Deployment and Service per fake; apply with: kubectl apply -f DIR"""
    from simdb.containers.k8s import write_manifests
    from simdb.errors import SimdbError

    try:
        files = write_manifests(_containers(file, image), out, mounts_in_image)
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {len(files)} manifests to {out}; apply with: kubectl apply -f {out}")
