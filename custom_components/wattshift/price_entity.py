"""Base entity for the price entities of a WattShift home."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .data import WattShiftConfigEntry
from .entity import account_device_info, account_id
from .price_board import PriceBoard
from .price_signal import PriceInterval
from .price_timeline import HomeView

# The attribute with the upcoming prices; it is too large for the recorder.
ATTR_PRICES = "prices"
PRICE_UNIT = "USD/kWh"
# Model of the per-home devices. The user can remove devices of this model
# only, and not the account device or a thermostat's device.
HOME_MODEL: Final = "Home"

type PriceSeries = list[list[str | float | None]]


def home_device_info(entry: WattShiftConfigEntry, home_id: str) -> DeviceInfo:
    """Describe the device of one WattShift home, below the account device."""
    board = entry.runtime_data.prices
    return DeviceInfo(
        identifiers={board.device_identifier(home_id)},
        name=board.home_name(home_id) or home_id,
        manufacturer="WattShift",
        model=HOME_MODEL,
        entry_type=DeviceEntryType.SERVICE,
        via_device=(DOMAIN, account_id(entry)),
    )


async def async_remove_home_device(
    entry: WattShiftConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Forget the home of a device the user removes, and reject other devices.

    A home device is rejected too while the entry is not loaded, because its
    home would come back from the store at the next setup. A removed home
    comes back, with its device, when WattShift sends its prices again.
    """
    if device.model != HOME_MODEL or entry.state is not ConfigEntryState.LOADED:
        return False
    prefix = f"{account_id(entry)}_"
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            await entry.runtime_data.prices.async_remove_home(
                identifier.removeprefix(prefix)
            )
            return True
    return False


@callback
def async_add_home_entities(
    hass: HomeAssistant,
    entry: WattShiftConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[str], Iterable[Entity]],
) -> None:
    """Add the entities of every known home now and of each new home later."""
    # Home devices name the account device as via_device, so it must exist
    # before the first of them, whichever platform adds its entities first.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **account_device_info(entry)
    )
    board = entry.runtime_data.prices
    for home_id in board.homes:
        async_add_entities(create(home_id))
    entry.async_on_unload(
        board.async_add_home_listener(
            lambda home_id: async_add_entities(create(home_id))
        )
    )


def price_series(
    intervals: Iterable[PriceInterval],
    value_fn: Callable[[PriceInterval], float | None],
) -> PriceSeries:
    """List [start, price] pairs, each price applying until the next start.

    A null price marks a gap, and the last pair, with a null price, marks
    the end of the last interval, so that a chart can draw steps without
    knowing any interval length.
    """
    series: PriceSeries = []
    previous_end: datetime | None = None
    for interval in intervals:
        if previous_end is not None and interval.start > previous_end:
            series.append([previous_end.isoformat(), None])
        series.append([interval.start.isoformat(), value_fn(interval)])
        previous_end = interval.end
    if previous_end is not None:
        series.append([previous_end.isoformat(), None])
    return series


class WattShiftHomeEntity(Entity):
    """An entity of a home's price signal, updated at each interval boundary."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _unrecorded_attributes = frozenset({ATTR_PRICES})

    def __init__(self, entry: WattShiftConfigEntry, home_id: str, key: str) -> None:
        """Attach the entity to the home's device with a stable unique id."""
        self._board: PriceBoard = entry.runtime_data.prices
        self._home_id = home_id
        self._attr_unique_id = f"{account_id(entry)}_{home_id}_{key}"
        self._attr_device_info = home_device_info(entry, home_id)

    @property
    def home_view(self) -> HomeView | None:
        """What the home's prices show now."""
        return self._board.view(self._home_id)

    @property
    def available(self) -> bool:
        """Return whether a known interval has not ended yet."""
        view = self.home_view
        return view is not None and view.available

    async def async_added_to_hass(self) -> None:
        """Follow the home's prices."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._board.async_add_listener(self._home_id, self._async_view_changed)
        )

    @callback
    def _async_view_changed(self) -> None:
        """Write the state the new view shows."""
        self.async_write_ha_state()
