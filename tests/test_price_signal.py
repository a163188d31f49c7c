"""Tests for reading price-signal bodies and splitting PRICE_SIGNAL deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from custom_components.wattshift.contract import (
    MAX_HOMES_PER_DELIVERY,
    PayloadError,
    is_valid_home_id,
    parse_envelope,
    price_signal_response,
    split_price_signal,
)
from custom_components.wattshift.price_signal import (
    MAX_INTERVALS,
    PriceInterval,
    parse_price_body,
)

from .prices import DAY, HOME, HOUR, OTHER_HOME, QUARTER, home_ids, iso


def open_adr(intervals: list[dict[str, Any]], **event: Any) -> dict[str, Any]:
    """Build an OpenADR 3.0 event around intervals."""
    return {"programID": "wattshift-open-adr", "intervals": intervals, **event}


def price(value: Any, **period: str) -> dict[str, Any]:
    """Build an OpenADR interval with one PRICE payload."""
    interval: dict[str, Any] = {
        "id": 0,
        "payloads": [{"type": "PRICE", "values": [value]}],
    }
    if period:
        interval["intervalPeriod"] = period
    return interval


def test_data_list_keeps_each_interval_length() -> None:
    body = {
        "data": [
            {
                "startTime": "2025-06-02T01:00:00.000Z",
                "endTime": "2025-06-02T03:00:00.000Z",
                "price": 0.3,
            },
            {
                "startTime": "2025-06-02T00:00:00.000-04:00",
                "endTime": "2025-06-02T00:05:00.000-04:00",
                "price": "0.125",
                "import": 0.13,
                "export": None,
                "confidence": 0.5,
            },
        ]
    }

    intervals = parse_price_body(body)

    assert intervals == (
        PriceInterval(DAY + HOUR, DAY + 3 * HOUR, 0.3),
        PriceInterval(
            DAY + 4 * HOUR,
            DAY + 4 * HOUR + timedelta(minutes=5),
            0.125,
            import_price=0.13,
            confidence=0.5,
        ),
    )
    assert intervals[1].start.utcoffset() == timedelta(0)


def test_data_list_wins_over_arrays() -> None:
    body = {
        "data": [{"startTime": iso(DAY), "endTime": iso(DAY + HOUR), "price": 0.2}],
        "prices": [0.9, 0.9, 0.9, 0.9],
        "startTime": iso(DAY),
    }

    assert parse_price_body(body) == (PriceInterval(DAY, DAY + HOUR, 0.2),)


def test_arrays_are_quarter_hours() -> None:
    body = {
        "startTime": iso(DAY),
        "prices": [0.1, 0.2],
        "imports": [0.11, 0.21],
        "exports": [0.01, 0.02],
    }

    assert parse_price_body(body) == (
        PriceInterval(DAY, DAY + QUARTER, 0.1, 0.11, 0.01),
        PriceInterval(DAY + QUARTER, DAY + 2 * QUARTER, 0.2, 0.21, 0.02),
    )


def test_oldest_price_signal_covers_a_day() -> None:
    intervals = parse_price_body({"startTime": iso(DAY), "priceSignal": [0.1] * 96})

    assert len(intervals) == 96
    assert intervals[-1].end == DAY + timedelta(days=1)
    assert intervals[0].import_price is None
    assert intervals[0].export_price is None


def test_open_adr_chains_intervals_without_period() -> None:
    event = open_adr(
        [
            price(0.1, start=iso(DAY), duration="PT15M"),
            price(0.2, duration="PT30M"),
            price(0.3),
            price(0.4, start=iso(DAY + 4 * HOUR)),
        ],
        intervalPeriod={"start": iso(DAY), "duration": "PT1H"},
    )

    intervals = parse_price_body(event)

    assert [(i.start, i.end, i.price) for i in intervals] == [
        (DAY, DAY + QUARTER, 0.1),
        (DAY + QUARTER, DAY + 3 * QUARTER, 0.2),
        (DAY + 3 * QUARTER, DAY + HOUR + 3 * QUARTER, 0.3),
        (DAY + 4 * HOUR, DAY + 5 * HOUR, 0.4),
    ]


def test_open_adr_export_price_payload() -> None:
    interval = price(0.2, start=iso(DAY), duration="PT1H")
    interval["payloads"] += [
        {"type": "export_price", "values": [0.04, 0.05]},
        {"type": "GHG", "values": ["high"]},
    ]

    (parsed,) = parse_price_body(open_adr([interval]))

    assert parsed.price == 0.2
    assert parsed.export_price == 0.04
    assert parsed.import_price is None


@pytest.mark.parametrize(
    ("duration", "length"),
    [
        ("PT15M", QUARTER),
        ("PT1H", HOUR),
        ("PT24H", timedelta(days=1)),
        ("P1D", timedelta(days=1)),
        ("PT1H30M", timedelta(minutes=90)),
        ("PT90S", timedelta(seconds=90)),
    ],
)
def test_open_adr_durations(duration: str, length: timedelta) -> None:
    (parsed,) = parse_price_body(
        open_adr([price(0.1, start=iso(DAY), duration=duration)])
    )

    assert parsed.end - parsed.start == length


@pytest.mark.parametrize("duration", ["P1W", "P9999Y", "01:00:00", "-PT1H", "PT", 60])
def test_open_adr_rejects_other_durations(duration: Any) -> None:
    with pytest.raises(PayloadError):
        parse_price_body(open_adr([price(0.1, start=iso(DAY), duration=duration)]))


@pytest.mark.parametrize(
    "duration",
    [
        "P8D",
        "PT169H",
        "P999999999D",
        "P1000000000D",
        "P" + "9" * 20 + "D",
        "PT" + "9" * 20 + "S",
    ],
)
def test_open_adr_rejects_durations_over_7_days(duration: str) -> None:
    with pytest.raises(
        PayloadError, match=r"intervals\[0\].intervalPeriod.duration must be at most 7"
    ):
        parse_price_body(open_adr([price(0.1, start=iso(DAY), duration=duration)]))


def test_longest_chain_from_latest_year_parses() -> None:
    # 5000 intervals of 7 days each, chained from the last accepted year.
    event = open_adr(
        [price(0.1)] * MAX_INTERVALS,
        intervalPeriod={"start": "2100-12-31T23:59:59-12:00", "duration": "P7D"},
    )

    intervals = parse_price_body(event)

    assert len(intervals) == MAX_INTERVALS
    assert intervals[-1].end.year == 2196


@pytest.mark.parametrize(
    ("value", "year"),
    [
        ("2000-01-01T00:00:00+05:00", 1999),
        ("2100-12-31T23:59:59-05:00", 2101),
    ],
)
def test_timestamp_year_checked_in_own_offset(value: str, year: int) -> None:
    (parsed,) = parse_price_body({"startTime": value, "prices": [0.1]})

    assert parsed.start.year == year


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1999-12-31T23:59:59Z", "must be between the years 2000 and 2100"),
        ("2101-01-01T00:00:00Z", "must be between the years 2000 and 2100"),
        ("0001-01-01T00:00+05:00", "must be between the years 2000 and 2100"),
        ("9999-12-31T23:50Z", "must be between the years 2000 and 2100"),
        ("2025-13-02T00:00Z", "is not a valid ISO 8601 timestamp"),
        ("2025-02-30T00:00Z", "is not a valid ISO 8601 timestamp"),
        ("2025-06-02T00:00+99:00", "is not a valid ISO 8601 timestamp"),
    ],
)
def test_timestamp_out_of_range_rejected(value: str, reason: str) -> None:
    with pytest.raises(PayloadError, match=f"startTime {reason}"):
        parse_price_body({"startTime": value, "prices": [0.1, 0.2]})


def test_unsorted_intervals_are_sorted() -> None:
    body = {
        "data": [
            {"startTime": iso(DAY + HOUR), "endTime": iso(DAY + 2 * HOUR), "price": 2},
            {"startTime": iso(DAY), "endTime": iso(DAY + HOUR), "price": 1},
        ]
    }

    assert [i.price for i in parse_price_body(body)] == [1.0, 2.0]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "nan", "1e999", 10**400])
def test_non_finite_prices_rejected(value: Any) -> None:
    with pytest.raises(PayloadError, match="finite"):
        parse_price_body({"startTime": iso(DAY), "prices": [value]})


def test_empty_signal_allowed_only_on_request() -> None:
    with pytest.raises(PayloadError, match="no intervals"):
        parse_price_body({"data": []})

    assert parse_price_body({"data": []}, allow_empty=True) == ()


def test_body_must_be_object() -> None:
    with pytest.raises(PayloadError, match="JSON object"):
        parse_price_body([1, 2])


def split(data: Any) -> list[tuple[str, str | None]]:
    """Split a PRICE_SIGNAL delivery and return each home id and name."""
    envelope = parse_envelope({"eventType": "PRICE_SIGNAL", "data": data})
    return [(home.home_id, home.name) for home in split_price_signal(envelope)]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda homes: [{"homeId": home, "data": []} for home in homes],
        lambda homes: {home: {"data": []} for home in homes},
    ],
    ids=["list", "keyed"],
)
def test_split_limits_homes_per_delivery(wrap: Any) -> None:
    assert len(split(wrap(home_ids(MAX_HOMES_PER_DELIVERY)))) == 50

    with pytest.raises(PayloadError, match="51 homes; at most 50"):
        split(wrap(home_ids(MAX_HOMES_PER_DELIVERY + 1)))


def test_single_body_is_one_home() -> None:
    assert split({"homeId": HOME, "homeName": " Beach house ", "data": []}) == [
        (HOME, "Beach house")
    ]


def test_object_without_body_keys_is_keyed_by_home() -> None:
    assert split({HOME: {"data": []}, OTHER_HOME: {"prices": []}}) == [
        (HOME, None),
        (OTHER_HOME, None),
    ]


def test_open_adr_target_names_home() -> None:
    event = open_adr(
        [], targets=[{"type": "GROUP", "values": ["west", HOME]}, {"type": "X"}]
    )

    assert split([event]) == [(HOME, None)]


def test_open_adr_without_home_rejected() -> None:
    with pytest.raises(PayloadError, match="no homeId"):
        split([open_adr([], targets=[{"type": "GROUP", "values": ["west"]}])])


@pytest.mark.parametrize(
    ("home_id", "valid"),
    [
        (HOME, True),
        ("ws_home_123456789", True),
        ("3f2b1c9e-8d7a-4e6f-9b0c-1a2b3c4d5e6f", True),
        ("", False),
        ("_leading", False),
        ("a/b", False),
        ("a b", False),
        ("x" * 129, False),
        (42, False),
    ],
)
def test_home_id_validation(home_id: Any, *, valid: bool) -> None:
    assert is_valid_home_id(home_id) is valid


def test_response_lists_each_home() -> None:
    assert price_signal_response([(HOME, 96, DAY, DAY + timedelta(days=1))]) == {
        "eventType": "PRICE_SIGNAL",
        "handled": True,
        "homes": {
            HOME: {
                "accepted": 96,
                "startTime": "2025-06-02T00:00:00.000Z",
                "endTime": "2025-06-03T00:00:00.000Z",
            }
        },
    }
