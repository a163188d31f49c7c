"""Calendar of the blocks WattShift plans for each exposed thermostat."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .data import WattShiftConfigEntry
from .schedule import ScheduleBlock, ScheduleMode, block_at, blocks_between, next_block
from .targets import convert
from .thermostat_entity import ThermostatScheduleEntity, async_add_thermostat_entities
from .thermostats import ExposedThermostat

# The calendar reads the engine's memory only.
PARALLEL_UPDATES = 0

_MODE_NAMES = {
    ScheduleMode.OFF: "Off",
    ScheduleMode.HEAT: "Heat",
    ScheduleMode.COOL: "Cool",
    ScheduleMode.AUTO: "Auto",
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a schedule calendar for each exposed thermostat."""

    def create(thermostat: ExposedThermostat) -> list[ScheduleCalendar]:
        return [ScheduleCalendar(hass, entry, thermostat)]

    async_add_thermostat_entities(hass, entry, async_add_entities, create)


class ScheduleCalendar(ThermostatScheduleEntity, CalendarEntity):
    """One event per schedule block; on while a block is in force."""

    _attr_translation_key = "schedule"

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattShiftConfigEntry,
        thermostat: ExposedThermostat,
    ) -> None:
        """Create the calendar of one thermostat."""
        super().__init__(hass, entry, thermostat, "schedule")

    @property
    def event(self) -> CalendarEvent | None:
        """Return the block in force, or else the next one."""
        blocks = self.engine.async_blocks(self._ref)
        now = dt_util.utcnow()
        block = block_at(blocks, now) or next_block(blocks, now)
        return self._event(block) if block is not None else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the blocks that overlap a range of time."""
        blocks = self.engine.async_blocks(self._ref)
        return [
            self._event(block)
            for block in blocks_between(
                blocks, dt_util.as_utc(start_date), dt_util.as_utc(end_date)
            )
        ]

    def _event(self, block: ScheduleBlock) -> CalendarEvent:
        """Describe a block as a calendar event in local time."""
        return CalendarEvent(
            start=dt_util.as_local(block.start),
            end=dt_util.as_local(block.end),
            summary=self._summary(block),
            description=f"WattShift targetMode {block.mode.value}",
            uid=f"{self.unique_id}_{block.start.isoformat()}",
        )

    def _summary(self, block: ScheduleBlock) -> str:
        """Name the block's mode and setpoints in Home Assistant's unit."""
        unit = self.hass.config.units.temperature_unit

        def shown(value: float) -> str:
            return f"{convert(value, block.unit, unit):.1f} {unit}"

        name = _MODE_NAMES[block.mode]
        if block.mode is ScheduleMode.OFF:
            return name
        if block.heat is not None and block.cool is not None:
            return f"{name} {shown(block.heat)} to {shown(block.cool)}"
        value = next(
            value
            for value in (block.temperature, block.heat, block.cool)
            if value is not None
        )
        return f"{name} {shown(value)}"
