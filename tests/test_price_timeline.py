"""Tests for one home's price timeline and what it shows at a moment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from custom_components.wattshift.price_signal import PriceInterval
from custom_components.wattshift.price_timeline import (
    HomeTimeline,
    summarize,
    weighted_percentile,
)

from .prices import DAY, HOME, HOUR, QUARTER

WINDOW = timedelta(hours=48)


def back_to_back(
    start: datetime, prices: Sequence[float], step: timedelta = HOUR
) -> list[PriceInterval]:
    """Build intervals of one length laid end to end."""
    return [
        PriceInterval(start + index * step, start + (index + 1) * step, value)
        for index, value in enumerate(prices)
    ]


def timeline(intervals: Sequence[PriceInterval]) -> HomeTimeline:
    """Build a timeline from sorted intervals."""
    return HomeTimeline(HOME, intervals)


def test_percentile_weighs_interval_length() -> None:
    # One hour at 0.5 outweighs three quarter-hours at 0.1 and 0.2.
    intervals = [
        *back_to_back(DAY, [0.1, 0.1, 0.2], step=QUARTER),
        PriceInterval(DAY + 3 * QUARTER, DAY + 7 * QUARTER, 0.5),
    ]

    assert weighted_percentile(intervals, 75) == 0.5
    assert weighted_percentile(intervals, 40) == 0.2
    assert weighted_percentile(intervals, 25) == 0.1
    assert weighted_percentile([], 75) is None


def test_percentile_of_eight_hours_is_sixth_price() -> None:
    prices = [0.8, 0.1, 0.7, 0.2, 0.6, 0.3, 0.5, 0.4]

    assert weighted_percentile(back_to_back(DAY, prices), 75) == 0.6


def test_summary_mean_weighted_by_time() -> None:
    intervals = [
        PriceInterval(DAY, DAY + 3 * HOUR, 0.1),
        PriceInterval(DAY + 4 * HOUR, DAY + 5 * HOUR, 0.5),
    ]

    summary = summarize(intervals)

    assert summary.count == 2
    assert summary.start == DAY
    assert summary.end == DAY + 5 * HOUR
    assert summary.min_price == 0.1
    assert summary.max_price == 0.5
    assert summary.mean_price == pytest.approx(0.2)


def test_merge_cuts_crossing_intervals() -> None:
    prices = timeline(back_to_back(DAY, [0.1, 0.2, 0.3]))

    prices.merge(
        [
            PriceInterval(DAY + 2 * QUARTER, DAY + HOUR, 0.9),
            PriceInterval(DAY + HOUR + 2 * QUARTER, DAY + 2 * HOUR + QUARTER, 0.8),
        ]
    )

    assert [(i.start, i.end, i.price) for i in prices.intervals] == [
        (DAY, DAY + 2 * QUARTER, 0.1),
        (DAY + 2 * QUARTER, DAY + HOUR, 0.9),
        (DAY + HOUR + 2 * QUARTER, DAY + 2 * HOUR + QUARTER, 0.8),
        (DAY + 2 * HOUR + QUARTER, DAY + 3 * HOUR, 0.3),
    ]


def test_merge_splits_interval_around_horizon() -> None:
    prices = timeline([PriceInterval(DAY, DAY + 3 * HOUR, 0.1)])

    prices.merge([PriceInterval(DAY + HOUR, DAY + 2 * HOUR, 0.4)])

    assert [(i.start, i.end, i.price) for i in prices.intervals] == [
        (DAY, DAY + HOUR, 0.1),
        (DAY + HOUR, DAY + 2 * HOUR, 0.4),
        (DAY + 2 * HOUR, DAY + 3 * HOUR, 0.1),
    ]


def test_merged_leaves_timeline_unchanged() -> None:
    known = back_to_back(DAY, [0.1, 0.2, 0.3])
    prices = timeline(known)

    merged = prices.merged([PriceInterval(DAY + HOUR, DAY + 2 * HOUR, 0.4)])

    assert [i.price for i in merged] == [0.1, 0.4, 0.3]
    assert prices.intervals == tuple(known)


def test_prune_drops_ended_intervals() -> None:
    prices = timeline(back_to_back(DAY, [0.1, 0.2, 0.3]))

    prices.prune(DAY + HOUR)

    assert [i.price for i in prices.intervals] == [0.2, 0.3]


def test_next_boundary_includes_starts_and_ends() -> None:
    prices = timeline(
        [
            PriceInterval(DAY, DAY + HOUR, 0.1),
            PriceInterval(DAY + 2 * HOUR, DAY + 3 * HOUR, 0.2),
        ]
    )

    assert prices.next_boundary(DAY - HOUR) == DAY
    assert prices.next_boundary(DAY) == DAY + HOUR
    assert prices.next_boundary(DAY + HOUR) == DAY + 2 * HOUR
    assert prices.next_boundary(DAY + 3 * HOUR) is None


def test_view_before_first_interval() -> None:
    view = timeline(back_to_back(DAY, [0.1, 0.2])).view(
        DAY - HOUR, threshold=None, window=WINDOW
    )

    assert view.available
    assert view.current is None
    assert view.peak is None
    assert view.next_change == DAY
    assert view.next_price == 0.1


def test_view_after_last_interval() -> None:
    view = timeline(back_to_back(DAY, [0.1, 0.2])).view(
        DAY + 2 * HOUR, threshold=None, window=WINDOW
    )

    assert not view.available
    assert view.current is None
    assert view.next_change is None
    assert view.upcoming == ()


def test_view_of_empty_timeline() -> None:
    view = timeline([]).view(DAY, threshold=None, window=WINDOW)

    assert not view.available
    assert view.threshold is None
    assert view.next_peak is None


def test_next_change_skips_equal_prices() -> None:
    view = timeline(back_to_back(DAY, [0.1, 0.1, 0.1, 0.3])).view(
        DAY + QUARTER, threshold=None, window=WINDOW
    )

    assert view.next_change == DAY + 3 * HOUR
    assert view.next_price == 0.3


def test_next_change_at_last_end() -> None:
    view = timeline(back_to_back(DAY, [0.1, 0.1])).view(
        DAY, threshold=None, window=WINDOW
    )

    assert view.next_change == DAY + 2 * HOUR
    assert view.next_price is None


def test_next_peak_skips_peak_in_force() -> None:
    prices = timeline(back_to_back(DAY, [0.5, 0.5, 0.1, 0.1, 0.5, 0.6, 0.1]))

    view = prices.view(DAY + QUARTER, threshold=0.5, window=WINDOW)

    assert view.peak is True
    assert view.next_peak == (DAY + 4 * HOUR, DAY + 6 * HOUR)


def test_next_peak_after_gap_is_new_peak() -> None:
    prices = timeline(
        [
            PriceInterval(DAY, DAY + HOUR, 0.5),
            PriceInterval(DAY + 2 * HOUR, DAY + 3 * HOUR, 0.5),
        ]
    )

    view = prices.view(DAY, threshold=0.4, window=WINDOW)

    assert view.next_peak == (DAY + 2 * HOUR, DAY + 3 * HOUR)


def test_lowest_price_never_default_peak() -> None:
    # 90 % of the time at 0.1, so the 75th percentile is the lowest price.
    prices = timeline(back_to_back(DAY, [0.1] * 9 + [0.4]))

    cheap = prices.view(DAY, threshold=None, window=WINDOW)
    dear = prices.view(DAY + 9 * HOUR, threshold=None, window=WINDOW)

    assert cheap.threshold == 0.1
    assert cheap.peak is False
    assert cheap.next_peak == (DAY + 9 * HOUR, DAY + 10 * HOUR)
    assert dear.peak is True


def test_lowest_price_can_reach_fixed_threshold() -> None:
    view = timeline(back_to_back(DAY, [0.1] * 4)).view(
        DAY, threshold=0.1, window=WINDOW
    )

    assert view.peak is True
    assert not view.threshold_is_default


def test_upcoming_bounded_by_window() -> None:
    prices = timeline(back_to_back(DAY, [0.1] * 10))

    view = prices.view(DAY + 2 * QUARTER, threshold=None, window=3 * HOUR)

    assert [i.start for i in view.upcoming] == [
        DAY,
        DAY + HOUR,
        DAY + 2 * HOUR,
        DAY + 3 * HOUR,
    ]
