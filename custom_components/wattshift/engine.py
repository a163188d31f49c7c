"""Receive, store, time and apply WattShift's set-point schedules.

Each thermostat has at most one timer, set to its next block start or end or
to the end of a user override, so the cost does not grow with the number of
blocks. Timers run on absolute UTC instants, so clock changes move nothing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Final

from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    EventStateChangedData,
    HassJob,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import (
    async_call_later,
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .api import EventType
from .const import (
    CONF_APPLY_SCHEDULES,
    CONF_DETECT_OVERRIDES,
    CONF_OVERRIDE_HOLD,
    DEFAULT_APPLY_SCHEDULES,
    DEFAULT_DETECT_OVERRIDES,
    DEFAULT_OVERRIDE_HOLD,
    LOGGER,
)
from .contract import (
    DeviceOutcome,
    Envelope,
    PayloadError,
    parse_set_point_schedule,
    schedule_acknowledgement,
    schedule_query_fields,
)
from .data import WattShiftConfigEntry
from .outcomes import predict_outcomes
from .overrides import (
    EVENT_OVERRIDE,
    AppliedTarget,
    Override,
    hold_until,
    is_available,
    is_user_override,
    matches,
    setting_of,
)
from .query import ThermostatQueryHandler
from .receiver import EventReply, WebhookReceiver
from .schedule import (
    DeviceSchedule,
    ScheduleBlock,
    block_at,
    merge_schedule,
    next_block,
    next_boundary,
    prune_blocks,
)
from .schedule_store import ScheduleStore, StoredThermostat, thermostats_to_dict
from .thermostat_entity import async_remove_thermostat_devices
from .thermostats import ExposedThermostat, ThermostatDirectory
from .writer import async_read_traits, async_write_block

SCHEDULES_OFF_REASON: Final = (
    "Applying WattShift schedules is turned off in the integration's options."
)

# How many of our recent write contexts are remembered per thermostat.
_OWN_CONTEXTS_KEPT: Final = 8
# Seconds the writes a delivery starts wait, so that they do not compete for
# the event loop with sending its acknowledgement, which for 100 thermostats
# of 96 blocks each is over a megabyte.
REFRESH_DELAY: Final = 0.5


class Source(StrEnum):
    """Origin of the mode and setpoints a thermostat shows."""

    WATTSHIFT = "wattshift"
    USER = "user"
    DEVICE = "device"


@dataclass(slots=True)
class ThermostatSchedule:
    """The schedule state of one exposed thermostat."""

    blocks: tuple[ScheduleBlock, ...] = ()
    following: bool = True
    override: Override | None = None
    applied: AppliedTarget | None = None
    handled_block: ScheduleBlock | None = None
    """The block last written or skipped, so that it is never written twice."""

    last_error: str | None = None
    own_context_ids: deque[str] = field(
        default_factory=lambda: deque(maxlen=_OWN_CONTEXTS_KEPT)
    )
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    cancel_timer: CALLBACK_TYPE | None = None


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    """State of one thermostat's schedule now."""

    enabled: bool
    following: bool
    block: ScheduleBlock | None
    next_block: ScheduleBlock | None
    source: Source | None
    override_until: datetime | None
    last_error: str | None


