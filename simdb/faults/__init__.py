"""Fault rules every fake kind shares: latency, errors, resets, stalls, bandwidth; seeded and reproducible.

* :mod:`~simdb.faults.decide` (no pydantic): :class:`Decision`, the seeded random streams
  (:func:`stream`) and :class:`Draw`, which turns one rule into a decision per call;
* :mod:`~simdb.faults.rules` (pydantic, imported only when a fake has rules): :class:`Latency`
  (fixed, a p50/p99 log-normal, or an empirical histogram) and :class:`Effects`, the part of a
  rule that says what happens; :class:`ErrorEffects` adds an error at a rate;
* :mod:`~simdb.faults.plan`: :class:`MatchPlan`, an ordered list of rules with a ``match`` each
  (first match wins), used by the Redis and MySQL fakes.

Each kind says what it matches on and which errors it can send (``simdb.redis.faults``,
``simdb.mysql.faults``, ``simdb.thrift.faults``). See ``docs/faults.md``.
"""

from simdb.faults.decide import MAX_LATENCY_MS, NO_DECISION, Decision, Draw, stream

__all__ = ["MAX_LATENCY_MS", "NO_DECISION", "Decision", "Draw", "stream"]
