"""MySQL semantics on a parsed statement, before it is generated as SQLite.

:class:`Rewriter` walks a sqlglot tree bottom-up, infers each expression's static MySQL type
(from the catalog, literals and the bound values' Python types) and rewrites what SQLite would
answer differently: function calls go to the registry's UDFs (anything not in
:data:`simdb.mysql.functions.REGISTRY` is refused with 1235), numbers compared with strings are
compared as numbers, strings compare and group case-insensitively, ``LIKE`` escapes with ``\\``,
``CAST`` and ``INTERVAL`` follow MySQL. The projection types it infers give the result columns
their MySQL wire types (``7/2`` is ``DECIMAL`` with scale 4).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from simdb.mysql import errors as E
from simdb.mysql.catalog import Column, Table, enum_values
from simdb.mysql.functions import COLLATION, REGISTRY

NUMERIC = frozenset({"int", "dec", "float"})
TEMPORAL = frozenset({"date", "datetime", "time"})
_DIV_PRECISION = 4


@dataclass(frozen=True)
class SqlType:
    """The static MySQL type of an expression: ``kind`` is int, dec, float, str, bytes, date,
    datetime, time, json, null or any; ``column`` when it is a plain column reference."""

    kind: str
    scale: int = 0
    binary: bool = False
    column: bool = False
    members: tuple[str, ...] = ()  # an ENUM column's values, in declaration (sort) order
    unsigned: bool = False


ANY = SqlType("any")
INT = SqlType("int")
STR = SqlType("str")
NULL = SqlType("null")
FLOAT = SqlType("float")


def unsupported(construct: str) -> E.SqlError:
    """The 1235 refusal for a construct the fake cannot run faithfully."""
    return E.not_supported(construct)


def column_type(col: Column) -> SqlType:
    """The static type of a table column."""
    cat = col.category
    if cat == "int":
        return SqlType("int", column=True, unsigned=col.unsigned or col.base.startswith("u"))
    if cat == "float":
        return SqlType("float", column=True)
    if cat == "decimal":
        return SqlType("dec", col.scale or 0, column=True)
    if cat == "binary":
        return SqlType("bytes", binary=True, column=True)
    if cat == "temporal":
        base = col.base
        kind = "date" if base == "date" else ("time" if base == "time" else "datetime")
        return SqlType(kind, column=True)
    if cat == "json":
        return SqlType("str", column=True)
    if col.base == "enum":
        return SqlType("str", column=True, members=tuple(enum_values(col)))
    return SqlType("str", binary=col.binary_collation, column=True)


def merge(types: list[SqlType]) -> SqlType:
    """The common type of CASE/IF/COALESCE branches."""
    ts = [t for t in types if t.kind != "null"]
    if not ts:
        return NULL
    kinds = {t.kind for t in ts}
    if "any" in kinds:
        return ANY
    if len(kinds) == 1:
        k = next(iter(kinds))
        return SqlType(k, max(t.scale for t in ts), any(t.binary for t in ts))
    if kinds <= NUMERIC:
        if "float" in kinds:
            return FLOAT
        return SqlType("dec", max(t.scale for t in ts))
    if "bytes" in kinds:
        return SqlType("bytes", binary=True)
    return STR


def _call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _text_of(node: exp.Expression, t: SqlType) -> exp.Expression:
    """A string-context view of a DECIMAL value (MySQL prints its scale: 1.50)."""
    if t.kind == "dec":
        return _call("simdb_dec_text", node, exp.Literal.number(t.scale))
    return node


def _collate(node: exp.Expression) -> exp.Expression:
    return exp.Collate(this=node, expression=exp.var(COLLATION))


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_LOGIC = (exp.And, exp.Or, exp.Not, exp.Is, exp.Exists)
_PASS = (
    exp.Paren,
    exp.Alias,
    exp.Where,
    exp.Having,
    exp.Group,
    exp.Order,
    exp.Ordered,
    exp.Limit,
    exp.Offset,
    exp.From,
    exp.Join,
    exp.Table,
    exp.TableAlias,
    exp.Identifier,
    exp.Star,
    exp.Tuple,
    exp.Values,
    exp.Schema,
    exp.Var,
    exp.DataType,
    exp.DataTypeParam,
    exp.Distinct,
    exp.With,
    exp.CTE,
    exp.Subquery,
    exp.Union,
    exp.Intersect,
    exp.Except,
    exp.Select,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.OnConflict,
    exp.Lock,
    exp.Escape,
    exp.Collate,
    exp.Interval,
    exp.If,
    exp.Case,
    exp.Boolean,
    exp.Null,
    exp.Placeholder,
    exp.Literal,
    exp.Column,
    exp.HexString,
    exp.BitString,
    exp.Anonymous,
    exp.Dot,
)
_MIMIC_ONLY = (exp.CurrentSchema, exp.CurrentUser, exp.CurrentVersion, exp.SessionParameter, exp.Parameter)
MIMIC_FUNCTIONS = frozenset({"USER", "CONNECTION_ID", "SESSION_USER", "SYSTEM_USER", "DATABASE", "SCHEMA"})


def needs_mimic(tree: exp.Expression) -> bool:
    """Whether a table-less SELECT reads session state mysql-mimic answers (variables, USER())."""
    for node in tree.walk():
        if isinstance(node, _MIMIC_ONLY):
            return True
        if isinstance(node, exp.Anonymous) and str(node.this).upper() in MIMIC_FUNCTIONS:
            return True
    return False


class Rewriter:
    """Rewrite one statement tree in place; ``projection_types`` holds the outer SELECT's types."""

    def __init__(
        self, table: Callable[[str], Table | None], params: list[Any], database: str = "simdb"
    ) -> None:
        self.table = table
        self.database = database
        self.params = params
        self.types: dict[int, SqlType] = {}
        self.scope: dict[str, Table] = {}
        self.ordered: list[Table] = []
        self.aliases: dict[str, SqlType] = {}
        self.projection_types: list[SqlType] = []

    def t(self, node: exp.Expression | None) -> SqlType:
        """The inferred type of a (rewritten) node."""
        return ANY if node is None else self.types.get(id(node), ANY)

    def run(self, tree: exp.Expression) -> exp.Expression:
        """Rewrite ``tree`` (and return it: the root may be replaced)."""
        for t in tree.find_all(exp.Table):
            found = self.table(t.name)
            if found is not None:
                self.scope[t.alias_or_name.lower()] = found
                self.ordered.append(found)
        if isinstance(tree, exp.Delete) and (tree.args.get("tables") or tree.find(exp.Join)):
            raise unsupported("multi-table DELETE")
        if isinstance(tree, exp.Update) and (tree.find(exp.Join) or tree.args.get("from_")):
            raise unsupported("multi-table UPDATE")
        self._visit(tree)
        if isinstance(tree, exp.Insert | exp.Update):
            self._canonical_enums(tree)
        select: Any = tree
        while isinstance(select, exp.SetOperation):
            select = select.left
        if isinstance(select, exp.Select):
            self.projection_types = [self.t(p) for p in select.expressions]
        return tree

    def _canonical_enums(self, tree: exp.Insert | exp.Update) -> None:
        """ENUM values are stored as declared ('B' into ENUM('a','b') stores 'b')."""
        target = tree.find(exp.Table)
        table = self.table(target.name) if target is not None else None
        if table is None:
            return

        def wrap(col_name: str, node: exp.Expression, row: int = 1) -> exp.Expression:
            col = table.column(col_name)
            if col is None:
                return node
            if col.base == "enum":
                members = exp.Literal.string(json.dumps(enum_values(col)))
                return _call("simdb_enum", node.copy(), members)
            if col.base in ("date", "datetime", "timestamp"):
                where = f"`{self.database}`.`{table.name}`.`{col.name}` at row {row}"
                kind = "date" if col.base == "date" else "datetime"
                return _call(
                    "simdb_temporal", node.copy(), exp.Literal.string(kind), exp.Literal.string(where)
                )
            return node

        if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
            names = [c.name for c in tree.this.expressions]
            values = tree.expression
            if isinstance(values, exp.Values):
                for row, tup in enumerate(values.expressions, 1):
                    if isinstance(tup, exp.Tuple):
                        tup.set(
                            "expressions",
                            [
                                wrap(n, v, row) if i < len(names) else v
                                for i, (n, v) in enumerate(zip(names, tup.expressions, strict=False))
                            ],
                        )
        sets: list[exp.Expression] = list(tree.expressions) if isinstance(tree, exp.Update) else []
        conflict = tree.args.get("conflict")
        if isinstance(conflict, exp.OnConflict):
            sets += list(conflict.expressions)
        for eq in sets:
            if isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Column):
                eq.set("expression", wrap(eq.this.name, eq.expression))

    # --- traversal ------------------------------------------------------------------------

    def _visit(self, node: exp.Expression) -> None:
        if isinstance(node, exp.Select):
            # projections first, so ORDER BY / HAVING can see their aliases' types
            for p in list(node.expressions):
                self._visit(p)
            for p in node.expressions:
                if isinstance(p, exp.Alias):
                    self.aliases[p.alias.lower()] = self.t(p)
            for key, value in list(node.args.items()):
                if key == "expressions":
                    continue
                for child in value if isinstance(value, list) else [value]:
                    if isinstance(child, exp.Expression):
                        self._visit(child)
        else:
            for child in list(node.iter_expressions()):
                self._visit(child)
        new = self._handle(node)
        if new is not None:
            t, replacement = new
            if replacement is not None and replacement is not node:
                node.replace(replacement)
                node = replacement
            self.types[id(node)] = t

    def _set(self, node: exp.Expression, t: SqlType) -> exp.Expression:
        self.types[id(node)] = t
        return node

    def _handle(self, node: exp.Expression) -> tuple[SqlType, exp.Expression | None] | None:
        if isinstance(node, exp.Literal):
            if node.is_string:
                return STR, None
            text = node.name
            if "e" in text.lower():
                return FLOAT, None
            if "." in text:
                return SqlType("dec", len(text.split(".", 1)[1])), None
            return INT, None
        if isinstance(node, exp.Placeholder):
            return self._param_type(node), None
        if isinstance(node, exp.Null):
            return NULL, None
        if isinstance(node, exp.Boolean):
            return INT, None
        if isinstance(node, exp.HexString | exp.BitString):
            return SqlType("bytes", binary=True), None
        if isinstance(node, exp.Column):
            return self._column(node), None
        if isinstance(node, exp.Paren | exp.Alias):
            return self.t(node.this), None
        if isinstance(node, exp.Neg):
            return self.t(node.this), None
        if isinstance(node, exp.Add | exp.Sub):
            if isinstance(node.expression, exp.Interval) or isinstance(node.this, exp.Interval):
                return self._interval_arith(node)
            return self._arith(node)
        if isinstance(node, exp.Mul):
            return self._arith(node)
        if isinstance(node, exp.Div):
            return self._div(node)
        if isinstance(node, exp.Mod):
            a, b = node.this, node.expression
            t = merge([self.t(a), self.t(b)])
            self._no_temporal(node, a, b)
            return t, _call("simdb_mod", a.copy(), b.copy())
        if isinstance(node, exp.IntDiv):
            self._no_temporal(node, node.this, node.expression)
            return INT, None
        assignment = isinstance(node.parent, exp.Update | exp.OnConflict) and node.arg_key == "expressions"
        if isinstance(node, exp.EQ) and assignment:
            return None  # SET col = expr: an assignment, not a comparison
        if isinstance(node, _COMPARISONS):
            self._coerce(node, "this", "expression")
            return INT, None
        if isinstance(node, exp.In):
            return self._in(node)
        if isinstance(node, exp.Between):
            self._coerce(node, "this", "low")
            self._coerce(node, "this", "high")
            return INT, None
        if isinstance(node, exp.Like):
            return self._like(node)
        if isinstance(node, exp.Escape):
            return INT, None
        if isinstance(node, _LOGIC):
            return INT, None
        if isinstance(node, exp.BitwiseNot | exp.BitwiseXor):
            raise unsupported("the ~ and ^ operators (MariaDB computes them on unsigned 64-bit values)")
        if isinstance(node, exp.BitwiseAnd | exp.BitwiseOr | exp.BitwiseLeftShift | exp.BitwiseRightShift):
            op = {"bitwiseand": "&", "bitwiseor": "|", "bitwiseleftshift": "<<", "bitwiserightshift": ">>"}[
                node.key
            ]
            return INT, _call("simdb_bitop", exp.Literal.string(op), node.this.copy(), node.expression.copy())
        if isinstance(node, exp.Xor):
            a, b = node.this, node.expression
            return INT, exp.NEQ(
                this=exp.Paren(this=exp.Not(this=exp.Not(this=a.copy()))),
                expression=exp.Paren(this=exp.Not(this=exp.Not(this=b.copy()))),
            )
        if isinstance(node, exp.Case):
            branches: list[tuple[exp.Expression, str]] = [(i, "true") for i in node.args.get("ifs") or []]
            has_default = node.args.get("default") is not None
            if has_default:
                branches.append((node, "default"))
            t = merge([self.t(n.args.get(k)) for n, k in branches] + ([] if has_default else [NULL]))
            return self._text_branches(t, branches), None
        if isinstance(node, exp.If):
            t = merge([self.t(node.args.get("true")), self.t(node.args.get("false"))])
            return self._text_branches(t, [(node, "true"), (node, "false")]), None
        if isinstance(node, exp.Coalesce):
            t = merge([self.t(node.this), *(self.t(e) for e in node.expressions)])
            if t.kind == "str":
                node.set("this", _text_of(node.this.copy(), self.t(node.this)))
                node.set("expressions", [_text_of(e.copy(), self.t(e)) for e in node.expressions])
            return t, None
        if isinstance(node, exp.Cast):
            return self._cast(node)
        if isinstance(node, exp.Count):
            return INT, None
        if isinstance(node, exp.Sum | exp.Avg):
            inner = self.t(node.this)
            if isinstance(node.this, exp.Distinct) and node.this.expressions:
                inner = self.t(node.this.expressions[0])
            if inner.kind == "int":
                return SqlType("dec", _DIV_PRECISION if isinstance(node, exp.Avg) else 0), None
            if inner.kind == "dec":
                extra = _DIV_PRECISION if isinstance(node, exp.Avg) else 0
                return SqlType("dec", inner.scale + extra), None
            if inner.kind in TEMPORAL:
                raise unsupported(f"{node.key.upper()} over DATE/DATETIME values")
            return FLOAT, None
        if isinstance(node, exp.Min | exp.Max):
            inner = self.t(node.this)
            return SqlType(inner.kind, inner.scale, inner.binary), None
        if isinstance(node, exp.GroupConcat):
            return self._group_concat(node)
        if isinstance(node, exp.Distinct):
            return (self.t(node.expressions[0]) if node.expressions else ANY), None
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "VALUES":
            return None  # ON DUPLICATE KEY UPDATE ... VALUES(col): handled by the translator
        if isinstance(node, exp.Anonymous):
            return self._function(node, str(node.this).upper(), list(node.expressions))
        if isinstance(node, exp.Substring):
            args = [node.this, node.args.get("start"), node.args.get("length")]
            return self._function(node, "SUBSTRING", [a for a in args if a is not None])
        if isinstance(node, exp.Trim):
            if node.args.get("expression") is not None or node.args.get("position"):
                raise unsupported("TRIM with LEADING/TRAILING/BOTH or a trim string")
            return self._function(node, "TRIM", [node.this])
        if isinstance(node, exp.Extract):
            unit = node.this.name.upper()
            if unit not in ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"):
                raise unsupported(f"EXTRACT({unit} FROM ...)")
            return self._function(node, unit, [node.expression])
        if isinstance(node, exp.StrPosition):
            args = [node.args.get("substr"), node.this]
            return self._function(node, "LOCATE", [a for a in args if a is not None])
        if isinstance(node, exp.CurrentTimestamp):
            return SqlType("datetime"), _call("simdb_now")
        if isinstance(node, exp.CurrentDate):
            return SqlType("date"), _call("simdb_curdate")
        if isinstance(node, exp.JSONExtract | exp.JSONExtractScalar):
            # MariaDB 10.11 has no -> / ->> operators (a syntax error there): never answer them
            raise unsupported("the -> and ->> JSON operators (MariaDB has none; use JSON_EXTRACT)")
        if isinstance(node, _MIMIC_ONLY):
            raise unsupported(f"{node.sql('mysql')} in a statement on tables")
        if isinstance(node, exp.Func):
            name = node.sql_name() if hasattr(node, "sql_name") else node.key.upper()
            raise unsupported(f"function {name}")
        if isinstance(node, exp.Interval):
            if not isinstance(node.parent, exp.Add | exp.Sub | exp.Anonymous):
                raise unsupported("INTERVAL outside date arithmetic")
            return ANY, None
        if isinstance(node, exp.Subquery):
            inner = node.this
            if isinstance(inner, exp.Select) and len(inner.expressions) == 1:
                return self.t(inner.expressions[0]), None
            return ANY, None
        if isinstance(node, exp.Select):
            self._order_group(node)
            return ANY, None
        if isinstance(node, _PASS):
            return None
        if (
            isinstance(node, exp.Expression)
            and isinstance(node, exp.Binary | exp.Unary | exp.Condition)
            and node.key.startswith("bitwise")
        ):
            return INT, None
        if isinstance(node, exp.Dot | exp.JSONPath | exp.JSONPathPart):
            return None
        return None

    # --- pieces ---------------------------------------------------------------------------

    def _text_branches(self, t: SqlType, branches: list[tuple[exp.Expression, str]]) -> SqlType:
        if t.kind == "str":
            for owner, key in branches:
                child = owner.args.get(key)
                if isinstance(child, exp.Expression) and self.t(child).kind == "dec":
                    owner.set(key, _text_of(child.copy(), self.t(child)))
        return t

    def _param(self, node: exp.Placeholder) -> Any:
        name = node.name
        if name.startswith("p") and name[1:].isdigit() and int(name[1:]) < len(self.params):
            return self.params[int(name[1:])]
        return None

    def _param_type(self, node: exp.Placeholder) -> SqlType:
        name = node.name
        if name.startswith("p") and name[1:].isdigit() and int(name[1:]) < len(self.params):
            v = self.params[int(name[1:])]
            if isinstance(v, bool | int):
                return INT
            if isinstance(v, float):
                return FLOAT
            if isinstance(v, bytes):
                return SqlType("bytes", binary=True)
            if isinstance(v, str):
                return STR
        return ANY

    def _column(self, node: exp.Column) -> SqlType:
        qual = node.table.lower() if node.table else ""
        tables = [self.scope[qual]] if qual and qual in self.scope else self.ordered
        for t in tables:
            col = t.column(node.name)
            if col is not None:
                return column_type(col)
        if not qual and node.name.lower() in self.aliases:
            a = self.aliases[node.name.lower()]
            return SqlType(a.kind, a.scale, a.binary, column=False)
        return ANY

    def _no_temporal(self, node: Any, *args: Any) -> None:
        if any(self.t(a).kind in TEMPORAL for a in args):
            raise unsupported(f"arithmetic on DATE/DATETIME values ({node.sql('mysql')[:60]})")

    def _numeric_operand(self, node: exp.Expression) -> exp.Expression:
        if self.t(node).kind == "str":
            return self._set(_call("simdb_num", node.copy()), FLOAT)
        return node

    def _arith(self, node: Any) -> tuple[SqlType, exp.Expression | None]:
        a, b = node.this, node.expression
        self._no_temporal(node, a, b)
        ta, tb = self.t(a), self.t(b)
        for key, child in (("this", a), ("expression", b)):
            new = self._numeric_operand(child)
            if new is not child:
                node.set(key, new)
        kinds = {ta.kind, tb.kind}
        if "null" in kinds:
            return NULL, None
        if kinds & {"float", "str", "any", "json", "bytes"}:
            return FLOAT if "any" not in kinds else ANY, None
        if "dec" in kinds:
            scale = ta.scale + tb.scale if isinstance(node, exp.Mul) else max(ta.scale, tb.scale)
            return SqlType("dec", scale), None
        if ta.unsigned or tb.unsigned:
            # UNSIGNED arithmetic: a negative result is MariaDB's error 1690, not a value
            text = exp.Literal.string(self._display(node).replace('"', "`"))
            return SqlType("int", unsigned=True), _call("simdb_unsigned", node.copy(), text)
        return INT, None

    def _div(self, node: exp.Div) -> tuple[SqlType, exp.Expression | None]:
        a, b = node.this, node.expression
        self._no_temporal(node, a, b)
        ta, tb = self.t(a), self.t(b)
        for key, child in (("this", a), ("expression", b)):
            new = self._numeric_operand(child)
            if new is not child:
                node.set(key, new)
        kinds = {ta.kind, tb.kind}
        if "null" in kinds:
            return NULL, None
        if kinds <= {"int", "dec"}:
            return SqlType("dec", ta.scale + _DIV_PRECISION), None
        return (ANY if "any" in kinds else FLOAT), None

    def _interval_arith(self, node: exp.Binary) -> tuple[SqlType, exp.Expression | None]:
        interval, base = (
            (node.expression, node.this)
            if isinstance(node.expression, exp.Interval)
            else (node.this, node.expression)
        )
        if isinstance(node, exp.Sub) and interval is node.this:
            raise unsupported("INTERVAL - date")
        assert isinstance(interval, exp.Interval)
        sign = -1 if isinstance(node, exp.Sub) else 1
        return self._date_add(base, interval, sign)

    def _date_add(
        self, base: exp.Expression, interval: exp.Expression, sign: int
    ) -> tuple[SqlType, exp.Expression]:
        if isinstance(interval, exp.Interval):
            unit = interval.args.get("unit")
            amount = interval.this
            unit_name = unit.name.upper() if unit is not None else "DAY"
        else:
            amount, unit_name = interval, "DAY"
        tb = self.t(base)
        if tb.kind == "date" and unit_name in ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"):
            rtype = SqlType("date")
        elif tb.kind in TEMPORAL:
            rtype = SqlType("datetime")
        else:
            rtype = STR
        call = _call(
            "simdb_date_add",
            base.copy(),
            amount.copy(),
            exp.Literal.string(unit_name),
            exp.Literal.number(sign),
        )
        return rtype, call

    def _coerce(self, node: exp.Expression, left: str, right: str) -> None:
        a, b = node.args.get(left), node.args.get(right)
        if not isinstance(a, exp.Expression) or not isinstance(b, exp.Expression):
            return
        if isinstance(a, exp.Subquery | exp.Select) or isinstance(b, exp.Subquery | exp.Select):
            return
        ta, tb = self.t(a), self.t(b)
        if ta.kind in NUMERIC and tb.kind == "str":
            node.set(right, self._set(_call("simdb_num", b.copy()), FLOAT))
        elif tb.kind in NUMERIC and ta.kind == "str":
            node.set(left, self._set(_call("simdb_num", a.copy()), FLOAT))
        elif ta.kind in TEMPORAL or tb.kind in TEMPORAL:
            if ta.kind != tb.kind:
                if ta.kind in NUMERIC or tb.kind in NUMERIC:
                    raise unsupported("comparing DATE/DATETIME values with numbers")
                if not ta.column or ta.kind != "datetime":
                    node.set(left, self._set(_call("simdb_dt", a.copy()), SqlType("datetime")))
                if not tb.column or tb.kind != "datetime":
                    node.set(right, self._set(_call("simdb_dt", b.copy()), SqlType("datetime")))
        elif ta.kind == "str" and tb.kind == "str":
            if ta.binary or tb.binary or ta.column or tb.column:
                return
            if isinstance(node, exp.Between):
                if left == "this" and right == "low":
                    node.set("this", _collate(a.copy()))
                return
            node.set(left, self._set(_collate(a.copy()), ta))

    def _in(self, node: exp.In) -> tuple[SqlType, exp.Expression | None]:
        lhs = node.this
        items = list(node.expressions)
        if not items:
            return INT, None
        tl = self.t(lhs)
        kinds = {self.t(i).kind for i in items}
        if tl.kind in NUMERIC and "str" in kinds:
            node.set(
                "expressions",
                [
                    self._set(_call("simdb_num", i.copy()), FLOAT) if self.t(i).kind == "str" else i
                    for i in items
                ],
            )
        elif tl.kind == "str" and kinds & NUMERIC:
            node.set("this", self._set(_call("simdb_num", lhs.copy()), FLOAT))
        elif tl.kind in TEMPORAL or kinds & TEMPORAL:
            if kinds != {tl.kind} or (tl.kind == "date" and kinds & {"str"}):
                raise unsupported("IN lists mixing DATE/DATETIME values with other types")
        elif tl.kind == "str" and not tl.column and not tl.binary and kinds <= {"str", "null"}:
            node.set("this", _collate(lhs.copy()))
        return INT, None

    def _like(self, node: exp.Like) -> tuple[SqlType, exp.Expression | None]:
        ta, tb = self.t(node.this), self.t(node.expression)
        if ta.kind == "bytes" or tb.kind == "bytes":
            raise unsupported("LIKE on binary strings")
        if ta.binary or tb.binary:  # a _bin column: case- and accent-sensitive
            escape = node.parent.expression.copy() if isinstance(node.parent, exp.Escape) else None
            call: exp.Expression = _call(
                "simdb_like_bin",
                node.expression.copy(),
                node.this.copy(),
                escape if escape is not None else exp.Literal.string("\\"),
            )
            if node.args.get("negate"):
                call = exp.Not(this=call)
            if isinstance(node.parent, exp.Escape):
                node.parent.replace(call)
                return INT, None
            return INT, call
        if ta.kind == "dec":
            node.set("this", _text_of(node.this.copy(), ta))
        if ta.kind in TEMPORAL:
            pass  # stored as text in MySQL's own format
        if not isinstance(node.parent, exp.Escape):
            return INT, exp.Escape(this=node.copy(), expression=exp.Literal.string("\\"))
        return INT, None

    def _cast(self, node: exp.Cast) -> tuple[SqlType, exp.Expression | None]:
        to = node.to
        arg = node.this.copy()
        ttype = to.this
        T = exp.DataType.Type
        if ttype in (T.BIGINT, T.INT):
            return INT, _call("simdb_cast_signed", arg)
        if ttype in (T.UBIGINT, T.UINT):
            return INT, _call("simdb_cast_unsigned", arg)
        if ttype == T.DECIMAL:
            params = to.expressions
            scale = int(params[1].this.name) if len(params) > 1 else 0
            return SqlType("dec", scale), _call("simdb_cast_decimal", arg, exp.Literal.number(scale))
        if ttype in (T.CHAR, T.VARCHAR, T.TEXT, T.NCHAR, T.NVARCHAR) and not to.expressions:
            return STR, _call("simdb_cast_char", _text_of(arg, self.t(node.this)))
        if ttype == T.DATE:
            return SqlType("date"), _call("simdb_date", arg)
        raise unsupported(f"CAST(... AS {to.sql('mysql')})")

    def _group_concat(self, node: exp.GroupConcat) -> tuple[SqlType, exp.Expression | None]:
        inner = node.this
        keys: list[exp.Ordered] = []
        distinct = False
        if isinstance(inner, exp.Order):
            keys = list(inner.expressions)
            inner = inner.this
        if isinstance(inner, exp.Distinct):
            distinct = True
            values = list(inner.expressions)
        else:
            values = [inner]
        if len(values) != 1:
            value: exp.Expression = _call("simdb_concat", *(_text_of(v.copy(), self.t(v)) for v in values))
        else:
            value = _text_of(values[0].copy(), self.t(values[0]))
        sep = node.args.get("separator")
        if sep is None:
            sep = exp.Literal.string(",")
        dirs = "".join("D" if k.args.get("desc") else "A" for k in keys)
        args = [
            sep.copy(),
            exp.Literal.number(1 if distinct else 0),
            exp.Literal.string(dirs),
            value,
            *(k.this.copy() for k in keys),
        ]
        return STR, _call("simdb_group_concat", *args)

    def _function(
        self, node: exp.Expression, name: str, args: list[exp.Expression]
    ) -> tuple[SqlType, exp.Expression | None]:
        spec = REGISTRY.get(name)
        if spec is None or name in ("COUNT", "SUM", "AVG", "MIN", "MAX", "GROUP_CONCAT"):
            raise unsupported(f"function {name}")
        if len(args) < spec.min_args or (spec.max_args >= 0 and len(args) > spec.max_args):
            raise E.SqlError(E.WRONG_PARAMCOUNT, function=name)
        types = [self.t(a) for a in args]
        if name in ("DATE_ADD", "DATE_SUB", "ADDDATE", "SUBDATE"):
            sign = -1 if name in ("DATE_SUB", "SUBDATE") else 1
            return self._date_add(args[0], args[1], sign)
        if (spec.category == "string" and name != "HEX") or name in ("JSON_OBJECT", "JSON_ARRAY"):
            args = [_text_of(a.copy(), t) for a, t in zip(args, types, strict=True)]
        else:
            args = [a.copy() for a in args]
        if name == "ROUND":
            exact = 0 if types[0].kind == "float" else 1
            if len(args) == 1:
                args.append(exp.Literal.number(0))
            args.append(exp.Literal.number(exact))
        rtype = self._returns(spec.returns, name, types, args)
        return rtype, _call(spec.sqlite_name, *args)

    def _returns(self, rule: str, name: str, types: list[SqlType], args: list[exp.Expression]) -> SqlType:
        if rule == "merge" and name in ("GREATEST", "LEAST"):
            kinds = {t.kind for t in types}
            if kinds & NUMERIC and kinds & {"str", "null"}:
                return FLOAT  # compared as numbers: MariaDB answers a DOUBLE
            return merge(types)
        if rule == "merge":
            return merge(types)
        if rule == "merge12":
            return merge(types[1:3])
        if rule == "arg0":
            t = types[0]
            return SqlType(t.kind, t.scale, t.binary)
        if rule == "intlike":
            return FLOAT if types[0].kind in ("float", "str") else INT
        if rule == "arith":
            return merge(types) if all(t.kind in NUMERIC for t in types) else FLOAT
        if rule == "round":
            t = types[0]
            places = 0
            second = args[1] if len(args) > 1 else None
            negative = isinstance(second, exp.Neg)
            if isinstance(second, exp.Neg):
                second = second.this
            if isinstance(second, exp.Placeholder) and isinstance(self._param(second), int):
                second = exp.Literal.number(self._param(second))
            if isinstance(second, exp.Literal) and not second.is_string:
                places = -int(second.name) if negative else int(second.name)
            elif len(args) > 1:
                return ANY
            if t.kind == "float" or t.kind == "str":
                return FLOAT
            if t.kind == "int":
                return INT if places <= 0 else SqlType("dec", 0)
            return SqlType("dec", max(places, 0))
        if rule == "unixts":
            return INT
        return SqlType(rule) if rule in ("int", "float", "str", "bytes", "date", "datetime") else ANY

    def _order_group(self, select: exp.Select) -> None:
        projections = select.expressions
        group = select.args.get("group")
        if isinstance(group, exp.Group) and (group.args.get("rollup") or group.args.get("cube")):
            raise unsupported("GROUP BY ... WITH ROLLUP")
        modifiers = select.args.get("operation_modifiers") or []
        for m in modifiers:
            if m.name.upper() == "SQL_CALC_FOUND_ROWS":
                raise unsupported("SQL_CALC_FOUND_ROWS")
        if modifiers:  # SQL_NO_CACHE, HIGH_PRIORITY...: no effect on the answer
            select.set("operation_modifiers", None)
        parent = select.parent
        in_union = isinstance(parent, exp.Union) and parent.args.get("distinct")
        if select.args.get("distinct") or in_union:
            self._ci_projections(select)
        if isinstance(group, exp.Group):
            group.set("expressions", [self._ci_key(e, projections) for e in group.expressions])
        order = select.args.get("order")
        if isinstance(order, exp.Order):
            for o in order.expressions:
                if isinstance(o, exp.Ordered):
                    o.set("this", self._enum_key(self._ci_key(o.this, projections), projections))

    def _ci_projections(self, select: exp.Select) -> None:
        """DISTINCT and UNION compare string expressions case-insensitively too."""
        out = []
        for p in select.expressions:
            t = self.t(p)
            if t.kind == "str" and not t.column and not t.binary:
                if isinstance(p, exp.Alias):
                    p.set("this", _collate(p.this.copy()))
                else:
                    name = self._display(p)
                    p = exp.alias_(_collate(p.copy()), exp.to_identifier(name, quoted=True))
                self.types[id(p)] = t
            out.append(p)
        select.set("expressions", out)

    def _display(self, node: exp.Expression) -> str:
        """The MySQL text of an expression with its literal values (a result column's name)."""
        if isinstance(node, exp.Literal) and node.is_string:
            return node.name
        if isinstance(node, exp.Placeholder):
            value = self._param(node)
            return "" if value is None else str(value)
        copy = node.copy()
        for ph in list(copy.find_all(exp.Placeholder)):
            name = ph.name
            if name.startswith("p") and name[1:].isdigit() and int(name[1:]) < len(self.params):
                v = self.params[int(name[1:])]
                lit = exp.Literal.string(v) if isinstance(v, str) else exp.Literal.number(v)
                ph.replace(lit)
        return copy.sql("mysql")

    def _enum_key(self, e: exp.Expression, projections: list[exp.Expression]) -> exp.Expression:
        """ENUM columns sort by their declaration index, as MariaDB sorts them."""
        target = e
        if isinstance(e, exp.Literal) and not e.is_string and e.name.isdigit():
            i = int(e.name) - 1
            if 0 <= i < len(projections):
                target = projections[i].this if isinstance(projections[i], exp.Alias) else projections[i]
        t = self.t(target)
        if not t.members or not isinstance(target, exp.Column):
            return e
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=target.copy(), expression=exp.Literal.string(m)),
                    true=exp.Literal.number(i),
                )
                for i, m in enumerate(t.members, 1)
            ],
            default=exp.Literal.number(0),
        )

    def _ci_key(self, e: exp.Expression, projections: list[exp.Expression]) -> exp.Expression:
        """A GROUP BY / ORDER BY key compared case-insensitively when it is a string expression."""
        if isinstance(e, exp.Literal) and not e.is_string and e.name.isdigit():
            i = int(e.name) - 1
            if not 0 <= i < len(projections):
                raise E.SqlError(E.BAD_FIELD, column=e.name, where="order clause")
            p = projections[i]
            t = self.t(p)
            if t.kind == "str" and not t.column and not t.binary:
                target = p.this if isinstance(p, exp.Alias) else p
                if isinstance(p, exp.Alias):
                    return _collate(exp.column(p.alias))
                return _collate(target.copy())
            return e
        t = self.t(e)
        if t.kind == "str" and not t.column and not t.binary and not isinstance(e, exp.Collate):
            if isinstance(e, exp.Column) and e.name.lower() in self.aliases:
                return _collate(e.copy())
            if not isinstance(e, exp.Column):
                return _collate(e.copy())
        return e
