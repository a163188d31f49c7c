"""Parse WattShift's per-home price-signal bodies into typed price intervals.

WattShift documents four shapes of a home's price signal: the ``data[]`` list of
intervals, the older parallel arrays, the oldest ``priceSignal`` array and an
OpenADR 3.0 event. Every shape becomes the same sorted tuple of intervals, each
with its own start and end, so that nothing downstream assumes an interval
length. Prices are in USD/kWh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Any, Final

from homeassistant.util import dt as dt_util

from .contract import PayloadError

# WattShift documents the array forms as "$/kWh per 15-minute interval", and
# they carry a start time but no interval ends.
ARRAY_STEP: Final = timedelta(minutes=15)

# Maximum number of intervals in one body, so that a faulty sender cannot
# fill memory and storage. 5000 intervals are 52 days at 15-minute resolution.
MAX_INTERVALS: Final = 5000

# Accepted years of a timestamp, checked in the timestamp's own offset. The
# range keeps every computed interval end far from datetime's year 1 to 9999
# limits, which would otherwise raise OverflowError.
EARLIEST_YEAR: Final = 2000
LATEST_YEAR: Final = 2100
# Maximum length of one OpenADR interval. Documented signals use 15-minute
# to hourly intervals, so 7 days leaves room for a long flat price and keeps
# chained interval ends far from datetime's limits.
MAX_INTERVAL_DURATION: Final = timedelta(days=7)

# The only unit the price entities show.
PRICE_CURRENCY: Final = "USD"
PRICE_ENERGY_UNIT: Final = "KWH"

_OPEN_ADR_PRICE: Final = "PRICE"
_OPEN_ADR_EXPORT_PRICE: Final = "EXPORT_PRICE"


@dataclass(frozen=True, slots=True)
class PriceInterval:
    """One interval of a home's price signal, with prices in USD/kWh."""

    start: datetime
    end: datetime
    price: float
    import_price: float | None = None
    export_price: float | None = None
    confidence: float | None = None

    @property
    def duration(self) -> timedelta:
        """Length of the interval."""
        return self.end - self.start


def parse_price_body(
    body: Any, *, allow_empty: bool = False
) -> tuple[PriceInterval, ...]:
    """Read the intervals of one home's price signal, in any documented shape.

    A signal without intervals is invalid unless allow_empty is set, as for
    a response about a window WattShift has no prices for.
    """
    if not isinstance(body, Mapping):
        raise PayloadError("A price signal must be a JSON object.")
    if "intervals" in body:
        intervals = _parse_open_adr(body)
    elif body.get("data") is not None:
        intervals = _parse_data_list(body["data"])
    elif "prices" in body:
        intervals = _parse_arrays(body)
    elif "priceSignal" in body:
        intervals = _parse_price_signal_array(body)
    else:
        raise PayloadError(
            "A price signal needs data, prices, priceSignal or OpenADR intervals."
        )
    if not intervals and not allow_empty:
        raise PayloadError("The price signal contains no intervals.")
    return _checked(intervals)


def parse_timestamp(value: Any, where: str) -> datetime:
    """Parse an ISO 8601 instant with a UTC offset and return it in UTC."""
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be an ISO 8601 timestamp.")
    try:
        # parse_datetime raises ValueError for a well-formed but impossible
        # date or offset, such as month 13 or +99:00, and returns None for
        # text that is not a timestamp at all.
        parsed = dt_util.parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise PayloadError(f"{where} is not a valid ISO 8601 timestamp: {value!r}.")
    if parsed.tzinfo is None:
        raise PayloadError(f"{where} must include a UTC offset, such as Z: {value!r}.")
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise PayloadError(
            f"{where} must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}: "
            f"{value!r}."
        )
    return dt_util.as_utc(parsed)


def _parse_data_list(items: Any) -> list[PriceInterval]:
    """Read the newest shape: data[] with startTime, endTime and prices."""
    if not isinstance(items, list):
        raise PayloadError("data must be a list of price intervals.")
    _check_count(len(items), "data")
    intervals: list[PriceInterval] = []
    for index, item in enumerate(items):
        where = f"data[{index}]"
        if not isinstance(item, Mapping):
            raise PayloadError(f"{where} must be an object.")
        if "price" not in item:
            raise PayloadError(f"{where}.price is missing.")
        intervals.append(
            PriceInterval(
                start=parse_timestamp(item.get("startTime"), f"{where}.startTime"),
                end=parse_timestamp(item.get("endTime"), f"{where}.endTime"),
                price=_number(item["price"], f"{where}.price"),
                import_price=_optional_number(item.get("import"), f"{where}.import"),
                export_price=_optional_number(item.get("export"), f"{where}.export"),
                confidence=_optional_number(
                    item.get("confidence"), f"{where}.confidence"
                ),
            )
        )
    return intervals


