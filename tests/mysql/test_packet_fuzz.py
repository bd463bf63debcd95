"""The MySQL fake's command phase under fuzzing: mutated, truncated, mis-framed and split packets on a
logged-in connection never hang it, never change its data, never end in a traceback; what the fuzzer
found (here and in bench/fuzz_mysql.py --minutes N) is replayed from fuzz_corpus/."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from simdb.mysql.fake import MySQLFake
from tests.mysql.fuzzing import (
    COM_QUERY,
    check_healthy,
    frame,
    hostile_inputs,
    logged_in,
    prepare,
    send_in_pieces,
    state,
)

pytestmark = pytest.mark.fake


@pytest.fixture(scope="module")
def fake(mysql_fake_session: MySQLFake) -> Iterator[MySQLFake]:
    prepare(mysql_fake_session)
    yield mysql_fake_session
    mysql_fake_session.unload()


def _no_tracebacks(records: list[logging.LogRecord]) -> None:
    bad = [r for r in records if r.exc_info and r.name.startswith(("simdb", "mysql_mimic"))]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad)


@given(case=hostile_inputs())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # caplog cleared per input
def test_hostile_packets_leave_the_fake_serving_and_its_data_unchanged(
    fake: MySQLFake, case: tuple[bytes, list[int]], caplog: pytest.LogCaptureFixture
) -> None:
    data, cuts = case
    before = state(fake)
    caplog.clear()
    conn = logged_in(fake)
    try:
        send_in_pieces(conn._sock, data, cuts)
    finally:
        with contextlib.suppress(Exception):
            conn._sock.close()
    check_healthy(fake, before)
    _no_tracebacks(caplog.records)


def test_a_valid_query_split_at_every_byte_boundary_is_answered(fake: MySQLFake) -> None:
    packet = frame(bytes([COM_QUERY]) + b"SELECT 41 + 1")
    for cut in range(1, len(packet)):
        conn = logged_in(fake)
        try:
            reply = send_in_pieces(conn._sock, packet, [cut])
            assert b"42" in reply, (cut, reply)  # the text row of the result set
            assert reply[4:5] == b"\x01", (cut, reply)  # one column
        finally:
            conn._sock.close()


CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.hex")), ids=lambda p: p.stem)
def test_past_findings_stay_fixed(fake: MySQLFake, path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Inputs the fuzzer once found (a traceback in the log each), replayed as they were."""
    before = state(fake)
    conn = logged_in(fake)
    try:
        reply = send_in_pieces(conn._sock, bytes.fromhex(path.read_text().strip()), [])
    finally:
        conn._sock.close()
    codes = (1047, 1064, 1146, 1835)  # unknown command; not UTF-8; no such table; malformed packet
    assert any(b"\xff" + c.to_bytes(2, "little") in reply for c in codes), reply  # an error, not silence
    check_healthy(fake, before)
    _no_tracebacks(caplog.records)
