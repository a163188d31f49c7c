"""The climate entities a config entry exposes to WattShift.

Options store each thermostat by its entity registry id, so that renaming an
entity id keeps it exposed. A climate entity without a unique id has no
registry entry and is stored by its entity id instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er


@dataclass(frozen=True, slots=True)
class ExposedThermostat:
    """One climate entity that WattShift may see."""

    ref: str
    """Entity registry id, or the entity id for entities outside the registry."""

    entity_id: str | None
    """Current entity id, or None once the registry entry has been removed."""

    wattshift_device_id: str | None
    """WattShift device id (``ws_device_…``) the user linked, if any."""


@callback
def async_refs_from_entity_ids(
    hass: HomeAssistant, entity_ids: Iterable[str]
) -> list[str]:
    """Return the stable reference for each entity id, keeping their order."""
    registry = er.async_get(hass)
    refs: list[str] = []
    for entity_id in entity_ids:
        entry = registry.async_get(entity_id)
        refs.append(entry.id if entry is not None else entity_id)
    return refs


@callback
def async_entity_id_from_ref(hass: HomeAssistant, ref: str) -> str | None:
    """Return the current entity id for a stored reference, if it still exists."""
    if "." in ref:
        # Entity ids contain a dot, registry ids (hex UUIDs) never do.
        return ref
    entry = er.async_get(hass).entities.get_entry(ref)
    return entry.entity_id if entry is not None else None


class ThermostatDirectory:
    """Resolve the exposed thermostats and look them up by any identifier."""

    def __init__(
        self,
        hass: HomeAssistant,
        refs: Iterable[str],
        device_links: Mapping[str, str],
    ) -> None:
        """Build the directory from the entry's options."""
        self._hass = hass
        self._refs = tuple(dict.fromkeys(refs))
        self._device_links = dict(device_links)
        self._last_entity_ids: dict[str, str] = {}
        self._thermostats: tuple[ExposedThermostat, ...] = ()
        self._index: dict[str, ExposedThermostat] = {}
        self._listeners: list[Callable[[], None]] = []
        self._resolve()

    @property
    def thermostats(self) -> tuple[ExposedThermostat, ...]:
        """The exposed thermostats, in the order the user chose them."""
        return self._thermostats

    @callback
    def find(self, identifier: str) -> ExposedThermostat | None:
        """Look a thermostat up by WattShift device id, reference or entity id."""
        return self._index.get(identifier)

    @callback
    def by_entity_id(self, entity_id: str) -> ExposedThermostat | None:
        """Return the exposed thermostat that currently has this entity id."""
        thermostat = self._index.get(entity_id)
        if thermostat is None or thermostat.entity_id != entity_id:
            return None
        return thermostat

    @callback
    def async_update(
        self, refs: Iterable[str], device_links: Mapping[str, str]
    ) -> None:
        """Replace the exposed thermostats after an options change."""
        self._refs = tuple(dict.fromkeys(refs))
        self._device_links = dict(device_links)
        self._resolve()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call listener whenever the set of thermostats or their ids change."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_track_registry(self) -> Callable[[], None]:
        """Follow entity id renames and removals; return the unsubscribe."""
        return self._hass.bus.async_listen(
            er.EVENT_ENTITY_REGISTRY_UPDATED,
            self._async_registry_updated,
            event_filter=self._is_relevant_registry_event,
        )

    @callback
    def _is_relevant_registry_event(
        self, event_data: er.EventEntityRegistryUpdatedData
    ) -> bool:
        """Keep registry events that touch an exposed thermostat."""
        entity_id = event_data["entity_id"]
        if entity_id in self._index:
            return True
        old_entity_id = event_data.get("old_entity_id")
        return old_entity_id is not None and old_entity_id in self._index

    @callback
    def _async_registry_updated(
        self, _event: Event[er.EventEntityRegistryUpdatedData]
    ) -> None:
        """Resolve the references again after a rename or removal."""
        self._resolve()

    def _resolve(self) -> None:
        """Map every reference to its current entity id and index the result."""
        thermostats: list[ExposedThermostat] = []
        index: dict[str, ExposedThermostat] = {}
        for ref in self._refs:
            entity_id = async_entity_id_from_ref(self._hass, ref)
            if entity_id is not None:
                self._last_entity_ids[ref] = entity_id
            thermostat = ExposedThermostat(
                ref=ref,
                entity_id=entity_id,
                wattshift_device_id=self._device_links.get(ref),
            )
            thermostats.append(thermostat)
            index[ref] = thermostat
            if entity_id is not None:
                index[entity_id] = thermostat
            elif (last := self._last_entity_ids.get(ref)) is not None:
                # Keep matching the id the entity had before it was removed.
                index.setdefault(last, thermostat)
            if thermostat.wattshift_device_id:
                index[thermostat.wattshift_device_id] = thermostat

        self._thermostats = tuple(thermostats)
        self._index = index
        for listener in list(self._listeners):
            listener()

    @callback
    def last_entity_id(self, ref: str) -> str | None:
        """Return the entity id a thermostat had when it was last resolved."""
        return self._last_entity_ids.get(ref)
