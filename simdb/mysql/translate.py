"""MySQL statements to SQLite, with a cache keyed by the statement's digest.

Drivers such as PyMySQL inline parameter values into the SQL text, so a cache keyed by
the raw text rarely hits. :func:`lift_literals` replaces every string and number literal
with a placeholder (the *digest*) and returns the values; the digest is translated once
with sqlglot and the values are bound as SQLite parameters on every execution. A literal
whose value shapes the translation (``ORDER BY 1``, ``CAST(x AS CHAR(10))``, an interval
unit...) is *pinned*: inlined into the SQL, its value becoming part of the cache key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError

from simdb.mysql import errors as E
from simdb.mysql.catalog import Table, strict_violation
from simdb.mysql.dialect import SimdbMySQL
from simdb.mysql.names import name_templates
from simdb.mysql.semantics import Rewriter, needs_mimic

_LITERAL = re.compile(
    r"""(?=[-'"`/\#xX_0-9])  # cheap first-character filter
    (?:(?P<bin>_binary\s*'(?:[^'\\]|\\.|'')*')
      | (?P<s>'(?:[^'\\]|\\.|'')*')
      | (?P<d>"(?:[^"\\]|\\.|"")*")
      | (?P<q>`(?:[^`]|``)*`)
      | (?P<c>/\*.*?\*/|\#[^\n]*|--[ \t][^\n]*)
      | (?P<x>\b[xX]'[0-9a-fA-F]*')
      | (?P<n>(?<![\w$.@])\d+(?:\.\d*)?(?:[eE][+-]?\d+)?(?![\w$])))
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)|''|\"\"", re.DOTALL)
_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "%": "\\%", "_": "\\_"}


def _unescape(body: str) -> str:
    if "\\" not in body and "''" not in body and '""' not in body:
        return body

    def repl(m: re.Match[str]) -> str:
        ch = m.group(1)
        if ch is None:
            return m.group(0)[0]
        return _ESCAPES.get(ch, ch)

    return _ESCAPE.sub(repl, body)


def lift_literals(sql: str, marker: Callable[[int], str] | None = None) -> tuple[str, list[Any]]:
    """Replace literals by ``?`` (or ``marker(i)``); return the digest and the literal values.

    Strings become ``str`` (``_binary'...'`` and ``X'..'`` become ``bytes``), integers
    ``int``; decimal and float literals stay in the text (their scale types the result).
    Identifiers in backticks and comments are left alone.
    """
    params: list[Any] = []

    def repl(m: re.Match[str]) -> str:
        kind = m.lastgroup
        text = m.group(0)
        if kind == "q" or kind == "c":
            return text
        if kind == "n":
            if "." in text or "e" in text or "E" in text:
                return text  # DECIMAL/DOUBLE literals stay: their scale types the result
            params.append(int(text))
            tag = "?"
        elif kind == "s" or kind == "d":
            params.append(_unescape(text[1:-1]))
            tag = "'?'"
        elif kind == "bin":
            body = text[text.index("'") + 1 : -1]
            params.append(_unescape(body).encode("utf-8", "surrogateescape"))
            tag = "x'?'"
        else:  # x
            params.append(bytes.fromhex(text[2:-1]))
            tag = "x'?'"
        # the digest keeps each literal's kind: translation types the statement by it
        return marker(len(params) - 1) if marker else tag

    return _LITERAL.sub(repl, sql), params


# Parents under which a placeholder can stay a bound parameter.
_SAFE_PARENTS: tuple[type[exp.Expression], ...] = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.In,
    exp.Between,
    exp.Tuple,
    exp.Limit,
    exp.Offset,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Like,
    exp.Neg,
    exp.Paren,
    exp.Coalesce,
    exp.If,
    exp.Case,
    exp.And,
    exp.Or,
    exp.Not,
    exp.Values,
    exp.Alias,
    exp.Select,
    exp.Concat,
    exp.Min,
    exp.Max,
    exp.Sum,
    exp.Least,
    exp.Greatest,
    exp.Nullif,
)


@dataclass
class Plan:
    """How to run one statement digest on SQLite.

    ``kind``: ``query`` (returns rows), ``write`` (INSERT/UPDATE/DELETE/locking read),
    ``create``/``drop``/``truncate``/``ddl`` (schema changes), ``begin``, ``commit``,
    ``rollback``, ``savepoint`` or ``mimic`` (left to mysql-mimic: SET, SHOW, variables...).
    """

    kind: str
    sql: str = ""
    order: tuple[int, ...] | None = None
    table: str | None = None
    tree: exp.Expression | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    columns: Any = None  # result column metadata, filled on first execution

    def bind(self, params: list[Any]) -> list[Any] | tuple[Any, ...]:
        """The parameters in the order the SQLite statement expects."""
        return bind_order(self.order, params)


def bind_order(order: tuple[int, ...] | None, params: list[Any]) -> list[Any] | tuple[Any, ...]:
    """``params`` in the order a generated statement expects (see ``Translator._generate``)."""
    if order is None:
        return params
    if order and order[-1] < 0:  # identity prefix: the first ``-order[-1] - 1`` literals
        count = -order[-1] - 1
        return params if len(params) == count else params[:count]
    return tuple(params[i] for i in order)


_STATEMENTS: tuple[type, ...] = (
    exp.Query,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Create,
    exp.Drop,
    exp.TruncateTable,
    exp.Alter,
    exp.Command,
    exp.Set,
    exp.Show,
    exp.Use,
    exp.Describe,
    exp.Kill,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
)
_NOOP_COMMANDS = frozenset({"LOCK", "UNLOCK", "FLUSH", "ANALYZE", "OPTIMIZE"})
_UNSUPPORTED_COMMANDS = frozenset(
    {
        "GRANT",
        "REVOKE",
        "CALL",
        "LOAD",
        "HANDLER",
        "DO",
        "PREPARE",
        "EXECUTE",
        "DEALLOCATE",
        "RENAME",
        "CHECKSUM",
        "REPAIR",
        "CHECK",
        "INSTALL",
        "XA",
        "ALTER",
        "CREATE",
        "DROP",
        "RESET",
        "PURGE",
        "CHANGE",
        "START",
        "STOP",
    }
)
_MARK = re.compile(r":p(\d+)\b")
_SAVEPOINT = re.compile(
    r"^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+(?:WORK\s+)?TO\s+(?:SAVEPOINT\s+)?)\s*"
    r"(`[^`]+`|\w+)\s*;?\s*$",
    re.IGNORECASE,
)
_FAST = {
    "BEGIN": "begin",
    "BEGIN WORK": "begin",
    "START TRANSACTION": "begin",
    "COMMIT": "commit",
    "COMMIT WORK": "commit",
    "ROLLBACK": "rollback",
    "ROLLBACK WORK": "rollback",
}


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, bytes):
        return exp.HexString(this=value.hex())
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(value)


