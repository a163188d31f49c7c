"""Fixtures for the WattShift tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from unittest.mock import patch

from aiohttp import web
from aiohttp.test_utils import TestClient
from homeassistant.components.climate import (
    ATTR_CURRENT_TEMPERATURE,
    ATTR_HVAC_ACTION,
    ATTR_HVAC_MODES,
    ATTR_MAX_TEMP,
    ATTR_MIN_TEMP,
    ATTR_TARGET_TEMP_HIGH,
    ATTR_TARGET_TEMP_LOW,
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.const import (
    ATTR_FRIENDLY_NAME,
    ATTR_SUPPORTED_FEATURES,
    ATTR_TEMPERATURE,
    CONF_API_KEY,
    CONF_WEBHOOK_ID,
)
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Import the integration before the first hass fixture runs, so that Home
# Assistant's loader finds this repository's custom_components package and not
# the empty one inside the test harness's configuration directory.
import custom_components.wattshift  # noqa: F401
from custom_components.wattshift.const import (
    CONF_BASE_URL,
    CONF_DEVICE_LINKS,
    CONF_PRICE_SIGNALS,
    CONF_SECURITY_KEY,
    CONF_THERMOSTATS,
    DOMAIN,
)
from simulator import WattShiftSimulator

API_KEY = "test-api-key"
ORG_ID = "org_simulated"
OTHER_API_KEY = "other-api-key"
OTHER_ORG_ID = "org_other"
WEBHOOK_ID = "0123456789abcdef" * 4
SECURITY_KEY = "s3cret-security-key-with-32-bytes-of-entropy"
EXTERNAL_URL = "https://home.example.com"

type WebhookPoster = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture(autouse=True)
def fast_auth_retry() -> Any:
    """Shorten the wait before a rejected API key is tried a second time."""
    with patch("custom_components.wattshift.webhook.AUTH_RETRY_DELAY", 0):
        yield


@pytest.fixture(autouse=True)
def immediate_schedule_writes() -> Any:
    """Start the writes a schedule delivery causes at the next loop iteration.

    In production they wait half a second so that they do not slow down the
    acknowledgement; tests wait for them with async_block_till_done.
    """
    with patch("custom_components.wattshift.engine.REFRESH_DELAY", 0):
        yield


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[WattShiftSimulator]:
    """Run the WattShift simulator on 127.0.0.1."""
    sim = WattShiftSimulator(api_keys={API_KEY: ORG_ID, OTHER_API_KEY: OTHER_ORG_ID})
    await sim.start(host="127.0.0.1", port=0)
    yield sim
    await sim.stop()


@pytest.fixture
async def external_url(hass: HomeAssistant) -> str:
    """Give Home Assistant an external URL WattShift could call."""
    await async_process_ha_core_config(hass, {"external_url": EXTERNAL_URL})
    return EXTERNAL_URL


@pytest.fixture
def thermostat_states(hass: HomeAssistant) -> None:
    """Create climate states like real thermostats report them."""
    hass.states.async_set(
        "climate.living_room",
        HVACMode.HEAT,
        {
            ATTR_FRIENDLY_NAME: "Living room",
            ATTR_HVAC_MODES: [HVACMode.OFF, HVACMode.HEAT],
            ATTR_CURRENT_TEMPERATURE: 20.5,
            ATTR_TEMPERATURE: 21.0,
            ATTR_MIN_TEMP: 7,
            ATTR_MAX_TEMP: 35,
            ATTR_HVAC_ACTION: HVACAction.HEATING,
            "current_humidity": 44,
            ATTR_SUPPORTED_FEATURES: ClimateEntityFeature.TARGET_TEMPERATURE,
        },
    )
    hass.states.async_set(
        "climate.bedroom",
        HVACMode.COOL,
        {
            ATTR_FRIENDLY_NAME: "Bedroom",
            ATTR_HVAC_MODES: [HVACMode.OFF, HVACMode.COOL],
            ATTR_CURRENT_TEMPERATURE: 25.0,
            ATTR_TEMPERATURE: 23.5,
            ATTR_MIN_TEMP: 16,
            ATTR_MAX_TEMP: 30,
            ATTR_HVAC_ACTION: HVACAction.COOLING,
            ATTR_SUPPORTED_FEATURES: ClimateEntityFeature.TARGET_TEMPERATURE,
        },
    )
    hass.states.async_set(
        "climate.hall",
        HVACMode.HEAT_COOL,
        {
            ATTR_FRIENDLY_NAME: "Hall",
            ATTR_HVAC_MODES: [HVACMode.OFF, HVACMode.HEAT_COOL, HVACMode.HEAT],
            ATTR_CURRENT_TEMPERATURE: 22.0,
            ATTR_TEMPERATURE: None,
            ATTR_TARGET_TEMP_LOW: 20.0,
            ATTR_TARGET_TEMP_HIGH: 24.0,
            ATTR_MIN_TEMP: 7,
            ATTR_MAX_TEMP: 35,
            ATTR_HVAC_ACTION: HVACAction.IDLE,
            ATTR_SUPPORTED_FEATURES: ClimateEntityFeature.TARGET_TEMPERATURE
            | ClimateEntityFeature.TARGET_TEMPERATURE_RANGE,
        },
    )


@pytest.fixture
def config_entry(simulator: WattShiftSimulator) -> MockConfigEntry:
    """Return a WattShift entry that talks to the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="WattShift",
        unique_id=ORG_ID,
        data={
            CONF_API_KEY: API_KEY,
            CONF_BASE_URL: simulator.base_url,
            CONF_WEBHOOK_ID: WEBHOOK_ID,
            CONF_SECURITY_KEY: SECURITY_KEY,
        },
        options={
            CONF_THERMOSTATS: [
                "climate.living_room",
                "climate.bedroom",
                "climate.hall",
            ],
            CONF_DEVICE_LINKS: {"climate.living_room": "ws_device_living"},
        },
    )


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    thermostat_states: None,
) -> MockConfigEntry:
    """Set up the entry with an external URL and three thermostats."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


@pytest.fixture
async def webhook_client(
    hass: HomeAssistant, hass_client_no_auth: Callable[[], Awaitable[TestClient]]
) -> TestClient:
    """Return an HTTP client for Home Assistant that sends no credentials."""
    # Components that add HTTP views must be set up before the first client
    # freezes Home Assistant's router.
    for component in ("webhook", "repairs", "diagnostics", "calendar"):
        assert await async_setup_component(hass, component, {})
    return await hass_client_no_auth()


@pytest.fixture
def post_event(webhook_client: TestClient) -> WebhookPoster:
    """Return a function that POSTs an event to the WattShift webhook."""

    async def post(
        body: Any,
        *,
        security_key: str | None = SECURITY_KEY,
        raw: bytes | None = None,
        webhook_id: str = WEBHOOK_ID,
    ) -> tuple[int, Any]:
        headers = {}
        if security_key is not None:
            headers["x-ws-security-key"] = security_key
        if raw is not None:
            response = await webhook_client.post(
                f"/api/webhook/{webhook_id}", data=raw, headers=headers
            )
        else:
            response = await webhook_client.post(
                f"/api/webhook/{webhook_id}", json=body, headers=headers
            )
        text = await response.text()
        try:
            payload = await response.json(content_type=None)
        except ValueError:
            payload = text
        return response.status, payload

    return post


@pytest.fixture
async def price_entry(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    thermostat_states: None,
) -> MockConfigEntry:
    """Set up the entry with price signals turned on."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_PRICE_SIGNALS: True}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


type Responder = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def misbehaving_wattshift(
    socket_enabled: None,
) -> AsyncIterator[Callable[[Responder], Awaitable[str]]]:
    """Start stand-ins for WattShift on 127.0.0.1 that answer with a responder.

    The simulator always answers like WattShift documents; these servers
    answer the way a proxy, an outage or a future WattShift might.
    """
    runners: list[web.AppRunner] = []

    async def start(responder: Responder) -> str:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", responder)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()
