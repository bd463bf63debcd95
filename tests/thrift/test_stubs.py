"""Stubs: loading YAML/JSON, exact and partial matching, priorities, sequences, templates, snapshots."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.transport import TMemoryBuffer

from simdb.errors import ConfigError, SnapshotError
from simdb.thrift.codec import args_from_json, args_to_json, struct_from_json
from simdb.thrift.idl import load_idl
from simdb.thrift.model import MethodModel, service_model
from simdb.thrift.reply import APP_ERROR_TYPES
from simdb.thrift.stubs import Reply, StubSet
from tests.thrift.strategies import structs

pytestmark = pytest.mark.fake

ROOT = Path(__file__).parent.parent.parent
IDL = Path(__file__).parent / "idl"
PINSTORE_MODULE = load_idl(ROOT / "thrift" / "homefeed" / "pinstore.thrift")
PINSTORE = service_model(PINSTORE_MODULE, "PinStore")
RANKER_MODULE = load_idl(ROOT / "thrift" / "homefeed" / "ranker.thrift")
RANKER = service_model(RANKER_MODULE, "Ranker")
CANDIDATES_MODULE = load_idl(ROOT / "thrift" / "homefeed" / "candidates.thrift")
CANDIDATES = service_model(CANDIDATES_MODULE, "CandidateGenerator")
RICH_MODULE = load_idl(IDL / "rich.thrift", [IDL / "inc_a", IDL / "inc_b"])
RICH = service_model(RICH_MODULE, "RichService")
INTERNAL_ERROR = APP_ERROR_TYPES["INTERNAL_ERROR"]


def wire_args(method: MethodModel, **kwargs: Any) -> Any:
    """Arguments as the server sees them: written and read back by thriftpy2 (sets become lists)."""
    out = TMemoryBuffer()
    method.args_cls(**kwargs).write(TBinaryProtocolFactory().get_protocol(out))
    args = method.args_cls()
    args.read(TBinaryProtocolFactory().get_protocol(TMemoryBuffer(out.getvalue())))
    return args


def stubset(service: Any, *stubs: dict[str, Any]) -> StubSet:
    result = StubSet(service)
    result.load_stubs(list(stubs))
    return result


def call(stubs: StubSet, name: str, **kwargs: Any) -> Reply | None:
    method = stubs.service.methods[name]
    return stubs.match(method, wire_args(method, **kwargs))


def pin(pin_id: int, **extra: Any) -> dict[str, Any]:
    return {"id": pin_id, "ownerId": 7, **extra}


# --- files ------------------------------------------------------------------------------------------------


YAML_FILE = """\
stubs:
  - id: pin-42
    method: getPin
    args: {id: 42}
    reply:
      return: {id: 42, ownerId: 7, title: "A pin", tags: [b, a], embedding: AAEC}
  - method: getPin
    args: {id: 404}
    reply:
      raise: {PinNotFound: {id: 404, message: no such pin}}
faults:
  getPins: {fixed_ms: 5, app_error_rate: 0.5}
