"""Every use of hypothesis's internal API, in one place (hypothesis is pinned in pyproject.toml).

simdb draws values outside a test (seeded snapshot synthesis), which hypothesis's public API does
not offer: that needs ``ConjectureData`` and ``BuildContext`` directly, and a provider without
hypothesis's "local constants" pool (gathered from every imported module, so draws would depend on
what happened to be imported). :func:`check` is the canary: it fails loudly, naming what moved, when
an upgraded hypothesis no longer has the shapes used here.
"""

from __future__ import annotations

import inspect
import random
from typing import Any

import hypothesis
import hypothesis.strategies as st
from hypothesis.control import BuildContext
from hypothesis.errors import StopTest
from hypothesis.internal.conjecture.data import ConjectureData
from hypothesis.internal.conjecture.providers import HypothesisProvider

__all__ = ["NoValue", "check", "draw_with"]


class NoValue(Exception):
    """This random stream gave no value (ran out of choices, or a filter kept failing)."""


class _StableProvider(HypothesisProvider):
    """Hypothesis's provider without its "local constants" pool (see the module docstring)."""

    def _maybe_draw_constant(self, choice_type: Any, constraints: Any, *, p: float = 0.05) -> Any:
        return None


def draw_with(strategy: st.SearchStrategy[Any], rng: random.Random) -> Any:
    """One value of ``strategy`` from the choices ``rng`` makes; :class:`NoValue` if there is none."""
    data = ConjectureData(random=rng, provider=_StableProvider)
    try:
        with BuildContext(data, wrapped_test=lambda: None):
            return data.draw(strategy)
    except StopTest:
        raise NoValue from None


def check() -> None:
    """Raise AssertionError naming the internal shape that changed in the installed hypothesis."""

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise AssertionError(f"hypothesis {hypothesis.__version__} changed: {what}")

    params = inspect.signature(ConjectureData.__init__).parameters
    need("random" in params and "provider" in params, f"ConjectureData({', '.join(params)})")
    need("wrapped_test" in inspect.signature(BuildContext.__init__).parameters, "BuildContext(wrapped_test=)")
    need(hasattr(HypothesisProvider, "_maybe_draw_constant"), "no HypothesisProvider._maybe_draw_constant")
    first = [draw_with(st.integers(0, 10**9), random.Random(7)) for _ in range(2)]
    need(first[0] == first[1], "the same random stream no longer gives the same value")
