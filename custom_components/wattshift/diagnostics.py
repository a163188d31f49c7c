"""Diagnostics download for a WattShift config entry."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .const import CONF_BASE_URL, CONF_SECURITY_KEY
from .data import WattShiftConfigEntry, WattShiftData
from .price_timeline import HomeView

# Keys whose values are secrets or URLs. The webhook id is the secret part of
# the webhook URL, so every URL that contains it is redacted too.
TO_REDACT = {
    CONF_API_KEY,
    CONF_WEBHOOK_ID,
    CONF_SECURITY_KEY,
    CONF_BASE_URL,
    "webhook_url",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: WattShiftConfigEntry
) -> dict[str, Any]:
    """Return the state of an entry without secrets."""
    data = entry.runtime_data
    manager = data.webhook
    stats = data.receiver.stats
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "webhook": {
            "status": manager.status,
            "url_kind": manager.url_kind,
            "registered_endpoints": sorted(manager.registered_endpoints),
            "last_registered": manager.last_registered,
            "last_error": manager.last_error,
            "registrations": {
                endpoint: async_redact_data(
                    {
                        "id": registration.id,
                        "api_owner_org_id": registration.api_owner_org_id,
                        "event_type": registration.event_type,
                        "open_adr": registration.open_adr,
                        "webhook_url": registration.webhook_url,
                        "created_at": registration.created_at,
                        "updated_at": registration.updated_at,
                        "last_sent_at": registration.last_sent_at,
                    },
                    TO_REDACT,
                )
                for endpoint, registration in manager.registrations.items()
            },
        },
        "deliveries": {
            "last_received": stats.last_received,
            "counts": dict(stats.counts),
        },
        "price_homes": {
            home_id: _price_home(view)
            for home_id in data.prices.homes
            if (view := data.prices.view(home_id)) is not None
        },
        "thermostats": [
            {
                "ref": thermostat.ref,
                "entity_id": thermostat.entity_id,
                "wattshift_device_id": thermostat.wattshift_device_id,
                "state": state.state
                if (state := hass.states.get(thermostat.entity_id or ""))
                else None,
                "schedule": _schedule(data, thermostat.ref),
            }
            for thermostat in data.thermostats.thermostats
        ],
    }


def _price_home(view: HomeView) -> dict[str, Any]:
    """Summarise one home's prices at this moment."""
    return {
        "available": view.available,
        "current_price": view.current.price if view.current else None,
        "next_change": view.next_change,
        "threshold": view.threshold,
        "threshold_is_default": view.threshold_is_default,
        "peak": view.peak,
        "upcoming_intervals": len(view.upcoming),
    }


def _schedule(data: WattShiftData, ref: str) -> dict[str, Any] | None:
    """Summarise what one thermostat's schedule is doing now."""
    status = data.schedules.async_status(ref)
    if status is None:
        return None
    return {
        "enabled": status.enabled,
        "following": status.following,
        "stored_blocks": len(data.schedules.async_blocks(ref)),
        "block": status.block._asdict() if status.block else None,
        "source": status.source,
        "override_until": status.override_until,
        "last_error": status.last_error,
    }
