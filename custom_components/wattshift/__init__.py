"""The WattShift integration: let WattShift see and steer Home Assistant thermostats."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType
from yarl import URL

from . import cloudhook
from .api import (
    DEFAULT_BASE_URL,
    EventType,
    WattShiftAuthenticationError,
    WattShiftClient,
    WattShiftError,
)
from .const import (
    CONF_BASE_URL,
    CONF_DEVICE_LINKS,
    CONF_SECURITY_KEY,
    CONF_THERMOSTATS,
    DOMAIN,
    LOGGER,
)
from .data import WattShiftConfigEntry, WattShiftData
from .engine import ScheduleEngine
from .entity import account_id
from .price_board import PriceBoard, async_apply_price_options, async_remove_price_store
from .price_entity import async_remove_home_device
from .query import ThermostatQueryHandler
from .receiver import SecurityKeys, WebhookReceiver
from .repairs import async_delete_linked_device_issues, async_report_unknown_device
from .schedule_store import async_remove_store
from .services import async_setup_services
from .thermostats import ThermostatDirectory
from .webhook import WebhookManager

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the WattShift actions."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: WattShiftConfigEntry) -> bool:
    """Set up WattShift from a config entry."""
    data = await _async_create_runtime_data(hass, entry)
    entry.runtime_data = data
    async_apply_price_options(entry)

    # Register with WattShift before anything else depends on the entry.
    try:
        await data.webhook.async_start()
    except WattShiftAuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except WattShiftError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    entry.async_on_unload(data.webhook.async_stop)
    entry.async_on_unload(data.webhook.async_delete_issues)

    try:
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    except BaseException:
        # Home Assistant runs no unload callbacks after an unexpected error,
        # and a handler left behind would make the next setup fail.
        data.webhook.async_stop()
        raise

    # Nothing below can fail, so the listeners started here are always
    # stopped by the unload callbacks.
    entry.async_on_unload(data.thermostats.async_track_registry())
    data.prices.async_start()
    entry.async_on_unload(data.prices.async_stop)
    data.schedules.async_start()
    entry.async_on_unload(data.schedules.async_stop)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    return True


async def _async_create_runtime_data(
    hass: HomeAssistant, entry: WattShiftConfigEntry
) -> WattShiftData:
    """Create the objects a loaded entry runs on, without starting them."""
    report_unknown_device = partial(async_report_unknown_device, hass, entry)
    thermostats = ThermostatDirectory(
        hass,
        entry.options.get(CONF_THERMOSTATS, []),
        entry.options.get(CONF_DEVICE_LINKS, {}),
    )
    receiver = WebhookReceiver(SecurityKeys(entry.data[CONF_SECURITY_KEY]))
    query = ThermostatQueryHandler(
        hass, thermostats, on_unknown_device=report_unknown_device
    )
    receiver.async_set_handler(EventType.THERMOSTAT_QUERY, query)

    schedules = ScheduleEngine(
        hass,
        entry,
        thermostats,
        receiver,
        query,
        on_unknown_device=report_unknown_device,
    )
    await schedules.async_load()
    prices = PriceBoard(hass, entry.entry_id, account_id(entry))
    await prices.async_load()

    client = async_create_client(hass, entry.data)
    base_url = URL(client.base_url)
    if base_url.scheme == "http" and base_url.host not in LOOPBACK_HOSTS:
        LOGGER.warning(
            "The WattShift API base URL uses plain http, so the API key crosses "
            "the network unencrypted; use https unless it is a local simulator"
        )
    return WattShiftData(
        client=client,
        thermostats=thermostats,
        receiver=receiver,
        webhook=WebhookManager(hass, entry, client, receiver),
        query=query,
        credentials=_credentials(entry.data),
        prices=prices,
        schedules=schedules,
    )


async def async_unload_entry(hass: HomeAssistant, entry: WattShiftConfigEntry) -> bool:
    """Unload a config entry; its unload callbacks stop the webhook."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: WattShiftConfigEntry) -> None:
    """Delete the stored data, repair issues and cloudhook of a removed entry."""
    await async_remove_price_store(hass, entry.entry_id)
    await async_remove_store(hass, entry.entry_id)
    issues = ir.async_get(hass)
    for domain, issue_id in list(issues.issues):
        if domain == DOMAIN and entry.entry_id in issue_id:
            ir.async_delete_issue(hass, DOMAIN, issue_id)

    await cloudhook.async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: WattShiftConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user remove a home's device, but not the account or a thermostat.

    Thermostat devices follow the thermostats exposed in the options.
    """
    return await async_remove_home_device(entry, device)


async def _async_entry_updated(
    hass: HomeAssistant, entry: WattShiftConfigEntry
) -> None:
    """Apply changed credentials and options without reloading the entry."""
    data = entry.runtime_data
    manager = data.webhook
    credentials = _credentials(entry.data)
    if credentials != data.credentials:
        LOGGER.debug("WattShift credentials changed; registering again")
        data.credentials = credentials
        data.client = async_create_client(hass, entry.data)
        manager.async_use_client(data.client)

    data.thermostats.async_update(
        entry.options.get(CONF_THERMOSTATS, []),
        entry.options.get(CONF_DEVICE_LINKS, {}),
    )
    async_delete_linked_device_issues(hass, entry)
    async_apply_price_options(entry)
    data.schedules.async_options_updated()
    manager.async_schedule_sync()


def async_create_client(
    hass: HomeAssistant, entry_data: Mapping[str, Any]
) -> WattShiftClient:
    """Create an API client from a config entry's data."""
    return WattShiftClient(
        async_get_clientsession(hass),
        entry_data[CONF_API_KEY],
        base_url=entry_data.get(CONF_BASE_URL, DEFAULT_BASE_URL),
    )


def _credentials(entry_data: Mapping[str, Any]) -> tuple[str, str]:
    """Return the API key and base URL a client is built from."""
    return entry_data[CONF_API_KEY], entry_data.get(CONF_BASE_URL, DEFAULT_BASE_URL)
