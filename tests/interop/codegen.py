"""Code generation for the interop tests and the Thrift benchmark (no pytest in here).

Runs Debian's ``thrift`` compiler on the demo IDLs into a directory, compiles the
Java client against Debian's libthrift-java, and installs the npm ``thrift``
package for the Node.js client.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
HOMEFEED = REPO / "thrift" / "homefeed"
INTEROP = Path(__file__).resolve().parent
NODE_DIR = INTEROP / "node"
JAVA_SRC = INTEROP / "java"
#: Compiled Java classes are cached here (git-ignored).
JAVA_CACHE = REPO / "build" / "interop-java"

#: IDL file -> service name, for every demo service.
SERVICES: dict[str, str] = {
    "pinstore": "PinStore",
    "usergraph": "UserGraph",
    "candidates": "CandidateGenerator",
    "ranker": "Ranker",
}

#: Jars the generated Java code and the client need, all from Debian packages
#: (libthrift-java and its Depends: libslf4j-java, libgeronimo-annotation-1.3-spec-java).
JAVA_JARS = (
    "/usr/share/java/thrift.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-nop.jar",
    "/usr/share/java/geronimo-annotation-1.3-spec.jar",
)


def run(cmd: list[str], cwd: Path | None = None, timeout: float = 300) -> None:
    """Run ``cmd``; raise with its output when it fails."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def generate(thrift: str, out: Path, lang: str) -> Path:
    """``thrift -r --gen <lang>`` for every demo service IDL; returns the output directory."""
    out.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        run(
            [
                thrift,
                "-r",
                "--gen",
                lang,
                "-I",
                str(HOMEFEED),
                "-out",
                str(out),
                str(HOMEFEED / f"{name}.thrift"),
            ]
        )
    return out


def import_gen_py(gen_py: Path) -> dict[str, ModuleType]:
    """Import the Apache-generated Python modules: service modules by IDL name, plus ``types``."""
    if str(gen_py) not in sys.path:
        sys.path.insert(0, str(gen_py))
    mods: dict[str, ModuleType] = {}
    for name, service in SERVICES.items():
        mods[name] = importlib.import_module(f"homefeed.{name}.{service}")
        mods[f"{name}_ttypes"] = importlib.import_module(f"homefeed.{name}.ttypes")
    mods["types"] = importlib.import_module("homefeed.types.ttypes")
    mods["base"] = importlib.import_module("homefeed.base.BaseService")
    return mods


def java_classpath(extra: Path) -> str:
    """Classpath for compiling and running the Java client."""
    return os.pathsep.join([*JAVA_JARS, str(extra)])


def compile_java(gen_java: Path, cache: Path) -> str:
    """Compile the generated Java code and the interop client; returns the run classpath.

    javac is slow on a busy machine, so the classes are cached under ``cache`` by a hash of
    every source file (generated and hand-written) and of the jars; any change recompiles.
    """
    sources = sorted(gen_java.rglob("*.java")) + sorted(JAVA_SRC.glob("*.java"))
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for jar in JAVA_JARS:
        digest.update(str(Path(jar).resolve()).encode())
    classes = cache / f"classes-{digest.hexdigest()[:16]}"
    if not (classes / "InteropClient.class").exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="tmp-classes-", dir=cache))
        files = [str(p) for p in sources]
        run(["javac", "-nowarn", "-encoding", "UTF-8", "-d", str(tmp), "-cp", java_classpath(tmp), *files])
        try:
            tmp.rename(classes)
        except OSError:  # another session compiled the same sources at the same time
            shutil.rmtree(tmp, ignore_errors=True)
    return java_classpath(classes)


def ensure_node_modules(npm: str) -> Path:
    """Install the npm ``thrift`` package from the committed lock file when missing."""
    if not (NODE_DIR / "node_modules" / "thrift" / "package.json").exists():
        run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR)
    return NODE_DIR / "node_modules"


def missing_java_jars() -> list[str]:
    """Jars from JAVA_JARS that are not installed."""
    return [jar for jar in JAVA_JARS if not Path(jar).exists()]


def which(name: str) -> str | None:
    """``shutil.which`` (re-exported so callers need one import)."""
    return shutil.which(name)
