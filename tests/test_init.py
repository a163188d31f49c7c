"""Tests for setting up, unloading, reloading and removing the integration."""

from __future__ import annotations

from unittest.mock import AsyncMock, patch

from homeassistant.components import webhook
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattshift.const import (
    CONF_APPLY_SCHEDULES,
    CONF_BASE_URL,
    CONF_THERMOSTATS,
    DOMAIN,
)
from simulator import WattShiftSimulator

from .conftest import EXTERNAL_URL, ORG_ID, SECURITY_KEY, WEBHOOK_ID, WebhookPoster

WEBHOOK_URL = f"{EXTERNAL_URL}/api/webhook/{WEBHOOK_ID}"


def registered_url(sim: WattShiftSimulator, event_type: str) -> str | None:
    """Return the URL the simulator has registered for an event type."""
    registration = sim.registrations.get((ORG_ID, event_type))
    return registration.webhook_url if registration else None


def handler_registered(hass: HomeAssistant) -> bool:
    """Tell whether the WattShift webhook handler is registered."""
    return WEBHOOK_ID in hass.data.get(webhook.DOMAIN, {})


async def test_setup_registers_webhook(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert handler_registered(hass)
    assert registered_url(simulator, "THERMOSTAT_QUERY") == WEBHOOK_URL
    assert registered_url(simulator, "SET_POINT_SCHEDULE") == WEBHOOK_URL
    assert registered_url(simulator, "PRICE_SIGNAL") is None
    registration = simulator.registrations[(ORG_ID, "THERMOSTAT_QUERY")]
    assert registration.security_key == SECURITY_KEY
    assert all(request.valid for request in simulator.requests)
    assert [request.path for request in simulator.requests] == [
        "/v1/devices/hvac/thermostat_behavior/webhook/set",
        "/v1/devices/hvac/set_point_schedule/webhook/set",
    ]


async def test_schedules_off_registers_one_endpoint(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    simulator: WattShiftSimulator,
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={**config_entry.options, CONF_APPLY_SCHEDULES: False},
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)

    assert registered_url(simulator, "THERMOSTAT_QUERY") == WEBHOOK_URL
    assert registered_url(simulator, "SET_POINT_SCHEDULE") is None


async def test_unload_removes_handler(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()

    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert not handler_registered(hass)
    # Home Assistant answers 200 with no body for a webhook id it does not know.
    status, body = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})
    assert status == 200
    assert body is None


async def test_reload_twice_keeps_one_handler(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()

    assert loaded_entry.state is ConfigEntryState.LOADED
    assert handler_registered(hass)
    status, body = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})
    assert status == 200
    assert body["handled"] is True


@pytest.mark.parametrize("status", [500, 429])
async def test_unreachable_wattshift_retries_setup(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    simulator: WattShiftSimulator,
    status: int,
) -> None:
    simulator.fail_next(status)
    config_entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert not handler_registered(hass)

    assert await hass.config_entries.async_reload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.LOADED
    assert handler_registered(hass)


async def test_stopped_wattshift_retries_setup(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    simulator: WattShiftSimulator,
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, CONF_BASE_URL: "http://127.0.0.1:9"}
    )

    assert not await hass.config_entries.async_setup(config_entry.entry_id)

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert not handler_registered(hass)


async def test_rejected_key_fails_setup_and_starts_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    simulator: WattShiftSimulator,
) -> None:
    simulator.revoke_api_key(config_entry.data[CONF_API_KEY])
    config_entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert not handler_registered(hass)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert len([r for r in simulator.requests if r.status == 401]) == 2


async def test_one_rejection_at_setup_is_retried(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    simulator: WattShiftSimulator,
) -> None:
    simulator.fail_next(401)
    config_entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert registered_url(simulator, "THERMOSTAT_QUERY") == WEBHOOK_URL


async def test_failure_after_registration_leaves_no_handler(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    simulator: WattShiftSimulator,
) -> None:
    config_entry.add_to_hass(hass)
    with patch.object(
        hass.config_entries,
        "async_forward_entry_setups",
        AsyncMock(side_effect=RuntimeError("platform failed")),
    ):
        assert not await hass.config_entries.async_setup(config_entry.entry_id)

    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert not handler_registered(hass)

    assert await hass.config_entries.async_reload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.LOADED
    assert handler_registered(hass)


async def test_options_apply_without_reload(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    simulator: WattShiftSimulator,
) -> None:
    runtime = loaded_entry.runtime_data

    hass.config_entries.async_update_entry(
        loaded_entry,
        options={
            **loaded_entry.options,
            CONF_THERMOSTATS: ["climate.hall"],
            CONF_APPLY_SCHEDULES: True,
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert loaded_entry.runtime_data is runtime
    _, body = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})
    assert list(body["thermostats"]) == ["climate.hall"]
    # Nothing about the registration changed, so nothing was sent again.
    assert len(simulator.requests) == 2


async def test_new_credentials_register_again_without_reload(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
) -> None:
    runtime = loaded_entry.runtime_data
    simulator.add_api_key("rotated-api-key", ORG_ID)
    simulator.revoke_api_key(loaded_entry.data[CONF_API_KEY])

    hass.config_entries.async_update_entry(
        loaded_entry, data={**loaded_entry.data, CONF_API_KEY: "rotated-api-key"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert loaded_entry.runtime_data is runtime
    assert runtime.credentials[0] == "rotated-api-key"
    assert len(simulator.requests) == 4
    assert all(request.status == 200 for request in simulator.requests)


async def test_remove_entry_deletes_cloudhook(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    hass.config.components.add("cloud")
    with patch(
        "homeassistant.components.cloud.async_delete_cloudhook"
    ) as delete_cloudhook:
        assert await hass.config_entries.async_remove(loaded_entry.entry_id)

    delete_cloudhook.assert_awaited_once_with(hass, WEBHOOK_ID)
    assert not handler_registered(hass)


@pytest.mark.parametrize("error", [ValueError("no hook"), None])
async def test_remove_entry_never_raises(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, error: Exception | None
) -> None:
    from homeassistant.components import cloud  # noqa: PLC0415

    hass.config.components.add("cloud")
    with patch(
        "homeassistant.components.cloud.async_delete_cloudhook",
        side_effect=error or cloud.CloudNotAvailable(),
    ):
        assert await hass.config_entries.async_remove(loaded_entry.entry_id)

    assert hass.config_entries.async_get_entry(loaded_entry.entry_id) is None


async def test_remove_entry_without_cloud(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with patch(
        "homeassistant.components.cloud.async_delete_cloudhook"
    ) as delete_cloudhook:
        assert await hass.config_entries.async_remove(loaded_entry.entry_id)

    delete_cloudhook.assert_not_called()


async def test_cloud_functions_unused_without_cloud(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with patch(
        "homeassistant.components.cloud.async_active_subscription"
    ) as subscription:
        await loaded_entry.runtime_data.webhook.async_register_now()
        assert await hass.config_entries.async_remove(loaded_entry.entry_id)

    subscription.assert_not_called()


@pytest.mark.parametrize(
    ("base_url", "warned"),
    [("http://wattshift.example.com", True), ("https://wattshift.example.com", False)],
)
async def test_plain_http_api_warned(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    caplog: pytest.LogCaptureFixture,
    base_url: str,
    warned: bool,
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, CONF_BASE_URL: base_url}
    )

    # No external URL: setup registers nothing, so no request leaves.
    assert await hass.config_entries.async_setup(config_entry.entry_id)

    assert ("API base URL uses plain http" in caplog.text) is warned
    assert simulator.requests == []
