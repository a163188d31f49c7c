"""Tests that write schedules to real climate entities.

The demo platform gives a Celsius thermostat with one setpoint
(climate.hvac), a Fahrenheit heat pump (climate.heatpump) and a
range-only thermostat without a heat mode (climate.ecobee).
generic_thermostat gives a heat-only thermostat that switches a heater.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate import DATA_COMPONENT, ClimateEntity
from homeassistant.const import EVENT_CALL_SERVICE, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.unit_system import (
    METRIC_SYSTEM,
    US_CUSTOMARY_SYSTEM,
    UnitSystem,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.wattshift.const import CONF_DEVICE_LINKS, CONF_THERMOSTATS

from .conftest import WebhookPoster
from .schedules import NOON, after, block, device_schedule, move_to, send_schedule

HOUR = after(NOON, hours=1)
TWO = after(NOON, hours=2)


async def setup_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry, thermostats: list[str]
) -> None:
    """Expose the given thermostats and set up the WattShift entry."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={CONF_THERMOSTATS: thermostats, CONF_DEVICE_LINKS: {}},
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()


async def setup_demo(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    """Expose the demo climate entities to a new WattShift entry."""
    await setup_entry(
        hass, config_entry, ["climate.hvac", "climate.heatpump", "climate.ecobee"]
    )


@pytest.fixture
def unit_system() -> UnitSystem:
    """Return Home Assistant's unit system for the test."""
    return METRIC_SYSTEM


@pytest.fixture
async def demo(hass: HomeAssistant, unit_system: UnitSystem) -> None:
    """Set up the demo climate entities in the test's unit system."""
    hass.config.units = unit_system
    assert await async_setup_component(hass, "homeassistant", {})
    with patch(
        "homeassistant.components.demo.COMPONENTS_WITH_CONFIG_ENTRY_DEMO_PLATFORM",
        [Platform.CLIMATE],
    ):
        assert await async_setup_component(hass, "demo", {})
        await hass.async_block_till_done()


@pytest.fixture
def demo_post(demo: None, post_event: WebhookPoster) -> WebhookPoster:
    """Return the webhook poster, created after the demo platform was set up."""
    return post_event


def climate_entity(hass: HomeAssistant, entity_id: str) -> ClimateEntity:
    """Return the entity object behind a climate entity id."""
    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert entity is not None
    return entity


def climate_calls(events: list[Event]) -> list[tuple[str, dict[str, Any]]]:
    """Return the climate service calls among captured call_service events."""
    return [
        (event.data["service"], dict(event.data["service_data"]))
        for event in events
        if event.data["domain"] == "climate"
    ]


@pytest.fixture
def service_events(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> list[Event]:
    """Capture every service call, with the clock at noon UTC."""
    freezer.move_to(NOON)
    return async_capture_events(hass, EVENT_CALL_SERVICE)


@pytest.mark.usefixtures("external_url")
async def test_fahrenheit_heat_pump_in_celsius_system(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    demo_post: WebhookPoster,
    service_events: list[Event],
) -> None:
    await setup_demo(hass, config_entry)

    body = await send_schedule(
        hass,
        demo_post,
        {
            "climate.heatpump": device_schedule(
                [
                    block(NOON, HOUR, "HEAT", targetTemp="71"),
                    block(HOUR, TWO, "HEAT", targetTemp=21.3),
                ],
                unit="F",
            )
        },
    )

    # 71 °F is sent as 21.67 °C and reaches the heat pump as 71 °F again.
    [(service, data)] = climate_calls(service_events)
    assert service == "set_temperature"
    assert data["entity_id"] == "climate.heatpump"
    assert data["temperature"] == pytest.approx(21.6667, abs=1e-4)
    assert climate_entity(hass, "climate.heatpump").target_temperature == (
        pytest.approx(71)
    )
    state = hass.states.get("climate.heatpump")
    assert state is not None
    assert state.attributes["temperature"] == 21.7
    assert body["devices"]["climate.heatpump"]["blocks"][0]["targetTemp"] == 71.0


@pytest.mark.usefixtures("external_url")
async def test_celsius_schedule_rounded_in_native_unit(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    demo_post: WebhookPoster,
    service_events: list[Event],
) -> None:
    await setup_demo(hass, config_entry)

    # 21.3 °C is 70.3 °F; the heat pump's whole-degree step makes it 70 °F.
    await send_schedule(
        hass,
        demo_post,
        {
            "climate.heatpump": device_schedule(
                [block(NOON, HOUR, "HEAT", targetTemp=21.3)]
            )
        },
    )

    assert climate_entity(hass, "climate.heatpump").target_temperature == (
        pytest.approx(70)
    )


@pytest.mark.usefixtures("external_url")
@pytest.mark.parametrize("unit_system", [US_CUSTOMARY_SYSTEM])
async def test_celsius_schedule_in_fahrenheit_system(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    demo_post: WebhookPoster,
    service_events: list[Event],
) -> None:
    await setup_demo(hass, config_entry)

    body = await send_schedule(
        hass,
        demo_post,
        {
            "climate.hvac": device_schedule(
                [block(NOON, HOUR, "COOL", targetCoolSetpoint=22.5)]
            ),
            "climate.heatpump": device_schedule(
                [block(NOON, HOUR, "HEAT", targetTemp=21)]
            ),
        },
    )

    calls = sorted(climate_calls(service_events), key=lambda call: call[1]["entity_id"])
    assert calls == [
        ("set_temperature", {"entity_id": "climate.heatpump", "temperature": 70.0}),
        ("set_temperature", {"entity_id": "climate.hvac", "temperature": 72.5}),
    ]
    assert climate_entity(hass, "climate.hvac").target_temperature == (
        pytest.approx(22.5)
    )
    assert climate_entity(hass, "climate.heatpump").target_temperature == 70
    answers = body["devices"]
    assert answers["climate.hvac"]["blocks"][0]["targetTemp"] == 22.5
    assert answers["climate.heatpump"]["blocks"][0]["targetTemp"] == 21.1


@pytest.mark.usefixtures("external_url")
@pytest.mark.parametrize("unit_system", [US_CUSTOMARY_SYSTEM])
async def test_same_unit_schedule_unchanged(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    demo_post: WebhookPoster,
    service_events: list[Event],
) -> None:
    await setup_demo(hass, config_entry)

    await send_schedule(
        hass,
        demo_post,
        {
            "climate.heatpump": device_schedule(
                [block(NOON, HOUR, "HEAT", targetTemp=66)], unit="F"
            )
        },
    )

    assert climate_calls(service_events) == [
        ("set_temperature", {"entity_id": "climate.heatpump", "temperature": 66.0})
    ]
    assert climate_entity(hass, "climate.heatpump").target_temperature == 66


@pytest.mark.usefixtures("external_url")
async def test_demo_modes_and_limits(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    demo_post: WebhookPoster,
    service_events: list[Event],
) -> None:
    await setup_demo(hass, config_entry)

    body = await send_schedule(
        hass,
        demo_post,
        {
            # Above the 35 °C maximum, and in heat while it cools now.
            "climate.hvac": device_schedule([block(NOON, HOUR, "HEAT", targetTemp=40)]),
            # Range-only and without a heat mode.
            "climate.ecobee": device_schedule(
                [
                    block(
                        NOON,
                        HOUR,
                        "AUTO",
                        targetHeatSetpoint=19,
                        targetCoolSetpoint=25,
                    ),
                    block(HOUR, TWO, "HEAT", targetTemp=20),
                ]
            ),
            # A heat pump that cannot cool.
            "climate.heatpump": device_schedule(
                [block(NOON, HOUR, "COOL", targetTemp=75)], unit="F"
            ),
        },
    )

    calls = climate_calls(service_events)
    assert sorted(calls, key=lambda call: call[1]["entity_id"]) == [
        (
            "set_temperature",
            {
                "entity_id": "climate.ecobee",
                "target_temp_low": 19.0,
                "target_temp_high": 25.0,
            },
        ),
        ("set_hvac_mode", {"entity_id": "climate.hvac", "hvac_mode": "heat"}),
        ("set_temperature", {"entity_id": "climate.hvac", "temperature": 35.0}),
    ]
    assert calls.index(
        ("set_hvac_mode", {"entity_id": "climate.hvac", "hvac_mode": "heat"})
    ) < calls.index(
        ("set_temperature", {"entity_id": "climate.hvac", "temperature": 35.0})
    )
    answers = body["devices"]
    assert answers["climate.hvac"]["blocks"][0]["status"] == "clamped"
    assert answers["climate.hvac"]["blocks"][0]["targetTemp"] == 35.0
    assert answers["climate.ecobee"]["blocks"][1]["status"] == "skipped"
    assert answers["climate.heatpump"]["blocks"][0]["status"] == "skipped"
    state = hass.states.get("climate.hvac")
    assert state is not None
    assert state.state == "heat"
    assert state.attributes["temperature"] == 35.0


@pytest.mark.usefixtures("external_url")
async def test_demo_cool_on_range_only(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    demo_post: WebhookPoster,
    service_events: list[Event],
) -> None:
    await setup_demo(hass, config_entry)

    await send_schedule(
        hass,
        demo_post,
        {"climate.ecobee": device_schedule([block(NOON, HOUR, "COOL", targetTemp=26)])},
    )

    # Cooling on a range-only thermostat moves the upper bound.
    assert climate_calls(service_events) == [
        ("set_hvac_mode", {"entity_id": "climate.ecobee", "hvac_mode": "cool"}),
        (
            "set_temperature",
            {
                "entity_id": "climate.ecobee",
                "target_temp_low": 21.0,
                "target_temp_high": 26.0,
            },
        ),
    ]


@pytest.mark.usefixtures("external_url")
async def test_demo_auto_picks_current_mode(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    demo_post: WebhookPoster,
    service_events: list[Event],
) -> None:
    await setup_demo(hass, config_entry)

    # climate.hvac has no heat_cool; at 22 °C between the bounds it keeps cooling.
    await send_schedule(
        hass,
        demo_post,
        {
            "climate.hvac": device_schedule(
                [
                    block(
                        NOON,
                        HOUR,
                        "AUTO",
                        targetHeatSetpoint=20,
                        targetCoolSetpoint=24,
                    )
                ]
            )
        },
    )

    assert climate_calls(service_events) == [
        ("set_temperature", {"entity_id": "climate.hvac", "temperature": 24.0})
    ]


@pytest.fixture
def office_post(office: str, post_event: WebhookPoster) -> WebhookPoster:
    """Return the webhook poster, created after the office thermostat."""
    return post_event


@pytest.fixture
async def office(hass: HomeAssistant) -> str:
    """Set up a generic_thermostat that heats the office with a heater switch."""
    hass.config.units = METRIC_SYSTEM
    # generic_thermostat switches its heater through homeassistant.turn_on.
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"heater": None}}
    )
    hass.states.async_set(
        "sensor.office_temperature", "19.0", {"unit_of_measurement": "°C"}
    )
    assert await async_setup_component(
        hass,
        "climate",
        {
            "climate": {
                "platform": "generic_thermostat",
                "name": "Office",
                "heater": "input_boolean.heater",
                "target_sensor": "sensor.office_temperature",
                "initial_hvac_mode": "heat",
                "target_temp": 18,
                "target_temp_step": 1,
                "unique_id": "office_thermostat",
            }
        },
    )
    await hass.async_block_till_done()
    return "climate.office"


