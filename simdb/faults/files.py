"""Reading a fault file (``--faults FILE``): YAML or JSON, a list of rules or ``{seed, rules}``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simdb.errors import ConfigError

__all__ = ["read_fault_file"]


def read_fault_file(path: Path | str) -> Any:
    """The rules in ``path`` (a top-level ``faults:`` key is accepted too); ConfigError naming the file.

    A string starting with ``[`` or ``{`` is the rules themselves, as JSON (how ``simdb up --docker``
    hands a stack's rules to a container).
    """
    import json

    import yaml

    if isinstance(path, str) and path.lstrip()[:1] in ("[", "{"):
        try:
            data = json.loads(path)
        except ValueError as exc:
            raise ConfigError(f"--faults: not valid JSON: {exc}") from None
        return _rules(data, "--faults")
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the fault file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML/JSON: {exc}") from None
    return _rules(data, str(path))


def _rules(data: Any, where: str) -> Any:
    if isinstance(data, dict) and set(data) == {"faults"}:
        data = data["faults"]
    if data is None:
        return []
    if not isinstance(data, (list, dict)):
        raise ConfigError(f"{where}: expected a list of fault rules or {{seed: N, rules: [...]}}")
    return data
