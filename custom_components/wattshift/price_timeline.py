"""Keep one home's known price intervals and read them at a moment.

A timeline contains sorted intervals that do not overlap but may leave gaps. A
new signal replaces what the timeline knew for the time the signal covers and
keeps the rest. Reading the timeline at a moment gives a HomeView: the price
in force, when it changes, whether it is a peak, and what follows.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import math
from typing import Final

from .price_signal import PriceInterval

# The default peak threshold is this percentile of the known prices,
# weighted by interval length.
PEAK_PERCENTILE: Final = 75

type PeakTest = Callable[[PriceInterval], bool]


@dataclass(frozen=True, slots=True)
class PriceSummary:
    """Horizon and price statistics of a set of intervals."""

    count: int
    start: datetime
    end: datetime
    min_price: float
    max_price: float
    mean_price: float
    """Mean weighted by interval length."""


@dataclass(frozen=True, slots=True)
class HomeView:
    """The state of one home's prices at one moment."""

    home_id: str
    at: datetime
    available: bool
    """Whether a known interval ends after the moment."""
    current: PriceInterval | None
    """The interval in force, or None before the first one or inside a gap."""
    next_change: datetime | None
    """When the price in force next changes, including to no known price."""
    next_price: float | None
    """The price from next_change on, or None when no interval follows there."""
    threshold: float | None
    threshold_is_default: bool
    peak: bool | None
    next_peak: tuple[datetime, datetime] | None
    """Start and end of the next peak that has not begun yet."""
    upcoming: tuple[PriceInterval, ...]
    """The interval in force and those that start within the window."""


class HomeTimeline:
    """The known price intervals of one home, sorted and never overlapping."""

    def __init__(
        self,
        home_id: str,
        intervals: Iterable[PriceInterval] = (),
        name: str | None = None,
    ) -> None:
        """Start with intervals that are already sorted and do not overlap."""
        self.home_id = home_id
        self.name = name
        self._intervals: list[PriceInterval] = list(intervals)

    @property
    def intervals(self) -> tuple[PriceInterval, ...]:
        """The known intervals, oldest first."""
        return tuple(self._intervals)

    def merge(self, intervals: Sequence[PriceInterval]) -> None:
        """Take a new signal's intervals as the truth for the time they cover."""
        self._intervals = self.merged(intervals)

    def merged(self, intervals: Sequence[PriceInterval]) -> list[PriceInterval]:
        """Return the intervals that merging a new signal would leave.

        Known intervals inside the new horizon are dropped. A known interval
        that crosses an edge of the horizon is cut at that edge. The timeline
        itself does not change.
        """
        start = intervals[0].start
        end = max(interval.end for interval in intervals)
        kept: list[PriceInterval] = []
        for interval in self._intervals:
            if interval.end <= start or interval.start >= end:
                kept.append(interval)
                continue
            if interval.start < start:
                kept.append(replace(interval, end=start))
            if interval.end > end:
                kept.append(replace(interval, start=end))
        kept.extend(intervals)
        kept.sort(key=lambda interval: interval.start)
        return kept

    def prune(self, before: datetime) -> None:
        """Forget the intervals that ended at or before a moment."""
        self._intervals = [
            interval for interval in self._intervals if interval.end > before
        ]

    def next_boundary(self, at: datetime) -> datetime | None:
        """Return the first interval start or end after a moment."""
        return min(
            (
                moment
                for interval in self._intervals
                for moment in (interval.start, interval.end)
                if moment > at
            ),
            default=None,
        )

    def view(
        self, at: datetime, *, threshold: float | None, window: timedelta
    ) -> HomeView:
        """Read the timeline at a moment.

        With no threshold given, the threshold is the PEAK_PERCENTILE of the
        known prices, and the lowest known price never counts as a peak, so
        that a flat tariff has no peak.
        """
        intervals = self._intervals
        index = bisect_right(intervals, at, key=lambda interval: interval.start) - 1
        current = intervals[index] if index >= 0 else None
        if current is not None and current.end <= at:
            current = None
        following = intervals[index + 1 :]

        is_default = threshold is None
        if threshold is None:
            threshold = weighted_percentile(intervals, PEAK_PERCENTILE)
        floor = min((i.price for i in intervals), default=None) if is_default else None

        def is_peak(interval: PriceInterval) -> bool:
            if threshold is None or interval.price < threshold:
                return False
            return floor is None or interval.price > floor

        next_change, next_price = _next_change(current, following)
        horizon = at + window
        return HomeView(
            home_id=self.home_id,
            at=at,
            available=bool(intervals) and intervals[-1].end > at,
            current=current,
            next_change=next_change,
            next_price=next_price,
            threshold=threshold,
            threshold_is_default=is_default,
            peak=None if current is None else is_peak(current),
            next_peak=_next_peak(current, following, is_peak),
            upcoming=tuple(
                interval
                for interval in ([current] if current else []) + following
                if interval.start < horizon
            ),
        )


def summarize(intervals: Sequence[PriceInterval]) -> PriceSummary:
    """Return the horizon and the min, max and mean price of intervals."""
    total = sum((i.duration.total_seconds() for i in intervals), 0.0)
    weighted = sum(i.price * i.duration.total_seconds() for i in intervals)
    return PriceSummary(
        count=len(intervals),
        start=min(i.start for i in intervals),
        end=max(i.end for i in intervals),
        min_price=min(i.price for i in intervals),
        max_price=max(i.price for i in intervals),
        mean_price=weighted / total,
    )


def weighted_percentile(
    intervals: Iterable[PriceInterval], percentile: float
) -> float | None:
    """Return the lowest price that the given percentile of the time stays at.

    This is the nearest-rank percentile with each price weighted by the
    length of its interval, so that a 15-minute price counts a quarter of
    an hourly one.
    """
    ordered = sorted(intervals, key=lambda interval: interval.price)
    if not ordered:
        return None
    total = sum(i.duration.total_seconds() for i in ordered)
    needed = total * percentile / 100
    covered = 0.0
    for interval in ordered:
        covered += interval.duration.total_seconds()
        if covered >= needed or math.isclose(covered, needed):
            return interval.price
    return ordered[-1].price


def _next_change(
    current: PriceInterval | None, following: Sequence[PriceInterval]
) -> tuple[datetime | None, float | None]:
    """Find when the price in force changes and what it changes to."""
    if current is None:
        if not following:
            return None, None
        return following[0].start, following[0].price

    run_end = current.end
    for interval in following:
        if interval.start != run_end:
            # A gap follows the run, so no price is known from its end on.
            return run_end, None
        if interval.price != current.price:
            return run_end, interval.price
        run_end = interval.end
    return run_end, None


def _next_peak(
    current: PriceInterval | None,
    following: Sequence[PriceInterval],
    is_peak: PeakTest,
) -> tuple[datetime, datetime] | None:
    """Find the next run of peak intervals that has not begun yet."""
    previous = current
    start: datetime | None = None
    end: datetime | None = None
    for interval in following:
        contiguous = previous is not None and previous.end == interval.start
        peak = is_peak(interval)
        if start is not None:
            if not (peak and contiguous):
                break
            end = interval.end
        elif peak and not (contiguous and previous is not None and is_peak(previous)):
            # Intervals that continue the peak in force are no new peak.
            start, end = interval.start, interval.end
        previous = interval
    if start is None or end is None:
        return None
    return start, end
