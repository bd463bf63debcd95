"""Loading IDL: real-world constructs, thriftpy2 quirks, errors that name file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from thriftpy2.thrift import TType

from simdb.errors import IdlError
from simdb.thrift.idl import is_union, load_idl, preprocess
from simdb.thrift.model import service_model

HERE = Path(__file__).parent
IDL = HERE / "idl"
QUIRKS = HERE / "idl_quirks"
HOMEFEED = HERE.parent.parent / "thrift" / "homefeed"
INCLUDES = [IDL / "inc_a", IDL / "inc_b"]


def load_rich():
    return load_idl(IDL / "rich.thrift", INCLUDES)


# --- real-world constructs -------------------------------------------------------------------------------


def test_includes_from_several_directories_and_extends_chain() -> None:
    module = load_rich()
    service = service_model(module, "RichService")
    declared = {name: m.service for name, m in service.methods.items()}
    assert declared == {
        "echo": "RichService", "nothing": "RichService", "tree": "RichService", "value": "RichService",
        "lookup": "RichService", "fire": "RichService",
        "count": "MiddleService", "poke": "MiddleService",
        "ping": "RootService",
    }
    # The included modules are reachable by their include names.
    assert module.common.Color.BLUE == 7
    assert module.middle.MiddleService.thrift_services == ["count", "poke", "ping"]


def test_methods_know_return_type_exceptions_and_oneway() -> None:
    service = service_model(load_rich(), "RichService")
    echo = service.methods["echo"]
    assert echo.has_return and not echo.oneway
    assert echo.return_ttype == TType.STRUCT and echo.return_spec.__name__ == "Everything"
    assert [(e.field_name, e.field_id, e.name) for e in echo.exceptions] == [
        ("invalid", 1, "Invalid"), ("nf", 2, "NotFound"),
    ]
    assert echo.exception_named("NotFound") is echo.exception_named("nf")
    assert [a.name for a in echo.args] == ["e", "times"]
    nothing = service.methods["nothing"]
    assert not nothing.has_return and nothing.return_ttype == TType.VOID and not nothing.oneway
    assert service.methods["fire"].oneway and service.methods["poke"].oneway


def test_typedefs_consts_enums_unions_and_recursive_structs() -> None:
    module = load_rich()
    assert module.GREETING == "hello & welcome -0x10, typedef"  # string contents are never rewritten
    assert module.PRIMES == [2, 3, 5, 7]
    assert module.LIMITS == {"a": 1, "b": 2}
    assert module.common.MAX_ITEMS == 10
    assert is_union(module.Value) and not is_union(module.Inner)
    tree_spec = module.Tree.thrift_spec
    assert tree_spec[3][2] is module.Tree  # recursion resolved to the class itself
    assert tree_spec[2][2] == (TType.STRUCT, module.Tree)
    # typedef'd field types resolve to the underlying type
    everything = module.Everything.thrift_spec
    assert everything[21][:3] == (TType.LIST, "items", TType.I64)
    assert everything[9][2] is module.common.Color
    assert module.Everything().color == module.common.Color.GREEN  # enum default
    assert issubclass(module.Invalid, Exception)


def test_service_lookup_by_dotted_name_and_unknown_service_lists_services() -> None:
    module = load_rich()
    assert service_model(module, "middle.MiddleService").name == "MiddleService"
    with pytest.raises(IdlError) as err:
        service_model(module, "Nope")
    message = str(err.value)
    assert "rich.thrift" in message and "'Nope'" in message
    assert "RichService" in message and "middle.MiddleService" in message


def test_homefeed_demo_idls_load() -> None:
    for name, service in [("pinstore", "PinStore"), ("usergraph", "UserGraph"),
                          ("candidates", "CandidateGenerator"), ("ranker", "Ranker")]:
        model = service_model(load_idl(HOMEFEED / f"{name}.thrift"), service)
        assert {"health", "version"} <= set(model.methods)


# --- fresh modules ----------------------------------------------------------------------------------------


def test_loading_twice_gives_fresh_modules_and_sees_changes(tmp_path: Path) -> None:
    (tmp_path / "dep.thrift").write_text("struct D {\n  1: i32 a\n}\n")
    main = tmp_path / "main.thrift"
    main.write_text('include "dep.thrift"\nservice S {\n  dep.D get()\n}\n')
    first = load_idl(main)
    second = load_idl(main)
    assert first is not second and first.dep is not second.dep
    (tmp_path / "dep.thrift").write_text("struct D {\n  1: i32 a,\n  2: string b\n}\n")
    third = load_idl(main)
    assert [f[1] for f in third.dep.D.thrift_spec.values()] == ["a", "b"]
    assert [f[1] for f in first.dep.D.thrift_spec.values()] == ["a"]


def test_same_named_includes_in_different_directories_do_not_collide() -> None:
    same = load_idl(IDL / "same" / "uses_types.thrift")
    other = load_idl(IDL / "other" / "uses_types.thrift")
    assert [f[1] for f in same.types.Thing.thrift_spec.values()] == ["same_id"]
    assert [f[1] for f in other.types.Thing.thrift_spec.values()] == ["other_name"]


def test_one_include_shared_by_two_files_is_one_module() -> None:
    module = load_idl(HOMEFEED / "pinstore.thrift")
    assert module.types is module.base.types


# --- thriftpy2 quirks: each Apache-accepted construct loads or is refused clearly --------------------------


def quirk_files() -> list[Path]:
    files = sorted(QUIRKS.glob("*.thrift"))
    assert files, "tests/thrift/idl_quirks/ holds one IDL per parser quirk"
    return files


@pytest.mark.parametrize("path", quirk_files(), ids=lambda p: p.stem)
def test_quirk_file_loads_or_names_the_construct(path: Path) -> None:
    if path.stem == "uuid_type":
        with pytest.raises(IdlError, match=r"uuid_type\.thrift:\d+: the 'uuid' type is not supported"):
            load_idl(path)
        return
    module = load_idl(path)
    services = module.__thrift_meta__["services"]
    assert services, f"{path.name} declares a service"
    model = service_model(module, services[0].__name__)
    assert model.methods


def test_namespace_annotations_are_dropped() -> None:
    module = load_idl(QUIRKS / "namespace_annotation.thrift")
    assert module.__thrift_namespaces__["py"] == "quirks.namespace_annotation"


def test_negative_hex_constants_have_their_value() -> None:
    module = load_idl(QUIRKS / "negative_hex_const.thrift")
    assert module.MASK == -16
    assert module.BIG_NEGATIVE == -0x7FFFFFFF
    assert module.Flags().mask == -1


def test_reference_qualifiers_and_other_language_keywords_are_accepted() -> None:
    module = load_idl(QUIRKS / "reference_qualifier.thrift")
    spec = module.Node.thrift_spec[2]
    assert spec[1] == "next" and spec[2] is module.Node


def test_typedef_separators() -> None:
    module = load_idl(QUIRKS / "typedef_separator.thrift")
    assert module.Account.thrift_spec[2][2] == (TType.STRING, TType.I64)


def test_namespace_annotations_on_the_next_line() -> None:
    text = 'namespace java a.b\n  (x = "y")\nstruct S {\n  1: i32 a\n}\n'
    out = preprocess(text)
    assert out.splitlines()[0] == "namespace java a.b" and out.splitlines()[1].strip() == ""
    assert out.count("\n") == text.count("\n")


def test_preprocess_keeps_line_numbers_and_literals() -> None:
    text = (
        'namespace py a.b (x = "y",\n  z = "w")\n'
        "const i32 A = -0x1F,\n"
        "typedef map<string, i32> M,\n"
        'const string S = "-0x10 & (x),"  // -0x10 & comment\n'
        "/* & -0x5 */ struct T {\n  1: optional T &next\n}\n"
    )
    out = preprocess(text, "t.thrift")
    assert out.count("\n") == text.count("\n")
    lines = out.splitlines()
    assert lines[0].rstrip() == "namespace py a.b" and lines[1].strip() == ""
    assert lines[2] == "const i32 A = -31;"
    assert lines[3] == "typedef map<string, i32> M;"
    assert lines[4] == text.splitlines()[4]  # literal and comment untouched
    assert lines[5].startswith("/* & -0x5 */")
    assert "&" not in lines[6]


def test_uuid_as_a_field_name_is_fine_but_as_a_type_is_refused() -> None:
    assert "uuid" in preprocess("struct S {\n  1: string uuid\n}\n")
    assert "uuid" in preprocess("struct S {\n  string uuid\n  i32 next\n}\n")  # implicit field ids
    assert "uuid" in preprocess("service S {\n  void uuid(1: list<i32> uuid)\n}\n")
    for text, line in [
        ("struct S {\n  1: uuid id\n}\n", 2),
        ("struct S {\n\n  1: list<uuid> ids\n}\n", 3),
        ("struct S { 1: map<uuid, string> m }\n", 1),
        ("typedef uuid Id\n", 1),
        ("struct S {\n  1: required uuid id\n}\n", 2),
        ("service S {\n  uuid get()\n}\n", 2),
    ]:
        with pytest.raises(IdlError, match=rf"^x\.thrift:{line}: the 'uuid' type"):
            preprocess(text, "x.thrift")


# --- errors name file and line, never a parser traceback -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("syntax_error", r"syntax_error\.thrift:8: syntax error near 'i32'"),
        ("unknown_type", r"unknown_type\.thrift:4: unknown type 'Missing'"),
        ("includes_bad", r"unknown_type\.thrift:4: unknown type 'Missing'"),
        ("missing_include", r"missing_include\.thrift:3: cannot find include 'nowhere\.thrift'"),
        ("circular_a",
         r"circular_b\.thrift:1: circular include \(.*circular_a\.thrift -> .*circular_b\.thrift"),
        ("python_keyword", r"python_keyword\.thrift:3: 'from' is a Python keyword"),
        ("bad_extends", r"bad_extends\.thrift:1: service 'A' extends unknown service 'Nope'"),
        ("duplicate_service", r"duplicate_service\.thrift:3: 'S' type is already defined"),
        ("bad_default", r"bad_default\.thrift:3: Type error for field a"),
        ("includes_illegal", r"illegal_char\.thrift:3: Illegal character '\$'"),
    ],
)
def test_errors_name_file_line_and_construct(name: str, pattern: str) -> None:
    with pytest.raises(IdlError) as err:
        load_idl(IDL / f"{name}.thrift")
    assert re.search(pattern, str(err.value)), str(err.value)
    assert err.value.__cause__ is None or isinstance(err.value.__cause__, IdlError | OSError)


def test_missing_unreadable_and_misnamed_files(tmp_path: Path) -> None:
    with pytest.raises(IdlError, match="no such IDL file"):
        load_idl(tmp_path / "absent.thrift")
    wrong = tmp_path / "service.idl"
    wrong.write_text("struct S { 1: i32 a }\n")
    with pytest.raises(IdlError, match=r"must end in \.thrift"):
        load_idl(wrong)
    binary = tmp_path / "binary.thrift"
    binary.write_bytes(b"struct S {\xff\xfe}")
    with pytest.raises(IdlError, match=r"binary\.thrift: not UTF-8"):
        load_idl(binary)
    with pytest.raises(IdlError, match="include directory does not exist"):
        load_idl(IDL / "rich.thrift", [tmp_path / "nope"])


def test_unclosed_block_at_end_of_file(tmp_path: Path) -> None:
    path = tmp_path / "eof.thrift"
    path.write_text("struct S {\n  1: i32 a\n")
    with pytest.raises(IdlError, match=r"eof\.thrift: syntax error at end of file"):
        load_idl(path)


def test_a_failed_load_leaves_the_parser_usable(tmp_path: Path) -> None:
    with pytest.raises(IdlError):
        load_idl(IDL / "syntax_error.thrift")
    assert service_model(load_rich(), "RichService").methods


# --- fuzz: whatever the text, the answer is a module or an IdlError ---------------------------------------

MUTATION_CHARS = [*"{}()<>[];:,=&*-+.\"'/#\n 0x1aZ", "uuid", "typedef", "struct", "0x", "-0x1", "&next"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mangled_idl_loads_or_raises_idl_error(tmp_path: Path, data: st.DataObject) -> None:
    text = (IDL / "unknown_type.thrift").read_text() if data.draw(st.booleans()) else RICH_TEXT
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 6))
        text = text[:pos] + data.draw(st.sampled_from(MUTATION_CHARS)) + text[pos + cut:]
    path = tmp_path / "mangled.thrift"
    path.write_text(text)
    try:
        load_idl(path, INCLUDES)
    except IdlError as exc:
        assert str(exc).startswith(str(path)) or ".thrift" in str(exc)


RICH_TEXT = (IDL / "rich.thrift").read_text()
