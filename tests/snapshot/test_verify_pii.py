"""``simdb snapshot verify --pii``: e-mails, phone numbers and IP addresses left anywhere in a snapshot
are reported with file:line and where (key name, hash field, column, stub path); exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simdb.cli import app
from simdb.snapshot.pii import find_pii
from simdb.snapshot.scrub import parse_rules, scrub_snapshot
from simdb.snapshot.verify import verify_snapshot
from tests.snapshot.helpers import make_snapshot

pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

REDIS = [
    {"key": "cust:email:alice@mailbox.org", "type": "string", "value": "1", "ttl_ms": None},
    {
        "key": "h:1",
        "type": "hash",
        "value": [["bob@corp.io", "x"], ["phone", "+49 151 2345 6789"]],
        "ttl_ms": None,
    },
    {"key": "seen", "type": "zset", "value": [["81.2.69.142", 1.0]], "ttl_ms": None},
    {"key": "z:ok", "type": "string", "value": "2023-02-02 09:00:00 v1.2.3 id 1700000000123", "ttl_ms": None},
]
USERS = [{"id": 1, "email": "carol@gmail.com", "name": "Carol"}]
STUBS = [{"id": "s1", "method": "rank", "args": {"req": {"ip": "2a00:1450:4001:81d::200e"}}, "reply": {}}]
RULES = {
    "sql": {"users.email": "fake:email"},
    "redis": {
        "cust:email:<*>": "fake:email",
        "h:*#<*@*>": "hash",
        "h:*#phone": "fake",
        "seen": "fake:ipv4_private",
    },
    "thrift": {"ranker.rank.args.req.ip": "fake"},
}


def _snapshot(tmp: Path) -> Path:
    return make_snapshot(tmp / "src", redis=REDIS, users=USERS, boards=[], stubs=STUBS)


def test_every_place_is_reported_with_file_line_and_where(tmp_path: Path) -> None:
    report = verify_snapshot(_snapshot(tmp_path), pii=True)
    assert not report.ok
    found = {(f.part, f.message.split(" (")[0], f.line) for f in report.findings}
    text = "\n".join(str(f) for f in report.findings)
    assert ("cache", "looks like e-mail", 1) in found, text
    assert "key name 'cust:email:al" in text and "field name 'bo******.io' of hash 'h:1'" in text
    assert "looks like phone number" in text and "field 'phone' of hash 'h:1'" in text
    assert "looks like IP address" in text and "zset member of key 'seen'" in text
    assert "table users column email" in text and "users.jsonl:1" in text
    assert "stub s1 at args.req.ip" in text and "stubs.jsonl:1" in text
    assert "z:ok" not in text  # dates, versions and long ids are not phone numbers
    assert "alice@mailbox.org" not in text and "carol@gmail.com" not in text  # shown masked
    assert len(report.findings) == 6, text


def test_a_scrubbed_snapshot_passes(tmp_path: Path) -> None:
    out = scrub_snapshot(_snapshot(tmp_path), tmp_path / "out", parse_rules(RULES), b"k")
    report = verify_snapshot(out, pii=True)
    assert report.ok, "\n".join(map(str, report.findings))


def test_the_cli_exits_1_on_pii_and_0_without(tmp_path: Path) -> None:
    src = _snapshot(tmp_path)
    plain = runner.invoke(app, ["snapshot", "verify", str(src)])
    assert plain.exit_code == 0, plain.output  # not asked
    found = runner.invoke(app, ["snapshot", "verify", str(src), "--pii", "--json"])
    assert found.exit_code == 1
    assert '"looks like e-mail' in found.stdout
    seed = runner.invoke(app, ["snapshot", "verify", str(ROOT / "seeds" / "homefeed"), "--pii"])
    assert seed.exit_code == 0, seed.output


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("mail ann@shop.de now", ["e-mail"]),
        ("ann@example.com, x@mail.example, y@host.test", []),
        ("call (555) 123-4567", ["phone number"]),
        ("+1-415-555-0142", []),  # fictional range
        ("8.8.8.8 and 10.0.0.1 and 192.0.2.4", ["IP address"]),
        ("fe80::1 ::1 2001:db8::1", []),
        ("2023-02-02 09:00:00, 1.2.3.4567, 0.6619, 1700000000123", []),
    ],
)
def test_what_looks_like_pii(text: str, kinds: list[str]) -> None:
    assert [k for k, _ in find_pii(text)] == kinds