def _near(sql: str, exc: ParseError) -> tuple[str, int]:
    if not exc.errors:
        return sql[:80], 1
    err = exc.errors[0]
    line = int(err.get("line") or 1)
    col = int(err.get("col") or 1)
    lines = sql.split("\n")
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + max(col - len(err.get("highlight") or ""), 0)
    return sql[offset : offset + 80], line


def parse_error(sql: str, exc: ParseError | None = None) -> E.SqlError:
    """A 1064 error in MariaDB's words for ``sql``."""
    if exc is None:
        try:
            sqlglot.parse(sql, read=SimdbMySQL)
        except ParseError as err:
            exc = err
        except TokenError:
            return E.SqlError(E.PARSE, near=sql[:80], line=1)
    near, line = _near(sql, exc) if exc else (sql[:80], 1)
    return E.SqlError(E.PARSE, near=near, line=line)


# sql_mode flags the fake models (strict mode is always on; the rest do not change answers here)
_MODES = frozenset(
    {
        "STRICT_TRANS_TABLES",
        "STRICT_ALL_TABLES",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "NO_AUTO_CREATE_USER",
        "NO_ENGINE_SUBSTITUTION",
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "TRADITIONAL",
    }
)


def _check_sql_mode(tree: exp.Set, params: list[Any]) -> list[int]:
    """Refuse ``SET sql_mode`` to modes the fake does not model; returns the placeholder
    indexes that hold the new mode (pinned, so every value is checked)."""
    pinned = []
    for item in tree.expressions:
        eq = item.this if isinstance(item, exp.SetItem) else None
        if not isinstance(eq, exp.EQ) or eq.this.name.lower() != "sql_mode":
            continue
        value = eq.expression
        if isinstance(value, exp.Placeholder) and value.name[1:].isdigit():
            idx = int(value.name[1:])
            pinned.append(idx)
            text = params[idx] if idx < len(params) else None
        elif isinstance(value, exp.Literal) and value.is_string:
            text = value.name
        else:
            text = None
        if not isinstance(text, str):
            raise E.not_supported("SET sql_mode to an expression")
        modes = {m.strip().upper() for m in text.split(",") if m.strip()}
        if not modes & {"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES", "TRADITIONAL"}:
            raise E.not_supported("sql_mode without STRICT_TRANS_TABLES (the fake is always strict)")
        other = sorted(modes - _MODES)
        if other:
            raise E.not_supported(f"sql_mode {', '.join(other)}")
    return pinned


