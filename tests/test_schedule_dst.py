"""Tests for schedules across daylight-saving clock changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import WebhookPoster
from .schedules import ClimateCalls, after, move_to, send_schedule

LIVING = "climate.living_room"
BERLIN = ZoneInfo("Europe/Berlin")


def instant(text: str) -> datetime:
    """Parse a UTC instant written without its offset."""
    return datetime.fromisoformat(text).replace(tzinfo=dt_util.UTC)


def written(moment: datetime, form: str) -> str:
    """Write an instant with Z or with Berlin's offset at that instant."""
    if form == "utc":
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moment.astimezone(BERLIN).isoformat(timespec="milliseconds")


def hourly_schedule(
    starts: list[datetime], temperatures: list[float], form: str
) -> dict[str, Any]:
    """Build back-to-back one-hour HEAT blocks for the living room."""
    ends = [*starts[1:], after(starts[-1], hours=1)]
    blocks = [
        {
            "startDatetime": written(start, form),
            "endDatetime": written(end, form),
            "targetMode": "HEAT",
            "targetTemp": temperature,
        }
        for start, end, temperature in zip(starts, ends, temperatures, strict=True)
    ]
    return {
        "ws_device_living": {
            "blocks": blocks,
            "startDatetime": written(starts[0], form),
            "endDatetime": written(ends[-1], form),
            "tempUnits": "C",
        }
    }


def temperatures(calls: ClimateCalls) -> list[float]:
    """Return the setpoints written to the living room, in order."""
    return [data["temperature"] for _, data in calls.calls]


@pytest.fixture
async def berlin(hass: HomeAssistant) -> None:
    """Put Home Assistant in a zone that changes its clocks."""
    await hass.config.async_set_time_zone("Europe/Berlin")


@pytest.mark.parametrize("form", ["utc", "local"])
@pytest.mark.usefixtures("berlin", "loaded_entry")
async def test_spring_forward_night(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    form: str,
) -> None:
    # Clocks jump from 02:00 to 03:00 local time at 01:00 UTC, so the second
    # block runs from 01:30 CET to 03:30 CEST and lasts one real hour.
    starts = [
        instant("2024-03-30T23:30:00"),
        instant("2024-03-31T00:30:00"),
        instant("2024-03-31T01:30:00"),
    ]
    freezer.move_to(starts[0])
    calls = ClimateCalls(hass)
    await send_schedule(hass, post_event, hourly_schedule(starts, [18, 19, 20], form))
    assert temperatures(calls) == [18.0]

    await move_to(hass, freezer, after(starts[1], seconds=-1))
    assert temperatures(calls) == [18.0]
    await move_to(hass, freezer, starts[1])
    assert temperatures(calls) == [18.0, 19.0]
    await move_to(hass, freezer, after(starts[2], seconds=-1))
    assert temperatures(calls) == [18.0, 19.0]
    await move_to(hass, freezer, starts[2])
    assert temperatures(calls) == [18.0, 19.0, 20.0]


@pytest.mark.parametrize("form", ["utc", "local"])
@pytest.mark.usefixtures("berlin", "loaded_entry")
async def test_fall_back_night(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    form: str,
) -> None:
    # Clocks go back from 03:00 to 02:00 local time at 01:00 UTC, so both
    # blocks start at 02:00 local time, one hour apart.
    starts = [
        instant("2024-10-27T00:00:00"),
        instant("2024-10-27T01:00:00"),
        instant("2024-10-27T02:00:00"),
    ]
    freezer.move_to(starts[0])
    calls = ClimateCalls(hass)
    await send_schedule(hass, post_event, hourly_schedule(starts, [18, 19, 20], form))

    await move_to(hass, freezer, after(starts[1], seconds=-1))
    assert temperatures(calls) == [18.0]
    await move_to(hass, freezer, starts[1])
    assert temperatures(calls) == [18.0, 19.0]
    await move_to(hass, freezer, after(starts[2], seconds=-1))
    assert temperatures(calls) == [18.0, 19.0]
    await move_to(hass, freezer, starts[2])
    assert temperatures(calls) == [18.0, 19.0, 20.0]


@pytest.mark.usefixtures("berlin")
async def test_offset_and_utc_forms_equal(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    starts = [instant("2024-10-27T00:00:00"), instant("2024-10-27T01:00:00")]
    freezer.move_to(starts[0])
    calls = ClimateCalls(hass)
    first = await send_schedule(
        hass, post_event, hourly_schedule(starts, [18, 19], "utc")
    )

    with patch.object(Store, "async_delay_save") as delay_save:
        second = await send_schedule(
            hass, post_event, hourly_schedule(starts, [18, 19], "local")
        )

    delay_save.assert_not_called()
    assert second == first
    assert first["devices"]["ws_device_living"]["blocks"][1]["startDatetime"] == (
        "2024-10-27T01:00:00.000Z"
    )
    assert temperatures(calls) == [18.0]
