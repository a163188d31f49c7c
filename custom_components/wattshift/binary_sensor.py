"""Binary sensor that shows whether WattShift can reach Home Assistant."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .data import WattShiftConfigEntry
from .entity import WattShiftEntity
from .webhook import WebhookStatus

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Set up the WattShift binary sensors."""
    async_add_entities([WattShiftConnectivitySensor(entry)])


class WattShiftConnectivitySensor(WattShiftEntity, BinarySensorEntity):
    """On while WattShift has a registered URL it can reach."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "connectivity"

    def __init__(self, entry: WattShiftConfigEntry) -> None:
        """Create the connectivity sensor of an entry."""
        super().__init__(entry, "connectivity")

    @property
    def is_on(self) -> bool:
        """Return whether the webhook is registered."""
        return self._entry.runtime_data.webhook.status is WebhookStatus.REGISTERED

    async def async_added_to_hass(self) -> None:
        """Follow the webhook manager's status."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._entry.runtime_data.webhook.async_add_listener(
                self.async_write_ha_state
            )
        )
