"""``simdb images``: build simdb's container images."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help=(
        "Build simdb's container images (fake-only, or with the real redis-server and MariaDB).\n\n"
        "Examples:\n\n"
        "  simdb images build\n\n"
        "  simdb images build --base simdb-base:bookworm --variant real\n\n"
        "  simdb images build --snapshot seeds/homefeed --tag homefeed-fakes:dev"
    ),
    no_args_is_help=True,
)


@app.command("build")
def build(
    base: str = typer.Option("python:3.11-slim-bookworm", "--base", help="Base image with python3 and venv."),
    tag: str = typer.Option("", "--tag", help="Image tag (default simdb:VERSION / simdb-real:VERSION)."),
    variant: str = typer.Option("fake", "--variant", help="fake, or real (adds the servers)."),
    snapshot: Path | None = typer.Option(None, "--snapshot", help="Snapshot baked in at /snapshot."),
) -> None:
    """Build an image from a wheelhouse made on this host (no network needed inside the build)."""
    from simdb.errors import SimdbError
    from simdb.images.build import BuildOptions, build_image

    if variant not in ("fake", "real"):
        raise typer.BadParameter("must be 'fake' or 'real'", param_hint="--variant")
    options = BuildOptions(variant, base, tag, snapshot)  # type: ignore[arg-type]
    try:
        built = build_image(options, say=lambda line: typer.echo(line, err=True))
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"built {built.tag} ({built.size / 1e6:.1f} MB)")
