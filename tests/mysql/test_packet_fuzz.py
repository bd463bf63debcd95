"""The MySQL fake's command phase: what the fuzzer (bench/fuzz_mysql.py) found stays fixed, and a valid
command split at every byte boundary is answered. The generated fuzzing itself runs in bench/fuzz_mysql.py:
in CI it once spun under the whole suite (not reproduced alone), so it is not part of the suite yet."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from simdb.mysql.fake import MySQLFake
from tests.mysql.fuzzing import (
    COM_QUERY,
    check_healthy,
    frame,
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
    codes = (1047, 1835)  # Unknown command; Malformed communication packet (as MariaDB)
    assert any(b"\xff" + c.to_bytes(2, "little") in reply for c in codes), reply  # an error, not silence
    check_healthy(fake, before)
    _no_tracebacks(caplog.records)
