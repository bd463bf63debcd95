"""Random pairs of IDLs: an IDL compared with itself has no change, and swapping old and new mirrors
every change (its mirror rule, the two verdicts swapped)."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdb.thrift.compat import compare
from simdb.thrift.compat_rules import MIRRORS
from simdb.thrift.idl import load_idl

pytestmark = pytest.mark.fake

_COUNTER = itertools.count()
FIELD_TYPES = ["i32", "i64", "string", "E", "list<i32>", "map<string, E>"]


@st.composite
def _fields(draw: st.DrawFn, types: list[str], max_size: int = 4, union: bool = False) -> str:
    ids = draw(st.lists(st.integers(1, 6), unique=True, max_size=max_size))
    names = draw(st.lists(st.sampled_from("abcdef"), unique=True, min_size=len(ids), max_size=len(ids)))
    out = []
    for fid, name in zip(ids, names, strict=True):
        ttype = draw(st.sampled_from(types))
        req = "" if union else draw(st.sampled_from(["", "optional ", "required "]))
        default = ""
        if ttype == "i32" and not union and req != "required " and draw(st.booleans()):
            default = f" = {draw(st.integers(0, 2))}"
        out.append(f"{fid}: {req}{ttype} {name}{default}")
    return ", ".join(out)


@st.composite
def idls(draw: st.DrawFn) -> str:
    """A small IDL: an enum, a struct, a union, two exceptions, a base service and a service S."""
    enum_names = draw(st.lists(st.sampled_from("ABCD"), unique=True, min_size=1, max_size=4))
    size = len(enum_names)
    numbers = draw(st.lists(st.integers(1, 5), unique=True, min_size=size, max_size=size))
    enum = ", ".join(f"{n} = {v}" for n, v in zip(enum_names, numbers, strict=True))
    parts = [
        f"enum E {{ {enum} }}",
        f"struct R {{ {draw(_fields(FIELD_TYPES))} }}",
        f"union U {{ {draw(_fields(['i32', 'string', 'R'], 3, union=True))} }}",
        "exception X { 1: string why }",
        "exception Y { 1: i32 code }",
        "service Base { i32 ping() }",
        "service Other { string pong() }",
    ]
    methods = []
    for name in draw(st.lists(st.sampled_from(["m", "n", "k"]), unique=True, max_size=3)):
        ret = draw(st.sampled_from(["void", "i32", "R", "E", "list<R>"]))
        args = draw(_fields([*FIELD_TYPES, "R", "U"], 3))
        throws = draw(st.lists(st.sampled_from(["X", "Y"]), unique=True, max_size=2))
        oneway = ret == "void" and not throws and draw(st.booleans())
        declared = ", ".join(f"{i + 1}: {t} e{t}" for i, t in enumerate(throws))
        clause = f" throws ({declared})" if throws else ""
        methods.append(f"{'oneway ' if oneway else ''}{ret} {name}({args}){clause}")
    base = draw(st.sampled_from(["", " extends Base", " extends Other"]))
    parts.append(f"service S{base} {{ {', '.join(methods)} }}")
    return "\n".join(parts) + "\n"


def _load(text: str, tmp: Path) -> object:
    path = tmp / f"v{next(_COUNTER)}.thrift"
    path.write_text(text, encoding="utf-8")
    return load_idl(path)


@given(idls())
def test_an_idl_has_no_change_against_itself(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    tmp = tmp_path_factory.getbasetemp()
    assert compare(_load(text, tmp), _load(text, tmp)).changes == ()  # type: ignore[arg-type]


@given(idls(), idls())
def test_swapping_old_and_new_mirrors_every_change(
    tmp_path_factory: pytest.TempPathFactory, old_text: str, new_text: str
) -> None:
    tmp = tmp_path_factory.getbasetemp()
    old, new = _load(old_text, tmp), _load(new_text, tmp)
    ahead = compare(old, new)  # type: ignore[arg-type]
    back = compare(new, old)  # type: ignore[arg-type]
    assert Counter(back.rule_ids()) == Counter(MIRRORS[r] for r in ahead.rule_ids())
    verdicts = Counter((MIRRORS[c.rule.id], c.old_servers, c.old_clients) for c in ahead.changes)
    assert Counter((c.rule.id, c.old_clients, c.old_servers) for c in back.changes) == verdicts
    assert back.breaking("clients") == ahead.breaking("servers")
    assert back.breaking("servers") == ahead.breaking("clients")
