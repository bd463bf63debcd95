"""``args("Service.method")`` with ``idl=`` or from a stack file: the ``@given`` form users write."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from simdb.contract import ContractError, args, method_of, result, returns
from simdb.testing import current

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "examples" / "homefeed" / "simdb.yaml"
PINSTORE = ROOT / "thrift" / "homefeed" / "pinstore.thrift"


@given(call=args("PinStore.getPin", idl=PINSTORE))
def test_args_with_the_idl_by_keyword(call: object) -> None:
    assert type(call).__name__ == "getPin_args"
    assert isinstance(call.id, int)  # type: ignore[attr-defined]


@given(call=args("Ranker.rank", stack=STACK))
def test_args_from_the_stack_file(call: object) -> None:
    assert isinstance(call.req.candidates, list)  # type: ignore[attr-defined]


def test_the_session_stack_is_used_when_none_is_named() -> None:
    current.set_stack_file(STACK)
    try:
        method = method_of("UserGraph.getFollowees")
        assert (method.service, method.name) == ("UserGraph", "getFollowees")
        assert returns("UserGraph.getUser") is not None
        assert result("CandidateGenerator.getCandidates") is not None
    finally:
        current.set_stack_file(None)


def test_a_service_no_fake_serves_is_named() -> None:
    expected = r"no Thrift fake of stack homefeed .* serves Shop; served: PinStore"
    with pytest.raises(ContractError, match=expected):
        method_of("Shop.getItem", stack=STACK)


def test_an_unknown_method_is_named() -> None:
    with pytest.raises(ContractError, match="service PinStore has no method 'getPn'"):
        method_of("PinStore.getPn", idl=PINSTORE)


def test_no_stack_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ContractError, match=r"PinStore\.getPin: no IDL given \(idl=FILE\) and no stack"):
        method_of("PinStore.getPin")


def test_the_method_comes_first_with_keywords() -> None:
    with pytest.raises(ContractError, match="name the method first"):
        method_of(PINSTORE, "PinStore.getPin", idl=PINSTORE)
