"""Tests for keeping WattShift's webhook registration true at runtime."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
import logging
from typing import Any
from unittest.mock import patch

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import cloud, webhook
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
from homeassistant.util.aiohttp import MockRequest
from homeassistant.util.json import json_loads
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wattshift.api import WattShiftClient
from custom_components.wattshift.const import CONF_PRICE_SIGNALS, DOMAIN
from custom_components.wattshift.webhook import WebhookStatus
from simulator import WattShiftSimulator

from .conftest import (
    API_KEY,
    EXTERNAL_URL,
    ORG_ID,
    SECURITY_KEY,
    WEBHOOK_ID,
    WebhookPoster,
)

CLOUDHOOK_URL = "https://hooks.nabu.casa/wattshift-cloudhook"
STATUS_ENTITY = "sensor.wattshift_webhook_status"
CONNECTIVITY_ENTITY = "binary_sensor.wattshift_connection"
QUERY = {"eventType": "THERMOSTAT_QUERY", "data": {}}


class FakeCloud:
    """Stand-in for Home Assistant Cloud, which cannot run in tests."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start subscribed but disconnected."""
        self.hass = hass
        self.subscribed = True
        self.connected = False
        self.hooks: dict[str, str] = {}

    async def get_or_create_cloudhook(
        self, _hass: HomeAssistant, webhook_id: str
    ) -> str:
        """Return the cloudhook URL, as the cloud does while connected."""
        if not self.connected:
            raise cloud.CloudNotConnected
        return self.hooks.setdefault(webhook_id, CLOUDHOOK_URL)

    async def set_connected(self, connected: bool) -> None:
        """Change the connection and tell listeners, as the cloud does."""
        self.connected = connected
        async_dispatcher_send(
            self.hass,
            cloud.SIGNAL_CLOUD_CONNECTION_STATE,
            cloud.CloudConnectionState.CLOUD_CONNECTED
            if connected
            else cloud.CloudConnectionState.CLOUD_DISCONNECTED,
        )
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def deliver(
        self, body: dict[str, Any], key: str = SECURITY_KEY
    ) -> tuple[int, Any]:
        """Deliver a request the way a cloudhook does: as a MockRequest."""
        request = MockRequest(
            content=json_dumps(body).encode(),
            mock_source="cloud",
            method="POST",
            headers={"x-ws-security-key": key, "Content-Type": "application/json"},
        )
        response = await webhook.async_handle_webhook(self.hass, WEBHOOK_ID, request)
        return response.status, json_loads(response.body)


def json_dumps(value: Any) -> str:
    """Serialise a request body."""
    import json  # noqa: PLC0415

    return json.dumps(value)


@pytest.fixture
def fake_cloud(hass: HomeAssistant) -> Iterator[FakeCloud]:
    """Patch Home Assistant Cloud's functions with a controllable fake."""
    fake = FakeCloud(hass)
    hass.config.components.add("cloud")
    with (
        patch.object(cloud, "async_active_subscription", lambda _hass: fake.subscribed),
        patch.object(cloud, "async_is_connected", lambda _hass: fake.connected),
        patch.object(
            cloud, "async_get_or_create_cloudhook", fake.get_or_create_cloudhook
        ),
    ):
        yield fake


def registered_url(
    sim: WattShiftSimulator, event_type: str = "THERMOSTAT_QUERY"
) -> str | None:
    """Return the URL the simulator has for an event type."""
    registration = sim.registrations.get((ORG_ID, event_type))
    return registration.webhook_url if registration else None


