"""Prometheus metrics per method: calls, errors and a latency histogram.

Counting happens in plain Python on the serving thread (a few integer
additions per call); prometheus_client renders the text format only when
``/_simdb/metrics`` is scraped, through a custom collector.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

# Upper bounds in seconds; a fake answers in well under a millisecond unless latency is injected.
BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _MethodStats:
    __slots__ = ("buckets", "calls", "errors", "sum")

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.sum = 0.0
        self.buckets = [0] * (len(BUCKETS) + 1)


class Metrics:
    """Counters for one fake; :meth:`render` gives the Prometheus text format."""

    def __init__(self, fake_name: str) -> None:
        self.fake_name = fake_name
        self._stats: dict[tuple[str, str], _MethodStats] = {}
        self._sources: dict[tuple[str, str, str], int] = {}
        self._registry: Any = None  # built on the first scrape: prometheus_client is imported lazily

    def observe(self, service: str, method: str, latency_s: float, error: bool, source: str = "") -> None:
        """Count one call of ``service.method`` that took ``latency_s`` seconds.

        ``source`` is what answered (``stub:<id>``, ``binding:<method>``, ``recording``,
        ``generated``, ``error:...``); it is counted by its kind, the part before ``:``.
        """
        if source:
            skey = (service, method, source.partition(":")[0])
            self._sources[skey] = self._sources.get(skey, 0) + 1
        stats = self._stats.get((service, method))
        if stats is None:
            stats = self._stats[(service, method)] = _MethodStats()
        stats.calls += 1
        if error:
            stats.errors += 1
        stats.sum += latency_s
        stats.buckets[bisect.bisect_left(BUCKETS, latency_s)] += 1

    def calls(self, service: str, method: str) -> int:
        """Calls counted so far for one method."""
        stats = self._stats.get((service, method))
        return stats.calls if stats else 0

    def answered_by(self, service: str, method: str) -> dict[str, int]:
        """Calls of one method by the kind of source that answered (``stub``, ``binding``, ...)."""
        return {k[2]: n for k, n in list(self._sources.items()) if k[0] == service and k[1] == method}

    def render(self) -> bytes:
        """The Prometheus exposition text."""
        from prometheus_client import CollectorRegistry, generate_latest

        if self._registry is None:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(_Collector(self))
            self._registry = registry
        return bytes(generate_latest(self._registry))

    def families(self) -> Iterator[Any]:
        """Metric families for the collector."""
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        labels = ["fake", "service", "method"]
        calls = CounterMetricFamily("simdb_thrift_calls", "Calls answered, per method.", labels=labels)
        errors = CounterMetricFamily(
            "simdb_thrift_errors",
            "Calls answered with an exception, an application error or a reset, per method.",
            labels=labels,
        )
        latency = HistogramMetricFamily(
            "simdb_thrift_latency_seconds",
            "Time from request read to reply written, per method.",
            labels=labels,
        )
        for (service, method), stats in sorted(list(self._stats.items())):
            values = [self.fake_name, service, method]
            calls.add_metric(values, stats.calls)
            errors.add_metric(values, stats.errors)
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip((*BUCKETS, float("inf")), stats.buckets, strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            latency.add_metric(values, buckets, stats.sum)
        answers = CounterMetricFamily(
            "simdb_thrift_answers",
            "Calls per method by what answered: stub, binding, recording, generated, fault, error.",
            labels=[*labels, "source"],
        )
        for (service, method, source), count in sorted(list(self._sources.items())):
            answers.add_metric([self.fake_name, service, method, source], count)
        yield calls
        yield errors
        yield answers
        yield latency


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Any]:
        yield from self._metrics.families()
