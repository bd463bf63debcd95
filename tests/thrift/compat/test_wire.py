"""Each compat verdict against the wire: an old Apache client and a new server, a new client and an old one.

For every pair the verdicts come from ``compare`` (the report), the behaviour from the pair's check
run over real sockets, in the binary and the compact protocol: a side the report calls safe must keep
the meaning of the exchange, a side it calls breaking must lose or change it (an error, a timeout, a
value lost or read as another).
"""

from __future__ import annotations

import pytest

from simdb.thrift.compat import compare
from tests.thrift.compat.pairs import PAIRS, Pair
from tests.thrift.compat.wire import Version, exchange

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("protocol", ["binary", "compact"])
@pytest.mark.parametrize("side", ["clients", "servers"])
@pytest.mark.parametrize("pair", PAIRS, ids=[p.rule for p in PAIRS])
def test_verdict_matches_the_wire(
    pair: Pair, side: str, protocol: str, generated: dict[str, tuple[Version, Version]]
) -> None:
    old, new = generated[pair.rule]
    report = compare(old.module, new.module)
    assert sorted(set(report.rule_ids())) == sorted(set(pair.rules)), report.render_text()
    breaking = report.breaking("clients" if side == "clients" else "servers")
    client, server = (old, new) if side == "clients" else (new, old)
    outcomes = [exchange(pair.check, client, server, kind, protocol) for kind in pair.servers]
    kept = all(o.ok for o in outcomes)
    why = "; ".join(f"{o.server_kind}: {o.why}" for o in outcomes if not o.ok)
    assert kept == (not breaking), (
        f"old {side}: the report says {'breaking' if breaking else 'safe'}, the wire "
        f"{'kept the meaning' if kept else 'broke: ' + why}\n{report.render_text()}"
    )
