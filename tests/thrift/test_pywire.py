"""simdb's own struct codec (used for types holding a uuid) agrees with thriftpy2's codecs on every
other type, both ways, in binary and compact; uuid values round-trip through it and through JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from simdb.thrift import pywire
from simdb.thrift.codec import canonical_dumps, from_json, to_json
from simdb.thrift.idl import load_idl
from simdb.thrift.scan import CALL, Limits, message_end
from simdb.thrift.wire import decode_struct, encode_message
from tests.thrift.strategies import structs

pytestmark = pytest.mark.fake

IDL = Path(__file__).parent / "idl"
RICH = load_idl(IDL / "rich.thrift", [IDL / "inc_a", IDL / "inc_b"])
UUIDS = load_idl(IDL / "uuids.thrift")
PROTOCOLS = ["binary", "compact"]


def canon(cls: type, value: Any) -> str:
    return canonical_dumps(to_json(12, cls, value))


def body(protocol: str, data: bytes) -> bytes:
    header, end = message_end(protocol, data, 0, Limits())  # type: ignore[arg-type]
    assert end == len(data)
    return data[header.body_start :]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@given(value=structs(RICH.Everything, nan=False))
def test_pywire_and_thriftpy2_read_each_other(protocol: Any, value: Any) -> None:
    cls = RICH.Everything
    ours = pywire.encode_message(protocol, "m", CALL, 5, value)
    theirs = encode_message(protocol, "m", CALL, 5, value)  # thriftpy2 (no uuid in Everything)
    assert canon(cls, decode_struct(protocol, body(protocol, ours), cls())) == canon(cls, value)
    assert canon(cls, pywire.decode_struct(protocol, body(protocol, theirs), cls())) == canon(cls, value)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@given(value=structs(UUIDS.Session, nan=False))
def test_uuid_structs_roundtrip_on_the_wire_and_in_json(protocol: Any, value: Any) -> None:
    cls = UUIDS.Session
    data = encode_message(protocol, "get", CALL, 1, value)  # routed to pywire: Session holds a uuid
    back = decode_struct(protocol, body(protocol, data), cls())
    assert canon(cls, back) == canon(cls, value)
    assert canon(cls, from_json(12, cls, to_json(12, cls, value), "v")) == canon(cls, value)


def test_uuid_json_is_the_hyphenated_string_and_bad_text_is_refused() -> None:
    import uuid

    from simdb.errors import ConfigError

    u = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    assert to_json(pywire.UUID, None, u) == "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    assert u == UUIDS.ROOT
    with pytest.raises(ConfigError, match="uuid"):
        from_json(pywire.UUID, None, "not-a-uuid", "stub.args.id")


ODD = load_idl(IDL / "unhashable.thrift")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_maps_keyed_by_lists_and_sets_of_lists_cross_the_wire(protocol: Any) -> None:
    """thriftpy2 cannot read these (it hashes the keys); simdb's own codec reads them as tuples."""
    cls = ODD.Odd
    assert cls.__dict__.get("__simdb_own_codec__")
    value = cls(setOfLists=[[1, 2], [3]], listKeys={(1, 2): "a", (): "b"}, setKeys={("x", "y"): 1})
    data = encode_message(protocol, "odd", CALL, 1, value)
    back = decode_struct(protocol, body(protocol, data), cls())
    assert back.listKeys == {(1, 2): "a", (): "b"}
    assert sorted(back.setOfLists) == [[1, 2], [3]]
    assert canon(cls, back) == canon(cls, value)
