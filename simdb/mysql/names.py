"""Result column names as MariaDB gives them: an unaliased expression is named by its text
as the client wrote it (``SELECT 1+1`` -> ``1+1``), a bare string literal by its value."""

from __future__ import annotations

import re
from typing import Any

from sqlglot import TokenType, exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.errors import TokenError

_END = frozenset(
    {
        TokenType.FROM,
        TokenType.WHERE,
        TokenType.GROUP_BY,
        TokenType.ORDER_BY,
        TokenType.LIMIT,
        TokenType.HAVING,
        TokenType.UNION,
        TokenType.EXCEPT,
        TokenType.INTERSECT,
        TokenType.INTO,
        TokenType.WINDOW,
        TokenType.SEMICOLON,
    }
)
_OPEN = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE})
_CLOSE = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE})
_SKIP = frozenset(
    {"DISTINCT", "ALL", "DISTINCTROW", "HIGH_PRIORITY", "STRAIGHT_JOIN", "SQL_NO_CACHE", "SQL_CACHE"}
)
_MARK = re.compile(r":p(\d+)\b")


def select_items(sql: str) -> list[str] | None:
    """The texts of a SELECT's select-list items (None when ``sql`` is not a plain SELECT)."""
    try:
        tokens = MySQL().tokenize(sql)
    except TokenError:
        return None
    if not tokens or tokens[0].token_type != TokenType.SELECT:
        return None
    i = 1
    while i < len(tokens) and tokens[i].text.upper() in _SKIP:
        i += 1
    items: list[tuple[int, int]] = []
    start = end = -1
    depth = 0
    for t in tokens[i:]:
        if depth == 0 and (t.token_type in _END or t.text.upper() in ("FOR", "LOCK")):
            break
        if t.token_type in _OPEN:
            depth += 1
        elif t.token_type in _CLOSE:
            depth -= 1
        if depth == 0 and t.token_type == TokenType.COMMA:
            items.append((start, end))
            start = -1
            continue
        if start < 0:
            start = t.start
        end = t.end
    if start >= 0:
        items.append((start, end))
    return [sql[s : e + 1] for s, e in items]


def name_templates(tree: exp.Expression, sql: str, params: list[Any]) -> list[Any] | None:
    """Per projection: None (SQLite's name is MariaDB's: a column, an alias, ``*``), ``("param",
    n)`` (a bare string literal, named by its value) or ``("text", slice)``."""
    select: Any = tree
    while isinstance(select, exp.SetOperation):
        select = select.left
    if not isinstance(select, exp.Select):
        return None
    projections = select.expressions
    out: list[Any] = []
    texts: list[str] | None = None
    for i, p in enumerate(projections):
        if isinstance(p, exp.Alias | exp.Column | exp.Star):
            out.append(None)
            continue
        if isinstance(p, exp.Literal) and p.is_string:
            out.append(("value", p.name))
            continue
        if isinstance(p, exp.Placeholder) and p.name[1:].isdigit():
            idx = int(p.name[1:])
            if idx < len(params) and isinstance(params[idx], str):
                out.append(("param", idx))
                continue
        if texts is None:
            texts = select_items(sql)
            if texts is None or len(texts) != len(projections):
                return None
        out.append(("text", texts[i]))
    return out if any(o is not None for o in out) else None


def _literal_text(v: Any) -> str:
    if isinstance(v, str):
        # the lifter keeps ``\_`` and ``\%`` as written; other escapes are rare in names
        return "'" + v.replace("'", "\\'") + "'"
    if isinstance(v, bytes):
        return "X'" + v.hex().upper() + "'"
    return str(v)


def resolve(template: Any, params: list[Any]) -> str | None:
    """The column name a template gives for one execution's literal values."""
    if template is None:
        return None
    kind, value = template
    if kind == "value":
        return str(value)
    if kind == "param":
        return str(params[value])
    return _MARK.sub(lambda m: _literal_text(params[int(m.group(1))]), str(value))
