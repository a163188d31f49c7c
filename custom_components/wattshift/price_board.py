"""Keep the price signals of one config entry's homes and publish them.

The board receives PRICE_SIGNAL deliveries, keeps one timeline per home,
stores the homes and their intervals so that they survive a restart, fires
an event per home and signal, and updates the entities at every interval
boundary, with one timer for the next boundary of any home.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api import EventType
from .const import (
    CONF_PRICE_PEAK_THRESHOLD,
    CONF_PRICE_SIGNALS,
    DEFAULT_PRICE_SIGNALS,
    DOMAIN,
    LOGGER,
)
from .contract import (
    Envelope,
    HomePriceBody,
    PayloadError,
    is_valid_home_id,
    price_signal_response,
    split_price_signal,
)
from .price_signal import PriceInterval, parse_price_body, parse_timestamp
from .price_timeline import HomeTimeline, HomeView, PriceSummary, summarize
from .receiver import EventReply

if TYPE_CHECKING:
    from .data import WattShiftConfigEntry

EVENT_PRICE_SIGNAL: Final = "wattshift_price_signal"

STORAGE_VERSION: Final = 1
# Seconds that a run-out or return found between deliveries waits before it
# is written, so that several such changes in a row cost one write.
SAVE_DELAY: Final = 10

# The price entities list the intervals that start within this window.
UPCOMING_WINDOW: Final = timedelta(hours=48)
# Ended intervals still count towards the default peak threshold for this
# long, so that the threshold does not follow the last few known prices
# while a signal runs out.
PRICE_HISTORY: Final = timedelta(hours=24)
# NOTE: A price above 10 USD/kWh is far beyond US retail prices, so it more
# likely means WattShift changed the unit (cents, or USD/MWh) than a real
# price. Such a signal is still accepted, because a real price spike must
# not be lost, but it is logged, once per home until its prices are
# plausible again.
IMPLAUSIBLE_PRICE: Final = 10.0

# Maximum number of homes one config entry keeps. Like the limit per
# delivery, it is far above the few homes of a real account, and it bounds
# what a sender holding the security key can make this entry store.
MAX_HOMES: Final = 200

# Intervals that start this far after a delivery arrives are dropped, so
# that deliveries about ever later windows cannot pile up.
PRICE_HORIZON: Final = timedelta(days=7)
# Maximum number of intervals one home keeps between PRICE_HISTORY before
# now and PRICE_HORIZON after it. Those 8 days at 5-minute resolution are
# 2304 intervals, and documented signals use 15-minute ones.
MAX_HOME_INTERVALS: Final = 3000

PRICE_SIGNALS_OFF_REASON: Final = (
    "Price signals are turned off in the options of the WattShift integration."
)

type HomeListener = Callable[[str], None]


class PriceBoard:
    """The known prices of every home of one WattShift config entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str, account_id: str) -> None:
        """Prepare an empty board, which async_load fills with the stored homes."""
        self._hass = hass
        self._entry_id = entry_id
        self._account_id = account_id
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, price_store_key(entry_id)
        )
        self._timelines: dict[str, HomeTimeline] = {}
        self._views: dict[str, HomeView] = {}
        self._ran_out: set[str] = set()
        self._implausible: set[str] = set()
        # Whether a change waits for a delayed write, which async_stop then
        # makes at once.
        self._unsaved = False
        self._listeners: dict[str, list[CALLBACK_TYPE]] = {}
        self._home_listeners: list[HomeListener] = []
        self._threshold: float | None = None
        self._running = False
        self._cancel_timer: CALLBACK_TYPE | None = None

    @property
    def homes(self) -> list[str]:
        """Ids of every home that has sent a price signal."""
        return list(self._timelines)

    def view(self, home_id: str) -> HomeView | None:
        """Return what a home's prices show now."""
        return self._views.get(home_id)

    def home_name(self, home_id: str) -> str | None:
        """Return the name WattShift gave a home, if it gave one."""
        timeline = self._timelines.get(home_id)
        return timeline.name if timeline else None

    def device_identifier(self, home_id: str) -> tuple[str, str]:
        """Return the device registry identifier of a home's device."""
        return (DOMAIN, f"{self._account_id}_{home_id}")

    async def async_load(self) -> None:
        """Read the homes and intervals stored before the last restart."""
        stored = await self._store.async_load()
        homes = stored.get("homes") if isinstance(stored, Mapping) else None
        if not isinstance(homes, Mapping):
            return
        for home_id, record in homes.items():
            try:
                self._timelines[home_id] = _timeline_from_store(home_id, record)
            except (KeyError, TypeError, ValueError, PayloadError) as err:
                LOGGER.warning(
                    "Ignoring the stored prices of home %s, which are invalid: %s",
                    home_id,
                    err,
                )
                continue
            # The run-out was logged before the restart, so it is not logged
            # again while the home stays without prices.
            if record.get("ran_out") is True:
                self._ran_out.add(home_id)
        self._async_evaluate()
        if self._unsaved:
            # A delayed write from a setup that fails later could overwrite
            # what the next setup stores, so the change is written at once.
            await self._async_save()

    @callback
    def async_start(self) -> None:
        """Start updating the views at each interval boundary."""
        self._running = True
        self._async_evaluate()

    async def async_stop(self) -> None:
        """Stop the boundary timer and write any change not saved yet."""
        self._running = False
        self._cancel_boundary_timer()
        if self._unsaved:
            await self._async_save()

    @callback
    def async_set_threshold(self, threshold: float | None) -> None:
        """Use a fixed peak threshold in USD/kWh, or None for the default."""
        if threshold != self._threshold:
            self._threshold = threshold
            self._async_evaluate()

    async def async_remove_home(self, home_id: str) -> None:
        """Forget a home and its prices until WattShift sends it again."""
        if self._timelines.pop(home_id, None) is None:
            return
        self._views.pop(home_id, None)
        self._ran_out.discard(home_id)
        self._implausible.discard(home_id)
        LOGGER.info("Removed home %s and its prices", home_id)
        self._async_evaluate()
        await self._async_save()

    @callback
    def async_add_listener(
        self, home_id: str, listener: CALLBACK_TYPE
    ) -> CALLBACK_TYPE:
        """Call listener whenever the view of a home changes."""
        listeners = self._listeners.setdefault(home_id, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    @callback
    def async_add_home_listener(self, listener: HomeListener) -> CALLBACK_TYPE:
        """Call listener with the id of each home that appears."""
        self._home_listeners.append(listener)
        return lambda: self._home_listeners.remove(listener)

    async def async_handle(self, envelope: Envelope) -> EventReply:
        """Apply a PRICE_SIGNAL delivery, or reject an invalid one with no change."""
        # Every home is parsed and checked before any is applied, so that one
        # invalid home rejects the whole delivery.
        now = dt_util.utcnow()
        signals = [
            (home, _within_horizon(home.home_id, _parse_home(home), now))
            for home in split_price_signal(envelope)
        ]
        new_homes = [
            home.home_id for home, _ in signals if home.home_id not in self._timelines
        ]
        self._check_room(len(new_homes))
        for home, intervals in signals:
            self._check_interval_count(home.home_id, intervals, now)
        for home, intervals in signals:
            self._apply(home, intervals)
        self._async_evaluate()

        for home_id in new_homes:
            LOGGER.info("Received the first price signal of home %s", home_id)
            for listener in list(self._home_listeners):
                listener(home_id)
        accepted = []
        for home, intervals in signals:
            summary = summarize(intervals)
            self._fire_event(home.home_id, summary)
            accepted.append((home.home_id, summary.count, summary.start, summary.end))

        await self._async_save()
        return EventReply(price_signal_response(accepted))

    def _check_room(self, new_homes: int) -> None:
        """Reject new homes that would take the entry beyond MAX_HOMES."""
        known = len(self._timelines)
        if new_homes and known + new_homes > MAX_HOMES:
            plural = "" if new_homes == 1 else "s"
            raise PayloadError(
                f"The delivery adds {new_homes} new home{plural} to the {known} "
                f"known ones, but at most {MAX_HOMES} homes are kept. Remove the "
                "devices of homes that no longer send prices to make room."
            )

    def _check_interval_count(
        self, home_id: str, intervals: Sequence[PriceInterval], now: datetime
    ) -> None:
        """Reject a signal that would leave a home more than MAX_HOME_INTERVALS."""
        timeline = self._timelines.get(home_id) or HomeTimeline(home_id)
        history_start = now - PRICE_HISTORY
        count = sum(
            1 for interval in timeline.merged(intervals) if interval.end > history_start
        )
        if count > MAX_HOME_INTERVALS:
            raise PayloadError(
                f"Home {home_id} would have {count} price intervals in the "
                f"{PRICE_HISTORY.total_seconds() / 3600:.0f} hours before and the "
                f"{PRICE_HORIZON.days} days after now, but at most "
                f"{MAX_HOME_INTERVALS} are kept per home."
            )

    def _apply(self, home: HomePriceBody, intervals: Sequence[PriceInterval]) -> None:
        """Merge one home's new intervals into its timeline."""
        timeline = self._timelines.get(home.home_id)
        if timeline is None:
            timeline = self._timelines[home.home_id] = HomeTimeline(home.home_id)
        timeline.merge(intervals)
        if home.name is not None and home.name != timeline.name:
            timeline.name = home.name
            self._rename_device(home.home_id, home.name)

        self._log_implausible(home.home_id, intervals)

    def _log_implausible(
        self, home_id: str, intervals: Sequence[PriceInterval]
    ) -> None:
        """Log once when a home's prices become implausible, until they are not."""
        highest = max(abs(interval.price) for interval in intervals)
        if highest <= IMPLAUSIBLE_PRICE:
            self._implausible.discard(home_id)
        elif home_id not in self._implausible:
            self._implausible.add(home_id)
            LOGGER.warning(
                "Home %s has prices up to %s USD/kWh. Check whether WattShift "
                "changed the price unit. This is logged again only after a "
                "signal with plausible prices",
                home_id,
                highest,
            )

    def _rename_device(self, home_id: str, name: str) -> None:
        """Give an existing home device the name WattShift sent."""
        registry = dr.async_get(self._hass)
        device = registry.async_get_device(
            identifiers={self.device_identifier(home_id)}
        )
        if device is not None and device.name != name:
            registry.async_update_device(device.id, name=name)

    def _fire_event(self, home_id: str, summary: PriceSummary) -> None:
        """Announce a received signal of one home on the event bus."""
        self._hass.bus.async_fire(
            EVENT_PRICE_SIGNAL,
            {
                "config_entry_id": self._entry_id,
                "home_id": home_id,
                "start": summary.start.isoformat(),
                "end": summary.end.isoformat(),
                "interval_count": summary.count,
                "min_price": summary.min_price,
                "max_price": summary.max_price,
                "mean_price": summary.mean_price,
            },
        )

    @callback
    def _async_evaluate(self, at: datetime | None = None) -> None:
        """Read every timeline at a moment, update the entities and set the timer."""
        if at is None:
            at = dt_util.utcnow()
        changed = False
        for home_id, timeline in self._timelines.items():
            timeline.prune(at - PRICE_HISTORY)
            view = timeline.view(at, threshold=self._threshold, window=UPCOMING_WINDOW)
            self._views[home_id] = view
            if self._log_availability(view):
                changed = True
        if changed:
            self._unsaved = True
            # The data is built now, on the event loop, because the store
            # calls its data function in a worker thread.
            data = self._data_to_store()
            self._store.async_delay_save(lambda: data, SAVE_DELAY)
        for listeners in self._listeners.values():
            for listener in list(listeners):
                listener()
        self._schedule_boundary_timer(at)

    def _log_availability(self, view: HomeView) -> bool:
        """Log once when a home's prices run out and once when they return.

        Return whether the home ran out or returned, which the store records
        so that a restart does not log the same run-out again.
        """
        home_id = view.home_id
        if not view.available and home_id not in self._ran_out:
            self._ran_out.add(home_id)
            LOGGER.warning(
                "The price signal of home %s has run out; its price entities are "
                "unavailable until WattShift sends new prices",
                home_id,
            )
            return True
        if view.available and home_id in self._ran_out:
            self._ran_out.discard(home_id)
            LOGGER.info("Prices of home %s are current again", home_id)
            return True
        return False

    def _schedule_boundary_timer(self, at: datetime) -> None:
        """Wake up at the next interval boundary of any home."""
        self._cancel_boundary_timer()
        if not self._running:
            return
        boundary = min(
            (
                moment
                for timeline in self._timelines.values()
                if (moment := timeline.next_boundary(at)) is not None
            ),
            default=None,
        )
        if boundary is None:
            return
        self._cancel_timer = async_track_point_in_utc_time(
            self._hass,
            HassJob(self._async_boundary_reached, cancel_on_shutdown=True),
            boundary,
        )

    @callback
    def _async_boundary_reached(self, boundary: datetime) -> None:
        """Show the prices of the interval that starts now."""
        self._cancel_timer = None
        # The timer may fire a moment early, but the views must show the new
        # interval, so they are read at the boundary at the earliest.
        self._async_evaluate(max(dt_util.utcnow(), boundary))

    def _cancel_boundary_timer(self) -> None:
        """Cancel the pending boundary timer."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None

    async def _async_save(self) -> None:
        """Write every home now, replacing any delayed write."""
        self._unsaved = False
        await self._store.async_save(self._data_to_store())

    def _data_to_store(self) -> dict[str, Any]:
        """Describe every home in the stored format."""
        return {
            "homes": {
                home_id: {
                    "name": timeline.name,
                    "ran_out": home_id in self._ran_out,
                    "intervals": [
                        _interval_to_store(interval) for interval in timeline.intervals
                    ],
                }
                for home_id, timeline in self._timelines.items()
            }
        }


@callback
def async_apply_price_options(entry: WattShiftConfigEntry) -> None:
    """Handle PRICE_SIGNAL deliveries only while the option is on."""
    data = entry.runtime_data
    if entry.options.get(CONF_PRICE_SIGNALS, DEFAULT_PRICE_SIGNALS):
        data.receiver.async_set_handler(
            EventType.PRICE_SIGNAL, data.prices.async_handle
        )
    else:
        data.receiver.async_remove_handler(
            EventType.PRICE_SIGNAL, PRICE_SIGNALS_OFF_REASON
        )
    threshold = entry.options.get(CONF_PRICE_PEAK_THRESHOLD)
    data.prices.async_set_threshold(None if threshold is None else float(threshold))


async def async_remove_price_store(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the stored prices of a removed config entry, logging any failure."""
    store = Store[dict[str, Any]](hass, STORAGE_VERSION, price_store_key(entry_id))
    try:
        await store.async_remove()
    except OSError as err:
        LOGGER.warning(
            "Could not delete the stored prices of config entry %s: %s", entry_id, err
        )


def price_store_key(entry_id: str) -> str:
    """Return the storage key of one config entry's prices."""
    return f"{DOMAIN}.prices.{entry_id}"


def _parse_home(home: HomePriceBody) -> tuple[PriceInterval, ...]:
    """Parse one home's body, naming the home in an error."""
    try:
        return parse_price_body(home.body)
    except PayloadError as err:
        raise PayloadError(f"Home {home.home_id}: {err}") from err


def _within_horizon(
    home_id: str, intervals: Sequence[PriceInterval], now: datetime
) -> tuple[PriceInterval, ...]:
    """Drop the intervals that start PRICE_HORIZON or more after now."""
    horizon = now + PRICE_HORIZON
    within = tuple(interval for interval in intervals if interval.start < horizon)
    if not within:
        raise PayloadError(
            f"Home {home_id}: every interval starts at or after "
            f"{horizon.isoformat()}, and only prices for the next "
            f"{PRICE_HORIZON.days} days are kept."
        )
    if len(within) < len(intervals):
        LOGGER.debug(
            "Dropped %d intervals of home %s that start at or after %s",
            len(intervals) - len(within),
            home_id,
            horizon.isoformat(),
        )
    return within


def _interval_to_store(interval: PriceInterval) -> list[Any]:
    """Write an interval as [start, end, price, import, export, confidence]."""
    return [
        interval.start.isoformat(),
        interval.end.isoformat(),
        interval.price,
        interval.import_price,
        interval.export_price,
        interval.confidence,
    ]


def _timeline_from_store(home_id: str, record: Any) -> HomeTimeline:
    """Rebuild a home's timeline from its stored record."""
    if not is_valid_home_id(home_id):
        raise ValueError("the home id is invalid")
    if not isinstance(record, Mapping):
        raise TypeError(f"the stored record is {type(record).__name__}, not an object")
    name = record.get("name")
    return HomeTimeline(
        home_id,
        _intervals_from_store(record["intervals"]),
        name if isinstance(name, str) else None,
    )


def _intervals_from_store(rows: Iterable[Sequence[Any]]) -> list[PriceInterval]:
    """Read stored [start, end, price, import, export, confidence] rows."""
    intervals = [
        PriceInterval(
            start=parse_timestamp(start, "start"),
            end=parse_timestamp(end, "end"),
            price=float(price),
            import_price=None if import_price is None else float(import_price),
            export_price=None if export_price is None else float(export_price),
            confidence=None if confidence is None else float(confidence),
        )
        for start, end, price, import_price, export_price, confidence in rows
    ]
    intervals.sort(key=lambda interval: interval.start)
    for before, after in zip(intervals, intervals[1:], strict=False):
        if after.start < before.end:
            raise ValueError("stored intervals overlap")
    return intervals
