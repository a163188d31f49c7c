"""Repair issue for WattShift data about a device this installation does not know."""

from __future__ import annotations

import re
from typing import Any, Final

from homeassistant.components.repairs import RepairsFlow
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig
import voluptuous as vol

from .const import (
    CONF_DEVICE_LINKS,
    CONF_THERMOSTATS,
    DOMAIN,
    LOGGER,
    WATTSHIFT_DEVICE_ID_PREFIX,
)
from .data import WattShiftConfigEntry
from .thermostats import async_refs_from_entity_ids

ISSUE_UNKNOWN_DEVICE: Final = "unknown_device"
# WattShift device ids seen in its docs are ws_device_ and letters and digits.
_DEVICE_ID_SHAPE: Final = re.compile(
    re.escape(WATTSHIFT_DEVICE_ID_PREFIX) + r"[A-Za-z0-9_-]{1,64}"
)
# Open unknown-device issues per entry; more only repeat the same request to
# link devices, and a flood of ids cannot fill the repairs list.
MAX_UNKNOWN_DEVICE_ISSUES: Final = 20


def _issue_id(entry_id: str, device_id: str) -> str:
    """Return the id of the unknown-device issue of one WattShift device."""
    return f"{ISSUE_UNKNOWN_DEVICE}_{entry_id}_{device_id}"


@callback
def async_report_unknown_device(
    hass: HomeAssistant, entry: WattShiftConfigEntry, device_id: str
) -> None:
    """Ask the user to link a WattShift device id that matched no thermostat.

    Only WattShift device ids (ws_device_…) raise an issue; any other
    identifier cannot be linked and is only reported back to WattShift.
    """
    if not _DEVICE_ID_SHAPE.fullmatch(device_id):
        return
    issue_id = _issue_id(entry.entry_id, device_id)
    registry = ir.async_get(hass)
    if registry.async_get_issue(DOMAIN, issue_id) is None:
        prefix = _issue_id(entry.entry_id, "")
        open_issues = sum(
            1
            for domain, other_id in registry.issues
            if domain == DOMAIN and other_id.startswith(prefix)
        )
        if open_issues >= MAX_UNKNOWN_DEVICE_ISSUES:
            LOGGER.debug("Not raising an issue for another unknown WattShift device")
            return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_UNKNOWN_DEVICE,
        translation_placeholders={"device_id": device_id, "title": entry.title},
        data={"entry_id": entry.entry_id, "device_id": device_id},
    )


@callback
def async_delete_linked_device_issues(
    hass: HomeAssistant, entry: WattShiftConfigEntry
) -> None:
    """Remove the unknown-device issues of device ids that are linked now."""
    for device_id in entry.options.get(CONF_DEVICE_LINKS, {}).values():
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry.entry_id, device_id))


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Create the flow that fixes a WattShift repair issue."""
    if data is None or not issue_id.startswith(ISSUE_UNKNOWN_DEVICE):
        raise ValueError(f"No fix flow for repair issue {issue_id}")
    return UnknownDeviceRepairFlow(str(data["entry_id"]), str(data["device_id"]))


class UnknownDeviceRepairFlow(RepairsFlow):
    """Link a WattShift device id to one of the user's climate entities."""

    def __init__(self, entry_id: str, device_id: str) -> None:
        """Fix the issue of one device id of one entry."""
        self._entry_id = entry_id
        self._device_id = device_id

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Start with the linking form."""
        return await self.async_step_link()

    async def async_step_link(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Pick the climate entity the WattShift device id stands for."""
        entry: WattShiftConfigEntry | None = self.hass.config_entries.async_get_entry(
            self._entry_id
        )
        if entry is None:
            return self.async_abort(reason="entry_removed")

        if user_input is not None:
            [ref] = async_refs_from_entity_ids(self.hass, [user_input[ATTR_ENTITY_ID]])
            thermostats = list(entry.options.get(CONF_THERMOSTATS, []))
            if ref not in thermostats:
                # Linking a thermostat also lets WattShift see it.
                thermostats.append(ref)
            links = {
                linked_ref: device_id
                for linked_ref, device_id in entry.options.get(
                    CONF_DEVICE_LINKS, {}
                ).items()
                if device_id != self._device_id and linked_ref != ref
            }
            links[ref] = self._device_id
            self.hass.config_entries.async_update_entry(
                entry,
                options={
                    **entry.options,
                    CONF_THERMOSTATS: thermostats,
                    CONF_DEVICE_LINKS: links,
                },
            )
            return self.async_create_entry(data={})

        return self.async_show_form(
            step_id="link",
            data_schema=vol.Schema(
                {
                    vol.Required(ATTR_ENTITY_ID): EntitySelector(
                        EntitySelectorConfig(domain="climate")
                    )
                }
            ),
            description_placeholders={"device_id": self._device_id},
        )