def warnings(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """Count the warnings that contain text."""
    return len(
        [
            record
            for record in caplog.records
            if record.levelno >= logging.WARNING and text in record.getMessage()
        ]
    )


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state, failing clearly if it does not exist."""
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return state.state


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def settle(hass: HomeAssistant) -> None:
    """Let background registrations finish."""
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.usefixtures("thermostat_states")
async def test_cloud_connect_disconnect_connect(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    fake_cloud: FakeCloud,
    post_event: WebhookPoster,
) -> None:
    await async_process_ha_core_config(hass, {"external_url": EXTERNAL_URL})
    external = f"{EXTERNAL_URL}/api/webhook/{WEBHOOK_ID}"
    await setup_entry(hass, config_entry)
    manager = config_entry.runtime_data.webhook

    # Subscribed but not yet connected: the external URL serves meanwhile.
    assert registered_url(simulator) == external
    assert manager.url_kind == "external"

    await fake_cloud.set_connected(True)
    assert registered_url(simulator) == CLOUDHOOK_URL
    assert registered_url(simulator, "SET_POINT_SCHEDULE") == CLOUDHOOK_URL
    assert state_of(hass, STATUS_ENTITY) == "registered"
    assert hass.states.get(STATUS_ENTITY).attributes["url_kind"] == "cloud"
    status, body = await fake_cloud.deliver(QUERY)
    assert status == 200
    assert len(body["thermostats"]) == 3

    await fake_cloud.set_connected(False)
    assert registered_url(simulator) == external
    status, body = await post_event(QUERY)
    assert status == 200
    assert body["handled"] is True

    await fake_cloud.set_connected(True)
    assert registered_url(simulator) == CLOUDHOOK_URL
    status, _ = await fake_cloud.deliver(QUERY)
    assert status == 200
    assert config_entry.runtime_data.receiver.stats.counts["THERMOSTAT_QUERY"] == 3


async def test_cloud_only_waits_for_connection(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    fake_cloud: FakeCloud,
) -> None:
    await setup_entry(hass, config_entry)

    assert config_entry.state is ConfigEntryState.LOADED
    assert registered_url(simulator) is None
    assert state_of(hass, STATUS_ENTITY) == "unreachable"
    assert state_of(hass, CONNECTIVITY_ENTITY) == STATE_OFF
    # A cloud that is only disconnected is no reason for a repair issue.
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, f"no_url_{config_entry.entry_id}"
    )

    await fake_cloud.set_connected(True)

    assert registered_url(simulator) == CLOUDHOOK_URL
    assert state_of(hass, STATUS_ENTITY) == "registered"
    assert state_of(hass, CONNECTIVITY_ENTITY) == STATE_ON

    # Losing the cloud with no external URL keeps the cloudhook registered,
    # because it works again as soon as the cloud reconnects.
    requests_before = len(simulator.requests)
    await fake_cloud.set_connected(False)
    assert len(simulator.requests) == requests_before
    assert registered_url(simulator) == CLOUDHOOK_URL
    assert state_of(hass, STATUS_ENTITY) == "unreachable"


@pytest.mark.usefixtures("external_url")
async def test_external_url_change_registers_again(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    await setup_entry(hass, config_entry)

    await hass.config.async_update(external_url="https://new.example.org")
    await settle(hass)

    assert (
        registered_url(simulator) == f"https://new.example.org/api/webhook/{WEBHOOK_ID}"
    )
    assert registered_url(simulator, "SET_POINT_SCHEDULE") == (
        f"https://new.example.org/api/webhook/{WEBHOOK_ID}"
    )


@pytest.mark.usefixtures("external_url")
async def test_unrelated_config_change_sends_nothing(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    await setup_entry(hass, config_entry)
    requests_before = len(simulator.requests)

    await hass.config.async_update(location_name="Cabin")
    await settle(hass)

    assert len(simulator.requests) == requests_before


async def test_no_url_raises_repair_until_url_set(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await setup_entry(hass, config_entry)
    issue_id = f"no_url_{config_entry.entry_id}"

    assert config_entry.state is ConfigEntryState.LOADED
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "no_url"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert state_of(hass, STATUS_ENTITY) == "unreachable"
    assert simulator.requests == []
    assert warnings(caplog, "WattShift cannot reach Home Assistant") == 1

    await hass.config.async_update(external_url=EXTERNAL_URL)
    await settle(hass)

    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert registered_url(simulator) == f"{EXTERNAL_URL}/api/webhook/{WEBHOOK_ID}"
    assert state_of(hass, STATUS_ENTITY) == "registered"
    assert "registered again" in caplog.text


async def test_plain_http_external_url_warns_once(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await async_process_ha_core_config(
        hass, {"external_url": "http://home.example.com"}
    )
    await setup_entry(hass, config_entry)
    await hass.config.async_update(external_url="http://other.example.com")
    await settle(hass)

    assert caplog.text.count("uses plain http") == 1
    assert (
        registered_url(simulator)
        == f"http://other.example.com/api/webhook/{WEBHOOK_ID}"
    )


@pytest.mark.usefixtures("external_url")
async def test_revoked_key_reauth_and_recovery(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, config_entry)
    simulator.revoke_api_key(API_KEY)

    with patch("custom_components.wattshift.webhook.AUTH_RETRY_DELAY", 5):
        await hass.config.async_update(external_url="https://moved.example.com")
        await settle(hass)
    # One rejection is retried before the user is asked.
    assert state_of(hass, STATUS_ENTITY) == "registered"
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)

    freezer.tick(timedelta(seconds=5))
    async_fire_time_changed(hass)
    await settle(hass)

    assert state_of(hass, STATUS_ENTITY) == "authentication_failed"
    assert state_of(hass, CONNECTIVITY_ENTITY) == STATE_OFF
    issue_id = f"auth_failed_{config_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    # The entry stays loaded and keeps answering with what it has.
    assert config_entry.state is ConfigEntryState.LOADED
    status, _ = await post_event(QUERY)
    assert status == 200

    simulator.add_api_key("fresh-key", ORG_ID)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: "fresh-key"}
    )
    await settle(hass)

    assert result["reason"] == "reauth_successful"
    assert state_of(hass, STATUS_ENTITY) == "registered"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert (
        registered_url(simulator)
        == f"https://moved.example.com/api/webhook/{WEBHOOK_ID}"
    )


@pytest.mark.usefixtures("external_url")
async def test_one_off_rejection_at_runtime_recovers(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
) -> None:
    await setup_entry(hass, config_entry)
    simulator.fail_next(401)

    await hass.config.async_update(external_url="https://moved.example.com")
    await settle(hass)
    async_fire_time_changed(hass)
    await settle(hass)

    assert state_of(hass, STATUS_ENTITY) == "registered"
    assert (
        registered_url(simulator)
        == f"https://moved.example.com/api/webhook/{WEBHOOK_ID}"
    )
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, f"auth_failed_{config_entry.entry_id}"
    )


@pytest.mark.usefixtures("external_url")
async def test_rate_limit_waits_as_requested(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await setup_entry(hass, config_entry)
    simulator.fail_next(429, count=2, retry_after_seconds=120)

    await hass.config.async_update(external_url="https://moved.example.com")
    await settle(hass)
    assert state_of(hass, STATUS_ENTITY) == "error"
    assert "retrying in 120 s" in caplog.text

    freezer.tick(timedelta(seconds=119))
    async_fire_time_changed(hass)
    await settle(hass)
    assert len([r for r in simulator.requests if r.status == 429]) == 1

    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await settle(hass)
    assert len([r for r in simulator.requests if r.status == 429]) == 2
    assert warnings(caplog, "Could not register the webhook") == 1

    freezer.tick(timedelta(seconds=121))
    async_fire_time_changed(hass)
    await settle(hass)
    assert state_of(hass, STATUS_ENTITY) == "registered"
    assert (
        registered_url(simulator)
        == f"https://moved.example.com/api/webhook/{WEBHOOK_ID}"
    )
    assert caplog.text.count("registered again") == 1


@pytest.mark.usefixtures("external_url")
async def test_server_errors_back_off(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, config_entry)
    simulator.fail_next(500, count=3)

    await hass.config.async_update(external_url="https://moved.example.com")
    await settle(hass)
    attempts = [30, 60]
    for delay in attempts:
        freezer.tick(timedelta(seconds=delay - 1))
        async_fire_time_changed(hass)
        await settle(hass)
        failures = len([r for r in simulator.requests if r.status == 500])
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await settle(hass)
        assert len([r for r in simulator.requests if r.status == 500]) == failures + 1

    freezer.tick(timedelta(seconds=120))
    async_fire_time_changed(hass)
    await settle(hass)
    assert state_of(hass, STATUS_ENTITY) == "registered"


@pytest.mark.usefixtures("external_url")
async def test_unload_leaves_no_timer(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
) -> None:
    await setup_entry(hass, config_entry)
    simulator.fail_next(500)
    await hass.config.async_update(external_url="https://moved.example.com")
    await settle(hass)
    assert config_entry.runtime_data.webhook.status is WebhookStatus.ERROR

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await settle(hass)
    requests_before = len(simulator.requests)

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1))
    await settle(hass)
    assert len(simulator.requests) == requests_before
    assert not [key for key in ir.async_get(hass).issues if key[0] == DOMAIN]


@pytest.mark.usefixtures("external_url", "thermostat_states")
async def test_price_signal_option_registers_endpoint(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    await setup_entry(hass, config_entry)

    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_PRICE_SIGNALS: True}
    )
    await settle(hass)

    registration = simulator.registrations[(ORG_ID, "PRICE_SIGNAL")]
    assert registration.webhook_url == f"{EXTERNAL_URL}/api/webhook/{WEBHOOK_ID}"
    assert registration.open_adr is False
    assert sorted(config_entry.runtime_data.webhook.registered_endpoints) == [
        "price_signal",
        "set_point_schedule",
        "thermostat_behavior",
    ]


async def test_status_logged_once_per_problem(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    await async_process_ha_core_config(hass, {"external_url": EXTERNAL_URL})
    await setup_entry(hass, config_entry)
    simulator.fail_next(500, count=5)

    for host in ("a", "b", "c"):
        await hass.config.async_update(external_url=f"https://{host}.example.com")
        await settle(hass)

    assert warnings(caplog, "Could not register the webhook") == 1


async def test_cloudhook_change_registers_again(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    fake_cloud: FakeCloud,
) -> None:
    listeners: list[Any] = []

    def listen(_hass: HomeAssistant, webhook_id: str, on_change: Any) -> Any:
        assert webhook_id == WEBHOOK_ID
        listeners.append(on_change)
        return lambda: listeners.remove(on_change)

    fake_cloud.connected = True
    # Home Assistant 2025.12 and newer offer this listener; older ones do not.
    with patch.object(cloud, "async_listen_cloudhook_change", listen, create=True):
        await setup_entry(hass, config_entry)
        assert registered_url(simulator) == CLOUDHOOK_URL
        assert len(listeners) == 1

        fake_cloud.hooks[WEBHOOK_ID] = "https://hooks.nabu.casa/replaced"
        listeners[0]({"cloudhook_url": "https://hooks.nabu.casa/replaced"})
        await settle(hass)

        assert registered_url(simulator) == "https://hooks.nabu.casa/replaced"
        assert await hass.config_entries.async_unload(config_entry.entry_id)
        assert listeners == []


@pytest.mark.usefixtures("external_url")
async def test_url_change_during_rotation_registered(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    await setup_entry(hass, config_entry)
    simulator.set_delay(0.1)

    rotation = hass.async_create_task(
        config_entry.runtime_data.webhook.async_rotate_security_key()
    )
    await asyncio.sleep(0.05)
    await hass.config.async_update(external_url="https://moved.example.com")
    await rotation
    simulator.set_delay(0)
    await settle(hass)

    moved = f"https://moved.example.com/api/webhook/{WEBHOOK_ID}"
    assert registered_url(simulator) == moved
    assert registered_url(simulator, "SET_POINT_SCHEDULE") == moved


async def test_register_now_during_background_pass_raises(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    manager = loaded_entry.runtime_data.webhook
    simulator.fail_next(500, count=20)
    simulator.set_delay(0.1)
    manager.async_schedule_full_sync()
    # Let the background pass take the lock before the action asks for it.
    await asyncio.sleep(0.01)

    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "register_webhook",
            {"config_entry_id": loaded_entry.entry_id},
            blocking=True,
        )

    assert raised.value.translation_key == "registration_failed"
    simulator.set_delay(0)
    await settle(hass)


async def test_action_finishing_after_unload_sets_no_timer(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    manager = loaded_entry.runtime_data.webhook
    simulator.fail_next(500, count=5)
    simulator.set_delay(0.2)
    call = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "register_webhook",
            {"config_entry_id": loaded_entry.entry_id},
            blocking=True,
        )
    )
    await asyncio.sleep(0.05)

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(HomeAssistantError):
        await call

    assert manager.status is WebhookStatus.ERROR
    requests_before = len(simulator.requests)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1))
    await settle(hass)
    assert len(simulator.requests) == requests_before


@pytest.mark.usefixtures("external_url")
async def test_long_retry_after_honoured(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, config_entry)
    simulator.fail_next(429, retry_after_seconds=3600)

    await hass.config.async_update(external_url="https://moved.example.com")
    await settle(hass)
    freezer.tick(timedelta(seconds=3599))
    async_fire_time_changed(hass)
    await settle(hass)
    assert state_of(hass, STATUS_ENTITY) == "error"

    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await settle(hass)
    assert state_of(hass, STATUS_ENTITY) == "registered"


@pytest.mark.usefixtures("external_url")
async def test_echoed_secrets_redacted_from_errors(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    misbehaving_wattshift: Any,
) -> None:
    await setup_entry(hass, config_entry)
    manager = config_entry.runtime_data.webhook

    async def echo(request: Any) -> Any:
        body = await request.json()
        return web.json_response(
            {
                "request_id": "req_1",
                "error_code": "VALIDATION_FAILED",
                "message": f"bad {body['webhookUrl']} with {body['securityKey']}",
            },
            status=400,
        )

    base_url = await misbehaving_wattshift(echo)
    manager.async_use_client(
        WattShiftClient(async_get_clientsession(hass), API_KEY, base_url=base_url)
    )
    await settle(hass)

    assert manager.last_error is not None
    assert WEBHOOK_ID not in manager.last_error
    assert SECURITY_KEY not in manager.last_error
    assert "**REDACTED**" in manager.last_error
    status = hass.states.get(STATUS_ENTITY)
    assert status is not None
    assert WEBHOOK_ID not in str(status.attributes)