class ScheduleEngine:
    """Own the schedules of one config entry from delivery to climate service call."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattShiftConfigEntry,
        thermostats: ThermostatDirectory,
        receiver: WebhookReceiver,
        query: ThermostatQueryHandler,
        *,
        on_unknown_device: Callable[[str], None],
    ) -> None:
        """Prepare the engine; nothing runs until async_start."""
        self._hass = hass
        self._entry = entry
        self._thermostats = thermostats
        self._receiver = receiver
        self._query = query
        self._on_unknown_device = on_unknown_device
        self._store = ScheduleStore(hass, entry.entry_id)
        self._schedules: dict[str, ThermostatSchedule] = {}
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._cancel_at_started: CALLBACK_TYPE | None = None
        self._cancel_refresh: CALLBACK_TYPE | None = None
        self._pending_refresh: set[str] = set()
        self._untrack_states: CALLBACK_TYPE | None = None
        self._enabled = False
        self._running = False
        """True while schedules are on and Home Assistant has started."""

    async def async_load(self) -> None:
        """Read the stored schedules of the exposed thermostats."""
        stored = await self._store.async_load()
        for thermostat in self._thermostats.thermostats:
            saved = stored.get(thermostat.ref) or StoredThermostat()
            self._schedules[thermostat.ref] = ThermostatSchedule(
                blocks=saved.blocks, following=saved.following, override=saved.override
            )

    @callback
    def async_start(self) -> None:
        """Follow the thermostats and the options, and start if schedules are on."""
        self._unsubscribers.append(
            self._thermostats.async_add_listener(self._async_thermostats_changed)
        )
        self._unsubscribers.append(
            self._query.async_add_extension(self._add_query_fields)
        )
        async_remove_thermostat_devices(
            self._hass, self._entry, keep=set(self._schedules)
        )
        self.async_options_updated()

    async def async_stop(self) -> None:
        """Stop every timer and listener and write what is not saved yet."""
        self._disable()
        while self._unsubscribers:
            self._unsubscribers.pop()()
        await self._store.async_flush()

    @callback
    def async_options_updated(self) -> None:
        """Start or stop applying schedules after an options change."""
        enabled = bool(
            self._entry.options.get(CONF_APPLY_SCHEDULES, DEFAULT_APPLY_SCHEDULES)
        )
        if enabled and not self._enabled:
            self._enable()
        elif not enabled and self._enabled:
            self._disable()
            LOGGER.info("Stopped applying WattShift schedules")

    @callback
    def async_add_listener(
        self, ref: str, listener: Callable[[], None]
    ) -> CALLBACK_TYPE:
        """Call listener whenever the schedule of one thermostat changes."""
        listeners = self._listeners.setdefault(ref, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    @callback
    def async_blocks(self, ref: str) -> tuple[ScheduleBlock, ...]:
        """Return the stored blocks of one thermostat."""
        schedule = self._schedules.get(ref)
        return schedule.blocks if schedule is not None else ()

    @callback
    def async_status(self, ref: str) -> ScheduleStatus | None:
        """Describe what one thermostat's schedule is doing now."""
        schedule = self._schedules.get(ref)
        if schedule is None:
            return None
        now = dt_util.utcnow()
        block = block_at(schedule.blocks, now)
        override = _active_override(schedule, now)
        return ScheduleStatus(
            enabled=self._enabled,
            following=schedule.following,
            block=block,
            next_block=next_block(schedule.blocks, now),
            source=self._source(ref, schedule, block, override),
            override_until=override.until if override is not None else None,
            last_error=schedule.last_error,
        )

    @callback
    def async_set_following(self, ref: str, following: bool) -> None:
        """Turn following WattShift on or off for one thermostat.

        Turning it off writes nothing to the thermostat. Turning it on drops a
        held override and writes the block in force now.
        """
        schedule = self._schedules.get(ref)
        if schedule is None or schedule.following == following:
            return
        schedule.following = following
        if following:
            schedule.override = None
            schedule.handled_block = None
        self._save()
        self._refresh(ref)

    async def async_handle_schedule(self, envelope: Envelope) -> EventReply:
        """Check, store and plan a SET_POINT_SCHEDULE, and acknowledge it."""
        schedules = parse_set_point_schedule(envelope)
        targets = self._resolve_devices(schedules)
        now = dt_util.utcnow()
        changed: list[str] = []
        outcomes: dict[str, DeviceOutcome | None] = {}
        for device_id, delivered in schedules.items():
            thermostat = targets[device_id]
            if thermostat is None:
                outcomes[device_id] = None
                self._on_unknown_device(device_id)
                continue
            schedule = self._schedules.setdefault(thermostat.ref, ThermostatSchedule())
            merged = prune_blocks(merge_schedule(schedule.blocks, delivered), now)
            if merged != schedule.blocks:
                schedule.blocks = merged
                changed.append(thermostat.ref)
            outcomes[device_id] = self._outcome(thermostat, schedule, delivered, now)

        if changed:
            self._save()
            self._query.async_invalidate()
            # Writes, timers and entity updates start after the acknowledgement
            # has been built, so that a large delivery is acknowledged quickly.
            self._pending_refresh.update(changed)
            self._schedule_refresh()
        return EventReply(
            schedule_acknowledgement(outcomes, self._hass.config.units.temperature_unit)
        )

    def _resolve_devices(
        self, schedules: dict[str, DeviceSchedule]
    ) -> dict[str, ExposedThermostat | None]:
        """Find the thermostat of each delivered device id."""
        targets: dict[str, ExposedThermostat | None] = {}
        named_by: dict[str, str] = {}
        for device_id in schedules:
            thermostat = self._thermostats.find(device_id)
            if thermostat is not None:
                if (other := named_by.get(thermostat.ref)) is not None:
                    raise PayloadError(
                        f"{other} and {device_id} name the same thermostat."
                    )
                named_by[thermostat.ref] = device_id
            targets[device_id] = thermostat
        return targets

    def _outcome(
        self,
        thermostat: ExposedThermostat,
        schedule: ThermostatSchedule,
        delivered: DeviceSchedule,
        now: datetime,
    ) -> DeviceOutcome:
        """Predict what happens to each delivered block on its thermostat."""
        entity_id = thermostat.entity_id
        override = _active_override(schedule, now)
        return DeviceOutcome(
            entity_id=entity_id,
            following=schedule.following,
            blocks=predict_outcomes(
                delivered.blocks,
                following=schedule.following,
                traits=async_read_traits(self._hass, entity_id) if entity_id else None,
                override_until=override.until if override is not None else None,
                now=now,
            ),
            last_error=schedule.last_error,
        )

    def _enable(self) -> None:
        """Handle deliveries now and write blocks once Home Assistant has started."""
        self._enabled = True
        self._query.async_invalidate()
        self._receiver.async_set_handler(
            EventType.SET_POINT_SCHEDULE, self.async_handle_schedule
        )
        self._cancel_at_started = async_at_started(self._hass, self._async_hass_started)

    @callback
    def _async_hass_started(self, _hass: HomeAssistant) -> None:
        """Write the block in force now for every thermostat and start the timers.

        Blocks that ended while Home Assistant was stopped are not replayed.
        """
        self._cancel_at_started = None
        self._running = True
        self._track_states()
        for ref in list(self._schedules):
            self._refresh(ref)

    def _disable(self) -> None:
        """Stop writing and acknowledge deliveries as not handled."""
        self._enabled = False
        self._running = False
        self._query.async_invalidate()
        self._receiver.async_remove_handler(
            EventType.SET_POINT_SCHEDULE, SCHEDULES_OFF_REASON
        )
        if self._cancel_at_started is not None:
            self._cancel_at_started()
            self._cancel_at_started = None
        if self._cancel_refresh is not None:
            self._cancel_refresh()
            self._cancel_refresh = None
        self._pending_refresh.clear()
        if self._untrack_states is not None:
            self._untrack_states()
            self._untrack_states = None
        for schedule in self._schedules.values():
            _cancel_timer(schedule)
            # Turning schedules on again writes the block in force, as a restart does.
            schedule.handled_block = None

    @callback
    def _refresh(self, ref: str) -> None:
        """Bring one thermostat up to date with the clock and its schedule."""
        schedule = self._schedules.get(ref)
        if schedule is None:
            return
        now = dt_util.utcnow()
        if schedule.override is not None and schedule.override.until <= now:
            schedule.override = None
            # The block in force is written again once the override ends.
            schedule.handled_block = None
            self._save()
        if self._running:
            block = block_at(schedule.blocks, now)
            if (
                block is not None
                and block != schedule.handled_block
                and schedule.following
                and schedule.override is None
            ):
                self._entry.async_create_task(
                    self._hass,
                    self._async_apply(ref),
                    f"Apply the WattShift schedule to {ref}",
                    eager_start=False,
                )
            self._set_timer(ref, schedule, now)
        self._notify(ref)

    @callback
    def _schedule_refresh(self) -> None:
        """Start the pending refreshes after REFRESH_DELAY, or at once for 0."""
        if self._cancel_refresh is not None:
            return
        if REFRESH_DELAY <= 0:
            handle = self._hass.loop.call_soon(self._async_refresh_pending)
            self._cancel_refresh = handle.cancel
            return
        self._cancel_refresh = async_call_later(
            self._hass,
            REFRESH_DELAY,
            HassJob(self._async_refresh_pending, cancel_on_shutdown=True),
        )

    @callback
    def _async_refresh_pending(self, _now: datetime | None = None) -> None:
        """Bring the thermostats recent deliveries changed up to date."""
        self._cancel_refresh = None
        refs = sorted(self._pending_refresh)
        self._pending_refresh.clear()
        for ref in refs:
            self._refresh(ref)

    def _set_timer(self, ref: str, schedule: ThermostatSchedule, now: datetime) -> None:
        """Set the one timer of a thermostat to its next instant of interest."""
        _cancel_timer(schedule)
        instants = [next_boundary(schedule.blocks, now)]
        if schedule.override is not None:
            instants.append(schedule.override.until)
        upcoming = [instant for instant in instants if instant is not None]
        if upcoming:
            schedule.cancel_timer = async_track_point_in_utc_time(
                self._hass, partial(self._async_timer_fired, ref), min(upcoming)
            )

    @callback
    def _async_timer_fired(self, ref: str, _now: datetime) -> None:
        """Move a thermostat on at a block boundary or an override's end."""
        if (schedule := self._schedules.get(ref)) is not None:
            schedule.cancel_timer = None
        self._refresh(ref)

    async def _async_apply(self, ref: str) -> None:
        """Write the block in force now to one thermostat, once."""
        schedule = self._schedules.get(ref)
        thermostat = self._thermostats.find(ref)
        if schedule is None or thermostat is None or thermostat.entity_id is None:
            return
        entity_id = thermostat.entity_id
        async with schedule.lock:
            block = block_at(schedule.blocks, dt_util.utcnow())
            if (
                not self._running
                or block is None
                or block == schedule.handled_block
                or not schedule.following
                or schedule.override is not None
            ):
                return
            context = Context()
            schedule.own_context_ids.append(context.id)
            result = await async_write_block(self._hass, entity_id, block, context)
            if result.unavailable:
                LOGGER.debug("%s is unavailable; its block waits for it", entity_id)
                return
            schedule.handled_block = block
            schedule.applied = (
                AppliedTarget(
                    block_start=block.start,
                    target=result.target,
                    written_at=dt_util.utcnow(),
                    half_step=result.half_step,
                )
                if result.target is not None
                else None
            )
            if result.skip_reason is not None:
                LOGGER.debug(
                    "Skipped a block for %s: %s", entity_id, result.skip_reason
                )
            _record_error(schedule, entity_id, result.error)
        self._notify(ref)

    def _track_states(self) -> None:
        """Follow the state changes of every exposed thermostat."""
        if self._untrack_states is not None:
            self._untrack_states()
            self._untrack_states = None
        entity_ids = [
            thermostat.entity_id
            for thermostat in self._thermostats.thermostats
            if thermostat.entity_id is not None
        ]
        if entity_ids:
            self._untrack_states = async_track_state_change_event(
                self._hass, entity_ids, self._async_state_changed
            )

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        """Write a missed block on return, or notice a user's override."""
        thermostat = self._thermostats.by_entity_id(event.data["entity_id"])
        if thermostat is None:
            return
        old_state = event.data["old_state"]
        new_state = event.data["new_state"]
        if not is_available(new_state):
            return
        assert new_state is not None
        if not is_available(old_state):
            # Back from unavailable: write the block it missed, if still in force.
            self._refresh(thermostat.ref)
            return
        assert old_state is not None
        if self._detect_override(thermostat, old_state, new_state, event.context):
            return
        if setting_of(old_state) != setting_of(new_state):
            self._notify(thermostat.ref)

    def _detect_override(
        self,
        thermostat: ExposedThermostat,
        old_state: State,
        new_state: State,
        context: Context,
    ) -> bool:
        """Hold a user's change to what we set; return whether one was found."""
        options = self._entry.options
        schedule = self._schedules.get(thermostat.ref)
        if (
            schedule is None
            or not options.get(CONF_DETECT_OVERRIDES, DEFAULT_DETECT_OVERRIDES)
            or schedule.override is not None
            or not schedule.following
        ):
            return False
        now = dt_util.utcnow()
        block = block_at(schedule.blocks, now)
        applied = schedule.applied
        if block is None or applied is None or applied.block_start != block.start:
            return False
        if not is_user_override(
            applied,
            old_state,
            new_state,
            context=context,
            own_context_ids=schedule.own_context_ids,
            now=now,
        ):
            return False

        hold = float(options.get(CONF_OVERRIDE_HOLD, DEFAULT_OVERRIDE_HOLD) or 0)
        override = Override(
            until=hold_until(now, block.end, hold),
            scheduled=applied.target.as_dict(),
            user=setting_of(new_state),
        )
        schedule.override = override
        LOGGER.info(
            "%s was changed outside WattShift; its schedule waits until %s",
            new_state.entity_id,
            override.until.isoformat(),
        )
        self._hass.bus.async_fire(
            EVENT_OVERRIDE,
            {
                "entity_id": new_state.entity_id,
                "wattshift_device_id": thermostat.wattshift_device_id,
                **override.as_dict(),
            },
            context=context,
        )
        self._save()
        self._set_timer(thermostat.ref, schedule, now)
        self._notify(thermostat.ref)
        return True

    def _source(
        self,
        ref: str,
        schedule: ThermostatSchedule,
        block: ScheduleBlock | None,
        override: Override | None,
    ) -> Source | None:
        """Say where the setting in force came from, while a block is in force."""
        if block is None:
            return None
        if override is not None:
            return Source.USER
        applied = schedule.applied
        thermostat = self._thermostats.find(ref)
        state = (
            self._hass.states.get(thermostat.entity_id)
            if thermostat is not None and thermostat.entity_id is not None
            else None
        )
        if (
            schedule.following
            and applied is not None
            and applied.block_start == block.start
            and state is not None
            and matches(applied.target, state, applied.half_step)
        ):
            return Source.WATTSHIFT
        return Source.DEVICE

    @callback
    def _add_query_fields(
        self, thermostat: ExposedThermostat, record: dict[str, object]
    ) -> None:
        """Add the schedule of an available thermostat to its THERMOSTAT_QUERY record."""
        status = self.async_status(thermostat.ref)
        if status is None or not record.get("available"):
            return
        record["schedule"] = schedule_query_fields(
            enabled=status.enabled,
            following=status.following,
            block=status.block,
            next_block=status.next_block,
            source=status.source,
            override_until=status.override_until,
            last_error=status.last_error,
        )

    @callback
    def _async_thermostats_changed(self) -> None:
        """Add and drop schedules as thermostats are exposed or removed."""
        refs = {thermostat.ref for thermostat in self._thermostats.thermostats}
        removed = set(self._schedules) - refs
        for ref in removed:
            _cancel_timer(self._schedules.pop(ref))
            self._listeners.pop(ref, None)
        added = refs - set(self._schedules)
        for ref in added:
            self._schedules[ref] = ThermostatSchedule()
        if removed:
            self._save()
            async_remove_thermostat_devices(self._hass, self._entry, keep=refs)
        if self._running:
            # Entity ids may have been renamed as well.
            self._track_states()
            for ref in added:
                self._refresh(ref)

    def _save(self) -> None:
        """Write every thermostat's data after the save delay.

        The snapshot is taken now, on the event loop, because Home Assistant
        2025.4 builds delayed saves in a worker thread, which must not read
        schedules the loop is changing. Blocks and overrides are immutable, so
        the snapshot costs one small object per thermostat.
        """
        snapshot = {
            ref: StoredThermostat(
                following=schedule.following,
                blocks=schedule.blocks,
                override=schedule.override,
            )
            for ref, schedule in self._schedules.items()
        }
        self._store.async_schedule_save(partial(thermostats_to_dict, snapshot))

    def _notify(self, ref: str) -> None:
        """Tell the query and the entities of one thermostat that its schedule changed."""
        self._query.async_invalidate()
        for listener in list(self._listeners.get(ref, ())):
            listener()


def _active_override(schedule: ThermostatSchedule, now: datetime) -> Override | None:
    """Return the override held at now, if any."""
    override = schedule.override
    return override if override is not None and override.until > now else None


def _cancel_timer(schedule: ThermostatSchedule) -> None:
    """Cancel a thermostat's timer, if it has one."""
    if schedule.cancel_timer is not None:
        schedule.cancel_timer()
        schedule.cancel_timer = None


def _record_error(
    schedule: ThermostatSchedule, entity_id: str, error: str | None
) -> None:
    """Keep the last write error and log each new one once."""
    if error is not None and error != schedule.last_error:
        LOGGER.warning(
            "Could not apply the WattShift schedule to %s: %s", entity_id, error
        )
    elif error is None and schedule.last_error is not None:
        LOGGER.info("Applied the WattShift schedule to %s again", entity_id)
    schedule.last_error = error
