"""Tests for the THERMOSTAT_QUERY answer."""

from __future__ import annotations

from typing import Any

from homeassistant.components.climate import HVACMode
from homeassistant.const import ATTR_FRIENDLY_NAME, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattshift.const import CONF_THERMOSTATS

from .conftest import WebhookPoster

QUERY = {"eventType": "THERMOSTAT_QUERY", "data": {}}


async def query(post_event: WebhookPoster, data: Any = None, **extra: Any) -> Any:
    """Send a THERMOSTAT_QUERY and return the answer's body."""
    status, body = await post_event(
        {"eventType": "THERMOSTAT_QUERY", "data": data, **extra}
    )
    assert status == 200, body
    return body


@pytest.mark.usefixtures("loaded_entry")
async def test_answer_lists_every_thermostat(post_event: WebhookPoster) -> None:
    body = await query(post_event, {})

    assert body["eventType"] == "THERMOSTAT_QUERY"
    assert body["handled"] is True
    assert body["tempUnits"] == "C"
    assert list(body["thermostats"]) == [
        "climate.living_room",
        "climate.bedroom",
        "climate.hall",
    ]
    assert body["unknownDevices"] == []


@pytest.mark.usefixtures("loaded_entry")
async def test_heating_thermostat_record(post_event: WebhookPoster) -> None:
    body = await query(post_event)
    record = body["thermostats"]["climate.living_room"]

    assert record["entityId"] == "climate.living_room"
    assert record["name"] == "Living room"
    assert record["deviceId"] == "ws_device_living"
    assert record["available"] is True
    assert record["tempUnits"] == "C"
    assert record["currentTemp"] == 20.5
    assert record["targetTemp"] == 21.0
    assert record["targetHeatSetpoint"] is None
    assert record["targetCoolSetpoint"] is None
    assert record["minTemp"] == 7
    assert record["maxTemp"] == 35
    assert record["targetMode"] == "HEAT"
    assert record["canHeat"] is True
    assert record["canCool"] is False
    assert record["hvacMode"] == "heat"
    assert record["hvacAction"] == "heating"
    assert record["currentHumidity"] == 44
    assert record["lastChanged"].endswith("Z")


@pytest.mark.usefixtures("loaded_entry")
async def test_cooling_thermostat_record(post_event: WebhookPoster) -> None:
    body = await query(post_event)
    record = body["thermostats"]["climate.bedroom"]

    assert record["targetMode"] == "COOL"
    assert record["targetTemp"] == 23.5
    assert record["canHeat"] is False
    assert record["canCool"] is True
    assert record["hvacAction"] == "cooling"
    assert record["currentHumidity"] is None


@pytest.mark.usefixtures("loaded_entry")
async def test_heat_cool_reports_both_setpoints(post_event: WebhookPoster) -> None:
    body = await query(post_event)
    record = body["thermostats"]["climate.hall"]

    assert record["targetMode"] == "AUTO"
    assert record["targetTemp"] is None
    assert record["targetHeatSetpoint"] == 20.0
    assert record["targetCoolSetpoint"] == 24.0
    assert record["canHeat"] is True
    assert record["canCool"] is True


@pytest.mark.usefixtures("loaded_entry")
async def test_off_thermostat_record(
    hass: HomeAssistant, post_event: WebhookPoster
) -> None:
    state = hass.states.get("climate.living_room")
    assert state is not None
    hass.states.async_set(
        "climate.living_room",
        HVACMode.OFF,
        {**state.attributes, "temperature": None, "hvac_action": "off"},
    )

    record = (await query(post_event))["thermostats"]["climate.living_room"]

    assert record["available"] is True
    assert record["targetMode"] == "OFF"
    assert record["hvacMode"] == "off"
    assert record["hvacAction"] == "off"
    assert record["targetTemp"] is None


@pytest.mark.parametrize("state", [STATE_UNAVAILABLE, STATE_UNKNOWN])
@pytest.mark.usefixtures("loaded_entry")
async def test_unavailable_thermostat_keeps_query_working(
    hass: HomeAssistant, post_event: WebhookPoster, state: str
) -> None:
    hass.states.async_set("climate.bedroom", state, {ATTR_FRIENDLY_NAME: "Bedroom"})

    body = await query(post_event)
    record = body["thermostats"]["climate.bedroom"]

    assert record == {
        "entityId": "climate.bedroom",
        "name": "Bedroom",
        "deviceId": None,
        "available": False,
        "state": state,
    }
    assert body["thermostats"]["climate.living_room"]["available"] is True


