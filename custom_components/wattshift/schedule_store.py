"""Keep each thermostat's schedule, opt-out and override across restarts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER
from .overrides import Override
from .schedule import ScheduleBlock, block_from_dict, block_to_dict

STORAGE_VERSION: Final = 1
# Seconds a change waits before it is written, so that a burst of deliveries
# and switch changes costs one write.
SAVE_DELAY: Final = 10


@dataclass(slots=True)
class StoredThermostat:
    """Stored data of one thermostat."""

    following: bool = True
    blocks: tuple[ScheduleBlock, ...] = ()
    override: Override | None = None


class ScheduleStore:
    """One Home Assistant store per config entry, written with a delay."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Open the store of one config entry."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry_id)
        )
        self._data_func: Callable[[], dict[str, Any]] | None = None
        self._dirty = False

    async def async_load(self) -> dict[str, StoredThermostat]:
        """Read every thermostat's stored data, keyed by thermostat reference."""
        data = await self._store.async_load()
        stored: dict[str, StoredThermostat] = {}
        for ref, raw in ((data or {}).get("thermostats") or {}).items():
            try:
                stored[ref] = _thermostat_from_dict(raw)
            except (KeyError, TypeError, ValueError):
                LOGGER.warning(
                    "Ignored the stored schedule of %s because it cannot be read", ref
                )
        return stored

    @callback
    def async_schedule_save(self, data_func: Callable[[], dict[str, Any]]) -> None:
        """Write the data data_func returns once the save delay has passed."""
        self._data_func = data_func
        self._dirty = True
        self._store.async_delay_save(self._data_to_write, SAVE_DELAY)

    def _data_to_write(self) -> dict[str, Any]:
        """Return the data the store is about to write."""
        assert self._data_func is not None
        self._dirty = False
        return self._data_func()

    async def async_flush(self) -> None:
        """Write a pending save now, as an entry unloads."""
        if self._dirty:
            await self._store.async_save(self._data_to_write())


def storage_key(entry_id: str) -> str:
    """Return the storage key of a config entry's schedules."""
    return f"{DOMAIN}.schedules.{entry_id}"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the stored schedules of a removed config entry, logging any failure."""
    store = Store[dict[str, Any]](hass, STORAGE_VERSION, storage_key(entry_id))
    try:
        await store.async_remove()
    except OSError as err:
        LOGGER.warning(
            "Could not delete the stored schedules of config entry %s: %s",
            entry_id,
            err,
        )


def thermostats_to_dict(thermostats: Mapping[str, StoredThermostat]) -> dict[str, Any]:
    """Serialise every thermostat's data for the store."""
    return {
        "thermostats": {
            ref: {
                "following": stored.following,
                "blocks": [block_to_dict(block) for block in stored.blocks],
                "override": stored.override.as_dict() if stored.override else None,
            }
            for ref, stored in thermostats.items()
        }
    }


def _thermostat_from_dict(raw: Mapping[str, Any]) -> StoredThermostat:
    """Read one thermostat's data written by thermostats_to_dict."""
    override = raw.get("override")
    return StoredThermostat(
        following=bool(raw.get("following", True)),
        blocks=tuple(block_from_dict(block) for block in raw.get("blocks") or ()),
        override=Override.from_dict(override) if override else None,
    )
