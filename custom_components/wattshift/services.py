"""Actions of the WattShift integration."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .api import WattShiftError
from .const import DOMAIN
from .data import WattShiftConfigEntry
from .webhook import NoWebhookUrlError, describe_error

ATTR_CONFIG_ENTRY_ID = "config_entry_id"

SERVICE_REGISTER_WEBHOOK = "register_webhook"
SERVICE_ROTATE_SECURITY_KEY = "rotate_security_key"

ENTRY_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})


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
    entry = async_get_loaded_entry(call.hass, call)
    try:
        await entry.runtime_data.webhook.async_register_now()
    except NoWebhookUrlError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="no_url"
        ) from err
    except WattShiftError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="registration_failed",
            translation_placeholders={"error": describe_error(err)},
        ) from err


async def _async_rotate_security_key(call: ServiceCall) -> None:
    """Replace the webhook security key without losing a delivery."""
    entry = async_get_loaded_entry(call.hass, call)
    try:
        await entry.runtime_data.webhook.async_rotate_security_key()
    except NoWebhookUrlError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="no_url"
        ) from err
    except WattShiftError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="rotation_failed",
            translation_placeholders={"error": describe_error(err)},
        ) from err
