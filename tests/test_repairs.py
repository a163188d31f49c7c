"""Tests for the unknown-device repair issue and its fix flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp.test_utils import TestClient
from homeassistant.components.climate import HVACMode
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattshift.const import (
    CONF_DEVICE_LINKS,
    CONF_THERMOSTATS,
    DOMAIN,
)

from .conftest import WebhookPoster

DEVICE_ID = "ws_device_attic"


async def report_unknown_device(post_event: WebhookPoster) -> None:
    """Have WattShift ask about a device no thermostat is linked to."""
    status, body = await post_event(
        {"eventType": "THERMOSTAT_QUERY", "data": {DEVICE_ID: {}, "climate.other": {}}}
    )
    assert status == 200
    assert body["unknownDevices"] == [DEVICE_ID, "climate.other"]


async def test_unknown_device_raises_issue(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    await report_unknown_device(post_event)

    issues = [key for key in ir.async_get(hass).issues if key[0] == DOMAIN]
    assert issues == [(DOMAIN, f"unknown_device_{loaded_entry.entry_id}_{DEVICE_ID}")]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issues[0][1])
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {
        "device_id": DEVICE_ID,
        "title": "WattShift",
    }


async def test_fix_flow_links_new_thermostat(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    hass_client: Callable[[], Awaitable[TestClient]],
) -> None:
    hass.states.async_set("climate.attic", HVACMode.HEAT, {"temperature": 18})
    await report_unknown_device(post_event)
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    issue_id = f"unknown_device_{loaded_entry.entry_id}_{DEVICE_ID}"

    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == HTTPStatus.OK
    flow = await response.json()
    assert flow["step_id"] == "link"
    assert flow["description_placeholders"] == {"device_id": DEVICE_ID}

    response = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}",
        json={"entity_id": "climate.attic"},
    )
    assert response.status == HTTPStatus.OK
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done(wait_background_tasks=True)

    assert "climate.attic" in loaded_entry.options[CONF_THERMOSTATS]
    assert loaded_entry.options[CONF_DEVICE_LINKS]["climate.attic"] == DEVICE_ID
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    status, body = await post_event(
        {"eventType": "THERMOSTAT_QUERY", "data": {DEVICE_ID: {}}}
    )
    assert status == 200
    assert list(body["thermostats"]) == ["climate.attic"]
    assert body["thermostats"]["climate.attic"]["deviceId"] == DEVICE_ID


async def test_fix_flow_moves_existing_link(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    hass_client: Callable[[], Awaitable[TestClient]],
) -> None:
    await report_unknown_device(post_event)
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    issue_id = f"unknown_device_{loaded_entry.entry_id}_{DEVICE_ID}"
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow = await response.json()

    await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}",
        json={"entity_id": "climate.living_room"},
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    # The thermostat had another WattShift id; the new link replaces it.
    assert loaded_entry.options[CONF_DEVICE_LINKS] == {"climate.living_room": DEVICE_ID}
    assert loaded_entry.options[CONF_THERMOSTATS].count("climate.living_room") == 1


async def test_fix_flow_for_removed_entry_aborts(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
) -> None:
    from custom_components.wattshift.repairs import async_create_fix_flow  # noqa: PLC0415

    flow = await async_create_fix_flow(
        hass, "unknown_device_x", {"entry_id": "gone", "device_id": DEVICE_ID}
    )
    flow.hass = hass

    result = await flow.async_step_init()

    assert result["type"] == "abort"
    assert result["reason"] == "entry_removed"


async def test_entry_removal_deletes_its_issues(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    await report_unknown_device(post_event)

    assert await hass.config_entries.async_remove(loaded_entry.entry_id)

    assert not [key for key in ir.async_get(hass).issues if key[0] == DOMAIN]


async def test_unknown_device_issues_capped(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    devices = [f"ws_device_{index}" for index in range(25)]
    devices += ["ws_device_[link](http://example.com)", "ws_device_"]

    status, body = await post_event(
        {"eventType": "THERMOSTAT_QUERY", "data": {"deviceIds": devices}}
    )

    assert status == 200
    assert len(body["unknownDevices"]) == 27
    issues = [key for key in ir.async_get(hass).issues if key[0] == DOMAIN]
    assert len(issues) == 20
    assert all("[" not in issue_id for _, issue_id in issues)
