"""Tests for the register_webhook and rotate_security_key actions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattshift.const import CONF_SECURITY_KEY, DOMAIN
from simulator import WattShiftSimulator

from .conftest import ORG_ID, SECURITY_KEY, WebhookPoster

SCHEDULE_PATH = "/v1/devices/hvac/set_point_schedule/webhook/set"
QUERY = {"eventType": "THERMOSTAT_QUERY", "data": {}}


async def call(hass: HomeAssistant, service: str, entry_id: str) -> None:
    """Call one of the integration's actions and wait for it."""
    await hass.services.async_call(
        DOMAIN, service, {"config_entry_id": entry_id}, blocking=True
    )


def origin(client: TestClient) -> str:
    """Return the scheme, host and port Home Assistant listens on in tests."""
    return str(client.make_url("/")).rstrip("/")


async def test_register_webhook_sends_everything_again(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    requests_before = len(simulator.requests)

    await call(hass, "register_webhook", loaded_entry.entry_id)

    assert len(simulator.requests) == requests_before + 2


async def test_register_webhook_failure_is_translated(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    simulator.fail_next(500)

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "register_webhook", loaded_entry.entry_id)

    assert raised.value.translation_key == "registration_failed"
    assert "HTTP 500" in raised.value.translation_placeholders["error"]
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_register_webhook_without_url(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await hass.config.async_update(external_url=None)
    await hass.async_block_till_done(wait_background_tasks=True)

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "register_webhook", loaded_entry.entry_id)

    assert raised.value.translation_key == "no_url"


async def test_unknown_entry_rejected(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "register_webhook", "no-such-entry")

    assert raised.value.translation_key == "entry_not_found"


async def test_unloaded_entry_rejected(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)

    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "rotate_security_key", loaded_entry.entry_id)

    assert raised.value.translation_key == "entry_not_loaded"


async def test_rotation_loses_no_delivery(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    webhook_client: TestClient,
) -> None:
    simulator.set_delay(0.2)
    rotation = hass.async_create_task(
        call(hass, "rotate_security_key", loaded_entry.entry_id)
    )

    statuses: list[int] = []
    keys_used: set[str] = set()
    while not rotation.done():
        keys_used.add(
            simulator.registrations[(ORG_ID, "THERMOSTAT_QUERY")].security_key
        )
        result = await simulator.deliver(
            "THERMOSTAT_QUERY", {}, origin=origin(webhook_client)
        )
        statuses.append(result.status)
        await asyncio.sleep(0.02)
    await rotation

    new_key = loaded_entry.data[CONF_SECURITY_KEY]
    assert new_key != SECURITY_KEY
    assert statuses
    assert set(statuses) == {200}
    assert keys_used <= {SECURITY_KEY, new_key}
    for event_type in ("THERMOSTAT_QUERY", "SET_POINT_SCHEDULE"):
        assert simulator.registrations[(ORG_ID, event_type)].security_key == new_key
    result = await simulator.deliver(
        "THERMOSTAT_QUERY", {}, origin=origin(webhook_client)
    )
    assert result.status == 200


async def test_old_key_expires_after_rotation(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    await call(hass, "rotate_security_key", loaded_entry.entry_id)
    new_key = loaded_entry.data[CONF_SECURITY_KEY]

    assert (await post_event(QUERY, security_key=SECURITY_KEY))[0] == 200
    assert (await post_event(QUERY, security_key=new_key))[0] == 200

    freezer.tick(timedelta(minutes=11))

    assert (await post_event(QUERY, security_key=SECURITY_KEY))[0] == 401
    assert (await post_event(QUERY, security_key=new_key))[0] == 200


async def test_failed_rotation_keeps_old_key(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    post_event: WebhookPoster,
) -> None:
    simulator.fail_next(500, path=SCHEDULE_PATH)

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "rotate_security_key", loaded_entry.entry_id)
    switched_key = simulator.registrations[(ORG_ID, "THERMOSTAT_QUERY")].security_key
    # WattShift already uses the new key on the endpoint that switched.
    assert switched_key != SECURITY_KEY
    assert (await post_event(QUERY, security_key=switched_key))[0] == 200

    await hass.async_block_till_done(wait_background_tasks=True)

    assert raised.value.translation_key == "rotation_failed"
    assert loaded_entry.data[CONF_SECURITY_KEY] == SECURITY_KEY
    # The endpoint that switched got the old key back.
    for event_type in ("THERMOSTAT_QUERY", "SET_POINT_SCHEDULE"):
        assert (
            simulator.registrations[(ORG_ID, event_type)].security_key == SECURITY_KEY
        )
    assert (await post_event(QUERY, security_key=SECURITY_KEY))[0] == 200
