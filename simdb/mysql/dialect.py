"""sqlglot's MySQL dialect, with every function the fake implements itself parsed as a plain call.

sqlglot maps many MySQL functions to its own expression types, which it then renders for
SQLite with different semantics (``LENGTH`` in characters, ``GREATEST`` as ``MAX``...). Parsing
the registry's functions as :class:`sqlglot.exp.Anonymous` keeps the MySQL name and arguments,
so :mod:`simdb.mysql.semantics` can send each to its UDF.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL

from simdb.mysql.functions import REGISTRY

# sqlglot's own expression types are kept for these (aggregates, control flow, special syntax)
_TYPED = frozenset(
    {
        "COUNT",
        "SUM",
        "AVG",
        "MIN",
        "MAX",
        "GROUP_CONCAT",
        "IF",
        "IFNULL",
        "COALESCE",
        "SUBSTRING",
        "SUBSTR",
        "TRIM",
    }
)


def _anonymous(name: str) -> Any:
    def build(args: list[exp.Expression]) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=args)

    return build


_BaseParser: Any = MySQL.Parser


class SimdbMySQL(MySQL):
    """MySQL as the fake parses it."""

    class Parser(_BaseParser):  # type: ignore[misc]
        """MySQL's parser with the registry's functions as plain calls."""

        FUNCTIONS: ClassVar[dict[str, Any]] = {
            **MySQL.Parser.FUNCTIONS,
            **{name: _anonymous(name) for name in REGISTRY if name not in _TYPED},
        }
        FUNCTION_PARSERS: ClassVar[dict[str, Any]] = {
            k: v
            for k, v in MySQL.Parser.FUNCTION_PARSERS.items()
            if k not in ("CEIL", "FLOOR", "JSON_OBJECT", "JSON_VALUE")
        }
