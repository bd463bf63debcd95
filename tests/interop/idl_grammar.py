"""A hypothesis grammar of Thrift IDL files: typedefs, enums, constants (container- and struct-valued
too, and references to earlier constants), structs, unions and exceptions with defaults, services
with extends, oneway and throws.

Every definition only uses what is defined above it, and every value fits its type, so the file is
valid unless one :data:`MUTATIONS` entry was applied (an undefined type, a value of the wrong type,
an enum value from another enum, ...). Whether it is valid is for Debian's compiler to say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hypothesis import strategies as st

BASE = ("bool", "byte", "i8", "i16", "i32", "i64", "double", "string", "binary")
INT_RANGE = {"byte": 7, "i8": 7, "i16": 15, "i32": 31, "i64": 63}
MUTATIONS = ("undefined type", "wrong enum", "foreign enum", "string for int", "duplicate name",
             "bad list element", "missing required", "unknown field")


@dataclass
class Scope:
    """What is defined so far: name -> definition."""

    typedefs: dict[str, str] = field(default_factory=dict)
    enums: dict[str, dict[str, int]] = field(default_factory=dict)
    structs: dict[str, list[tuple[int, str, str, str]]] = field(default_factory=dict)  # fid, req, type, name
    unions: set[str] = field(default_factory=set)
    exceptions: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    consts: dict[str, str] = field(default_factory=dict)  # name -> type, as written
    counter: int = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


def types_(scope: Scope, depth: int = 2) -> st.SearchStrategy[str]:
    named = [*scope.typedefs, *scope.enums, *scope.structs]
    leaf = st.sampled_from(BASE + tuple(named))
    if depth <= 0:
        return leaf
    inner = st.deferred(lambda: types_(scope, depth - 1))
    return st.one_of(
        leaf,
        leaf,
        inner.map(lambda t: f"list<{t}>"),
        inner.map(lambda t: f"set<{t}>"),
        st.tuples(inner, inner).map(lambda kv: f"map<{kv[0]}, {kv[1]}>"),
    )


def _string() -> st.SearchStrategy[str]:
    return st.text("abcXYZ _-019", max_size=6).map(lambda s: f'"{s}"')


def values(scope: Scope, t: str, depth: int = 3) -> st.SearchStrategy[str]:
    """An IDL constant of type ``t``: a literal or, sometimes, a constant of the same type by name
    (for an enum Apache refuses that: it wants ``Enum.NAME``)."""
    t = t.strip()
    same = sorted(name for name, ct in scope.consts.items() if ct == t)
    literal = _literal(scope, t, depth)
    if same:
        return st.one_of(literal, st.sampled_from(same))
    return literal


def _literal(scope: Scope, t: str, depth: int) -> st.SearchStrategy[str]:
    if t in scope.typedefs:
        return values(scope, scope.typedefs[t], depth)
    if t == "bool":
        return st.sampled_from(["true", "false", "0", "1"])
    if t in INT_RANGE:
        bits = INT_RANGE[t]
        return st.integers(-(2**bits), 2**bits - 1).map(str)
    if t == "double":
        return st.one_of(st.integers(-1000, 1000).map(str), st.sampled_from(["1.5", "-0.25", "3e2"]))
    if t in ("string", "binary"):
        return _string()
    if t in scope.enums:
        members = scope.enums[t]
        return st.one_of(st.sampled_from([f"{t}.{m}" for m in members]),
                         st.sampled_from([str(v) for v in members.values()]))
    if t in scope.structs:
        return _struct_value(scope, t, depth)
    size = st.integers(0, 2 if depth > 0 else 0)
    if t.startswith(("list<", "set<")):
        elem = t[t.index("<") + 1 : -1]
        return size.flatmap(lambda n: st.lists(values(scope, elem, depth - 1), min_size=n, max_size=n)).map(
            lambda vs: "[" + ", ".join(vs) + "]"
        )
    if t.startswith("map<"):
        k, v = split_pair(t[4:-1])
        pair = st.tuples(values(scope, k, depth - 1), values(scope, v, depth - 1))
        return size.flatmap(lambda n: st.lists(pair, min_size=n, max_size=n)).map(
            lambda ps: "{" + ", ".join(f"{a}: {b}" for a, b in ps) + "}"
        )
    raise AssertionError(t)


def _struct_value(scope: Scope, name: str, depth: int) -> st.SearchStrategy[str]:
    fields = scope.structs[name]
    if name in scope.unions:
        if not fields:
            return st.just("{}")
        return st.sampled_from(fields).flatmap(
            lambda f: values(scope, f[2], depth - 1).map(lambda v: f'{{"{f[3]}": {v}}}')
        )
    parts = [
        st.just(None) if req != "required" and depth <= 0 else
        values(scope, ftype, depth - 1).map(lambda v, n=fname: f'"{n}": {v}')
        if req == "required" else
        st.one_of(st.none(), values(scope, ftype, depth - 1).map(lambda v, n=fname: f'"{n}": {v}'))
        for _fid, req, ftype, fname in fields
    ]
    return st.tuples(*parts).map(lambda ps: "{" + ", ".join(p for p in ps if p) + "}")


def split_pair(text: str) -> tuple[str, str]:
    depth = 0
    for i, c in enumerate(text):
        depth += c == "<"
        depth -= c == ">"
        if c == "," and depth == 0:
            return text[:i].strip(), text[i + 1 :].strip()
    raise AssertionError(text)


INCLUDED = re.compile(r"\b(?:Td|En|St|Un|Ex|C)\d+\b")


def _prefixed(scope: Scope, prefix: str) -> None:
    """Everything defined so far lives in an included file: refer to it as ``prefix.Name``."""

    def p(text: str) -> str:
        return INCLUDED.sub(lambda m: f"{prefix}.{m.group()}", text)

    scope.typedefs = {p(k): p(v) for k, v in scope.typedefs.items()}
    scope.enums = {p(k): v for k, v in scope.enums.items()}
    scope.structs = {p(k): [(f, r, p(t), n) for f, r, t, n in v] for k, v in scope.structs.items()}
    scope.unions = {p(k) for k in scope.unions}
    scope.exceptions = [p(k) for k in scope.exceptions]
    scope.consts = {p(k): p(v) for k, v in scope.consts.items()}


@st.composite
def idl_files(draw: st.DrawFn) -> tuple[str, str | None, str | None]:
    """``(idl text, mutation applied or None, text of the file it includes as "inc.thrift" or None)``."""
    scope = Scope()
    included = None
    if draw(st.integers(0, 2)) == 0:
        inc_lines: list[str] = []
        _definitions(draw, scope, inc_lines)
        included = "\n".join(inc_lines) + "\n"
        _prefixed(scope, "inc")
    lines: list[str] = ['include "inc.thrift"'] if included is not None else []
    _definitions(draw, scope, lines)
    _services(draw, scope, lines)
    mutation = draw(st.one_of(st.none(), st.none(), st.sampled_from(MUTATIONS)))
    if mutation is not None:
        lines.insert(draw(st.integers(1 if included else 0, len(lines))), _mutant(draw, scope, mutation))
    return "\n".join(lines) + "\n", mutation, included


def _definitions(draw: st.DrawFn, scope: Scope, lines: list[str]) -> None:
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["typedef", "enum", "const", "struct", "union", "exception", "struct"]))
        if kind == "typedef":
            name = scope.name("Td")
            t = draw(types_(scope, 1))
            lines.append(f"typedef {t} {name}")
            scope.typedefs[name] = t
        elif kind == "enum":
            name = scope.name("En")
            vals = draw(st.lists(st.integers(0, 20), min_size=1, max_size=3, unique=True))
            members = {f"M{v}": v for v in vals}
            lines.append(f"enum {name} {{ " + ", ".join(f"{m} = {v}" for m, v in members.items()) + " }")
            scope.enums[name] = members
        elif kind == "const":
            name = scope.name("C")
            t = draw(types_(scope))
            lines.append(f"const {t} {name} = {draw(values(scope, t))}")
            scope.consts[name] = t
        else:
            name = scope.name({"struct": "St", "union": "Un", "exception": "Ex"}[kind])
            fields: list[tuple[int, str, str, str]] = []
            body = []
            for fid in range(1, draw(st.integers(0, 4)) + 1):
                ftype = draw(types_(scope))
                req = "" if kind == "union" else draw(st.sampled_from(["", "required", "optional"]))
                fname = f"f{fid}"
                default = ""
                if kind != "union" and draw(st.booleans()):
                    default = " = " + draw(values(scope, ftype))
                body.append(f"{fid}: {req} {ftype} {fname}{default}".replace("  ", " "))
                fields.append((fid, req, ftype, fname))
            lines.append(f"{kind} {name} {{ " + ", ".join(body) + " }")
            if kind == "exception":
                scope.exceptions.append(name)
            else:
                scope.structs[name] = fields
                if kind == "union":
                    scope.unions.add(name)



def _services(draw: st.DrawFn, scope: Scope, lines: list[str]) -> None:
    for _ in range(draw(st.integers(1, 2))):
        name = scope.name("Sv")
        extends = ""
        if scope.services and draw(st.booleans()):
            extends = f" extends {draw(st.sampled_from(scope.services))}"
        methods = []
        for _m in range(draw(st.integers(1, 3))):
            mname = scope.name("m")
            arity = draw(st.integers(0, 2))
            args = ", ".join(f"{i}: {draw(types_(scope, 1))} a{i}" for i in range(1, arity + 1))
            if draw(st.integers(0, 4)) == 0:
                methods.append(f"oneway void {mname}({args})")
                continue
            ret = draw(st.one_of(st.just("void"), types_(scope, 1)))
            throws = ""
            if scope.exceptions and draw(st.booleans()):
                throws = f" throws (1: {draw(st.sampled_from(scope.exceptions))} e)"
            methods.append(f"{ret} {mname}({args}){throws}")
        lines.append(f"service {name}{extends} {{ " + "; ".join(methods) + " }")
        scope.services.append(name)


def _mutant(draw: st.DrawFn, scope: Scope, mutation: str) -> str:
    if mutation == "undefined type":
        return "struct Broken { 1: Undefined0 x }"
    if mutation == "wrong enum" and scope.enums:
        enum = draw(st.sampled_from(sorted(scope.enums)))
        return f"const {enum} Broken = {max(scope.enums[enum].values()) + 100}"
    if mutation == "foreign enum" and len(scope.enums) > 1:
        a, b = draw(st.permutations(sorted(scope.enums)))[:2]
        return f"struct Broken {{ 1: {a} x = {b}.{next(iter(scope.enums[b]))} }}"
    if mutation == "string for int":
        return 'const i32 Broken = "seven"'
    if mutation == "duplicate name" and scope.structs:
        return f"struct {draw(st.sampled_from(sorted(scope.structs)))} {{ 1: i32 x }}"
    if mutation == "bad list element":
        return 'const list<i64> Broken = [1, "two"]'
    required = [(s, f) for s, fs in scope.structs.items() for f in fs if f[1] == "required"]
    if mutation == "missing required" and required:
        return f"const {required[0][0]} Broken = {{}}"
    if mutation == "unknown field" and scope.structs:
        return f'const {draw(st.sampled_from(sorted(scope.structs)))} Broken = {{"nosuchfield": 1}}'
    return "struct Broken { 1: list<Undefined1> x }"
