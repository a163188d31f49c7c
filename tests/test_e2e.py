"""End to end: a real hass process, real HTTP on 127.0.0.1 and the simulator.

Each test starts the stack that scripts/demo runs: the WattShift simulator, a
hass process with three generic thermostats, the owner account made through
onboarding and the WattShift entry added through the config flow HTTP API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientSession, ClientTimeout
import pytest

from scripts.demo_stack.stack import DEMO_THERMOSTATS, DemoStack
from simulator import EventType

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

# Seconds a thermostat may take to react to a changed temperature.
STATE_TIMEOUT = 10

# WattShift's mode for each Home Assistant hvac mode the thermostats use.
EXPECTED_MODES = {"heat": "HEAT", "cool": "COOL", "off": "OFF"}
WATTSHIFT_FIELDS = {
    "entityId",
    "name",
    "available",
    "tempUnits",
    "currentTemp",
    "targetTemp",
    "minTemp",
    "maxTemp",
    "targetMode",
    "canHeat",
    "canCool",
    "hvacMode",
    "hvacAction",
}


@pytest.fixture
async def stack(socket_enabled: None) -> AsyncIterator[DemoStack]:
    """Start the simulator, hass and the WattShift entry; stop them afterwards."""
    async with DemoStack(startup_timeout=120) as running:
        yield running


async def states_by_id(stack: DemoStack) -> dict[str, dict[str, Any]]:
    """Return Home Assistant's entity states keyed by entity id."""
    return {state["entity_id"]: state for state in await stack.client.states()}


async def thermostat_states(stack: DemoStack) -> dict[str, dict[str, Any]]:
    """Return the states of the thermostats and of the helpers that drive them."""
    return {
        entity_id: state
        for entity_id, state in (await states_by_id(stack)).items()
        if entity_id.split(".")[0] in ("climate", "input_boolean", "input_number")
    }


async def wait_for_hvac_action(stack: DemoStack, entity_id: str, action: str) -> None:
    """Wait until a climate entity reports the hvac action."""
    async with asyncio.timeout(STATE_TIMEOUT):
        while True:
            state = (await states_by_id(stack))[entity_id]
            if state["attributes"].get("hvac_action") == action:
                return
            await asyncio.sleep(0.1)


def records_by_entity(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the answer's thermostat records keyed by entity id."""
    return {record["entityId"]: record for record in body["thermostats"].values()}


async def test_config_flow_registers_webhook(stack: DemoStack) -> None:
    entries = await stack.client.config_entries("wattshift")
    registration = stack.registration

    assert [entry["state"] for entry in entries] == ["loaded"]
    assert entries[0]["entry_id"] == stack.entry["entry_id"]
    assert entries[0]["title"] == "WattShift"
    assert registration.webhook_url.startswith(f"{stack.client.base_url}/api/webhook/")
    assert len(registration.security_key) >= 32


async def test_query_describes_every_thermostat(stack: DemoStack) -> None:
    result = await stack.deliver(EventType.THERMOSTAT_QUERY, {})
    states = await states_by_id(stack)

    assert result.status == 200
    body = result.body
    assert body["eventType"] == "THERMOSTAT_QUERY"
    assert body["handled"] is True
    assert body["tempUnits"] == "C"
    assert body["unknownDevices"] == []
    records = records_by_entity(body)
    assert len(records) >= 3
    assert set(DEMO_THERMOSTATS) <= set(records)
    for entity_id in DEMO_THERMOSTATS:
        record = records[entity_id]
        state = states[entity_id]
        attributes = state["attributes"]
        assert set(record) >= WATTSHIFT_FIELDS, entity_id
        assert record["available"] is True, entity_id
        assert record["name"] == attributes["friendly_name"], entity_id
        assert record["tempUnits"] == "C", entity_id
        assert record["currentTemp"] == attributes["current_temperature"], entity_id
        assert record["targetTemp"] == attributes["temperature"], entity_id
        assert record["minTemp"] == attributes["min_temp"], entity_id
        assert record["maxTemp"] == attributes["max_temp"], entity_id
        assert record["hvacMode"] == state["state"], entity_id
        assert record["targetMode"] == EXPECTED_MODES[state["state"]], entity_id
        assert record["canHeat"] is ("heat" in attributes["hvac_modes"]), entity_id
        assert record["canCool"] is ("cool" in attributes["hvac_modes"]), entity_id
    # The configuration has heating-only and cooling-only thermostats.
    assert records["climate.living_room"]["canHeat"] is True
    assert records["climate.office"]["canCool"] is True
    assert records["climate.office"]["canHeat"] is False


async def test_query_follows_live_temperature(stack: DemoStack) -> None:
    await stack.client.request(
        "POST",
        "/api/services/input_number/set_value",
        {"entity_id": "input_number.office_temperature", "value": 28.3},
    )
    # The office thermostat cools towards 24 °C, so 28.3 °C switches it on.
    await wait_for_hvac_action(stack, "climate.office", "cooling")

    result = await stack.deliver(EventType.THERMOSTAT_QUERY, {})

    assert result.status == 200
    office = records_by_entity(result.body)["climate.office"]
    assert office["currentTemp"] == 28.3
    assert office["hvacAction"] == "cooling"


async def test_query_reports_unknown_device(stack: DemoStack) -> None:
    result = await stack.deliver(
        EventType.THERMOSTAT_QUERY,
        {"deviceIds": ["ws_device_not_linked", "climate.living_room"]},
    )

    assert result.status == 200
    body = result.body
    assert body["unknownDevices"] == ["ws_device_not_linked"]
    assert list(records_by_entity(body)) == ["climate.living_room"]


async def test_wrong_security_key_rejected(stack: DemoStack) -> None:
    registration = stack.registration
    registered = (registration.webhook_url, registration.security_key)
    states_before = await thermostat_states(stack)

    wrong_key = await stack.deliver(
        EventType.THERMOSTAT_QUERY, {}, security_key="not-the-security-key"
    )
    no_key = await stack.deliver(EventType.THERMOSTAT_QUERY, {}, omit_security_key=True)
    async with (
        ClientSession(timeout=ClientTimeout(total=30)) as session,
        session.post(
            registration.webhook_url,
            json={
                "eventType": "SET_POINT_SCHEDULE",
                "data": {"climate.living_room": {"setPoint": 30}},
            },
            headers={"x-ws-security-key": "not-the-security-key"},
        ) as schedule,
    ):
        schedule_status = schedule.status
        schedule_body = await schedule.json()

    for rejected in (wrong_key.status, no_key.status, schedule_status):
        assert rejected == 401
    for body in (wrong_key.body, no_key.body, schedule_body):
        assert body["error"] == "unauthorized"
        assert "thermostats" not in body
    assert await thermostat_states(stack) == states_before
    assert (registration.webhook_url, registration.security_key) == registered
    entries = await stack.client.config_entries("wattshift")
    assert [entry["state"] for entry in entries] == ["loaded"]
    accepted = await stack.deliver(EventType.THERMOSTAT_QUERY, {})
    assert accepted.status == 200
