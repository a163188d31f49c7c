"""Actions of the WattShift integration."""

from __future__ import annotations

from datetime import datetime

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .api import WattShiftError
from .const import DOMAIN
from .contract import PayloadError, is_valid_home_id
from .data import WattShiftConfigEntry
from .price_signal import parse_price_body
from .webhook import NoWebhookUrlError, WebhookManager, describe_error

ATTR_CONFIG_ENTRY_ID = "config_entry_id"

SERVICE_REGISTER_WEBHOOK = "register_webhook"
SERVICE_ROTATE_SECURITY_KEY = "rotate_security_key"

ENTRY_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})

ATTR_HOME_ID = "home_id"
ATTR_START = "start"
ATTR_END = "end"
SERVICE_GET_PRICE_SIGNAL = "get_price_signal"
PRICE_SIGNAL_SCHEMA = ENTRY_SCHEMA.extend(
    {
        vol.Required(ATTR_HOME_ID): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_REGISTER_WEBHOOK, _async_register_webhook, schema=ENTRY_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_ROTATE_SECURITY_KEY,
        _async_rotate_security_key,
        schema=ENTRY_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_PRICE_SIGNAL,
        _async_get_price_signal,
        schema=PRICE_SIGNAL_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


def async_get_loaded_entry(
    hass: HomeAssistant, call: ServiceCall
) -> WattShiftConfigEntry:
    """Return the loaded WattShift entry an action names."""
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry: WattShiftConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


async def _async_register_webhook(call: ServiceCall) -> None:
    """Send every webhook registration to WattShift again now."""
    manager = async_get_loaded_entry(call.hass, call).runtime_data.webhook
    try:
        await manager.async_register_now()
    except NoWebhookUrlError as err:
        raise _no_url_error() from err
    except WattShiftError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="registration_failed",
            translation_placeholders={"error": _error_text(manager, err)},
        ) from err


async def _async_rotate_security_key(call: ServiceCall) -> None:
    """Replace the webhook security key without losing a delivery."""
    manager = async_get_loaded_entry(call.hass, call).runtime_data.webhook
    try:
        await manager.async_rotate_security_key()
    except NoWebhookUrlError as err:
        raise _no_url_error() from err
    except WattShiftError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="rotation_failed",
            translation_placeholders={"error": _error_text(manager, err)},
        ) from err


def _no_url_error() -> HomeAssistantError:
    """Return the error for a Home Assistant that WattShift cannot reach."""
    return HomeAssistantError(translation_domain=DOMAIN, translation_key="no_url")


def _error_text(manager: WebhookManager, err: WattShiftError) -> str:
    """Describe a registration error the way the status sensor does."""
    return manager.last_error or describe_error(err)


async def _async_get_price_signal(call: ServiceCall) -> ServiceResponse:
    """Fetch a home's price signal from WattShift and return its intervals."""
    entry = async_get_loaded_entry(call.hass, call)
    home_id: str = call.data[ATTR_HOME_ID]
    if not is_valid_home_id(home_id):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_home_id",
            translation_placeholders={"home_id": home_id},
        )
    start, end = _price_window(call)

    try:
        response = await entry.runtime_data.client.get_price_signal(
            home_id, start=start, end=end
        )
    except WattShiftError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="price_signal_failed",
            translation_placeholders={"home_id": home_id, "error": describe_error(err)},
        ) from err
    try:
        intervals = parse_price_body(response, allow_empty=True)
    except PayloadError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="price_signal_invalid",
            translation_placeholders={"home_id": home_id, "error": str(err)},
        ) from err

    rows: list[JsonValueType] = [
        {
            "start": interval.start.isoformat(),
            "end": interval.end.isoformat(),
            "price": interval.price,
            "import": interval.import_price,
            "export": interval.export_price,
            "confidence": interval.confidence,
        }
        for interval in intervals
    ]
    return {"home_id": home_id, "intervals": rows}


def _price_window(call: ServiceCall) -> tuple[datetime | None, datetime | None]:
    """Return the requested window in UTC, reading times without offset as local."""
    start: datetime | None = call.data.get(ATTR_START)
    end: datetime | None = call.data.get(ATTR_END)
    if start is None and end is None:
        return None, None
    if start is None or end is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="price_window_incomplete"
        )
    start, end = dt_util.as_utc(start), dt_util.as_utc(end)
    if end <= start:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="price_window_invalid",
            translation_placeholders={
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        )
    return start, end