@pytest.mark.usefixtures("loaded_entry")
async def test_removed_thermostat_reported_unavailable(
    hass: HomeAssistant, post_event: WebhookPoster
) -> None:
    hass.states.async_remove("climate.bedroom")

    record = (await query(post_event))["thermostats"]["climate.bedroom"]

    assert record["available"] is False
    assert record["state"] == "not_found"
    assert record["entityId"] == "climate.bedroom"


async def test_deleted_registry_entity_reported_unavailable(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    post_event: WebhookPoster,
) -> None:
    registry = er.async_get(hass)
    entry = registry.async_get_or_create(
        "climate", "test", "den-thermostat", suggested_object_id="den"
    )
    hass.states.async_set(entry.entity_id, HVACMode.HEAT, {"temperature": 20})
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={CONF_THERMOSTATS: [entry.id]}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    registry.async_remove(entry.entity_id)
    hass.states.async_remove(entry.entity_id)
    await hass.async_block_till_done()

    record = (await query(post_event))["thermostats"][entry.id]
    assert record["available"] is False
    assert record["state"] == "not_found"
    assert record["entityId"] == "climate.den"


async def test_renamed_entity_keeps_its_record_key(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    post_event: WebhookPoster,
) -> None:
    registry = er.async_get(hass)
    entry = registry.async_get_or_create(
        "climate", "test", "den-thermostat", suggested_object_id="den"
    )
    hass.states.async_set(entry.entity_id, HVACMode.HEAT, {"temperature": 20})
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={CONF_THERMOSTATS: [entry.id]}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    registry.async_update_entity(entry.entity_id, new_entity_id="climate.study")
    hass.states.async_set("climate.study", HVACMode.HEAT, {"temperature": 19.5})
    await hass.async_block_till_done()

    body = await query(post_event)
    assert list(body["thermostats"]) == [entry.id]
    record = body["thermostats"][entry.id]
    assert record["entityId"] == "climate.study"
    assert record["targetTemp"] == 19.5
    assert (await query(post_event, {"climate.study": {}}))["unknownDevices"] == []


@pytest.mark.usefixtures("loaded_entry")
async def test_celsius_system_answers_in_fahrenheit(post_event: WebhookPoster) -> None:
    body = await query(post_event, {"tempUnits": "F"})
    record = body["thermostats"]["climate.living_room"]

    assert body["tempUnits"] == "F"
    assert record["tempUnits"] == "F"
    assert record["currentTemp"] == 68.9
    assert record["targetTemp"] == 69.8
    assert record["minTemp"] == 44.6
    assert record["maxTemp"] == 95.0
    assert body["thermostats"]["climate.hall"]["targetHeatSetpoint"] == 68.0


async def test_fahrenheit_system_answers_in_celsius(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
) -> None:
    hass.config.units = US_CUSTOMARY_SYSTEM
    hass.states.async_set(
        "climate.living_room",
        HVACMode.HEAT,
        {
            "hvac_modes": ["off", "heat"],
            "current_temperature": 68.5,
            "temperature": 72,
            "min_temp": 45,
            "max_temp": 95,
        },
    )

    default = (await query(post_event))["thermostats"]["climate.living_room"]
    celsius = (await query(post_event, {"tempUnits": "C"}))["thermostats"][
        "climate.living_room"
    ]

    assert default["tempUnits"] == "F"
    assert default["targetTemp"] == 72
    assert celsius["tempUnits"] == "C"
    assert celsius["currentTemp"] == 20.3
    assert celsius["targetTemp"] == 22.2
    assert celsius["minTemp"] == 7.2
    assert celsius["maxTemp"] == 35.0


@pytest.mark.usefixtures("loaded_entry")
async def test_unit_next_to_data_is_honoured(post_event: WebhookPoster) -> None:
    body = await query(post_event, None, tempUnits="F")

    assert body["tempUnits"] == "F"


