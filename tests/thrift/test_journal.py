"""The request journal: bounded, filterable, and it says how each call was answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from thriftpy2.thrift import TApplicationException

from simdb.thrift.journal import Entry, Journal
from tests.thrift.serving import call_bytes, client, connect, read_reply, running

pytestmark = pytest.mark.fake


def entry(i: int, method: str = "m") -> Entry:
    return Entry(float(i), "S", method, None, "generated", 0.001 * i)


def test_ring_keeps_the_newest_entries_only() -> None:
    journal = Journal(3)
    for i in range(10):
        journal.record(entry(i))
    assert [e.time for e in journal.entries()] == [7.0, 8.0, 9.0]
    assert journal.total == 10 and len(journal) == 3


def test_filter_by_bare_or_qualified_method_name() -> None:
    journal = Journal(10)
    journal.record(entry(1, "a"))
    journal.record(entry(2, "b"))
    assert [e.method for e in journal.entries("b")] == ["b"]
    assert [e.method for e in journal.entries("S.a")] == ["a"]
    assert journal.entries("zzz") == []


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Journal(0)


def test_to_json_survives_an_entry_that_cannot_be_rendered() -> None:
    journal = Journal(5)
    journal.record(entry(1))

    def broken(_: Entry) -> None:
        raise RuntimeError("no")

    [item] = journal.to_json(broken)
    assert "could not render" in item["args"]["_error"]
    assert item["latency_ms"] == 1.0


def test_journal_on_the_wire_is_bounded_and_records_how_each_call_was_answered(tmp_path: Path) -> None:
    stubs = tmp_path / "s.yaml"
    stubs.write_text("stubs:\n"
                     "  - {id: one, method: getPin, args: {id: 1}, reply: {return: {id: 1, ownerId: 2}}}\n"
                     "  - {id: nf, method: getPin, args: {id: 2}, reply: {raise: {PinNotFound: {id: 2}}}}\n")
    with running(stubs=(stubs,), journal_size=5,
                 faults={"version": {"app_error_rate": 1.0, "app_error_message": "injected"}}) as fake:
        c = client(fake)
        nf = fake.state(None).model.methods["getPin"].exceptions[0].cls
        try:
            c.getPin(1)
            with pytest.raises(nf):
                c.getPin(2)
            c.getPin(3)
            with pytest.raises(TApplicationException):
                c.version()
        finally:
            c.close()
        with connect(fake) as sock:
            sock.sendall(call_bytes(fake, "bogus", fake.state(None).model.methods["version"].args_cls()))
            read_reply(fake, sock)
        rendered = fake.journal.to_json(fake.entry_args_json)
        assert [(e["method"], e["answered"]) for e in rendered] == [
            ("getPin", "stub:one"),
            ("getPin", "stub:nf"),
            ("getPin", "generated"),
            ("version", "fault"),
            ("bogus", "error:unknown_method"),
        ]
        assert [e["args"] for e in rendered[:3]] == [{"id": 1}, {"id": 2}, {"id": 3}]
        assert "bogus" in rendered[-1]["detail"]
        c = client(fake)
        try:
            for i in range(10, 20):
                c.getPin(i)
        finally:
            c.close()
        assert len(fake.journal) == 5 and fake.journal.total == 15
        assert [e["args"]["id"] for e in fake.journal.to_json(fake.entry_args_json)] == [15, 16, 17, 18, 19]


def test_args_are_canonical_json(tmp_path: Path) -> None:
    from tests.thrift.serving import RANKER

    with running(idl=RANKER, services=("Ranker",)) as fake:
        c = client(fake)
        try:
            c.score(7, [3, 1, 2])
        finally:
            c.close()
        [item] = fake.journal.to_json(fake.entry_args_json, "score")
        assert item["args"] == {"userId": 7, "pinIds": [3, 1, 2]}