def _parse_arrays(body: Mapping[str, Any]) -> list[PriceInterval]:
    """Read the older parallel arrays prices, imports/import and exports/export."""
    prices = _number_list(body["prices"], "prices")
    imports = _parallel_list(body, ("imports", "import"), len(prices))
    exports = _parallel_list(body, ("exports", "export"), len(prices))
    return _step_intervals(
        parse_timestamp(body.get("startTime"), "startTime"), prices, imports, exports
    )


def _parse_price_signal_array(body: Mapping[str, Any]) -> list[PriceInterval]:
    """Read the oldest shape: startTime and one priceSignal array."""
    prices = _number_list(body["priceSignal"], "priceSignal")
    none: list[float | None] = [None] * len(prices)
    return _step_intervals(
        parse_timestamp(body.get("startTime"), "startTime"), prices, none, none
    )


def _step_intervals(
    start: datetime,
    prices: Sequence[float],
    imports: Sequence[float | None],
    exports: Sequence[float | None],
) -> list[PriceInterval]:
    """Lay array values end to end from start, one ARRAY_STEP each."""
    return [
        PriceInterval(
            start=start + index * ARRAY_STEP,
            end=start + (index + 1) * ARRAY_STEP,
            price=price,
            import_price=imports[index],
            export_price=exports[index],
        )
        for index, price in enumerate(prices)
    ]


def _parallel_list(
    body: Mapping[str, Any], keys: tuple[str, ...], length: int
) -> list[float | None]:
    """Read the first present array of keys, or Nones when none is present."""
    for key in keys:
        if body.get(key) is None:
            continue
        values = _number_list(body[key], key)
        if len(values) != length:
            raise PayloadError(
                f"{key} has {len(values)} values but prices has {length}."
            )
        return list(values)
    return [None] * length


def _parse_open_adr(event: Mapping[str, Any]) -> list[PriceInterval]:
    """Read an OpenADR 3.0 event with PRICE payloads.

    An interval without its own intervalPeriod, or without a start or a
    duration in it, takes them from the event's intervalPeriod. Such an
    interval starts where the one before it ended, or at the event's start
    when it is the first.
    """
    _check_open_adr_units(event)
    items = event["intervals"]
    if not isinstance(items, list):
        raise PayloadError("intervals must be a list of OpenADR intervals.")
    _check_count(len(items), "intervals")
    default_start, default_duration = _interval_period(
        event.get("intervalPeriod"), "intervalPeriod"
    )

    intervals: list[PriceInterval] = []
    cursor = default_start
    for index, item in enumerate(items):
        where = f"intervals[{index}]"
        if not isinstance(item, Mapping):
            raise PayloadError(f"{where} must be an object.")
        own_start, own_duration = _interval_period(
            item.get("intervalPeriod"), f"{where}.intervalPeriod"
        )
        start = own_start if own_start is not None else cursor
        duration = own_duration if own_duration is not None else default_duration
        if start is None:
            raise PayloadError(
                f"{where} has no start, and the event's intervalPeriod has none."
            )
        if duration is None:
            raise PayloadError(
                f"{where} has no duration, and the event's intervalPeriod has none."
            )
        payloads = _open_adr_payloads(item.get("payloads"), where)
        if _OPEN_ADR_PRICE not in payloads:
            raise PayloadError(f"{where} has no PRICE payload.")
        intervals.append(
            PriceInterval(
                start=start,
                end=start + duration,
                price=payloads[_OPEN_ADR_PRICE],
                export_price=payloads.get(_OPEN_ADR_EXPORT_PRICE),
            )
        )
        cursor = start + duration
    return intervals


def _interval_period(
    value: Any, where: str
) -> tuple[datetime | None, timedelta | None]:
    """Read an OpenADR intervalPeriod's start and duration, each optional."""
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where} must be an object.")
    start = value.get("start")
    duration = value.get("duration")
    return (
        None if start is None else parse_timestamp(start, f"{where}.start"),
        None if duration is None else _duration(duration, f"{where}.duration"),
    )


