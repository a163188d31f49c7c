"""Tests for the per-thermostat switch, sensor and calendar of schedules."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattshift.const import CONF_THERMOSTATS, DOMAIN

from .conftest import ORG_ID, WebhookPoster
from .schedules import (
    NOON,
    ClimateCalls,
    after,
    block,
    device_schedule,
    move_to,
    send_schedule,
)

LIVING = "climate.living_room"
HOUR = after(NOON, hours=1)
TWO = after(NOON, hours=2)
SWITCH = "switch.living_room_follow_wattshift_schedule"
SENSOR = "sensor.living_room_wattshift_target"
CALENDAR = "calendar.living_room_wattshift_schedule"


@pytest.fixture
async def calls(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ClimateCalls:
    """Record climate service calls, with the clock at noon UTC."""
    freezer.move_to(NOON)
    return ClimateCalls(hass)


def living_schedule() -> dict[str, Any]:
    """Return a HEAT block now, then an AUTO block, for the living room."""
    return {
        "ws_device_living": device_schedule(
            [
                block(NOON, HOUR, "HEAT", targetTemp="72"),
                block(HOUR, TWO, "AUTO", targetHeatSetpoint=64, targetCoolSetpoint=78),
            ],
            unit="F",
        )
    }


async def switch(hass: HomeAssistant, service: str) -> None:
    """Turn the living room's follow switch on or off."""
    await hass.services.async_call(
        "switch", service, {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    await hass.async_block_till_done()


@pytest.mark.usefixtures("loaded_entry")
async def test_entities_on_thermostat_device(hass: HomeAssistant) -> None:
    entities = er.async_get(hass)
    devices = dr.async_get(hass)

    device = devices.async_get_device(identifiers={(DOMAIN, f"{ORG_ID}_{LIVING}")})
    assert device is not None
    assert device.name == "Living room"
    account = devices.async_get_device(identifiers={(DOMAIN, ORG_ID)})
    assert account is not None
    assert device.via_device_id == account.id
    for entity_id, unique_suffix in (
        (SWITCH, "follow_schedule"),
        (SENSOR, "schedule_target"),
        (CALENDAR, "schedule"),
    ):
        entry = entities.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.device_id == device.id
        assert entry.unique_id == f"{ORG_ID}_{LIVING}_{unique_suffix}"
    assert hass.states.get("switch.bedroom_follow_wattshift_schedule") is not None
    assert hass.states.get("calendar.hall_wattshift_schedule") is not None


@pytest.mark.usefixtures("loaded_entry")
async def test_sensor_shows_target_in_system_unit(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "unknown"

    await send_schedule(hass, post_event, living_schedule())

    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "22.22"
    assert state.attributes["unit_of_measurement"] == "°C"
    assert state.attributes["mode"] == "heat"
    assert state.attributes["block_start"] == NOON
    assert state.attributes["block_end"] == HOUR
    assert state.attributes["next_block_start"] == HOUR
    assert state.attributes["next_block_mode"] == "auto"
    assert state.attributes["source"] == "wattshift"
    assert state.attributes["following"] is True
    assert state.attributes["override_until"] is None
    assert state.attributes["last_error"] is None

    await move_to(hass, freezer, HOUR)

    state = hass.states.get(SENSOR)
    assert state is not None
    # The middle of 64 to 78 °F, which is 17.78 to 25.56 °C.
    assert state.state == "21.67"
    assert state.attributes["target_temp_low"] == 17.78
    assert state.attributes["target_temp_high"] == 25.56
    assert state.attributes["next_block_start"] is None


@pytest.mark.usefixtures("loaded_entry")
async def test_sensor_source_follows_user(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send_schedule(hass, post_event, living_schedule())
    await move_to(hass, freezer, after(NOON, minutes=10))
    state = hass.states.get(LIVING)
    assert state is not None
    hass.states.async_set(LIVING, "heat", {**state.attributes, "temperature": 24})
    await hass.async_block_till_done()

    sensor = hass.states.get(SENSOR)
    assert sensor is not None
    assert sensor.attributes["source"] == "user"
    assert sensor.attributes["override_until"] == HOUR


@pytest.mark.usefixtures("loaded_entry")
async def test_switch_off_stops_writes(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send_schedule(hass, post_event, living_schedule())
    assert len(calls.calls) == 1

    await switch(hass, "turn_off")

    state = hass.states.get(SWITCH)
    assert state is not None
    assert state.state == STATE_OFF
    assert len(calls.calls) == 1
    await move_to(hass, freezer, HOUR)
    assert len(calls.calls) == 1
    body = await send_schedule(hass, post_event, living_schedule())
    answers = body["devices"]["ws_device_living"]["blocks"]
    assert [answer["status"] for answer in answers] == ["skipped", "skipped"]
    assert body["devices"]["ws_device_living"]["following"] is False


@pytest.mark.usefixtures("loaded_entry")
async def test_switch_on_writes_current_block(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send_schedule(hass, post_event, living_schedule())
    await switch(hass, "turn_off")
    await move_to(hass, freezer, after(HOUR, minutes=5))

    await switch(hass, "turn_on")

    # The AUTO block becomes heating to 64 °F on this heat-only thermostat.
    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0}),
        ("set_temperature", {"entity_id": LIVING, "temperature": 18.0}),
    ]
    state = hass.states.get(SWITCH)
    assert state is not None
    assert state.state == STATE_ON


@pytest.mark.usefixtures("loaded_entry")
async def test_switch_state_survives_restart(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
) -> None:
    await send_schedule(hass, post_event, living_schedule())
    await switch(hass, "turn_off")

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()

    state = hass.states.get(SWITCH)
    assert state is not None
    assert state.state == STATE_OFF
    assert len(calls.calls) == 1


@pytest.mark.usefixtures("loaded_entry")
async def test_calendar_lists_blocks(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
) -> None:
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == STATE_OFF

    await send_schedule(hass, post_event, living_schedule())

    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == STATE_ON
    assert state.attributes["message"] == "Heat 22.2 °C"
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            ATTR_ENTITY_ID: CALENDAR,
            "start_date_time": after(NOON, minutes=30),
            "end_date_time": after(NOON, hours=3),
        },
        blocking=True,
        return_response=True,
    )
    events = response[CALENDAR]["events"]  # type: ignore[index]
    assert [event["summary"] for event in events] == [
        "Heat 22.2 °C",
        "Auto 17.8 °C to 25.6 °C",
    ]
    assert (
        events[1]["start"]
        == after(NOON, hours=1).astimezone(dt_util.get_default_time_zone()).isoformat()
    )


@pytest.mark.usefixtures("loaded_entry")
async def test_calendar_turns_off_after_last_block(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send_schedule(hass, post_event, living_schedule())

    await move_to(hass, freezer, TWO)

    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == STATE_OFF
    sensor = hass.states.get(SENSOR)
    assert sensor is not None
    assert sensor.state == "unknown"
    assert sensor.attributes["source"] is None


async def test_thermostat_added_and_removed_live(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    hass.states.async_set("climate.office", "heat", {"friendly_name": "Office"})
    options = dict(loaded_entry.options)
    hass.config_entries.async_update_entry(
        loaded_entry,
        options={
            **options,
            CONF_THERMOSTATS: [*options[CONF_THERMOSTATS], "climate.office"],
        },
    )
    await hass.async_block_till_done()

    assert hass.states.get("switch.office_follow_wattshift_schedule") is not None
    devices = dr.async_get(hass)
    office = {(DOMAIN, f"{ORG_ID}_climate.office")}
    assert devices.async_get_device(identifiers=office) is not None

    hass.config_entries.async_update_entry(
        loaded_entry,
        options={**options, CONF_THERMOSTATS: ["climate.bedroom", "climate.hall"]},
    )
    await hass.async_block_till_done()

    assert devices.async_get_device(identifiers=office) is None
    living = {(DOMAIN, f"{ORG_ID}_{LIVING}")}
    assert devices.async_get_device(identifiers=living) is None
    assert hass.states.get(SWITCH) is None
    assert er.async_get(hass).async_get(SENSOR) is None
    assert hass.states.get("switch.bedroom_follow_wattshift_schedule") is not None
    assert loaded_entry.state is ConfigEntryState.LOADED
