"""The fault hook at command dispatch: what one Redis connection does with a fault decision.

Called by the RESP front end for each command, before it runs, only when the fake has rules.
Returns :data:`RUN` (run the command now), :data:`ANSWERED` (the fault's error went into the
output; carry on with the next command) or :data:`HELD` (the connection waits: latency, stall,
bandwidth, drop; the rest of the input waits as it does behind a blocking command, so a
pipeline sees its faults command by command).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from simdb.faults.timing import call_at_precisely
from simdb.redis.engine import BLOCKING_COMMANDS
from simdb.redis.faults import RedisFaultPlan, error_reply

if TYPE_CHECKING:
    from simdb.redis.server import _Connection

log = logging.getLogger("simdb.redis")

RUN = object()
ANSWERED = object()
HELD = object()

_PACE_TICK_S = 0.005
_NOT_QUEUED = frozenset({"exec", "discard", "multi", "watch", "unwatch", "reset", "quit"})


def fault_hook(conn: _Connection, plan: RedisFaultPlan, argv: list[bytes], out: list[bytes]) -> object:
    """Apply this command's fault decision (see the module docstring for the return values)."""
    session = conn.session
    assert session is not None
    pending = 0.0
    if conn.exec_delay:
        head = argv[0].lower()
        if head in (b"exec", b"discard", b"reset"):
            pending = conn.exec_delay if head == b"exec" else 0.0
            conn.exec_delay = 0.0
    decision, call = plan.decide_argv(argv)
    if call is None:
        if pending:
            _hold(conn, pending, argv, None)
            return HELD
        return RUN
    queued = session.queueing and call.name not in _NOT_QUEUED
    delay = decision.delay_s + pending
    action = decision.action
    if action == "error":
        reply = error_reply(decision.payload, call)
        session.refuse_queued()
        if not delay:
            out.append(reply)
            return ANSWERED
        _hold(conn, delay, None, reply)
        return HELD
    if action == "reset":
        if not delay:
            session.closing = True  # what came before is written, then the connection is dropped
            return HELD
        _hold(conn, delay, None, None, drop=True)
        return HELD
    if action == "stall":
        conn.paused = True
        conn.blocked = True  # input queues in the backlog; nothing answers, the client's timeout ends it
        return HELD
    if queued:
        conn.exec_delay += delay  # QUEUED comes back at once; a slow server is slow at EXEC
        return RUN
    if not delay and not decision.bandwidth:
        return RUN
    _hold(conn, delay, argv, None, bandwidth=decision.bandwidth)
    return HELD


def _hold(
    conn: _Connection,
    delay: float,
    argv: list[bytes] | None,
    reply: bytes | None,
    *,
    drop: bool = False,
    bandwidth: float = 0.0,
) -> None:
    """Hold the connection for ``delay``, then run ``argv`` (or send ``reply``, or drop), then go on."""
    loop = conn.server.loop
    assert loop is not None
    conn.paused = True
    conn.blocked = True
    call_at_precisely(loop, delay, _release, conn, argv, reply, drop, bandwidth)


def _release(
    conn: _Connection, argv: list[bytes] | None, reply: bytes | None, drop: bool, bandwidth: float
) -> None:
    transport = conn.transport
    session = conn.session
    if not conn.paused or transport is None or session is None or transport.is_closing():
        return  # the client went away meanwhile (connection_lost closed the session)
    conn.paused = False
    if drop:
        transport.close()
        return
    if argv is not None:
        if argv[0].lower() in BLOCKING_COMMANDS and not session.queueing:
            conn._block(argv)
            return
        with conn.engine.lock:
            reply = session.execute(argv)
    if reply:
        if bandwidth > 0:
            conn.paused = True
            _pace(conn, reply, bandwidth)
            return
        transport.write(reply)
    if session.closing:
        transport.close()
        return
    conn.resume()


def _pace(conn: _Connection, data: bytes, rate: float) -> None:
    transport = conn.transport
    loop = conn.server.loop
    if not conn.paused or transport is None or transport.is_closing() or loop is None:
        return
    size = max(1, int(rate * _PACE_TICK_S))
    piece, rest = data[:size], data[size:]
    transport.write(piece)
    if rest:
        loop.call_later(len(piece) / rate, _pace, conn, rest, rate)
        return
    conn.paused = False
    assert conn.session is not None
    if conn.session.closing:
        transport.close()
        return
    conn.resume()