@pytest.mark.parametrize(
    "data",
    [
        {"ws_device_living": {}, "climate.hall": None},
        {"deviceIds": ["ws_device_living", "climate.hall"]},
        {"devices": [{"deviceId": "ws_device_living"}, {"id": "climate.hall"}]},
        ["ws_device_living", "climate.hall"],
    ],
    ids=["keys", "id-list", "object-list", "bare-list"],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_requested_subset(post_event: WebhookPoster, data: Any) -> None:
    body = await query(post_event, data)

    assert list(body["thermostats"]) == ["climate.living_room", "climate.hall"]
    assert body["unknownDevices"] == []


@pytest.mark.usefixtures("loaded_entry")
async def test_unknown_ids_listed(post_event: WebhookPoster) -> None:
    body = await query(post_event, {"ws_device_living": {}, "ws_device_elsewhere": {}})

    assert list(body["thermostats"]) == ["climate.living_room"]
    assert body["unknownDevices"] == ["ws_device_elsewhere"]


@pytest.mark.usefixtures("loaded_entry")
async def test_same_thermostat_named_twice_answered_once(
    post_event: WebhookPoster,
) -> None:
    body = await query(post_event, ["ws_device_living", "climate.living_room"])

    assert list(body["thermostats"]) == ["climate.living_room"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"tempUnits": "K"}, "tempUnits"),
        ({"deviceIds": "ws_device_living"}, "deviceIds must be a list"),
        ([17], "not a device id"),
        ("everything", "data must be"),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_invalid_query_rejected(
    post_event: WebhookPoster, data: Any, reason: str
) -> None:
    status, body = await post_event({"eventType": "THERMOSTAT_QUERY", "data": data})

    assert status == 400
    assert body["error"] == "invalid_payload"
    assert reason in body["message"]


@pytest.mark.usefixtures("loaded_entry")
async def test_changed_state_changes_next_answer(
    hass: HomeAssistant, post_event: WebhookPoster
) -> None:
    first = (await query(post_event))["thermostats"]["climate.bedroom"]
    state = hass.states.get("climate.bedroom")
    assert state is not None
    hass.states.async_set(
        "climate.bedroom", HVACMode.COOL, {**state.attributes, "temperature": 22.0}
    )

    second = (await query(post_event))["thermostats"]["climate.bedroom"]
    again = (await query(post_event))["thermostats"]["climate.bedroom"]

    assert first["targetTemp"] == 23.5
    assert second["targetTemp"] == 22.0
    assert again == second


async def test_new_device_link_changes_next_answer(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    await query(post_event)

    hass.config_entries.async_update_entry(
        loaded_entry,
        options={
            **loaded_entry.options,
            "device_links": {"climate.bedroom": "ws_device_bed"},
        },
    )
    await hass.async_block_till_done()

    body = await query(post_event)
    assert body["thermostats"]["climate.bedroom"]["deviceId"] == "ws_device_bed"
    assert body["thermostats"]["climate.living_room"]["deviceId"] is None


async def test_extension_fields_follow_invalidation(
    loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    handler = loaded_entry.runtime_data.query
    plan = {"value": "first"}

    def add_plan(thermostat: Any, record: dict[str, Any]) -> None:
        record["plan"] = plan["value"]

    remove = handler.async_add_extension(add_plan)
    first = await query(post_event)
    plan["value"] = "second"
    cached = await query(post_event)
    handler.async_invalidate()
    fresh = await query(post_event)
    subset = await query(post_event, ["climate.hall"])
    remove()
    without = await query(post_event)

    assert first["thermostats"]["climate.hall"]["plan"] == "first"
    # Until its owner invalidates, the cached response is reused as it is.
    assert cached == first
    assert fresh["thermostats"]["climate.hall"]["plan"] == "second"
    assert subset["thermostats"]["climate.hall"]["plan"] == "second"
    assert "plan" not in without["thermostats"]["climate.hall"]


@pytest.mark.usefixtures("loaded_entry")
async def test_null_field_is_not_a_device(post_event: WebhookPoster) -> None:
    body = await query(post_event, {"requestId": None, "tempUnits": "F"})

    assert len(body["thermostats"]) == 3
    assert body["unknownDevices"] == []


@pytest.mark.usefixtures("loaded_entry")
async def test_too_many_devices_rejected(post_event: WebhookPoster) -> None:
    devices = [f"ws_device_{index}" for index in range(1001)]

    status, body = await post_event(
        {"eventType": "THERMOSTAT_QUERY", "data": {"deviceIds": devices}}
    )

    assert status == 400
    assert "at most 1000 devices" in body["message"]
