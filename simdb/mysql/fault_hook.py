"""The fault hook of the MySQL fake: one statement's (or one connection's) fault, on the wire.

Called by :class:`simdb.mysql.server.FakeConnection` before it runs a ``COM_QUERY`` and by the
server when a client connects, only when the fake has rules. Latency waits on the event loop
(other connections go on); a stall waits until the client gives up; a reset or 2013/2006
closes the connection (the session's open transaction is rolled back, as MariaDB does for a
lost client); 1213 rolls the transaction back before its error is sent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from simdb.faults.decide import NO_DECISION, Decision
from simdb.faults.timing import precise_sleep
from simdb.mysql.faults import CLOSE_CODES, CONNECT, DEADLOCK, MySQLFaultPlan, Statement, error_packet

if TYPE_CHECKING:
    from simdb.mysql.server import FakeConnection

log = logging.getLogger("simdb.mysql")

_PACE_TICK_S = 0.005


async def before_query(conn: FakeConnection, plan: MySQLFaultPlan, sql: str) -> Decision | None:
    """Apply the statement's fault. None: the fault took the statement (an error was sent, or the
    connection is closed: the command loop then ends); else run the statement and pass the
    decision to :func:`send_paced` for its ``bandwidth``."""
    decision = plan.decide(Statement.of(sql))
    if decision is NO_DECISION:
        return decision
    if decision.delay_s > 0:
        await precise_sleep(decision.delay_s)
    action = decision.action
    if action == "stall":
        await _until_client_leaves(conn)
        log.info("mysql connection %s: stall fault; the client went away", conn.connection_id)
        _close(conn, abort=False)
        return None
    if action == "reset":
        log.info("mysql connection %s: reset fault", conn.connection_id)
        _close(conn, abort=True)
        return None
    if action == "error":
        code, state, message = decision.payload
        if code in CLOSE_CODES:
            log.info("mysql connection %s: error %d fault: connection closed", conn.connection_id, code)
            _close(conn, abort=False)
            return None
        db = conn.session.db
        if code == DEADLOCK:
            with conn.fake.store.lock:
                db.abort()  # InnoDB rolls back the whole transaction of the deadlock victim
        conn._sync_status(db)
        await conn.stream.write(error_packet(code, state, message))
        return None
    return decision


async def on_connect(plan: MySQLFaultPlan, stream: Any) -> bool:
    """A ``kind: connect`` rule for a new client: True when it refused it (the caller closes)."""
    if not plan.on_connect:
        return False
    decision = plan.decide(CONNECT)
    if decision is NO_DECISION:
        return False
    if decision.delay_s > 0:
        await precise_sleep(decision.delay_s)
    action = decision.action
    if action is None:
        return False
    if action == "error":
        code, state, message = decision.payload
        if code not in CLOSE_CODES:
            await stream.write(error_packet(code, state, message))  # instead of the handshake, as MariaDB
    elif action == "stall":
        while await stream.reader.read(65536):
            pass
    elif action == "reset":
        stream.writer.transport.abort()
    return True


async def send_paced(conn: FakeConnection, rate: float) -> None:
    """Send what the connection has buffered at ``rate`` bytes per second (slow row streaming)."""
    buf = conn.stream.inner._buffer
    data = bytes(buf)
    del buf[:]
    writer = conn.stream.writer
    size = max(1, int(rate * _PACE_TICK_S))
    for at in range(0, len(data), size):
        piece = data[at : at + size]
        writer.write(piece)
        await writer.drain()
        if at + size < len(data):
            await asyncio.sleep(len(piece) / rate)


async def _until_client_leaves(conn: FakeConnection) -> None:
    reader = conn.stream.reader
    while await reader.read(65536):
        pass  # a stalled server reads nothing meaningful; wait for EOF


def _close(conn: FakeConnection, *, abort: bool) -> None:
    transport = conn.stream.writer.transport
    if abort:
        transport.abort()
    else:
        transport.close()
