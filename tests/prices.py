"""Builders of WattShift price-signal bodies and a clock helper for the price tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

HOME = "ws_home_7bc31940df8a4615b2dc9e84f3a92c51"
OTHER_HOME = "ws_home_00000000000000000000000000000002"
# Entity ids take the device name, which is the home id until WattShift names it.
HOME_SLUG = HOME
DAY = datetime(2025, 6, 2, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)


def iso(moment: datetime) -> str:
    """Format an instant the way WattShift writes it."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entity(platform: str, key: str, home_slug: str = HOME_SLUG) -> str:
    """Return the entity id of one price entity of a home."""
    return f"{platform}.{home_slug}_{key}"


def data_items(
    start: datetime,
    prices: Sequence[float],
    step: timedelta | Sequence[timedelta] = QUARTER,
) -> list[dict[str, Any]]:
    """Build data[] items laid end to end.

    Each import price is 0.01 above the price, and each export price is a
    third of it.
    """
    steps = [step] * len(prices) if isinstance(step, timedelta) else list(step)
    items = []
    moment = start
    for price, length in zip(prices, steps, strict=True):
        items.append(
            {
                "startTime": iso(moment),
                "endTime": iso(moment + length),
                "price": price,
                "import": round(price + 0.01, 4),
                "export": round(price / 3, 4),
                "confidence": 0.9,
            }
        )
        moment += length
    return items


def home_body(home_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap data[] items in the documented price-signal response."""
    return {
        "homeId": home_id,
        "startTime": items[0]["startTime"],
        "endTime": items[-1]["endTime"],
        "data": items,
        "prices": [item["price"] for item in items],
        "import": [item["import"] for item in items],
        "export": [item["export"] for item in items],
    }


def home_ids(count: int, first: int = 0) -> list[str]:
    """Return count distinct home ids in WattShift's documented form."""
    return [f"ws_home_{number:032x}" for number in range(first, first + count)]


def delivery(data: Any) -> dict[str, Any]:
    """Wrap per-home bodies in the delivery envelope."""
    return {"eventType": "PRICE_SIGNAL", "data": data}


def signal(
    start: datetime,
    prices: Sequence[float],
    step: timedelta | Sequence[timedelta] = QUARTER,
    home_id: str = HOME,
) -> dict[str, Any]:
    """Build a delivery with one home's back-to-back intervals."""
    return delivery(home_body(home_id, data_items(start, prices, step)))


async def move_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime
) -> None:
    """Move the clock and run the timers that are due."""
    freezer.move_to(moment)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
