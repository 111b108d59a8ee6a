"""How far a median of a few measurements could move on this shared machine, where a slow spell moves one run by
tens of percent: a bootstrap interval of the median (``scipy.stats.bootstrap``, percentile method, fixed seed so a
printout is reproducible from its figures)."""

from __future__ import annotations

import statistics


def median_interval(values: list[float], confidence: float = 0.9) -> tuple[float, float]:
    """The ``confidence`` bootstrap interval of the median of ``values`` (three or more)."""
    import numpy as np
    from scipy.stats import bootstrap

    interval = bootstrap((list(values),), statistics.median, confidence_level=confidence, method="percentile",
                         random_state=np.random.default_rng(0)).confidence_interval
    return float(interval.low), float(interval.high)


def against(low: float, high: float, target: float, met_below: bool = False) -> str:
    """The target (met at or above it, or at or below it with ``met_below``) against the interval ``low``-``high``:
    met, not met, or undecided when the interval straddles it."""
    met, missed = (high <= target, low > target) if met_below else (low >= target, high < target)
    return "met" if met else "not met" if missed else "undecided by these runs (the interval straddles it)"
