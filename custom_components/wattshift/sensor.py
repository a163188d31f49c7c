"""Sensors of the link between WattShift and Home Assistant, and of home prices."""

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
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import EventType
from .const import LOGGER
from .data import WattShiftConfigEntry, WattShiftData
from .entity import WattShiftEntity
from .price_entity import (
    ATTR_PRICES,
    PRICE_UNIT,
    WattShiftHomeEntity,
    async_add_home_entities,
    price_series,
)
from .price_signal import PriceInterval
from .price_timeline import HomeView
from .schedule_sensor import async_add_schedule_sensors
from .webhook import WebhookStatus

# Every entity is updated by push from the webhook manager, the receiver or
# the price board.
PARALLEL_UPDATES = 0

# Deliveries can arrive many times a second. The delivery sensors write their
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


@dataclass(frozen=True, kw_only=True)
class PriceSensorDescription(SensorEntityDescription):
    """A sensor that reads a home's prices."""

    value_fn: Callable[[HomeView], float | datetime | None]
    attributes_fn: Callable[[HomeView], dict[str, Any]] | None = None


def _current(
    field: Callable[[PriceInterval], float | None],
) -> Callable[[HomeView], float | None]:
    """Return a reader of one price of the interval in force."""
    return lambda view: None if view.current is None else field(view.current)


def _upcoming(
    field: Callable[[PriceInterval], float | None],
) -> Callable[[HomeView], dict[str, Any]]:
    """Return a builder of the upcoming-prices attribute for one price."""
    return lambda view: {ATTR_PRICES: price_series(view.upcoming, field)}


def _current_price_attributes(view: HomeView) -> dict[str, Any]:
    """Describe the upcoming prices and the confidence of the current one."""
    current = view.current
    return {
        ATTR_PRICES: price_series(view.upcoming, lambda interval: interval.price),
        "confidence": None if current is None else current.confidence,
    }


PRICE_SENSORS: tuple[PriceSensorDescription, ...] = (
    PriceSensorDescription(
        key="current_price",
        translation_key="current_price",
        native_unit_of_measurement=PRICE_UNIT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        value_fn=_current(lambda interval: interval.price),
        attributes_fn=_current_price_attributes,
    ),
    PriceSensorDescription(
        key="current_import_price",
        translation_key="current_import_price",
        native_unit_of_measurement=PRICE_UNIT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        value_fn=_current(lambda interval: interval.import_price),
        attributes_fn=_upcoming(lambda interval: interval.import_price),
    ),
    PriceSensorDescription(
        key="current_export_price",
        translation_key="current_export_price",
        native_unit_of_measurement=PRICE_UNIT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        value_fn=_current(lambda interval: interval.export_price),
        attributes_fn=_upcoming(lambda interval: interval.export_price),
    ),
    PriceSensorDescription(
        key="next_price_change",
        translation_key="next_price_change",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda view: view.next_change,
        attributes_fn=lambda view: {"next_price": view.next_price},
    ),
    PriceSensorDescription(
        key="next_price_peak",
        translation_key="next_price_peak",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda view: view.next_peak[0] if view.next_peak else None,
        attributes_fn=lambda view: {
            "end": view.next_peak[1] if view.next_peak else None
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the WattShift sensors."""
    async_add_entities(
        WattShiftStatusSensor(entry, description) for description in STATUS_SENSORS
    )
    async_add_home_entities(
        hass,
        entry,
        async_add_entities,
        lambda home_id: [
            WattShiftPriceSensor(entry, home_id, description)
            for description in PRICE_SENSORS
        ],
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


class WattShiftPriceSensor(WattShiftHomeEntity, SensorEntity):
    """A sensor of a home's prices."""

    entity_description: PriceSensorDescription

    def __init__(
        self,
        entry: WattShiftConfigEntry,
        home_id: str,
        description: PriceSensorDescription,
    ) -> None:
        """Create the sensor for one home and description."""
        super().__init__(entry, home_id, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> float | datetime | None:
        """Return the value the home's prices show now."""
        view = self.home_view
        return None if view is None else self.entity_description.value_fn(view)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the attributes, if the sensor has any."""
        view = self.home_view
        attributes_fn = self.entity_description.attributes_fn
        if view is None or attributes_fn is None:
            return None
        return attributes_fn(view)