@pytest.mark.usefixtures("external_url")
async def test_generic_thermostat_follows_schedule(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    office_post: WebhookPoster,
    service_events: list[Event],
    freezer: FrozenDateTimeFactory,
    office: str,
) -> None:
    await setup_entry(hass, config_entry, [office])
    three = after(NOON, hours=3)

    body = await send_schedule(
        hass,
        office_post,
        {
            office: device_schedule(
                [
                    block(NOON, HOUR, "HEAT", targetTemp=69),
                    block(HOUR, TWO, "COOL", targetTemp=75),
                    block(TWO, three, "OFF"),
                ],
                unit="F",
            )
        },
    )

    # 69 °F is 20.6 °C; the thermostat's 1 °C step makes it 21 °C.
    assert climate_calls(service_events) == [
        ("set_temperature", {"entity_id": office, "temperature": 21.0})
    ]
    heater = hass.states.get("input_boolean.heater")
    assert heater is not None
    assert heater.state == "on"
    statuses = [answer["status"] for answer in body["devices"][office]["blocks"]]
    assert statuses == ["applied", "skipped", "scheduled"]

    await move_to(hass, freezer, HOUR)
    assert len(climate_calls(service_events)) == 1

    await move_to(hass, freezer, TWO)
    assert climate_calls(service_events)[1:] == [
        ("set_hvac_mode", {"entity_id": office, "hvac_mode": "off"})
    ]
    heater = hass.states.get("input_boolean.heater")
    assert heater is not None
    assert heater.state == "off"


