"""Sensor with the target WattShift's schedule sets for one thermostat now."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import WattShiftConfigEntry
from .schedule import ScheduleBlock, ScheduleMode
from .targets import convert
from .thermostat_entity import ThermostatScheduleEntity, async_add_thermostat_entities
from .thermostats import ExposedThermostat


@callback
def async_add_schedule_sensors(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a schedule target sensor for each exposed thermostat."""

    def create(thermostat: ExposedThermostat) -> list[ScheduleTargetSensor]:
        return [ScheduleTargetSensor(hass, entry, thermostat)]

    async_add_thermostat_entities(hass, entry, async_add_entities, create)


class ScheduleTargetSensor(ThermostatScheduleEntity, SensorEntity):
    """The setpoint of the block in force, in Home Assistant's unit.

    HEAT and COOL blocks show their setpoint, AUTO blocks targetTemp or the
    middle of their range, and OFF blocks and gaps have no value.
    """

    _attr_device_class = SensorDeviceClass.TEMPERATURE
    _attr_suggested_display_precision = 1
    _attr_translation_key = "schedule_target"

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattShiftConfigEntry,
        thermostat: ExposedThermostat,
    ) -> None:
        """Create the sensor of one thermostat."""
        super().__init__(hass, entry, thermostat, "schedule_target")
        self._attr_native_unit_of_measurement = hass.config.units.temperature_unit

    @property
    def native_value(self) -> float | None:
        """Return the block's setpoint converted to Home Assistant's unit."""
        status = self.engine.async_status(self._ref)
        if status is None or (block := status.block) is None:
            return None
        return self._temperature(block, _setpoint(block))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the block, the next block and where the setting came from."""
        status = self.engine.async_status(self._ref)
        block = status.block if status is not None else None
        upcoming = status.next_block if status is not None else None
        return {
            "mode": block.mode.value.lower() if block else None,
            "target_temp_low": self._temperature(block, block.heat) if block else None,
            "target_temp_high": self._temperature(block, block.cool) if block else None,
            "block_start": block.start if block else None,
            "block_end": block.end if block else None,
            "next_block_start": upcoming.start if upcoming else None,
            "next_block_mode": upcoming.mode.value.lower() if upcoming else None,
            "source": status.source if status is not None else None,
            "following": status.following if status is not None else None,
            "override_until": status.override_until if status is not None else None,
            "last_error": status.last_error if status is not None else None,
        }

    def _temperature(self, block: ScheduleBlock, value: float | None) -> float | None:
        """Convert a block temperature once, to Home Assistant's unit."""
        if value is None:
            return None
        system_unit = self.hass.config.units.temperature_unit
        return round(convert(value, block.unit, system_unit), 2)


def _setpoint(block: ScheduleBlock) -> float | None:
    """Return the one setpoint that sums up a block."""
    if block.mode is ScheduleMode.OFF:
        return None
    if block.temperature is not None:
        return block.temperature
    if block.heat is not None and block.cool is not None:
        return (block.heat + block.cool) / 2
    return block.heat if block.heat is not None else block.cool
