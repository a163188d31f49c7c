"""Sensors that show the state of the link between WattShift and Home Assistant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .api import EventType
from .const import LOGGER
from .data import WattShiftConfigEntry, WattShiftData
from .entity import WattShiftEntity
from .schedule_sensor import async_add_schedule_sensors
from .webhook import WebhookStatus

# Every entity is updated by push from the webhook manager or the receiver.
PARALLEL_UPDATES = 0

# Deliveries can arrive many times a second; the delivery sensors write their
# state at most this often, so a burst of events costs one state write.
DELIVERY_UPDATE_COOLDOWN = 1.0


@dataclass(frozen=True, kw_only=True)
class StatusSensorDescription(SensorEntityDescription):
    """A sensor that reads the webhook manager or the delivery counters."""

    value_fn: Callable[[WattShiftData], str | int | datetime | None]
    attributes_fn: Callable[[WattShiftData], dict[str, Any]] | None = None
    from_deliveries: bool = False


def _count(event_type: EventType) -> Callable[[WattShiftData], int]:
    """Return a reader of the delivery count of one event type."""
    return lambda data: data.receiver.stats.counts.get(event_type, 0)


def _other_events(data: WattShiftData) -> int:
    """Count deliveries whose event type WattShift's enum does not name."""
    known = set(EventType) - {EventType.UNKNOWN}
    return sum(
        count
        for event_type, count in data.receiver.stats.counts.items()
        if event_type not in known
    )


def _webhook_attributes(data: WattShiftData) -> dict[str, Any]:
    """Describe the registration without revealing the URL itself."""
    manager = data.webhook
    return {
        "url_kind": manager.url_kind,
        "registered_endpoints": sorted(manager.registered_endpoints),
        "last_registered": manager.last_registered,
        "last_error": manager.last_error,
    }


STATUS_SENSORS: tuple[StatusSensorDescription, ...] = (
    StatusSensorDescription(
        key="webhook_status",
        translation_key="webhook_status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in WebhookStatus],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.webhook.status,
        attributes_fn=_webhook_attributes,
    ),
    StatusSensorDescription(
        key="last_message",
        translation_key="last_message",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.receiver.stats.last_received,
        from_deliveries=True,
    ),
    StatusSensorDescription(
        key="thermostat_queries",
        translation_key="thermostat_queries",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_count(EventType.THERMOSTAT_QUERY),
        from_deliveries=True,
    ),
    StatusSensorDescription(
        key="schedules_received",
        translation_key="schedules_received",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_count(EventType.SET_POINT_SCHEDULE),
        from_deliveries=True,
    ),
    StatusSensorDescription(
        key="price_signals_received",
        translation_key="price_signals_received",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_count(EventType.PRICE_SIGNAL),
        from_deliveries=True,
    ),
    StatusSensorDescription(
        key="other_events",
        translation_key="other_events",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_other_events,
        from_deliveries=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Set up the WattShift sensors."""
    async_add_entities(
        WattShiftStatusSensor(entry, description) for description in STATUS_SENSORS
    )
    async_add_schedule_sensors(hass, entry, async_add_entities)


class WattShiftStatusSensor(WattShiftEntity, SensorEntity):
    """A sensor about the link to WattShift."""

    entity_description: StatusSensorDescription

    def __init__(
        self, entry: WattShiftConfigEntry, description: StatusSensorDescription
    ) -> None:
        """Create the sensor for one description."""
        super().__init__(entry, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> str | int | datetime | None:
        """Return the current value."""
        return self.entity_description.value_fn(self._entry.runtime_data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the attributes, if the sensor has any."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self._entry.runtime_data)

    async def async_added_to_hass(self) -> None:
        """Follow the source of the sensor's value."""
        await super().async_added_to_hass()
        data = self._entry.runtime_data
        if not self.entity_description.from_deliveries:
            self.async_on_remove(
                data.webhook.async_add_listener(self.async_write_ha_state)
            )
            return

        debouncer = Debouncer(
            self.hass,
            LOGGER,
            cooldown=DELIVERY_UPDATE_COOLDOWN,
            immediate=True,
            function=self._async_write_state,
        )
        self.async_on_remove(debouncer.async_shutdown)
        self.async_on_remove(
            data.receiver.async_add_listener(debouncer.async_schedule_call)
        )

    @callback
    def _async_write_state(self) -> None:
        """Write the state; the debouncer calls this."""
        self.async_write_ha_state()
