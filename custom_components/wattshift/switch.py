"""Switch that lets a thermostat follow or ignore WattShift's schedule."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import WattShiftConfigEntry
from .thermostat_entity import ThermostatScheduleEntity, async_add_thermostat_entities
from .thermostats import ExposedThermostat

# The switch changes only the integration's own state.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a follow switch for each exposed thermostat."""

    def create(thermostat: ExposedThermostat) -> list[FollowScheduleSwitch]:
        return [FollowScheduleSwitch(hass, entry, thermostat)]

    async_add_thermostat_entities(hass, entry, async_add_entities, create)


class FollowScheduleSwitch(ThermostatScheduleEntity, SwitchEntity):
    """On while WattShift's schedule may write to the thermostat."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "follow_schedule"

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattShiftConfigEntry,
        thermostat: ExposedThermostat,
    ) -> None:
        """Create the switch of one thermostat."""
        super().__init__(hass, entry, thermostat, "follow_schedule")

    @property
    def is_on(self) -> bool:
        """Return whether the thermostat follows WattShift's schedule."""
        status = self.engine.async_status(self._ref)
        return status is not None and status.following

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Follow the schedule again and write the block in force now."""
        self.engine.async_set_following(self._ref, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop writing the schedule; the thermostat keeps its setting."""
        self.engine.async_set_following(self._ref, False)
