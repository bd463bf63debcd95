"""A wheelhouse of simdb and its dependencies, built on the host, so ``docker build`` needs no network."""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import simdb
from simdb.errors import SimdbError


class WheelhouseError(SimdbError):
    """pip could not gather the wheels."""


def source_root() -> Path | None:
    """The source tree simdb runs from (a checkout or an editable install), if any."""
    root = Path(simdb.__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def cache_dir() -> Path:
    """Where wheelhouses are kept between builds (``$XDG_CACHE_HOME/simdb``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simdb"


def _pip(args: list[str], what: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise WheelhouseError(f"pip could not {what}:\n{tail}")


def _platform_args() -> list[str]:
    arch = platform.machine()
    out: list[str] = []
    for tag in ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "manylinux_2_34", "linux"):
        out += ["--platform", f"{tag}_{arch}"]
    return out


def download(requirements: list[str], python_version: str, out: Path) -> None:
    """Add binary wheels of ``requirements`` (and what they need) for ``python_version`` to ``out``."""
    _pip(
        [
            "download",
            "--dest",
            str(out),
            "--only-binary=:all:",
            "--python-version",
            python_version,
            "--implementation",
            "cp",
            *_platform_args(),
            *requirements,
        ],
        f"download {' '.join(requirements)} for Python {python_version} ({platform.machine()})",
    )


def missing_requirement(pip_output: str) -> str | None:
    """The requirement pip could not find (``No matching distribution found for X; marker``), if any."""
    for line in pip_output.splitlines():
        if "No matching distribution found for " in line:
            return line.split("No matching distribution found for ", 1)[1].split(";", 1)[0].strip()
    return None


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on a wheelhouse while it is filled and copied (builds may run at once)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_wheelhouse(python_version: str, target: Path | None = None) -> Path:
    """Wheels of simdb and every dependency for CPython ``python_version`` (``"3.11.2"``: the micro
    version matters to environment markers) on this machine's architecture, in ``target`` (default: a
    cache directory per version and architecture). Call it under :func:`locked` on the same directory."""
    out = target or wheelhouse_dir(python_version)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("simdb-*.whl"):
        old.unlink()
    root = source_root()
    if root is not None:
        with tempfile.TemporaryDirectory(prefix="simdb-wheel-") as tmp:
            _pip(["wheel", "--no-deps", "--wheel-dir", tmp, str(root)], f"build the simdb wheel from {root}")
            (wheel,) = Path(tmp).glob("simdb-*.whl")
            download([str(wheel)], python_version, out)
    else:
        download([f"simdb=={simdb.__version__}"], python_version, out)
    return out


def wheelhouse_dir(python_version: str) -> Path:
    """The cached wheelhouse for CPython ``python_version`` on this architecture."""
    return cache_dir() / f"wheelhouse-cp{python_version}-{platform.machine()}"
