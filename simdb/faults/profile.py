"""Fault profiles measured in production, not invented: rules built from what real systems recorded.

* Redis: ``LATENCY HISTOGRAM`` of a real redis-server (7.0+): per command, the server-side
  latency as cumulative counts in power-of-two microsecond buckets, turned into a ``histogram``
  latency rule per command (:func:`redis_profile`);
* Thrift: the recording proxy's recordings (``simdb thrift record``): p50/p99 per method
  (:func:`simdb.snapshot.record.latency_profile`), written as a stub file's ``faults:``.

:func:`scale` multiplies every latency of a profile (``--scale 2.0`` rehearses a bad day). Error
rates are not guessed: Redis counts failed calls but not which error they got, so a profile
holds latency only; add error rules by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simdb.errors import SimdbError

__all__ = ["parse_latency_histogram", "redis_profile", "scale", "scale_thrift"]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _pairs(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {_text(k): v for k, v in value.items()}
    if isinstance(value, (list, tuple)) and len(value) % 2 == 0:
        return {_text(value[i]): value[i + 1] for i in range(0, len(value), 2)}
    raise SimdbError(f"LATENCY HISTOGRAM: expected a map, got {value!r}")


def parse_latency_histogram(reply: Any) -> dict[str, tuple[int, list[tuple[int, int]]]]:
    """``{command: (calls, [(upper_us, cumulative count), ...])}`` from a ``LATENCY HISTOGRAM`` reply
    (RESP2 flat arrays or RESP3 maps, as redis-py returns them)."""
    out: dict[str, tuple[int, list[tuple[int, int]]]] = {}
    for command, body in _pairs(reply).items():
        fields = _pairs(body)
        try:
            calls = int(fields["calls"])
            buckets = sorted((int(_text(k)), int(v)) for k, v in _pairs(fields["histogram_usec"]).items())
        except (KeyError, ValueError) as exc:
            raise SimdbError(f"LATENCY HISTOGRAM: {command}: unexpected entry {body!r}") from exc
        out[command.lower()] = (calls, buckets)
    return out


def redis_profile(
    histograms: Mapping[str, tuple[int, list[tuple[int, int]]]], *, min_calls: int = 1, factor: float = 1.0
) -> dict[str, Any]:
    """Redis fault rules, one ``histogram`` latency rule per command seen at least ``min_calls`` times."""
    rules: list[dict[str, Any]] = []
    for command, (calls, cumulative) in sorted(histograms.items()):
        if calls < min_calls or not cumulative:
            continue
        buckets: list[list[float]] = []
        previous = 0
        for upper_us, count in cumulative:
            buckets.append([upper_us / 1000.0 * factor, float(count - previous)])
            previous = count
        rules.append({"name": f"measured:{command}", "match": {"command": command}, "histogram": buckets})
    return {"seed": 0, "rules": rules}


def scale(profile: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """A Redis/MySQL profile (``{seed, rules}``) with every latency multiplied by ``factor``."""
    from simdb.faults.rules import Latency

    if factor <= 0:
        raise SimdbError(f"--scale must be above 0, got {factor:g}")
    rules = []
    for raw in profile.get("rules", []):
        rule = dict(raw)
        shape = {k: rule.pop(k) for k in ("fixed_ms", "p50_ms", "p99_ms", "histogram") if k in rule}
        nested = rule.pop("latency", None)
        if shape or nested:
            scaled = Latency.model_validate(nested or shape).scaled(factor)
            rule["latency"] = scaled.model_dump(mode="json", exclude_none=True)
        rules.append(rule)
    return {**profile, "rules": rules}


def scale_thrift(profile: Mapping[str, Mapping[str, float]], factor: float) -> dict[str, dict[str, float]]:
    """A Thrift ``faults:`` profile (p50/p99 per method) with every latency multiplied by ``factor``."""
    if factor <= 0:
        raise SimdbError(f"--scale must be above 0, got {factor:g}")
    return {m: {k: round(v * factor, 3) for k, v in rule.items()} for m, rule in profile.items()}
