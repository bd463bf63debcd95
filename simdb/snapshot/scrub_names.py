"""Scrubbing inside Redis key names and hash field names.

A Redis rule whose key glob (or field glob, after ``#``) holds ``<...>`` scrubs that
part of the *name*: ``"cust:email:<*>": hash`` renames ``cust:email:alice@example.com``
to ``cust:email:<hash of alice@example.com>``, exactly what the same rule makes of
the same text in an SQL cell or a Redis value. Inside and outside the brackets,
``*`` matches any run of characters and ``?`` one character; several ``<...>`` may
appear (``"user:<*>:email:<*>"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from simdb.errors import ConfigError

NameScrub = Callable[[str, str], str | None]
"""``(text, label) -> new text`` (None: drop the name), where ``label`` guesses the Faker provider."""


def has_marker(glob: str) -> bool:
    """Whether ``glob`` marks a part of the name to scrub."""
    return "<" in glob


def name_regex(glob: str, where: str) -> re.Pattern[str]:
    """The regex of a glob with ``<...>`` groups (each group one capture)."""
    out: list[str] = []
    depth = 0
    for ch in glob:
        if ch == "<":
            if depth:
                raise ConfigError(f"{where}: '<' inside '<...>' in {glob!r}")
            depth = 1
            out.append("(")
        elif ch == ">" and depth:
            depth = 0
            out.append(")")
        elif ch == "*":
            out.append(".*?" if depth else ".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    if depth:
        raise ConfigError(f"{where}: unclosed '<' in {glob!r}")
    pattern = "".join(out)
    if "()" in pattern:
        raise ConfigError(f"{where}: empty '<>' in {glob!r}")
    return re.compile(pattern, re.DOTALL)


def plain_glob(glob: str) -> str:
    """The glob without its markers (what fnmatch sees)."""
    return glob.replace("<", "").replace(">", "")


def rename(text: str, pattern: re.Pattern[str], scrub: NameScrub) -> str | None:
    """``text`` with every captured part scrubbed; unchanged when it does not match; None: dropped."""
    match = pattern.fullmatch(text)
    if match is None:
        return text
    pieces: list[str] = []
    last = 0
    for index in range(1, (pattern.groups or 0) + 1):
        start, end = match.span(index)
        if start < 0:
            continue
        before = text[last:start]
        pieces.append(before)
        label = re.split(r"[^A-Za-z0-9_]+", text[:start].rstrip(":#/._-"))[-1]
        new = scrub(text[start:end], label)
        if new is None:
            return None
        pieces.append(new)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
