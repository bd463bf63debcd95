"""The compat rules table and the report of each pair (no network: simdb's loader only)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from simdb.thrift.compat import compare, compare_files
from simdb.thrift.compat_rules import BREAKING, MIRRORS, RULES, rules_markdown
from simdb.thrift.idl import load_idl
from tests.thrift.compat.conftest import pair_files
from tests.thrift.compat.pairs import PAIRS, Pair

pytestmark = pytest.mark.fake

DOCS = Path(__file__).resolve().parents[3] / "docs" / "thrift-compat.md"


def test_every_rule_has_a_pair_written_for_it() -> None:
    covered = {r for p in PAIRS for r in p.rules}
    assert set(RULES) <= covered, sorted(set(RULES) - covered)


def test_a_rule_and_its_mirror_have_the_verdicts_swapped() -> None:
    for r in RULES.values():
        m = RULES[MIRRORS[r.id]]
        assert MIRRORS[m.id] == r.id
        assert (m.old_clients, m.old_servers) == (r.old_servers, r.old_clients), r.id
        assert m.data == r.data


def test_docs_show_the_rules_table() -> None:
    assert rules_markdown() in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("pair", PAIRS, ids=[p.rule for p in PAIRS])
def test_the_pair_is_reported_under_its_rules(pair: Pair, tmp_path: Path) -> None:
    old, new = pair_files(pair, tmp_path)
    report = compare_files(old, new)
    assert sorted(set(report.rule_ids())) == sorted(set(pair.rules)), report.render_text()
    assert compare_files(old, old).changes == ()
    back = compare_files(new, old)
    assert Counter(back.rule_ids()) == Counter(MIRRORS[r] for r in report.rule_ids())
    assert back.breaking("clients") == report.breaking("servers")
    assert back.breaking("servers") == report.breaking("clients")


def _report(tmp_path: Path, old: str, new: str) -> list[tuple[str, str, str]]:
    (tmp_path / "old.thrift").write_text(old, encoding="utf-8")
    (tmp_path / "new.thrift").write_text(new, encoding="utf-8")
    report = compare_files(tmp_path / "old.thrift", tmp_path / "new.thrift")
    return [(c.rule.id, c.old_clients, c.old_servers) for c in report.changes]


def test_a_type_travelling_both_ways_gets_the_worse_verdicts(tmp_path: Path) -> None:
    old = "struct Q { 1: i32 a }\nservice S { Q m(1: Q q) }\n"
    new = "struct Q { 1: i32 a, 2: required i32 b }\nservice S { Q m(1: Q q) }\n"
    assert _report(tmp_path, old, new) == [("field-added-required", BREAKING, BREAKING)]
    only_reply = "struct Q { 1: i32 a }\nservice S { Q m() }\n"
    only_reply_new = "struct Q { 1: i32 a, 2: required i32 b }\nservice S { Q m() }\n"
    assert _report(tmp_path, only_reply, only_reply_new) == [("field-added-required", "safe", BREAKING)]


def test_a_nested_type_takes_the_direction_of_its_container(tmp_path: Path) -> None:
    old = "enum E { A = 1, B = 2 }\nstruct In { 1: list<map<string, E>> es }\nservice S { void m(1: In x) }\n"
    new = old.replace(", B = 2", "")
    assert _report(tmp_path, old, new) == [("enum-value-removed", BREAKING, "safe")]


def test_types_only_file_counts_every_type_as_travelling_both_ways(tmp_path: Path) -> None:
    assert _report(tmp_path, "enum E { A = 1, B = 2 }\n", "enum E { A = 1 }\n") == [
        ("enum-value-removed", BREAKING, BREAKING)
    ]


def test_a_type_no_compared_service_uses_is_left_out(tmp_path: Path) -> None:
    old = "enum E { A = 1, B = 2 }\nenum F { X = 1 }\nservice S { void m(1: F f) }\n"
    new = "enum E { A = 1 }\nenum F { X = 1 }\nservice S { void m(1: F f) }\n"
    assert _report(tmp_path, old, new) == []
    # once a version uses it, it counts (here: only the new one, in a reply)
    used = new.replace("void m(1: F f)", "E m(1: F f)")
    assert _report(tmp_path, old, used) == [
        ("return-added", "safe", BREAKING),
        ("enum-value-removed", "safe", BREAKING),
    ]


def test_typedefs_and_include_names_are_compared_by_what_they_stand_for(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "types.thrift").write_text("struct P { 1: i64 id }\n", encoding="utf-8")
    (tmp_path / "b" / "types.thrift").write_text("struct P { 1: string id }\n", encoding="utf-8")
    old = tmp_path / "a" / "svc.thrift"
    new = tmp_path / "b" / "svc.thrift"
    old.write_text('include "types.thrift"\ntypedef i64 Id\nservice S { types.P get(1: Id id) }\n')
    new.write_text('include "types.thrift"\nservice S { types.P get(1: i64 id) }\n')
    report = compare_files(old, new)
    changes = [(c.rule.id, c.where) for c in report.changes]
    assert changes == [("field-type-changed", "struct types.P field 1")]
    assert (report.changes[0].old_clients, report.changes[0].old_servers) == (BREAKING, BREAKING)


def test_service_option_limits_the_comparison(tmp_path: Path) -> None:
    old = "service S { i32 m() }\nservice T { i32 n() }\n"
    new = "service S { i32 m() }\n"
    (tmp_path / "old.thrift").write_text(old)
    (tmp_path / "new.thrift").write_text(new)
    assert compare_files(tmp_path / "old.thrift", tmp_path / "new.thrift", service="S").changes == ()
    only_t = compare_files(tmp_path / "old.thrift", tmp_path / "new.thrift", service="T")
    assert only_t.rule_ids() == ["service-removed"]


def test_demo_idls_compare_equal_to_themselves() -> None:
    root = Path(__file__).resolve().parents[3]
    for idl in sorted((root / "thrift" / "homefeed").glob("*.thrift")):
        a, b = load_idl(idl), load_idl(idl)
        assert compare(a, b).changes == (), idl
    everything = root / "tests" / "contract" / "idl" / "everything.thrift"
    assert compare(load_idl(everything), load_idl(everything)).changes == ()


def test_json_report(tmp_path: Path) -> None:
    pair = next(p for p in PAIRS if p.rule == "method-removed")
    old, new = pair_files(pair, tmp_path)
    data = json.loads(compare_files(old, new).render_json())
    assert data["breaking"] == {"old_clients": True, "old_servers": False}
    assert [c["rule"] for c in data["changes"]] == ["method-removed"]
    assert data["changes"][0]["where"] == "S.gone"
    assert data["changes"][0]["reason"] == RULES["method-removed"].reason


def test_a_change_to_an_inherited_method_is_reported_once_under_its_base(tmp_path: Path) -> None:
    old = "service Base { i32 b(1: i32 x) }\nservice S extends Base { i32 m() }\n"
    new = "service Base { i64 b(1: i32 x) }\nservice S extends Base { i32 m() }\n"
    (tmp_path / "old.thrift").write_text(old)
    (tmp_path / "new.thrift").write_text(new)
    report = compare_files(tmp_path / "old.thrift", tmp_path / "new.thrift")
    assert [(c.rule.id, c.where) for c in report.changes] == [("return-type-changed", "Base.b")]
    only_s = compare_files(tmp_path / "old.thrift", tmp_path / "new.thrift", service="S")
    assert [(c.rule.id, c.where) for c in only_s.changes] == [("return-type-changed", "S.b")]


def test_a_type_reached_only_through_a_new_field_still_counts(tmp_path: Path) -> None:
    old = "enum E { A = 1 }\nstruct R { }\nservice S { R m() }\n"
    new = "enum E { A = 1, B = 2 }\nstruct R { 1: E e }\nservice S { R m() }\n"
    assert _report(tmp_path, old, new) == [
        ("enum-value-added", BREAKING, "safe"),
        ("field-added-optional", "safe", "safe"),
    ]
