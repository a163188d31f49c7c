"""Helpers that build SET_POINT_SCHEDULE bodies for the tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .conftest import WebhookPoster

# A Saturday in summer, at noon UTC, and an hour later.
NOON = datetime(2024, 8, 3, 12, 0, tzinfo=dt_util.UTC)
HOUR = NOON + timedelta(hours=1)


def iso(moment: datetime) -> str:
    """Format an instant the way WattShift does."""
    return (
        dt_util.as_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def block(start: datetime, end: datetime, mode: str, **targets: Any) -> dict[str, Any]:
    """Build one block; targets use WattShift's field names."""
    return {
        "startDatetime": iso(start),
        "endDatetime": iso(end),
        "targetMode": mode,
        **targets,
    }


def device_schedule(
    blocks: list[dict[str, Any]],
    *,
    unit: str = "C",
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """Build one device's schedule whose window spans its blocks."""
    starts = [block["startDatetime"] for block in blocks]
    ends = [block["endDatetime"] for block in blocks]
    return {
        "blocks": blocks,
        "startDatetime": iso(start) if start else min(starts),
        "endDatetime": iso(end) if end else max(ends),
        "tempUnits": unit,
    }


def schedule_event(data: dict[str, Any]) -> dict[str, Any]:
    """Wrap device schedules in the delivery envelope."""
    return {"eventType": "SET_POINT_SCHEDULE", "data": data}


async def send_schedule(
    hass: HomeAssistant, post_event: WebhookPoster, data: dict[str, Any]
) -> dict[str, Any]:
    """Deliver schedules, wait for the writes they start and return the response."""
    status, body = await post_event(schedule_event(data))
    assert status == 200, body
    await hass.async_block_till_done()
    return body


async def move_to(hass: HomeAssistant, freezer: Any, moment: datetime) -> None:
    """Move the clock to moment and run the timers that are due."""
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done()


class ClimateCalls:
    """Climate services that record each call in order.

    With follow=True they also change the entity's state the way a thermostat
    reports a write, with the caller's context.
    """

    def __init__(self, hass: HomeAssistant, *, follow: bool = True) -> None:
        """Replace the climate services that set mode and temperature."""
        self._hass = hass
        self.follow = follow
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.contexts: list[Context] = []
        for service in ("set_hvac_mode", "set_temperature"):
            hass.services.async_register("climate", service, self._record)

    async def _record(self, call: ServiceCall) -> None:
        self.calls.append((call.service, dict(call.data)))
        self.contexts.append(call.context)
        if not self.follow:
            return
        data = dict(call.data)
        entity_id = data.pop("entity_id")
        state = self._hass.states.get(entity_id)
        assert state is not None
        mode = data.pop("hvac_mode", state.state)
        self._hass.states.async_set(
            entity_id, mode, {**state.attributes, **data}, context=call.context
        )


def after(moment: datetime, **delta: float) -> datetime:
    """Return moment shifted by a timedelta given as keywords."""
    return moment + timedelta(**delta)
