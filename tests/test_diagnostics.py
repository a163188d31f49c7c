"""Tests for the diagnostics download."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
import json

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from simulator import WattShiftSimulator

from .conftest import API_KEY, EXTERNAL_URL, SECURITY_KEY, WEBHOOK_ID, WebhookPoster
from .prices import HOME, data_items, home_body
from .schedules import block, device_schedule, send_schedule


async def test_diagnostics_contain_no_secret(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    post_event: WebhookPoster,
    hass_client: Callable[[], Awaitable[TestClient]],
) -> None:
    await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})
    loaded_entry.runtime_data.receiver.keys.promote(
        "rotated-key-value", timedelta(minutes=5)
    )

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, loaded_entry
    )
    text = json.dumps(diagnostics)

    for secret in (API_KEY, SECURITY_KEY, WEBHOOK_ID, "rotated-key-value"):
        assert secret not in text
    for url in (simulator.base_url, EXTERNAL_URL, "127.0.0.1"):
        assert url not in text


async def test_diagnostics_describe_the_entry(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    hass_client: Callable[[], Awaitable[TestClient]],
) -> None:
    await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})
    await post_event({"eventType": "UNKNOWN"})

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, loaded_entry
    )

    assert diagnostics["entry"]["data"] == {
        "api_key": "**REDACTED**",
        "base_url": "**REDACTED**",
        "webhook_id": "**REDACTED**",
        "security_key": "**REDACTED**",
    }
    assert diagnostics["entry"]["options"]["thermostats"] == [
        "climate.living_room",
        "climate.bedroom",
        "climate.hall",
    ]
    webhook = diagnostics["webhook"]
    assert webhook["status"] == "registered"
    assert webhook["url_kind"] == "external"
    assert webhook["registered_endpoints"] == [
        "set_point_schedule",
        "thermostat_behavior",
    ]
    assert webhook["last_error"] is None
    registration = webhook["registrations"]["thermostat_behavior"]
    assert registration["webhook_url"] == "**REDACTED**"
    assert registration["event_type"] == "THERMOSTAT_QUERY"
    assert registration["api_owner_org_id"] == "org_simulated"
    assert diagnostics["deliveries"]["counts"] == {"THERMOSTAT_QUERY": 1, "UNKNOWN": 1}
    living_room = diagnostics["thermostats"][0]
    assert living_room["ref"] == "climate.living_room"
    assert living_room["entity_id"] == "climate.living_room"
    assert living_room["wattshift_device_id"] == "ws_device_living"
    assert living_room["state"] == "heat"
    assert living_room["schedule"] == {
        "enabled": True,
        "following": True,
        "stored_blocks": 0,
        "block": None,
        "source": None,
        "override_until": None,
        "last_error": None,
    }


async def test_diagnostics_summarise_price_homes(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    hass_client: Callable[[], Awaitable[TestClient]],
) -> None:
    now = dt_util.utcnow()
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    status, _ = await post_event(
        {
            "eventType": "PRICE_SIGNAL",
            "data": home_body(HOME, data_items(start, [0.1, 0.3, 0.2, 0.4])),
        }
    )
    assert status == 200

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, price_entry)

    home = diagnostics["price_homes"][HOME]
    assert home["available"] is True
    assert home["current_price"] == 0.1
    assert home["upcoming_intervals"] == 4
    assert home["threshold_is_default"] is True


async def test_diagnostics_show_schedule_in_force(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    hass_client: Callable[[], Awaitable[TestClient]],
) -> None:
    now = dt_util.utcnow()
    await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [
                    block(
                        now - timedelta(minutes=5),
                        now + timedelta(hours=1),
                        "HEAT",
                        targetTemp=19,
                    )
                ]
            )
        },
    )

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, loaded_entry
    )

    schedule = diagnostics["thermostats"][0]["schedule"]
    assert schedule["stored_blocks"] == 1
    assert schedule["block"]["mode"] == "HEAT"
    assert schedule["block"]["temperature"] == 19.0
