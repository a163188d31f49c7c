"""Base entity for the WattShift account device."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .data import WattShiftConfigEntry


def account_device_info(entry: WattShiftConfigEntry) -> DeviceInfo:
    """Describe the service device that stands for the WattShift account."""
    return DeviceInfo(
        identifiers={(DOMAIN, account_id(entry))},
        name=entry.title,
        manufacturer="WattShift",
        model="Partner API",
        entry_type=DeviceEntryType.SERVICE,
        configuration_url="https://wattshift.com",
    )


def account_id(entry: WattShiftConfigEntry) -> str:
    """Return the WattShift organisation id, the stable id of an entry."""
    return entry.unique_id or entry.entry_id


class WattShiftEntity(Entity):
    """An entity of the WattShift account device, updated by push."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: WattShiftConfigEntry, key: str) -> None:
        """Attach the entity to the account device with a stable unique id."""
        self._entry = entry
        self._attr_unique_id = f"{account_id(entry)}_{key}"
        self._attr_device_info = account_device_info(entry)
