"""Read a stack file: YAML, ``extends:`` merging, and errors naming file, key path and problem.

Relative paths resolve against the directory of the file that declares them, so a team-wide
base file can live anywhere. Every error is a :class:`simdb.errors.ConfigError` whose message
starts with ``FILE: KEY.PATH: problem``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simdb.errors import ConfigError
from simdb.stack.model import KINDS, StackSpec, part_of

DEFAULT_FILE = "simdb.yaml"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_MAX_EXTENDS = 10


class Stack:
    """A validated stack: its spec, the file it came from and the files it extends."""

    def __init__(
        self,
        spec: StackSpec,
        path: Path,
        bases: Sequence[Path] = (),
        binding_origins: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.spec = spec
        self.path = path
        self.bases = tuple(bases)
        self.binding_origins = dict(binding_origins or {})
        """``(fake, method)`` -> ``FILE: KEY`` where the binding was declared (for error messages)."""

    @property
    def name(self) -> str:
        """The stack's name."""
        return self.spec.name

    def where(self, key: str) -> str:
        """``FILE: KEY`` for error messages."""
        return f"{self.path}: {key}"


def find_stack_file(file: Path | None) -> Path:
    """``file`` or ``./simdb.yaml``; a ConfigError if it does not exist."""
    path = file if file is not None else Path.cwd() / DEFAULT_FILE
    if not path.is_file():
        hint = (
            "" if file is not None else " (name one with -f FILE, or write the demo stack here: simdb init)"
        )
        raise ConfigError(f"{path}: stack file not found{hint}")
    return path.resolve()


def _key(path: Sequence[object]) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: (top level): a stack file is a mapping, got {type(raw).__name__}")
    return raw


def _unknown_keys(raw: Any, model: type[BaseModel], path: tuple[object, ...]) -> Iterator[str]:
    """``KEY.PATH: unknown key 'x' (did you mean 'y'?)`` for every key ``model`` does not take."""
    if not isinstance(raw, dict):
        return
    fields = model.model_fields
    for key, value in raw.items():
        if key == "extends" and not path:
            continue
        if key not in fields:
            valid = sorted(fields) + ([] if path else ["extends"])
            close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (valid keys: {', '.join(valid)})"
            yield f"{_key((*path, key))}: unknown key {key!r}{hint}"
            continue
        sub = _submodel(model, str(key))
        if sub is not None:
            yield from _unknown_keys(value, sub, (*path, key))
        elif model is StackSpec and key == "fakes" and isinstance(value, dict):
            for name, fake in value.items():
                kind = fake.get("kind") if isinstance(fake, dict) else None
                if isinstance(kind, str) and kind in KINDS:
                    yield from _unknown_keys(fake, KINDS[kind], (*path, key, name))


