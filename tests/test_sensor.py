"""Tests for the status entities of the WattShift account."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wattshift.const import DOMAIN

from .conftest import ORG_ID, WebhookPoster

QUERY = {"eventType": "THERMOSTAT_QUERY", "data": {}}


async def test_entities_belong_to_account_device(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, ORG_ID)})
    assert device is not None
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.manufacturer == "WattShift"

    entities = er.async_entries_for_device(
        er.async_get(hass), device.id, include_disabled_entities=True
    )
    by_key = {
        entity.unique_id.removeprefix(f"{ORG_ID}_"): entity for entity in entities
    }
    assert set(by_key) == {
        "webhook_status",
        "last_message",
        "thermostat_queries",
        "schedules_received",
        "price_signals_received",
        "other_events",
        "connectivity",
    }
    assert all(e.entity_category is EntityCategory.DIAGNOSTIC for e in entities)
    disabled = {key for key, entity in by_key.items() if entity.disabled_by}
    assert disabled == {
        "thermostat_queries",
        "schedules_received",
        "price_signals_received",
        "other_events",
    }


async def test_status_entities_after_setup(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    status = hass.states.get("sensor.wattshift_webhook_status")
    assert status is not None
    assert status.state == "registered"
    assert status.attributes["url_kind"] == "external"
    assert status.attributes["registered_endpoints"] == [
        "set_point_schedule",
        "thermostat_behavior",
    ]
    assert all("http" not in str(value) for value in status.attributes.values())
    connectivity = hass.states.get("binary_sensor.wattshift_connection")
    assert connectivity is not None
    assert connectivity.state == STATE_ON
    last_message = hass.states.get("sensor.wattshift_last_message")
    assert last_message is not None
    assert last_message.state == "unknown"


async def test_delivery_sensors_coalesce_bursts(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    registry = er.async_get(hass)
    registry.async_update_entity(
        "sensor.wattshift_thermostat_queries_received", disabled_by=None
    )
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()

    await post_event(QUERY)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.wattshift_thermostat_queries_received").state == "1"

    for _ in range(5):
        await post_event(QUERY)
    await hass.async_block_till_done()
    # The burst inside the cooldown is written once, when the cooldown ends.
    assert hass.states.get("sensor.wattshift_thermostat_queries_received").state == "1"

    freezer.tick(timedelta(seconds=1.1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.wattshift_thermostat_queries_received").state == "6"
    last = hass.states.get("sensor.wattshift_last_message")
    assert last is not None
    assert last.state != "unknown"


@pytest.mark.parametrize("event_type", ["UNKNOWN", "SOMETHING_NEW"])
async def test_other_events_counted(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    event_type: str,
) -> None:
    er.async_get(hass).async_update_entity(
        "sensor.wattshift_other_events_received", disabled_by=None
    )
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()

    await post_event({"eventType": event_type})
    await post_event(QUERY)
    await hass.async_block_till_done()

    assert hass.states.get("sensor.wattshift_other_events_received").state == "1"
