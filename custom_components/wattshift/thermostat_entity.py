"""Base entity and device for the schedule entities of each exposed thermostat."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from homeassistant.const import ATTR_FRIENDLY_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .entity import account_device_info, account_id
from .thermostats import ExposedThermostat

if TYPE_CHECKING:
    from .data import WattShiftConfigEntry
    from .engine import ScheduleEngine

# Model of the per-thermostat devices. Stale devices are found by this model,
# so the other devices of an entry are never removed with them.
THERMOSTAT_MODEL: Final = "Thermostat schedule"


def thermostat_identifier(entry: WattShiftConfigEntry, ref: str) -> tuple[str, str]:
    """Return the device registry identifier of a thermostat's WattShift device."""
    return (DOMAIN, f"{account_id(entry)}_{ref}")


@callback
def async_thermostat_name(hass: HomeAssistant, thermostat: ExposedThermostat) -> str:
    """Return the name the thermostat's WattShift device is given."""
    entity_id = thermostat.entity_id
    if entity_id is None:
        return thermostat.ref
    state = hass.states.get(entity_id)
    if state is not None and (name := state.attributes.get(ATTR_FRIENDLY_NAME)):
        return str(name)
    entry = er.async_get(hass).async_get(entity_id)
    if entry is not None and (registry_name := entry.name or entry.original_name):
        return registry_name
    return entity_id


class ThermostatScheduleEntity(Entity):
    """An entity that shows or controls one thermostat's WattShift schedule."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattShiftConfigEntry,
        thermostat: ExposedThermostat,
        key: str,
    ) -> None:
        """Attach the entity to the thermostat's WattShift device."""
        self._entry = entry
        self._ref = thermostat.ref
        self._attr_unique_id = f"{account_id(entry)}_{thermostat.ref}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={thermostat_identifier(entry, thermostat.ref)},
            name=async_thermostat_name(hass, thermostat),
            manufacturer="WattShift",
            model=THERMOSTAT_MODEL,
            via_device=(DOMAIN, account_id(entry)),
        )

    @property
    def engine(self) -> ScheduleEngine:
        """The schedule engine of the entry."""
        return self._entry.runtime_data.schedules

    async def async_added_to_hass(self) -> None:
        """Write the state again whenever the thermostat's schedule changes."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.engine.async_add_listener(self._ref, self.async_write_ha_state)
        )


@callback
def async_add_thermostat_entities(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[ExposedThermostat], Iterable[Entity]],
) -> None:
    """Add entities for every exposed thermostat, now and whenever one is exposed."""
    directory = entry.runtime_data.thermostats
    added: set[str] = set()
    # The thermostat devices name the account device as via_device, so it must
    # exist before the first of them, whichever platform is set up first.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **account_device_info(entry)
    )

    @callback
    def add_new() -> None:
        refs = {thermostat.ref for thermostat in directory.thermostats}
        # A thermostat exposed again later gets its entities back.
        added.intersection_update(refs)
        entities: list[Entity] = []
        for thermostat in directory.thermostats:
            if thermostat.ref not in added:
                added.add(thermostat.ref)
                entities.extend(create(thermostat))
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(directory.async_add_listener(add_new))


@callback
def async_remove_thermostat_devices(
    hass: HomeAssistant, entry: WattShiftConfigEntry, keep: set[str]
) -> None:
    """Remove the WattShift devices, and so the entities, of unexposed thermostats."""
    registry = dr.async_get(hass)
    kept = {thermostat_identifier(entry, ref) for ref in keep}
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device.model != THERMOSTAT_MODEL or device.identifiers & kept:
            continue
        registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