def _submodel(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    annotation = model.model_fields[key].annotation
    candidates = getattr(annotation, "__args__", (annotation,))
    for c in candidates:
        if isinstance(c, type) and issubclass(c, BaseModel):
            return c
    return None


def _resolve_paths(raw: dict[str, Any], base: Path) -> None:
    """Make the file's relative paths absolute (against ``base``), in place."""

    def fix(value: Any) -> Any:
        return str((base / value).resolve()) if isinstance(value, str) and value else value

    if "snapshot" in raw:
        raw["snapshot"] = fix(raw["snapshot"])
    if isinstance(raw.get("bindings"), str):
        raw["bindings"] = [raw["bindings"]]
    if isinstance(raw.get("bindings"), list):
        raw["bindings"] = [fix(v) for v in raw["bindings"]]
    disc = raw.get("discovery")
    if isinstance(disc, dict) and "serverset_dir" in disc:
        disc["serverset_dir"] = fix(disc["serverset_dir"])
    fakes = raw.get("fakes")
    if isinstance(fakes, dict):
        for fake in fakes.values():
            if not isinstance(fake, dict):
                continue
            if "idl" in fake:
                fake["idl"] = fix(fake["idl"])
            for key in ("include_dirs", "stubs"):
                if isinstance(fake.get(key), list):
                    fake[key] = [fix(v) for v in fake[key]]
                elif isinstance(fake.get(key), str):
                    fake[key] = [fix(fake[key])]


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Per-key override: mappings merge recursively, anything else (lists too) is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    """The file merged over everything it extends, and the base files in order."""
    if path in seen:
        raise ConfigError(f"{path}: extends: circular ({' -> '.join(str(p) for p in (*seen, path))})")
    if len(seen) > _MAX_EXTENDS:
        raise ConfigError(f"{path}: extends: more than {_MAX_EXTENDS} levels")
    raw = _read(path)
    problems = list(_unknown_keys(raw, StackSpec, ()))
    if problems:
        raise ConfigError(f"{path}: {problems[0]}")
    _resolve_paths(raw, path.parent)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, []
    if not isinstance(parent, str) or not parent:
        raise ConfigError(f"{path}: extends: must be a file name, got {type(parent).__name__}")
    base_path = (path.parent / parent).resolve()
    if not base_path.is_file():
        raise ConfigError(f"{path}: extends: base file {base_path} not found")
    base, bases = _read_chain(base_path, (*seen, path))
    return merge(base, raw), [base_path, *bases]


def _pydantic_problem(path: Path, exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    # pydantic puts the discriminator's value into the location of a fake's fields: drop it.
    loc = list(err["loc"])
    if len(loc) > 2 and loc[0] == "fakes" and loc[2] in KINDS:
        del loc[2]
    kind = err["type"]
    given = err.get("input")
    if kind == "missing":
        problem = "required key is missing"
    elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
        problem = f"kind must be one of {', '.join(KINDS)}, got {given!r}"
    elif kind == "extra_forbidden":
        problem = f"unknown key {loc[-1]!r}"
    else:
        shown = f" (got {type(given).__name__} {given!r})" if not isinstance(given, dict | list) else ""
        problem = f"wrong type or value: {err['msg']}{shown}"
    return ConfigError(f"{path}: {_key(loc)}: {problem}")


def parse(raw: dict[str, Any], path: Path) -> StackSpec:
    """Validate a merged mapping into a :class:`StackSpec` (errors name ``path`` and the key)."""
    try:
        spec = StackSpec.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_problem(path, exc) from None
    for name in spec.fakes:
        if not _NAME.match(name):
            raise ConfigError(
                f"{path}: fakes.{name}: a fake name is letters, digits, '_' or '-', starting with a letter"
            )
    return spec


def _merge_binding_files(raw: dict[str, Any], path: Path) -> dict[tuple[str, str], str]:
    """Fold each ``bindings:`` file (fake name -> method -> binding) into the fakes' ``bindings``, in place.

    Returns where each binding was declared: ``(fake, method)`` -> ``FILE: KEY``.
    """
    declared: dict[tuple[str, str], str] = {}
    files = raw.get("bindings")
    fakes = raw.get("fakes")
    if not isinstance(fakes, dict):
        return declared
    for name, fake in fakes.items():
        if isinstance(fake, dict) and isinstance(fake.get("bindings"), dict):
            for method in fake["bindings"]:
                declared[(str(name), str(method))] = f"{path}: fakes.{name}.bindings"
    if not isinstance(files, list):
        return declared
    for i, file in enumerate(files):
        if not isinstance(file, str):
            continue  # the model reports the wrong type
        bpath = Path(file)
        if not bpath.is_file():
            raise ConfigError(f"{path}: bindings.{i}: binding file {bpath} does not exist")
        content = _read(bpath)
        for name, methods in content.items():
            fake = fakes.get(name)
            if not isinstance(fake, dict):
                close = difflib.get_close_matches(str(name), [str(n) for n in fakes], n=1, cutoff=0.5)
                hint = (
                    f" (did you mean {close[0]!r}?)" if close else f" (fakes: {', '.join(map(str, fakes))})"
                )
                raise ConfigError(f"{bpath}: {name}: no fake {name!r} in the stack {path}{hint}")
            if fake.get("kind") != "thrift":
                raise ConfigError(
                    f"{bpath}: {name}: bindings are for Thrift fakes; {name!r} is {fake.get('kind')}"
                )
            if not isinstance(methods, dict):
                raise ConfigError(
                    f"{bpath}: {name}: a mapping of method -> binding, got {type(methods).__name__}"
                )
            merged = dict(fake.get("bindings") or {})
            for method, binding in methods.items():
                other = declared.get((str(name), str(method)))
                if other is not None:
                    raise ConfigError(f"{bpath}: {name}.{method}: this method is already bound in {other}")
                declared[(str(name), str(method))] = f"{bpath}: {name}"
                merged[method] = binding
            fake["bindings"] = merged
    return declared


def load_stack(file: Path | None = None) -> Stack:
    """Read, merge and validate the stack file (shape only: see :func:`check_files`)."""
    path = find_stack_file(file)
    raw, bases = _read_chain(path)
    origins = _merge_binding_files(raw, path)
    return Stack(parse(raw, path), path, bases, origins)


def check_files(stack: Stack) -> None:
    """Checks against the file system: IDL and include dirs exist, ports unique, snapshot parts match."""
    spec, where = stack.spec, stack.where
    ports: dict[int, str] = {}
    for name, fake in spec.fakes.items():
        if fake.port:
            if fake.port in ports:
                raise ConfigError(
                    where(f"fakes.{name}.port")
                    + f": port {fake.port} is already taken by fake {ports[fake.port]!r}"
                )
            ports[fake.port] = name
        if fake.kind == "thrift":
            if not fake.idl.is_file():
                raise ConfigError(where(f"fakes.{name}.idl") + f": IDL file {fake.idl} does not exist")
            for i, inc in enumerate(fake.include_dirs):
                if not inc.is_dir():
                    raise ConfigError(
                        where(f"fakes.{name}.include_dirs.{i}") + f": include dir {inc} does not exist"
                    )
            for i, stub in enumerate(fake.stubs):
                if not stub.exists():
                    raise ConfigError(where(f"fakes.{name}.stubs.{i}") + f": stub file {stub} does not exist")
    if spec.snapshot is not None:
        check_snapshot_parts(stack)


def check_snapshot_parts(stack: Stack) -> None:
    """Every part of the snapshot is taken by a fake of its kind, and every fake finds its part."""
    from simdb.errors import SnapshotError
    from simdb.snapshot.format import read_manifest

    spec, where = stack.spec, stack.where
    assert spec.snapshot is not None
    try:
        manifest = read_manifest(spec.snapshot)
    except SnapshotError as exc:
        raise ConfigError(where("snapshot") + f": {exc}") from exc
    kinds = {"thrift": "thrift", "redis": "redis", "mysql": "sql"}
    taken = {part_of(n, f): (n, kinds[f.kind]) for n, f in spec.fakes.items()}
    parts = {name.split("/")[0]: part.kind for name, part in manifest.parts.items()}
    for part, kind in sorted(parts.items()):
        if part not in taken:
            raise ConfigError(
                where("snapshot")
                + f": part {part!r} ({kind}) of {spec.snapshot} is taken by no fake"
                + f" (fakes: {', '.join(spec.fakes)})"
            )
        fake_name, want = taken[part]
        if kind != want:
            raise ConfigError(
                where(f"fakes.{fake_name}") + f": snapshot part {part!r} is {kind}, the fake takes {want}"
            )
    for part, (fake_name, _) in taken.items():
        if part not in parts:
            raise ConfigError(
                where(f"fakes.{fake_name}")
                + f": the snapshot {spec.snapshot} has no part {part!r} for this fake"
                + f" (parts: {', '.join(sorted(parts)) or 'none'})"
            )
