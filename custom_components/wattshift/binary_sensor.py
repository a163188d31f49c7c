"""Binary sensors for WattShift's connection to Home Assistant and price peaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import WattShiftConfigEntry
from .entity import WattShiftEntity
from .price_entity import WattShiftHomeEntity, async_add_home_entities
from .price_timeline import HomeView
from .webhook import WebhookStatus

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PriceBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor that reads a home's prices."""

    is_on_fn: Callable[[HomeView], bool | None]
    attributes_fn: Callable[[HomeView], dict[str, Any]]


PRICE_BINARY_SENSORS: tuple[PriceBinarySensorDescription, ...] = (
    PriceBinarySensorDescription(
        key="price_peak",
        translation_key="price_peak",
        is_on_fn=lambda view: view.peak,
        attributes_fn=lambda view: {
            "threshold": view.threshold,
            "threshold_source": "percentile" if view.threshold_is_default else "option",
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the WattShift binary sensors."""
    async_add_entities([WattShiftConnectivitySensor(entry)])
    async_add_home_entities(
        hass,
        entry,
        async_add_entities,
        lambda home_id: [
            WattShiftPriceBinarySensor(entry, home_id, description)
            for description in PRICE_BINARY_SENSORS
        ],
    )


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


class WattShiftPriceBinarySensor(WattShiftHomeEntity, BinarySensorEntity):
    """A binary sensor of a home's prices."""

    entity_description: PriceBinarySensorDescription

    def __init__(
        self,
        entry: WattShiftConfigEntry,
        home_id: str,
        description: PriceBinarySensorDescription,
    ) -> None:
        """Create the binary sensor for one home and description."""
        super().__init__(entry, home_id, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool | None:
        """Return what the home's prices show now."""
        view = self.home_view
        return None if view is None else self.entity_description.is_on_fn(view)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the attributes."""
        view = self.home_view
        return None if view is None else self.entity_description.attributes_fn(view)
