"""Where a binding's values come from: argument paths, key templates and SQL named parameters.

A *path* names an argument (``id``), a field of a struct argument
(``req.userId``, any depth) or, inside a composition, ``item``. Key templates
put paths in braces (``pin:{item}:features``); SQL puts them after a colon
(``WHERE id = :id``, ``WHERE id IN :ids``, lists expanded).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Misfit",
    "SqlTemplate",
    "Template",
    "is_path",
    "resolve",
]

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NOT_IN = re.compile(r"\bNOT\s+IN\s*$", re.IGNORECASE)


class Misfit(Exception):
    """A value that does not fit at run time; the binding turns it into INTERNAL_ERROR naming itself."""


def is_path(text: str) -> bool:
    """Whether ``text`` is a dotted name such as ``req.userId``."""
    return bool(_PATH.match(text))


def resolve(scope: Mapping[str, Any], path: str) -> Any:
    """The value at ``path``: the first part from ``scope`` (arguments), the rest struct fields."""
    head, *rest = path.split(".")
    if head not in scope:
        raise Misfit(f"no argument {head!r}")
    value = scope[head]
    for part in rest:
        if value is None:
            raise Misfit(f"{path}: {head} is not set")
        value = getattr(value, part, None) if not isinstance(value, Mapping) else value.get(part)
    return value


def _text(value: Any, path: str) -> str:
    if value is None:
        raise Misfit(f"{{{path}}} is not set in this call")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, int | float | str):
        return str(value)
    raise Misfit(f"{{{path}}} is a {type(value).__name__}, not a number or string")


@dataclass(frozen=True)
class Template:
    """A key template: literal text and ``{path}`` holes."""

    text: str
    parts: tuple[tuple[str, str | None], ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse ``text``; :class:`ValueError` on a malformed hole."""
        parts: list[tuple[str, str | None]] = []
        for literal, name, spec, conv in string.Formatter().parse(text):
            if name is not None and (spec or conv or not is_path(name)):
                raise ValueError(f"key template {text!r}: {{{name}}} is not a plain argument path")
            parts.append((literal, name))
        return cls(text, tuple(parts))

    @property
    def paths(self) -> tuple[str, ...]:
        """The paths the template needs."""
        return tuple(p for _, p in self.parts if p is not None)

    def render(self, scope: Mapping[str, Any]) -> str:
        """The key for one call."""
        out = []
        for literal, path in self.parts:
            out.append(literal)
            if path is not None:
                out.append(_text(resolve(scope, path), path))
        return "".join(out)

    def value(self, scope: Mapping[str, Any]) -> Any:
        """Like :meth:`render`, but a template that is exactly ``{path}`` keeps the value's type."""
        if len(self.parts) == 1 and self.parts[0][0] == "" and self.parts[0][1] is not None:
            path = self.parts[0][1]
            value = resolve(scope, path)
            if value is None:
                raise Misfit(f"{{{path}}} is not set in this call")
            return value
        return self.render(scope)


@dataclass(frozen=True)
class SqlTemplate:
    """A SQL statement with ``:path`` parameters, rendered to PyMySQL's ``%(pN)s`` form per call."""

    text: str
    pieces: tuple[str, ...]
    """Literal SQL (``%`` doubled) between the parameters."""
    names: tuple[str, ...]
    not_in: tuple[bool, ...]

    @classmethod
    def parse(cls, text: str) -> SqlTemplate:
        """Find the parameters outside quotes and comments."""
        pieces: list[str] = []
        names: list[str] = []
        not_in: list[bool] = []
        buf: list[str] = []
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch in "'\"`":
                end = i + 1
                while end < n and text[end] != ch:
                    end += 2 if text[end] == "\\" else 1
                buf.append(text[i : end + 1])
                i = end + 1
                continue
            if text.startswith("--", i) or ch == "#":
                end = text.find("\n", i)
                end = n if end < 0 else end
                buf.append(text[i:end])
                i = end
                continue
            if text.startswith("/*", i):
                end = text.find("*/", i + 2)
                end = n if end < 0 else end + 2
                buf.append(text[i:end])
                i = end
                continue
            if (
                ch == ":"
                and (i == 0 or text[i - 1] != ":")
                and i + 1 < n
                and (text[i + 1].isalpha() or text[i + 1] == "_")
            ):
                m = re.match(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", text[i + 1 :])
                assert m is not None
                before = "".join(buf)
                pieces.append(before.replace("%", "%%"))
                names.append(m.group(0))
                not_in.append(bool(_NOT_IN.search(before)))
                buf = []
                i += 1 + len(m.group(0))
                continue
            buf.append(ch)
            i += 1
        pieces.append("".join(buf).replace("%", "%%"))
        return cls(text, tuple(pieces), tuple(names), tuple(not_in))

    def render(self, scope: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """``(query, params)`` for PyMySQL; lists become ``(%(p0_0)s, ...)`` (``(NULL)`` when empty)."""
        out = [self.pieces[0]]
        params: dict[str, Any] = {}
        for i, path in enumerate(self.names):
            value = resolve(scope, path)
            if isinstance(value, list | tuple | set | frozenset):
                items = sorted(value) if isinstance(value, set | frozenset) else list(value)
                if not items:
                    if self.not_in[i]:
                        raise Misfit(f":{path} is empty: NOT IN an empty list is refused")
                    out.append("(NULL)")
                else:
                    holes = []
                    for j, item in enumerate(items):
                        params[f"p{i}_{j}"] = _sql_value(item, path)
                        holes.append(f"%(p{i}_{j})s")
                    out.append("(" + ", ".join(holes) + ")")
            else:
                params[f"p{i}"] = _sql_value(value, path)
                out.append(f"%(p{i})s")
            out.append(self.pieces[i + 1])
        return "".join(out), params


def _sql_value(value: Any, path: str) -> Any:
    if value is None or isinstance(value, int | float | str | bytes):
        return int(value) if isinstance(value, bool) else value
    raise Misfit(f":{path} is a {type(value).__name__}; SQL parameters take numbers, strings or lists")
