"""Summarise latency samples; imported by the load generator, so it needs no Home Assistant."""

from __future__ import annotations

from collections.abc import Sequence
import math
import statistics


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of already sorted values.

    Nearest rank always returns a measured sample, so p99 of 150 samples is
    the second slowest request rather than an interpolated value.
    """
    if not sorted_values:
        raise ValueError("percentile of an empty sample")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    rank = math.ceil(fraction * len(sorted_values))
    return sorted_values[rank - 1]


def median(values: Sequence[float]) -> float:
    """Return the median, the middle of per-repetition figures."""
    return statistics.median(values)
