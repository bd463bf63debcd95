"""The wire check of answers: each deviation from the IDL is found and named by its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from simdb.contract import Options, for_type
from simdb.contract.conform import check_struct
from simdb.thrift import pywire
from simdb.thrift.idl import load_idl
from simdb.thrift.scan import REPLY, Limits, read_header
from tests.contract.apache import EVERYTHING, PROTOCOLS

pytestmark = pytest.mark.fake

CLIENT = """
enum Color { RED = 1, BLUE = 2 }
union Pick { 1: i32 n, 2: string s }
struct Box {
  1: required i32 n,
  2: list<i32> ints,
  3: map<i32, string> names,
  4: Pick pick,
  5: string text,
  6: bool flag,
  7: list<Color> colors
}
"""


def _modules(tmp_path: Path, server_text: str) -> tuple[Any, Any]:
    (tmp_path / "client.thrift").write_text(CLIENT)
    (tmp_path / "server.thrift").write_text(server_text)
    return load_idl(tmp_path / "client.thrift"), load_idl(tmp_path / "server.thrift")


def _body(protocol: str, obj: Any) -> bytes:
    message = pywire.encode_message(protocol, "m", REPLY, 1, obj)  # type: ignore[arg-type]
    return message[read_header(protocol, message, 0, Limits()).body_start :]  # type: ignore[arg-type]


def _problems(tmp_path: Path, old: str, new: str, **fields: Any) -> dict[str, list[str]]:
    assert old in CLIENT
    client, server = _modules(tmp_path, CLIENT.replace(old, new))
    obj = server.Box(n=1, **fields)
    return {p: check_struct(p, _body(p, obj), client.Box, "box") for p in PROTOCOLS}


@pytest.mark.parametrize(
    ("old", "new", "fields", "expected"),
    [
        ("2: list<i32> ints", "2: list<string> ints", {"ints": ["a"]},
         "box.ints: elements are string/binary on the wire, the IDL says i32"),
        ("3: map<i32, string> names", "3: map<string, string> names", {"names": {"a": "b"}},
         "box.names: keys are string/binary on the wire, the IDL says i32"),
        ("3: map<i32, string> names", "3: map<i32, i64> names", {"names": {1: 2}},
         "box.names: values are i64 on the wire, the IDL says string"),
        ("union Pick", "struct Pick", {"pick": "PICK_BOTH"},
         "box.pick: union Pick must have exactly one field set, got n, s"),
        ("union Pick", "struct Pick", {"pick": "PICK_NONE"},
         "box.pick: union Pick must have exactly one field set, got none"),
        ("1: required i32 n", "1: required i64 n", {},
         "box.n: i64 on the wire, the IDL says i32"),
        ("6: bool flag", "6: string flag", {"flag": "yes"},
         "box.flag: string/binary on the wire, the IDL says bool"),
        ("7: list<Color> colors", "7: list<i32> colors", {"colors": [1, 9]},
         "box.colors[1]: 9 is not a declared value of enum Color (RED=1, BLUE=2)"),
        ("5: string text", "5: binary text", {"text": b"\xff\xfe"},
         "box.text: string is not UTF-8 (byte 0)"),
        ("7: list<Color> colors", "7: list<Color> colors, 9: i32 extra", {"extra": 3},
         "box: field id 9 (i32 on the wire) is not declared by Box"),
    ],
)
def test_each_deviation_is_named(tmp_path: Path, old: str, new: str, fields: Any, expected: str) -> None:
    if fields.get("pick") in ("PICK_BOTH", "PICK_NONE"):
        _, server = _modules(tmp_path, CLIENT.replace(old, new))
        fields = {"pick": server.Pick(n=1, s="x") if fields["pick"] == "PICK_BOTH" else server.Pick()}
    for protocol, problems in _problems(tmp_path, old, new, **fields).items():
        assert problems == [expected], protocol


def test_out_of_range_integers_are_named(tmp_path: Path) -> None:
    """Compact sends integers as varints: an i64 value where the IDL says i32 has the same wire type."""
    client, _ = _modules(tmp_path, CLIENT)
    body = bytes([0x15]) + pywire_varint(zigzag(2**40)) + b"\x00"  # field 1, compact i32, then stop
    problems = check_struct("compact", body, client.Box, "box")
    assert problems == ["box.n: 1099511627776 is out of range for i32"]


def zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def pywire_varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def test_malformed_bytes_are_a_problem_not_a_crash(tmp_path: Path) -> None:
    client, _ = _modules(tmp_path, CLIENT)
    assert check_struct("binary", b"\x08\x00", client.Box, "box") == [
        "box: malformed encoding: the message ends early"
    ]


_EVERYTHING = load_idl(EVERYTHING)


@given(for_type(_EVERYTHING, "Containers", Options(nan=True, infinity=True)),
       for_type(_EVERYTHING, "Hashed"), for_type(_EVERYTHING, "Tree"), for_type(_EVERYTHING, "Failure"))
def test_every_generated_value_conforms(containers: Any, hashed: Any, tree: Any, failure: Any) -> None:
    """No false alarms: whatever the strategies generate passes the check, in both protocols."""
    for value in (containers, hashed, tree, failure):
        for protocol in PROTOCOLS:
            assert check_struct(protocol, _body(protocol, value), type(value), "v") == []