"""


def test_yaml_and_json_files_load_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(YAML_FILE)
    (tmp_path / "b.json").write_text(
        json.dumps(
            [
                {"method": "getPin", "args": {"id": 1}, "reply": {"return": pin(1)}},
            ]
        )
    )
    stubs = StubSet.load_files(PINSTORE, [tmp_path / "a.yaml", tmp_path / "b.json"])
    assert [s["id"] for s in stubs.list()] == ["pin-42", "a.yaml#2", "b.json#1"]
    reply = call(stubs, "getPin", id=42)
    assert reply is not None and reply.kind == "return" and reply.source == "stub:pin-42"
    assert reply.value == PINSTORE_MODULE.types.Pin(
        id=42, ownerId=7, title="A pin", tags={"a", "b"}, embedding=b"\x00\x01\x02"
    )
    assert reply.value.saveCount == 0  # IDL default filled in
    missing = call(stubs, "getPin", id=404)
    assert missing is not None and missing.kind == "raise" and missing.exception_field == "nf"
    assert isinstance(missing.value, PINSTORE_MODULE.types.PinNotFound)  # exceptions compare by identity
    assert vars(missing.value) == {"id": 404, "message": "no such pin"}
    assert call(stubs, "getPin", id=5) is None
    assert set(stubs.faults) == {"getPins"} and stubs.faults["getPins"].app_error_rate == 0.5


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        (
            "stubs:\n  - method: getPin\n    args: {id: 1}\n    reply:\n      return: {id: 1, ownerId: x}\n",
            "yaml",
            r"s\.yaml: stubs\[0\]\.reply\.return\.ownerId: expected an integer \(i64\), got \"x\"",
        ),
        (
            "stubs:\n  - method: nope\n    reply: {return: 1}\n",
            "yaml",
            r"s\.yaml: stubs\[0\]\.method: PinStore has no method 'nope' \(methods: getPin, getPins",
        ),
        (
            "stubs:\n  - method: getPin\n    reply:\n      raise: {UserNotFound: {}}\n",
            "yaml",
            r"stubs\[0\]\.reply\.raise: getPin does not declare exception 'UserNotFound' "
            r"\(declares: PinNotFound\)",
        ),
        (
            "stubs:\n  - method: getPin\n    reply: {return: {id: 1}}\n",
            "yaml",
            r"stubs\[0\]\.reply\.return: required field 'ownerId' of Pin is missing",
        ),
        (
            "stubs:\n  - method: getPin\n    reply: {return: null}\n",
            "yaml",
            r"stubs\[0\]\.reply\.return: null is not a Pin",
        ),
        (
            "stubs:\n  - method: getPin\n    args: {pinId: 1}\n    reply: {return: {id: 1, ownerId: 1}}\n",
            "yaml",
            r"stubs\[0\]\.args: getPin_args has no field 'pinId' \(fields: id\)",
        ),
        (
            "stubs:\n  - method: getPin\n    reply: {return: {id: 1, ownerId: 1}}\n    priorty: 3\n",
            "yaml",
            r"stubs\[0\]: unknown key\(s\) priorty",
        ),
        (
            "stubs:\n  - method: getPin\n",
            "yaml",
            r"stubs\[0\]: give either 'reply' \(one answer\) or 'replies'",
        ),
        (
            "stubs:\n  - method: getPin\n    replies: []\n",
            "yaml",
            r"stubs\[0\]\.replies: expected a non-empty list",
        ),
        (
            "stubs:\n  - method: getPin\n    reply: {return: {id: 1, ownerId: 1}, raise: x}\n",
            "yaml",
            r"stubs\[0\]\.reply: give exactly one of return, raise, app_error \(got return, raise\)",
        ),
        (
            "stubs:\n  - {id: a, method: version, reply: {return: v}}\n"
            "  - {id: a, method: version, reply: {return: w}}\n",
            "yaml",
            r"stubs\[1\]\.id: duplicate stub id 'a'",
        ),
        (
            "stubs:\n  - method: getPin\n    match: fuzzy\n    reply: {return: {id: 1, ownerId: 1}}\n",
            "yaml",
            r"stubs\[0\]\.match: expected 'partial' or 'exact', got 'fuzzy'",
        ),
        ("stubs: [\n", "yaml", r"s\.yaml:2: not valid YAML"),
        ('{"stubs": [}', "json", r"s\.json:1: not valid JSON"),
        ("stubs: []\nextra: 1\n", "yaml", r"unknown top-level key\(s\) extra"),
        ("faults:\n  getPin: {exception_rate: 2}\n", "yaml", r"s\.yaml: faults\.getPin\.exception_rate: "),
        (
            "faults:\n  nope: {fixed_ms: 1}\n",
            "yaml",
            r"s\.yaml: faults\.nope: service PinStore has no method",
        ),
        (
            "stubs:\n  - method: getPin\n    reply:\n      return: {id: '{{args.nope}}', ownerId: 1}\n",
            "yaml",
            r"stubs\[0\]\.reply: template \{\{args\.nope\}\} must start with args\.<name> "
            r"\(arguments of getPin: id\)",
        ),
    ],
)
def test_bad_stub_files_name_file_and_key(tmp_path: Path, text: str, suffix: str, message: str) -> None:
    path = tmp_path / f"s.{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        StubSet.load_files(PINSTORE, [path])


def test_stub_file_must_be_yaml_or_json_and_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stubs\.yaml: stub file not found"):
        StubSet.load_files(PINSTORE, [tmp_path / "stubs.yaml"])
    (tmp_path / "stubs.txt").write_text("[]")
    with pytest.raises(ConfigError, match=r"stubs\.txt: a stub file must end in \.yaml, \.yml or \.json"):
        StubSet.load_files(PINSTORE, [tmp_path / "stubs.txt"])


def test_void_methods_return_null() -> None:
    stubs = stubset(RANKER, {"method": "logImpression", "reply": {"return": None}})
    reply = call(stubs, "logImpression", impression=RANKER_MODULE.Impression(userId=1))
    assert reply is not None and reply.kind == "return" and reply.value is None
    with pytest.raises(ConfigError, match=r"stubs\[0\]\.reply\.return: logImpression returns void"):
        stubset(RANKER, {"method": "logImpression", "reply": {"return": 1}})


def test_a_failed_load_changes_nothing() -> None:
    stubs = stubset(PINSTORE, {"id": "keep", "method": "version", "reply": {"return": "v1"}})
    with pytest.raises(ConfigError):
        stubs.load_stubs(
            [
                {"id": "new", "method": "version", "reply": {"return": "v2"}},
                {"method": "version", "reply": {"return": 3}},
            ]
        )
    assert [s["id"] for s in stubs.list()] == ["keep"]
    assert call(stubs, "version").value == "v1"


# --- matching ---------------------------------------------------------------------------------------------


def test_partial_match_compares_only_the_fields_given_recursing_into_structs() -> None:
    stubs = stubset(
        CANDIDATES,
        {
            "id": "user5",
            "method": "getCandidates",
            "args": {"req": {"userId": 5}},
            "reply": {"return": {"candidates": []}},
        },
        {
            "id": "user5-search",
            "method": "getCandidates",
            "args": {"req": {"userId": 5, "surface": "SEARCH", "sources": ["TRENDING", "FOLLOWING"]}},
            "reply": {"return": {"candidates": [], "debugInfo": "search"}},
        },
    )
    req = CANDIDATES_MODULE.CandidateRequest
    home = call(stubs, "getCandidates", req=req(userId=5, numCandidates=10))
    assert home is not None and home.source == "stub:user5"
    # more fields given wins at equal priority; the set matches whatever order the client sent
    search = call(stubs, "getCandidates", req=req(userId=5, surface=2, sources=[1, 3], locale="de-DE"))
    assert search is not None and search.source == "stub:user5-search"
    assert call(stubs, "getCandidates", req=req(userId=6)) is None
    assert call(stubs, "getCandidates", req=None) is None


def test_exact_match_compares_every_argument() -> None:
    stubs = stubset(
        PINSTORE,
        {
            "id": "exact",
            "method": "getPins",
            "match": "exact",
            "args": {"ids": [1, 2]},
            "reply": {"return": {"missing": [2]}},
        },
        {"id": "partial", "method": "getPins", "args": {"ids": [1, 2]}, "reply": {"return": {}}},
    )
    exact = call(stubs, "getPins", ids=[1, 2])  # includeEmbeddings takes its default, false
    assert exact is not None and exact.source == "stub:exact"
    other = call(stubs, "getPins", ids=[1, 2], includeEmbeddings=True)
    assert other is not None and other.source == "stub:partial"
    assert call(stubs, "getPins", ids=[2, 1]) is None  # lists keep their order


def test_priority_beats_specificity_and_ties_go_to_the_newest() -> None:
    stubs = stubset(
        PINSTORE,
        {"id": "catch-all", "method": "getPin", "priority": 5, "reply": {"return": pin(0)}},
        {"id": "exact-1", "method": "getPin", "args": {"id": 1}, "reply": {"return": pin(1)}},
        {"id": "exact-2", "method": "getPin", "args": {"id": 2}, "priority": 9, "reply": {"return": pin(2)}},
        {"id": "exact-3a", "method": "getPin", "args": {"id": 3}, "priority": 5, "reply": {"return": pin(3)}},
    )
    assert call(stubs, "getPin", id=1).source == "stub:catch-all"  # higher priority partial
    assert call(stubs, "getPin", id=2).source == "stub:exact-2"
    assert call(stubs, "getPin", id=3).source == "stub:exact-3a"  # tie: exact beats partial
    stubs.add(
        {"id": "exact-3b", "method": "getPin", "args": {"id": 3}, "priority": 5, "reply": {"return": pin(3)}}
    )
    assert call(stubs, "getPin", id=3).source == "stub:exact-3b"  # tie among exact: newest
    stubs.add({"id": "catch-all-2", "method": "getPin", "priority": 5, "reply": {"return": pin(0)}})
    assert call(stubs, "getPin", id=7).source == "stub:catch-all-2"  # tie among partial: newest


def test_partial_stub_giving_every_argument_matches_like_exact() -> None:
    stubs = stubset(
        RICH,
        {
            "method": "lookup",
            "args": {"ids": [1], "colors": ["RED", "BLUE"], "inner": None},
            "reply": {"return": []},
        },
    )
    assert call(stubs, "lookup", ids=[1], colors={7, 1}) is not None
    assert call(stubs, "lookup", ids=[1], colors={7}) is None


def test_struct_and_map_arguments_match_exactly() -> None:
    req = {
        "userId": 1,
        "candidates": [10, 11],
        "userFeatures": {"age": {"intValue": 30}},
        "pinFeatures": {"10": {"f": {"vectorValue": [0.5]}}},
    }
    stubs = stubset(
        RANKER,
        {
            "method": "rank",
            "match": "exact",
            "args": {"req": req},
            "reply": {"return": {"ranked": [], "modelVersion": "m"}},
        },
    )
    fv = RANKER_MODULE.types.FeatureValue
    good = RANKER_MODULE.RankRequest(
        userId=1,
        candidates=[10, 11],
        userFeatures={"age": fv(intValue=30)},
        pinFeatures={10: {"f": fv(vectorValue=[0.5])}},
    )
    assert call(stubs, "rank", req=good) is not None
    good.userFeatures = {"age": fv(intValue=31)}
    assert call(stubs, "rank", req=good) is None


# --- answers ----------------------------------------------------------------------------------------------


def test_sequences_fail_twice_then_succeed_and_the_last_answer_repeats() -> None:
    stubs = stubset(
        PINSTORE,
        {
            "id": "flaky",
            "method": "getPin",
            "args": {"id": 9},
            "replies": [
                {"raise": {"PinNotFound": {"id": 9}}, "times": 2},
                {"app_error": {"type": "INTERNAL_ERROR", "message": "warming up"}},
                {"return": pin(9)},
            ],
        },
    )
    kinds = [call(stubs, "getPin", id=9).kind for _ in range(6)]
    assert kinds == ["raise", "raise", "app_error", "return", "return", "return"]
    assert not call(stubs, "getPin", id=9).deterministic
    stubs.reset()
    assert call(stubs, "getPin", id=9).kind == "raise"


def test_app_error_answers() -> None:
    stubs = stubset(
        PINSTORE,
        {"method": "version", "reply": {"app_error": {"type": "PROTOCOL_ERROR", "message": "bad"}}},
        {"method": "getPin", "reply": {"app_error": "plain message"}},
    )
    version = call(stubs, "version")
    assert version.kind == "app_error" and version.app_error_type == 7 and version.message == "bad"
    assert version.value.type == 7 and version.value.message == "bad"
    plain = call(stubs, "getPin", id=1)
    assert plain.app_error_type == INTERNAL_ERROR and plain.message == "plain message"
    with pytest.raises(ConfigError, match=r"app_error\.type: unknown TApplicationException type 'OOPS'"):
        stubset(PINSTORE, {"method": "version", "reply": {"app_error": {"type": "OOPS"}}})


def test_templates_copy_request_fields_typed_and_into_text() -> None:
    stubs = stubset(
        CANDIDATES,
        {
            "method": "getCandidates",
            "reply": {
                "return": {
                    "candidates": [
                        {"pinId": "{{args.req.userId}}", "source": "FOLLOWING", "retrievalScore": 1}
                    ],
                    "pinsBySource": {"{{args.req.experimentBucket}}": []},
                    "debugInfo": "user {{ args.req.userId }} on {{args.req.surface}}, "
                    "first {{args.req.excludePins[0]}}",
                }
            },
        },
    )
    reply = call(
        stubs,
        "getCandidates",
        req=CANDIDATES_MODULE.CandidateRequest(userId=77, experimentBucket="b1", excludePins={5}),
    )
    assert reply is not None and reply.kind == "return" and reply.deterministic
    assert reply.value.candidates[0].pinId == 77
    assert reply.value.pinsBySource == {"b1": []}
    assert reply.value.debugInfo == "user 77 on HOME, first 5"


def test_templates_that_do_not_fit_answer_internal_error_saying_why() -> None:
    stubs = stubset(
        CANDIDATES,
        {
            "id": "t",
            "method": "getCandidates",
            "reply": {"return": {"candidates": [{"pinId": "{{args.req.locale}}"}]}},
        },
    )
    req = CANDIDATES_MODULE.CandidateRequest
    wrong_type = call(stubs, "getCandidates", req=req(userId=1, locale="en-US"))
    assert wrong_type.kind == "app_error" and wrong_type.app_error_type == INTERNAL_ERROR
    assert "stub:t: answer does not fit getCandidates" in wrong_type.message
    assert 'candidates[0].pinId: expected an integer (i64), got "en-US"' in wrong_type.message
    unset = call(stubs, "getCandidates", req=req(userId=1))
    assert unset.kind == "app_error" and "the request has no field 'locale' (unset?)" in unset.message


def test_templates_in_declared_exceptions() -> None:
    stubs = stubset(
        PINSTORE,
        {
            "method": "getPin",
            "reply": {"raise": {"PinNotFound": {"id": "{{args.id}}", "message": "pin {{args.id}} is gone"}}},
        },
    )
    reply = call(stubs, "getPin", id=12)
    assert reply.kind == "raise" and reply.value.id == 12 and reply.value.message == "pin 12 is gone"


def test_replies_without_templates_are_built_once_and_shared() -> None:
    stubs = stubset(PINSTORE, {"method": "getPin", "args": {"id": 1}, "reply": {"return": pin(1)}})
    assert call(stubs, "getPin", id=1) is call(stubs, "getPin", id=1)


def test_delay_ms_becomes_reply_delay() -> None:
    stubs = stubset(PINSTORE, {"method": "version", "reply": {"return": "v", "delay_ms": 250}})
    assert call(stubs, "version").delay_s == 0.25


# --- live changes -----------------------------------------------------------------------------------------


def test_add_remove_list_and_reset() -> None:
    stubs = stubset(PINSTORE, {"id": "loaded", "method": "version", "reply": {"return": "loaded"}})
    added = stubs.add({"method": "version", "reply": {"return": "added"}})
    assert added == "api-1"
    assert call(stubs, "version").value == "added"
    assert [s["id"] for s in stubs.list()] == ["loaded", "api-1"]
    assert stubs.get("api-1") == {"id": "api-1", "method": "version", "reply": {"return": "added"}}
    stubs.remove("loaded")
    with pytest.raises(ConfigError, match="no stub with id 'loaded'"):
        stubs.remove("loaded")
    with pytest.raises(ConfigError, match="a stub with id 'api-1' exists"):
        stubs.add({"id": "api-1", "method": "version", "reply": {"return": "x"}})
    with pytest.raises(ConfigError, match=r"^stub\.reply\.return: expected a string, got 1$"):
        stubs.add({"method": "version", "reply": {"return": 1}})
    stubs.reset()
    assert [s["id"] for s in stubs.list()] == ["loaded"]
    assert call(stubs, "version").value == "loaded"
    listed = stubs.list()
    listed[0]["reply"]["return"] = "mutated"
    assert stubs.list()[0]["reply"]["return"] == "loaded"  # list() hands out copies


def test_ten_thousand_stubs_load_and_each_matches_its_own(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    items = [
        {"method": "getPin", "args": {"id": i}, "reply": {"return": pin(i, title=f"pin {i}")}}
        for i in range(10_000)
    ]
    items.append({"id": "fallback", "method": "getPin", "priority": -1, "reply": {"return": pin(0)}})
    path.write_text(json.dumps({"stubs": items}))
    stubs = StubSet.load_files(PINSTORE, [path])
    assert len(stubs) == 10_001
    method = PINSTORE.methods["getPin"]
    for i in random.Random(1).sample(range(10_000), 200):
        reply = stubs.match(method, wire_args(method, id=i))
        assert reply is not None and reply.value.title == f"pin {i}"
    assert stubs.match(method, wire_args(method, id=10_001)).source == "stub:fallback"


# --- snapshots --------------------------------------------------------------------------------------------


def write_part(root: Path, stubs: list[Any] | None, recordings: list[Any] | None) -> Path:
    part = root / "thrift" / "pins"
    part.mkdir(parents=True)
    if stubs is not None:
        (part / "stubs.jsonl").write_text("".join(json.dumps(s) + "\n" for s in stubs))
    if recordings is not None:
        (part / "recordings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recordings))
    return part


def test_snapshot_part_stubs_then_recordings_replayed_in_order(tmp_path: Path) -> None:
    write_part(
        tmp_path,
        [
            {"id": "s1", "method": "getPin", "args": {"id": 1}, "reply": {"return": pin(1, title="stub")}},
        ],
        [
            {
                "method": "getPin",
                "args": {"id": 1},
                "reply": {"return": pin(1, title="recorded")},
                "latency_ms": 3,
            },
            {
                "method": "getPin",
                "args": {"id": 2},
                "reply": {"return": pin(2, title="first")},
                "latency_ms": 4,
            },
            {
                "method": "getPin",
                "args": {"id": 2},
                "reply": {"raise": {"PinNotFound": {"id": 2}}},
                "latency_ms": 5,
            },
        ],
    )
    stubs = StubSet.load_part(PINSTORE, tmp_path, "pins")
    assert stubs.recording_count == 3
    assert call(stubs, "getPin", id=1).value.title == "stub"  # stubs answer before recordings
    first = call(stubs, "getPin", id=2)
    assert first.source == "recording" and first.value.title == "first" and first.delay_s == 0.004
    assert not first.deterministic
    assert [call(stubs, "getPin", id=2).kind for _ in range(2)] == ["raise", "raise"]
    stubs.reset()
    assert call(stubs, "getPin", id=2).kind == "return"
    assert call(stubs, "getPin", id=3) is None


@pytest.mark.parametrize(
    ("stubs", "recordings", "file", "line", "message"),
    [
        (
            [{"method": "version", "reply": {"return": "v"}}, {"method": "version", "reply": {"return": 1}}],
            None,
            "stubs.jsonl",
            2,
            r"stub\.reply\.return: expected a string",
        ),
        (
            None,
            [{"method": "getPin", "args": {"id": 1}, "reply": {"return": pin(1)}}, {"method": "nope"}],
            "recordings.jsonl",
            2,
            r"recording\.method: PinStore has no method 'nope'",
        ),
        (
            [{"id": "x", "method": "version", "reply": {"return": "v"}}] * 2,
            None,
            "stubs.jsonl",
            2,
            r"duplicate stub id 'x'",
        ),
    ],
)
def test_snapshot_errors_name_file_and_line(
    tmp_path: Path, stubs: Any, recordings: Any, file: str, line: int, message: str
) -> None:
    write_part(tmp_path, stubs, recordings)
    with pytest.raises(SnapshotError, match=message) as err:
        StubSet.load_part(PINSTORE, tmp_path, "pins")
    assert err.value.path is not None and err.value.path.endswith(file) and err.value.line == line


def test_snapshot_line_that_is_not_json_and_missing_part(tmp_path: Path) -> None:
    part = write_part(tmp_path, [], None)
    (part / "stubs.jsonl").write_text('{"method": "version", "reply": {"return": "v"}}\n{oops\n')
    with pytest.raises(SnapshotError) as err:
        StubSet.load_part(PINSTORE, tmp_path, "pins")
    assert err.value.line == 2
    with pytest.raises(SnapshotError, match=r"has neither stubs\.jsonl nor recordings\.jsonl"):
        StubSet.load_part(PINSTORE, tmp_path, "other")


def test_add_part_is_all_or_nothing(tmp_path: Path) -> None:
    write_part(tmp_path, [{"id": "ok", "method": "version", "reply": {"return": "v"}}], [{"method": "nope"}])
    stubs = stubset(PINSTORE, {"id": "mine", "method": "version", "reply": {"return": "mine"}})
    with pytest.raises(SnapshotError):
        stubs.add_part(tmp_path, "pins")
    assert [s["id"] for s in stubs.list()] == ["mine"] and stubs.recording_count == 0


# --- the documentation's examples load ---------------------------------------------------------------------


def doc_examples() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "thrift-stubs.md").read_text()
    blocks = re.findall(r"```(yaml|json)\n(.*?)```", text, re.S)
    return [(lang, body) for lang, body in blocks if "stubs" in body or body.lstrip().startswith("faults:")]


@pytest.mark.parametrize(("lang", "body"), doc_examples())
def test_documented_stub_files_load(tmp_path: Path, lang: str, body: str) -> None:
    path = tmp_path / f"example.{lang}"
    path.write_text(body)
    data = yaml.safe_load(body)
    entries = data.get("stubs", []) if isinstance(data, dict) else data
    if "Ranker." in body:  # the multiplexed example: PinStore and Ranker stubs in one file
        sets = StubSet.load_files_for({"PinStore": PINSTORE, "Ranker": RANKER}, [path])
        assert sum(len(s) for s in sets.values()) == len(entries)
        assert sets["PinStore"].faults and sets["Ranker"].faults
        return
    methods = {s["method"] for s in entries} | set(
        (data.get("faults") or {}) if isinstance(data, dict) else ()
    )
    methods.discard("*")
    service = next(s for s in (PINSTORE, CANDIDATES, RANKER) if methods <= set(s.methods))
    stubs = StubSet.load_files(service, [path])
    assert len(stubs) == len(entries)
    for stub in stubs.list():
        if "args" in stub and not any("{{" in json.dumps(v) for v in stub.values()):
            method = service.methods[stub["method"]]
            args = args_from_json(method, stub["args"], "args")
            assert stubs.match(method, args) is not None


def test_documented_sequence_behaves_as_described(tmp_path: Path) -> None:
    body = next(b for _, b in doc_examples() if "flaky-pin" in b)
    path = tmp_path / "flaky.yaml"
    path.write_text(body)
    stubs = StubSet.load_files(PINSTORE, [path])
    assert [call(stubs, "getPin", id=7).kind for _ in range(5)] == [
        "raise",
        "raise",
        "app_error",
        "return",
        "return",
    ]


# --- property: a stub built from a call's own arguments matches that call after a trip over the wire ------


def roundtrip_args(method: MethodModel, args: Any) -> Any:
    out = TMemoryBuffer()
    args.write(TBinaryProtocolFactory().get_protocol(out))
    back = method.args_cls()
    back.read(TBinaryProtocolFactory().get_protocol(TMemoryBuffer(out.getvalue())))
    return back


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_stubs_built_from_arguments_match_them_on_the_wire(data: st.DataObject) -> None:
    method = RICH.methods[data.draw(st.sampled_from(["echo", "lookup", "value"]))]
    args = data.draw(structs(method.args_cls, nan=False))
    args_json = args_to_json(method, args)
    # a partial stub on a random subset of the fields of the first argument (recursing into structs)
    first = method.args[0].name
    given_fields = args_json.get(first)
    partial_args: dict[str, Any] = {}
    if isinstance(given_fields, dict):
        keep = data.draw(st.sets(st.sampled_from(sorted(given_fields) or [""]), max_size=4))
        partial_args[first] = {k: v for k, v in given_fields.items() if k in keep}
    stubs = stubset(
        RICH,
        {
            "id": "exact",
            "method": method.name,
            "match": "exact",
            "args": args_json,
            "priority": 1,
            "reply": {"app_error": "exact"},
        },
        {"id": "partial", "method": method.name, "args": partial_args, "reply": {"app_error": "partial"}},
    )
    wire = roundtrip_args(method, args)
    assert stubs.match_stub_id(method, wire) == "exact"
    stubs.remove("exact")
    assert stubs.match_stub_id(method, wire) == "partial"


def test_template_rendering_an_unhashable_map_key_is_an_internal_error() -> None:
    stubs = stubset(
        PINSTORE, {"id": "k", "method": "getPins", "reply": {"return": {"pins": {"{{args.ids}}": pin(1)}}}}
    )
    reply = call(stubs, "getPins", ids=[1, 2])
    assert reply is not None and reply.kind == "app_error" and reply.app_error_type == INTERNAL_ERROR
    assert reply.message.startswith("stub:k: answer does not fit getPins")


def test_huge_times_cost_nothing() -> None:
    stubs = stubset(
        PINSTORE, {"method": "version", "replies": [{"return": "a", "times": 10**12}, {"return": "b"}]}
    )
    assert [call(stubs, "version").value for _ in range(3)] == ["a", "a", "a"]
    with pytest.raises(
        ConfigError, match=r"stubs\[0\]\.replies\[0\]\.times: expected a positive integer, got 0"
    ):
        stubset(PINSTORE, {"method": "version", "replies": [{"return": "a", "times": 0}]})


# --- fuzz: any JSON is a stub or a ConfigError ----------------------------------------------------------

JSON_LEAVES = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6)
WORDS = st.sampled_from(
    [
        "id",
        "ids",
        "req",
        "userId",
        "title",
        "return",
        "raise",
        "app_error",
        "times",
        "PinNotFound",
        "{{args.id}}",
        "{{args.nope}}",
        "type",
        "message",
        "images",
        "tags",
    ]
)
JSON = st.recursive(
    JSON_LEAVES | WORDS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(WORDS | st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(["getPin", "getPins", "version", "getBoardPins", "nope"]),
    match=st.sampled_from([None, "exact", "partial", 3]),
    args=JSON,
    reply=JSON | st.fixed_dictionaries({"return": JSON}) | st.fixed_dictionaries({"raise": JSON}),
    priority=st.none() | st.integers(-3, 3) | st.text(max_size=2),
)
def test_any_json_is_a_stub_or_a_config_error(
    method: str, match: Any, args: Any, reply: Any, priority: Any
) -> None:
    raw: dict[str, Any] = {"method": method, "args": args, "reply": reply}
    if match is not None:
        raw["match"] = match
    if priority is not None:
        raw["priority"] = priority
    stubs = StubSet(PINSTORE)
    try:
        stubs.add(raw)
    except ConfigError:
        return
    m = PINSTORE.methods[method]
    reply_obj = stubs.match(m, m.args_cls(**{f.name: None for f in m.args}))
    assert reply_obj is None or reply_obj.kind in ("return", "raise", "app_error")


@pytest.mark.parametrize("delay", [-1, float("inf"), float("nan"), 10**9, "5", True])
def test_delays_must_be_finite_and_bounded(delay: Any) -> None:
    with pytest.raises(ConfigError, match=r"stubs\[0\]\.reply\.delay_ms: expected a number of milliseconds"):
        stubset(PINSTORE, {"method": "version", "reply": {"return": "v", "delay_ms": delay}})


def test_sets_of_lists_match_in_any_order() -> None:
    service = service_model(load_idl(IDL / "unhashable.thrift"), "OddService")
    stubs = stubset(service, {"method": "odd", "args": {"arg": [[1, 2], [3]]}, "reply": {"return": {}}})
    method = service.methods["odd"]
    assert stubs.match(method, wire_args(method, arg=[[3], [1, 2]])) is not None
    assert stubs.match(method, wire_args(method, arg=[[2, 1], [3]])) is None


# --- property: the indexes choose exactly what a plain scan of every stub would ----------------------------

USERGRAPH = service_model(load_idl(ROOT / "thrift" / "homefeed" / "usergraph.thrift"), "UserGraph")


def reference_choice(
    method: MethodModel, stubs: list[dict[str, Any]], request_json: dict[str, Any]
) -> str | None:
    """The documented rules, applied by brute force: priority, then exact, then more fields, then newest."""

    def contains(given: Any, actual: Any) -> bool:
        if isinstance(given, dict) and isinstance(actual, dict):
            return all(
                k in actual and contains(v, actual[k]) if v is not None else k not in actual
                for k, v in given.items()
            )
        return bool(given == actual)

    best: tuple[Any, ...] | None = None
    chosen = None
    for order, stub in enumerate(stubs):
        args = stub.get("args", {})
        all_plain = all(f.name in args and not isinstance(args[f.name], dict) for f in method.args)
        exact = stub.get("match") == "exact" or all_plain
        if exact:
            full = args_to_json(method, args_from_json(method, args, "ref"))
            matches = full == request_json
        else:
            matches = contains(args, request_json)
        if matches:
            rank = (stub.get("priority", 0), 1 if exact else 0, 0 if exact else len(args), order)
            if best is None or rank > best:
                best, chosen = rank, stub["id"]
    return chosen


followee_args = st.fixed_dictionaries(
    {},
    optional={"userId": st.integers(1, 3), "cursor": st.integers(0, 1), "limit": st.sampled_from([10, 50])},
)
request_args = st.fixed_dictionaries(
    {"userId": st.integers(1, 3), "cursor": st.integers(0, 1), "limit": st.sampled_from([10, 50])}
)
candidate_req = st.fixed_dictionaries(
    {},
    optional={
        "userId": st.integers(1, 3),
        "surface": st.sampled_from(["HOME", "SEARCH"]),
        "numCandidates": st.sampled_from([10, 100]),
        "locale": st.none() | st.just("de-DE"),
    },
)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_indexed_matching_agrees_with_a_plain_scan(data: st.DataObject) -> None:
    which = data.draw(st.sampled_from(["getFollowees", "getCandidates"]))
    service = USERGRAPH if which == "getFollowees" else CANDIDATES
    method = service.methods[which]
    n = data.draw(st.integers(0, 30))
    stubs: list[dict[str, Any]] = []
    for i in range(n):
        if which == "getFollowees":
            args = data.draw(followee_args)
        else:
            req = data.draw(candidate_req)
            exact_req = "userId" in req and data.draw(st.booleans())
            args = {"req": req} if req or data.draw(st.booleans()) else {}
            if exact_req:
                stubs.append(
                    {
                        "id": f"s{i}",
                        "method": which,
                        "match": "exact",
                        "args": args,
                        "priority": data.draw(st.integers(0, 2)),
                        "reply": {"app_error": str(i)},
                    }
                )
                continue
        stub: dict[str, Any] = {"id": f"s{i}", "method": which, "args": args, "reply": {"app_error": str(i)}}
        if data.draw(st.booleans()):
            stub["priority"] = data.draw(st.integers(0, 2))
        if which == "getFollowees" and data.draw(st.integers(0, 4)) == 0:
            stub["match"] = "exact"
        stubs.append(stub)
    split = data.draw(st.integers(0, n))
    stubset_ = stubset(service, *stubs[:split])
    for stub in stubs[split:]:  # the rest arrive one by one, as through the admin API
        stubset_.add(stub)
    for stub_id in data.draw(
        st.lists(st.sampled_from([s["id"] for s in stubs] or ["none"]), max_size=3, unique=True)
    ):
        if stub_id != "none":
            stubset_.remove(stub_id)
            stubs = [s for s in stubs if s["id"] != stub_id]
    for _ in range(5):
        if which == "getFollowees":
            request = method.args_cls(**data.draw(request_args))
        else:
            req = data.draw(candidate_req)
            request = method.args_cls(
                req=struct_from_json(CANDIDATES_MODULE.CandidateRequest, {"userId": 1, **req}, "req")
            )
        wire = roundtrip_args(method, request)
        expected = reference_choice(method, stubs, args_to_json(method, wire))
        assert stubset_.match_stub_id(method, wire) == expected


def test_a_directory_loads_its_stub_files_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps([{"id": "b", "method": "version", "reply": {"return": "b"}}]))
    (tmp_path / "a.yaml").write_text("- {id: a, method: version, reply: {return: a}}\n")
    (tmp_path / "notes.txt").write_text("not a stub file")
    stubs = StubSet.load_files(PINSTORE, [tmp_path])
    assert [s["id"] for s in stubs.list()] == ["a", "b"]
    assert call(stubs, "version").value == "b"  # same priority and specificity: the later one wins