@pytest.mark.usefixtures("external_url")
async def test_generic_thermostat_user_override(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    office_post: WebhookPoster,
    service_events: list[Event],
    freezer: FrozenDateTimeFactory,
    office: str,
) -> None:
    await setup_entry(hass, config_entry, [office])
    overrides = async_capture_events(hass, "wattshift_override")
    await send_schedule(
        hass,
        office_post,
        {
            office: device_schedule(
                [
                    block(NOON, HOUR, "HEAT", targetTemp=21),
                    block(HOUR, TWO, "HEAT", targetTemp=19),
                ]
            )
        },
    )
    await move_to(hass, freezer, after(NOON, minutes=15))

    # The user turns the office up from the Home Assistant UI.
    await hass.services.async_call(
        "climate",
        "set_temperature",
        {"entity_id": office, "temperature": 23},
        blocking=True,
    )
    await hass.async_block_till_done()

    assert len(overrides) == 1
    assert overrides[0].data["user"]["temperature"] == 23
    await move_to(hass, freezer, after(NOON, minutes=59))
    state = hass.states.get(office)
    assert state is not None
    assert state.attributes["temperature"] == 23
    await move_to(hass, freezer, HOUR)
    assert climate_calls(service_events)[-1] == (
        "set_temperature",
        {"entity_id": office, "temperature": 19.0},
    )
