"""Reading a fault file (``--faults FILE``): YAML or JSON, a list of rules or ``{seed, rules}``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simdb.errors import ConfigError

__all__ = ["read_fault_file"]


def read_fault_file(path: Path) -> Any:
    """The rules in ``path`` (a top-level ``faults:`` key is accepted too); ConfigError naming the file."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the fault file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML/JSON: {exc}") from None
    if isinstance(data, dict) and set(data) == {"faults"}:
        data = data["faults"]
    if data is None:
        return []
    if not isinstance(data, (list, dict)):
        raise ConfigError(f"{path}: expected a list of fault rules or {{seed: N, rules: [...]}}")
    return data
