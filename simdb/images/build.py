"""``simdb images build``: the fake-only image and the real-engines image, from a host-built wheelhouse."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import simdb
from simdb.errors import ConfigError, SimdbError
from simdb.images.engine import docker_client
from simdb.images.wheelhouse import (
    build_wheelhouse,
    download,
    locked,
    missing_requirement,
    source_root,
    wheelhouse_dir,
)

Variant = Literal["fake", "real"]
DEFAULT_BASE = "python:3.11-slim-bookworm"
SOURCE_URL = "https://github.com/simdb/simdb"


class ImageBuildError(SimdbError):
    """``docker build`` failed; the message ends with the build's last lines."""


@dataclass(frozen=True)
class BuildOptions:
    """What to build: ``variant`` on ``base``, tagged ``tag``, with ``snapshot`` baked in if given."""

    variant: Variant = "fake"
    base: str = DEFAULT_BASE
    tag: str = ""
    snapshot: Path | None = None

    def image_tag(self) -> str:
        """``tag``, else ``simdb:VERSION`` / ``simdb-real:VERSION``."""
        if self.tag:
            return self.tag
        name = "simdb" if self.variant == "fake" else "simdb-real"
        return f"{name}:{simdb.__version__}"


@dataclass(frozen=True)
class Built:
    """A built image: its tag, id and size in bytes."""

    tag: str
    image_id: str
    size: int


def images_dir() -> Path:
    """The directory holding simdb's Dockerfiles (the checkout's ``images/``, else the packaged copy)."""
    root = source_root()
    if root is not None and (root / "images" / "Dockerfile").is_file():
        return root / "images"
    packaged = Path(str(resources.files("simdb") / "_images"))
    if (packaged / "Dockerfile").is_file():
        return packaged
    raise ConfigError("simdb's Dockerfiles are missing from this installation (images/Dockerfile)")


def _revision() -> str:
    root = source_root()
    if root is None:
        return "unknown"
    proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else "unknown"


def base_python(client: Any, base: str) -> str:
    """The ``MAJOR.MINOR.MICRO`` of ``python3`` in the base image (pulled if missing)."""
    import docker.errors

    try:
        out = client.containers.run(
            base,
            ["python3", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            entrypoint=[],
            remove=True,
            network_mode="none",
        )
    except docker.errors.ImageNotFound as exc:
        raise ConfigError(
            f"base image {base!r} is not available: pull it, or make one with scripts/make-offline-base.sh"
        ) from exc
    except docker.errors.DockerException as exc:
        raise ConfigError(f"base image {base!r} has no usable python3: {exc}") from exc
    return str(out.decode().strip())


def complete_wheelhouse(client: Any, base: str, wheels: Path, python_version: str) -> None:
    """Install simdb from ``wheels`` in a throw-away ``base`` container (no network) and add what pip
    says is missing, until nothing is. pip evaluates environment markers on the host, so a dependency
    that only the base's Python needs (``python_full_version < "3.11.3"``) is found this way."""
    import docker.errors

    script = (
        "python3 -m venv /tmp/v && /tmp/v/bin/pip install -q --disable-pip-version-check --no-index "
        "--find-links /wheels --dry-run simdb"
    )
    for _ in range(10):
        try:
            client.containers.run(
                base,
                ["sh", "-c", script],
                entrypoint=[],
                remove=True,
                network_mode="none",
                volumes={str(wheels): {"bind": "/wheels", "mode": "ro"}},
                stderr=True,
            )
            return
        except docker.errors.ContainerError as exc:
            output = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc)
            needed = missing_requirement(output)
            if needed is None:
                raise ImageBuildError(f"simdb does not install in {base}:\n{output[-2000:]}") from exc
            download([needed], python_version, wheels)
    raise ImageBuildError(f"the wheelhouse for {base} is still incomplete after 10 rounds")


def _docker_build(client: Any, context: Path, dockerfile: str, tag: str, args: dict[str, str]) -> Built:
    import docker.errors

    try:
        image, _ = client.images.build(
            path=str(context),
            dockerfile=dockerfile,
            tag=tag,
            buildargs=args,
            network_mode="host",
            rm=True,
            forcerm=True,
        )
    except docker.errors.BuildError as exc:
        lines = [str(chunk.get("stream", chunk.get("error", ""))).rstrip() for chunk in exc.build_log]
        tail = "\n".join(line for line in lines if line)[-2000:]
        raise ImageBuildError(f"docker build of {tag} failed: {exc.msg}\n{tail}") from exc
    except docker.errors.APIError as exc:
        raise ImageBuildError(f"docker build of {tag} failed: {exc}") from exc
    return Built(tag, str(image.id), int(image.attrs.get("Size", 0)))


def build_image(options: BuildOptions, say: Callable[[str], None] = lambda _: None) -> Built:
    """Build the image ``options`` describes; the real variant builds the fake one first."""
    client = docker_client()
    if options.snapshot is not None and not (options.snapshot / "snapshot.yaml").is_file():
        raise ConfigError(f"--snapshot {options.snapshot}: not a snapshot directory (no snapshot.yaml)")
    fake_options = BuildOptions(
        "fake", options.base, options.tag if options.variant == "fake" else "", options.snapshot
    )
    say(f"checking python3 in {options.base}")
    version = base_python(client, options.base)
    say(f"gathering wheels for Python {version}")
    common = {"VERSION": simdb.__version__, "REVISION": _revision(), "SOURCE": SOURCE_URL}
    with tempfile.TemporaryDirectory(prefix="simdb-image-") as tmp:
        context = Path(tmp)
        with locked(wheelhouse_dir(version)):
            wheels = build_wheelhouse(version)
            complete_wheelhouse(client, options.base, wheels, version)
            shutil.copytree(wheels, context / "wheelhouse", ignore=shutil.ignore_patterns(".lock"))
        if options.snapshot is not None:
            shutil.copytree(options.snapshot, context / "snapshot")
        else:
            (context / "snapshot").mkdir()
        for name in ("Dockerfile", "Dockerfile.real"):
            shutil.copy(images_dir() / name, context / name)
        say(f"building {fake_options.image_tag()}")
        built = _docker_build(
            client, context, "Dockerfile", fake_options.image_tag(), {"BASE": options.base, **common}
        )
        if options.variant == "fake":
            return built
        say(f"building {options.image_tag()}")
        return _docker_build(
            client, context, "Dockerfile.real", options.image_tag(), {"SIMDB_IMAGE": built.tag, **common}
        )


def image_size(tag: str) -> int:
    """The size in bytes of a local image."""
    return int(docker_client().images.get(tag).attrs.get("Size", 0))