class Translator:
    """Digest -> :class:`Plan` cache over sqlglot's MySQL -> SQLite translation."""

    def __init__(
        self,
        database: str,
        max_entries: int = 20_000,
        catalog: Callable[[str], Table | None] | None = None,
    ) -> None:
        self.database = database
        self.catalog: Callable[[str], Table | None] = catalog or (lambda _name: None)
        self.cache = True  # False: every statement translated afresh with its literals inline
        self.max_entries = max_entries
        self._cache: dict[str, tuple[tuple[int, ...], dict[tuple[Any, ...], Plan]]] = {}
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forget every plan (after a schema change)."""
        self._cache.clear()

    def plan(self, sql: str) -> tuple[Plan, list[Any]]:
        """The plan for ``sql`` and the literal values to bind. Raises :class:`SqlError`."""
        if not self.cache:
            self.misses += 1
            return self._translate(sql, [], inline=True)[0], []
        digest, params = lift_literals(sql)
        entry = self._cache.get(digest)
        if entry is not None:
            pinned, plans = entry
            key = tuple(params[i] for i in pinned) if pinned else ()
            found = plans.get(key)
            if found is not None:
                self.hits += 1
                return found, params
        self.misses += 1
        plan, pinned_idx = self._translate(sql, params)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        key = tuple(params[i] for i in pinned_idx)
        self._cache.setdefault(digest, (pinned_idx, {}))[1][key] = plan
        return plan, params

    def _translate(self, sql: str, params: list[Any], inline: bool = False) -> tuple[Plan, tuple[int, ...]]:
        head = " ".join(sql.strip().rstrip(";").split()).upper()
        if head in _FAST:
            return Plan(_FAST[head]), ()
        if not head:
            raise E.SqlError(E.EMPTY_QUERY)
        m = _SAVEPOINT.match(sql)
        if m:
            verb = " ".join(m.group(1).upper().split())
            if verb.startswith("ROLLBACK"):
                verb = "ROLLBACK TO SAVEPOINT"
            return Plan("savepoint", sql=f"{verb} {m.group(2)}"), ()
        replace = head.startswith("REPLACE ")
        marked = sql if inline else lift_literals(sql, marker=lambda i: f":p{i}")[0]
        if replace:
            marked = re.sub(r"^\s*REPLACE\b", "INSERT", marked, count=1, flags=re.IGNORECASE)
        try:
            trees = [t for t in sqlglot.parse(marked, read=SimdbMySQL) if t is not None]
        except ParseError as exc:
            raise parse_error(sql, exc) from exc
        except TokenError as exc:
            quote = min((i for i in (sql.find("'"), sql.find('"')) if i >= 0), default=0)
            raise E.SqlError(E.PARSE, near=sql[quote:][:80], line=1) from exc
        if len(trees) != 1:
            raise (
                parse_error(sql)
                if not trees
                else E.SqlError(E.PARSE, near=sql[sql.find(";") + 1 :][:80].strip(), line=1)
            )
        tree = trees[0]
        if not isinstance(tree, exp.Expression) or not isinstance(tree, _STATEMENTS):
            raise E.SqlError(E.PARSE, near=sql.strip()[:80], line=1)
        plan, pinned = self.translate_tree(tree, params, replace=replace)
        if plan.kind in ("query", "lockread") and plan.tree is not None:
            templates = name_templates(plan.tree, marked, params)
            if templates is not None:
                plan.extra["names"] = templates
        return plan, pinned

    def translate_tree(
        self, tree: exp.Expression, params: list[Any] | None = None, replace: bool = False
    ) -> tuple[Plan, tuple[int, ...]]:
        """Translate a parsed MySQL statement (placeholders ``:pN`` refer to ``params``)."""
        params = params or []
        pinned: list[int] = []
        for ph in list(tree.find_all(exp.Placeholder)):
            name = ph.name
            if not name.startswith("p") or not name[1:].isdigit():
                continue
            if isinstance(ph.parent, _SAFE_PARENTS):
                continue
            idx = int(name[1:])
            pinned.append(idx)
            ph.replace(_literal(params[idx]))
        pinned_t = tuple(sorted(set(pinned)))
        if isinstance(tree, exp.Command):
            return self._command(tree), pinned_t
        if isinstance(tree, exp.Set):
            pinned_t = tuple(sorted(set(pinned_t) | set(_check_sql_mode(tree, params))))
        if isinstance(tree, exp.Set | exp.Show | exp.Use | exp.Describe | exp.Kill):
            return Plan("mimic"), pinned_t
        if isinstance(tree, exp.Transaction):
            return Plan("begin"), pinned_t
        if isinstance(tree, exp.Commit):
            return Plan("commit"), pinned_t
        if isinstance(tree, exp.Rollback):
            sp = tree.args.get("savepoint")
            if sp is not None:
                return Plan("savepoint", sql=f"ROLLBACK TO SAVEPOINT {sp.sql('sqlite')}"), pinned_t
            return Plan("rollback"), pinned_t
        if (
            isinstance(tree, exp.Alias)
            and isinstance(tree.this, exp.Column)
            and tree.this.name.upper() == "SAVEPOINT"
        ):
            return Plan("savepoint", sql=f"SAVEPOINT {tree.alias}"), pinned_t
        tables = list(tree.find_all(exp.Table))
        if isinstance(tree, exp.Select):
            for t in tables:
                dual = t.name.lower() == "dual" and not t.args.get("db")
                if dual and isinstance(t.parent, exp.From) and self.catalog("dual") is None:
                    t.parent.pop()
            tables = list(tree.find_all(exp.Table))
        for t in tables:
            db = t.args.get("db")
            if db is None:
                continue
            if db.name.lower() == "information_schema":
                return Plan("mimic"), pinned_t
            if db.name.lower() != self.database.lower():
                raise E.SqlError(E.NO_SUCH_TABLE, database=db.name, table=t.name)
            t.set("db", None)
        if isinstance(tree, exp.Query):
            if not tables and needs_mimic(tree):
                return Plan("mimic"), pinned_t
            kind = "query"
            if tree.args.get("locks"):
                tree.set("locks", None)
                kind = "lockread"
            original_query: exp.Expression = tree.copy()
            rewriter = Rewriter(self.catalog, params, self.database)
            rewritten = rewriter.run(tree)
            plan = Plan(kind, *self._generate(rewritten), tree=original_query)
            plan.extra["types"] = rewriter.projection_types
            plan.extra["tableless"] = not tables
            return plan, pinned_t
        if isinstance(tree, exp.Insert | exp.Update | exp.Delete):
            original: exp.Expression = tree.copy()
            Rewriter(self.catalog, params, self.database).run(tree)
            target = tree.find(exp.Table)
            extra: dict[str, Any] = {}
            conflict = tree.args.get("conflict") if isinstance(tree, exp.Insert) else None
            suffix = ""
            if isinstance(conflict, exp.OnConflict) and conflict.args.get("duplicate"):
                tree.set("conflict", None)
                sets = []
                changed = []
                for eq in conflict.expressions:
                    for v in list(eq.find_all(exp.Anonymous, exp.Values)):
                        if v.name.upper() == "VALUES" and v.expressions:
                            v.replace(exp.column(v.expressions[0].name, table="excluded"))
                    sets.append(eq.sql("sqlite"))
                    if isinstance(eq, exp.EQ):
                        changed.append(
                            f"NOT ({eq.this.sql('sqlite')} IS ({eq.expression.sql('sqlite')}) COLLATE BINARY)"
                        )
                # only rows whose values change count as updated (MySQL's affected rows: 2 each)
                where = f" WHERE {' OR '.join(changed)}" if changed else ""
                suffix = " ON CONFLICT DO UPDATE SET " + ", ".join(sets) + where + " RETURNING rowid"
                extra["upsert"] = True
            if isinstance(tree, exp.Insert):
                extra.update(self._insert_shape(tree))
                if tree.args.get("ignore"):
                    self.check_ignore(original, params)
                    extra["ignore"] = True  # checked again on every execution (new values)
            if isinstance(tree, exp.Update) and tree.expressions:
                extra["changed"] = self._generate(self._only_changed(tree))
            sql, order = self._generate(tree, suffix)
            if replace:
                sql = re.sub(r"^INSERT\b", "INSERT OR REPLACE", sql, count=1)
            return Plan(
                "write", sql, order, table=target.name if target else None, tree=original, extra=extra
            ), pinned_t
        if isinstance(tree, exp.Create):
            kind = str(tree.args.get("kind") or "").upper()
            if kind == "TABLE":
                return Plan(
                    "create",
                    tree=tree,
                    table=tree.find(exp.Table).name,  # type: ignore[union-attr]
                ), pinned_t
            if kind == "INDEX":
                return Plan("ddl", *self._generate(tree), tree=tree), pinned_t
            if kind == "DATABASE":
                return Plan("mimic"), pinned_t
            raise E.SqlError(E.NOT_SUPPORTED, feature=f"CREATE {kind}")
        if isinstance(tree, exp.Drop):
            kind = str(tree.args.get("kind") or "").upper()
            if kind == "TABLE":
                return Plan("drop", tree=tree), pinned_t
            if kind == "INDEX":
                return Plan("ddl", *self._generate(tree), tree=tree), pinned_t
            raise E.SqlError(E.NOT_SUPPORTED, feature=f"DROP {kind}")
        if isinstance(tree, exp.TruncateTable):
            return Plan(
                "truncate", tree=tree, table=tree.expressions[0].name if tree.expressions else None
            ), pinned_t
        raise E.SqlError(E.NOT_SUPPORTED, feature=f"{type(tree).__name__.upper()} statement")

    def check_ignore(self, tree: exp.Expression, params: list[Any]) -> None:
        """INSERT IGNORE turns strict-mode errors into clamped values and warnings in MariaDB;
        SQLite's OR IGNORE would skip the row instead, so such rows are refused."""
        target = tree.find(exp.Table)
        table = self.catalog(target.name) if target is not None else None
        values = tree.expression
        if table is None or not isinstance(tree.this, exp.Schema) or not isinstance(values, exp.Values):
            raise E.not_supported("INSERT IGNORE without a column list and VALUES")
        cols = [table.column(c.name) for c in tree.this.expressions]
        for tup in values.expressions:
            for col, item in zip(cols, tup.expressions, strict=False):
                if col is None:
                    continue
                if isinstance(item, exp.Placeholder) and item.name[1:].isdigit():
                    value = params[int(item.name[1:])]
                elif isinstance(item, exp.Literal):
                    value = item.to_py()
                elif isinstance(item, exp.Null):
                    value = None
                    if not col.nullable and not col.auto_increment:
                        raise E.not_supported("INSERT IGNORE of NULL into a NOT NULL column")
                    continue
                else:
                    raise E.not_supported("INSERT IGNORE with expressions in VALUES")
                if strict_violation(col, value) is not None:
                    raise E.not_supported(
                        f"INSERT IGNORE of a value strict mode rejects (column '{col.name}')"
                    )

    def _insert_shape(self, tree: exp.Insert) -> dict[str, Any]:
        """``rows``: VALUES rows; ``auto_rows``: rows that take an AUTO_INCREMENT value
        (InnoDB allocates them even when the insert fails or updates instead)."""
        target = tree.find(exp.Table)
        table = self.catalog(target.name) if target is not None else None
        values = tree.expression
        if table is None or not isinstance(values, exp.Values):
            return {}
        rows = len(values.expressions)
        auto = table.auto_increment
        listed = (
            [c.name.lower() for c in tree.this.expressions] if isinstance(tree.this, exp.Schema) else None
        )
        auto_rows = 0
        if auto is not None and listed is not None and auto.name.lower() not in listed:
            auto_rows = rows
        return {"rows": rows, "auto_rows": auto_rows}

    @staticmethod
    def _only_changed(tree: exp.Update) -> exp.Update:
        """The UPDATE restricted to rows it really changes: MySQL's affected-rows count
        (clients without CLIENT_FOUND_ROWS) counts changed rows, not matched ones."""
        conds = [
            exp.Not(
                this=exp.Paren(
                    this=exp.Is(
                        this=eq.this.copy(),
                        expression=exp.Collate(
                            this=exp.Paren(this=eq.expression.copy()), expression=exp.var("BINARY")
                        ),
                    )
                )
            )
            for eq in tree.expressions
            if isinstance(eq, exp.EQ)
        ]
        copy = tree.copy()
        if not conds:
            return copy
        changed: exp.Expression = exp.Paren(this=exp.or_(*conds))
        where = copy.args.get("where")
        copy.set("where", exp.Where(this=exp.and_(where.this, changed) if where is not None else changed))
        return copy

    @staticmethod
    def _command(tree: exp.Command) -> Plan:
        """Statements sqlglot leaves unparsed: no-ops, known-but-unsupported, or syntax errors."""
        words = tree.name.upper().split()
        keyword = words[0] if words else ""
        rest = (
            tree.expression.name
            if isinstance(tree.expression, exp.Expression)
            else str(tree.expression or "")
        )
        if keyword in _NOOP_COMMANDS:
            return Plan("noop")
        if not rest.strip() and len(words) < 2:
            raise E.SqlError(E.PARSE, near="", line=1)
        if keyword in _UNSUPPORTED_COMMANDS:
            raise E.SqlError(E.NOT_SUPPORTED, feature=f"{keyword} statement")
        raise E.SqlError(E.PARSE, near=f"{tree.name} {rest}".strip()[:80], line=1)

    def _generate(self, tree: exp.Expression, suffix: str = "") -> tuple[str, tuple[int, ...] | None]:
        try:
            text = tree.sql("sqlite", unsupported_level=ErrorLevel.RAISE) + suffix
        except UnsupportedError as exc:
            raise E.SqlError(E.NOT_SUPPORTED, feature=f"{exc}") from exc
        order: list[int] = []

        def repl(m: re.Match[str]) -> str:
            order.append(int(m.group(1)))
            return "?"

        text = _MARK.sub(repl, text)
        if order == list(range(len(order))):
            # Literals pinned into the text (ORDER BY 1, ROUND(x, 2)) drop out of the marker
            # list: bind only the leading ones the statement still has.
            return text, (-len(order) - 1,)
        return text, tuple(order)
