"""Errors simdb raises to its users. Each names what was wrong and where."""

from __future__ import annotations


class SimdbError(Exception):
    """Base class of every error simdb raises on purpose."""


class ConfigError(SimdbError):
    """A stack file, stub file or flag is invalid. The message names file, key and problem."""


class IdlError(SimdbError):
    """An IDL file cannot be loaded. The message names the file, line and construct."""


class SnapshotError(SimdbError):
    """A snapshot is corrupt, truncated, of an unknown format or invalid.

    ``path`` and ``line`` say where, when known.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line


class MissingDependencyError(SimdbError):
    """A program simdb needs (``redis-server``, ``mariadbd``, ...) is not installed."""