def _duration(value: Any, where: str) -> timedelta:
    """Parse a positive ISO 8601 duration of at most MAX_INTERVAL_DURATION."""
    parsed: timedelta | None = None
    if isinstance(value, str) and value.startswith("P"):
        try:
            parsed = dt_util.parse_duration(value)
        except OverflowError:
            # More days, hours, minutes or seconds than timedelta can hold.
            parsed = timedelta.max
    if parsed is None:
        raise PayloadError(
            f"{where} must be an ISO 8601 duration in days, hours, minutes or "
            f"seconds, such as PT15M: {value!r}."
        )
    if parsed <= timedelta(0):
        raise PayloadError(f"{where} must be longer than zero: {value!r}.")
    if parsed > MAX_INTERVAL_DURATION:
        raise PayloadError(
            f"{where} must be at most {MAX_INTERVAL_DURATION.days} days: {value!r}."
        )
    return parsed


def _open_adr_payloads(value: Any, where: str) -> dict[str, float]:
    """Map each payload type of an OpenADR interval to its first value."""
    if not isinstance(value, list):
        raise PayloadError(f"{where}.payloads must be a list.")
    payloads: dict[str, float] = {}
    for index, payload in enumerate(value):
        at = f"{where}.payloads[{index}]"
        if not isinstance(payload, Mapping) or not isinstance(payload.get("type"), str):
            raise PayloadError(f"{at} must be an object with a type.")
        kind = payload["type"].upper()
        if kind not in (_OPEN_ADR_PRICE, _OPEN_ADR_EXPORT_PRICE):
            continue
        values = payload.get("values")
        if not isinstance(values, list) or not values:
            raise PayloadError(f"{at}.values must be a non-empty list.")
        payloads[kind] = _number(values[0], f"{at}.values[0]")
    return payloads


def _check_open_adr_units(event: Mapping[str, Any]) -> None:
    """Reject an event whose payload descriptors name another currency or unit."""
    descriptors = event.get("payloadDescriptors")
    if descriptors is None:
        return
    if not isinstance(descriptors, list):
        raise PayloadError("payloadDescriptors must be a list.")
    for descriptor in descriptors:
        if not isinstance(descriptor, Mapping):
            raise PayloadError("payloadDescriptors must contain objects.")
        kind = str(descriptor.get("payloadType", "")).upper()
        if kind not in (_OPEN_ADR_PRICE, _OPEN_ADR_EXPORT_PRICE):
            continue
        currency = descriptor.get("currency")
        if currency is not None and str(currency).upper() != PRICE_CURRENCY:
            raise PayloadError(
                f"{kind} is in {currency}, but the price entities show USD/kWh."
            )
        units = descriptor.get("units")
        if units is not None and str(units).upper() != PRICE_ENERGY_UNIT:
            raise PayloadError(
                f"{kind} is per {units}, but the price entities show USD/kWh."
            )


def _checked(intervals: list[PriceInterval]) -> tuple[PriceInterval, ...]:
    """Sort the intervals and reject inverted or overlapping ones."""
    for interval in intervals:
        if interval.end <= interval.start:
            raise PayloadError(
                f"The interval starting {interval.start.isoformat()} does not end "
                "after it starts."
            )
    ordered = sorted(intervals, key=lambda interval: interval.start)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise PayloadError(
                f"The interval starting {after.start.isoformat()} overlaps the one "
                f"ending {before.end.isoformat()}."
            )
    return tuple(ordered)


def _check_count(count: int, where: str) -> None:
    """Reject a body with more intervals than MAX_INTERVALS."""
    if count > MAX_INTERVALS:
        raise PayloadError(
            f"{where} has {count} intervals; at most {MAX_INTERVALS} are accepted."
        )


def _number_list(value: Any, where: str) -> list[float]:
    """Read a bounded list of prices."""
    if not isinstance(value, list):
        raise PayloadError(f"{where} must be a list of numbers.")
    _check_count(len(value), where)
    return [_number(item, f"{where}[{index}]") for index, item in enumerate(value)]


def _optional_number(value: Any, where: str) -> float | None:
    """Read a number that may be absent or null."""
    return None if value is None else _number(value, where)


def _number(value: Any, where: str) -> float:
    """Read a finite number, given as a JSON number or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PayloadError(f"{where} must be a number.")
    try:
        number = float(value)
    except ValueError:
        raise PayloadError(f"{where} must be a number: {value!r}.") from None
    except OverflowError:
        # An integer too large for a float, which Python's json module reads.
        number = math.inf
    if not math.isfinite(number):
        raise PayloadError(f"{where} must be a finite number.")
    return number
