"""Respond to WattShift's THERMOSTAT_QUERY from the exposed climate entities."""

from __future__ import annotations

from collections.abc import Callable
import operator
from typing import Any

from homeassistant.core import HomeAssistant, State, callback
from homeassistant.helpers.json import json_bytes

from .contract import Envelope, ThermostatAnswer, parse_thermostat_query
from .receiver import EventReply
from .thermostats import ExposedThermostat, ThermostatDirectory

type RecordExtension = Callable[[ExposedThermostat, dict[str, Any]], None]
type UnknownDeviceCallback = Callable[[str], None]


class ThermostatQueryHandler:
    """Build the THERMOSTAT_QUERY response from the state machine."""

    def __init__(
        self,
        hass: HomeAssistant,
        thermostats: ThermostatDirectory,
        on_unknown_device: UnknownDeviceCallback | None = None,
    ) -> None:
        """Respond for the thermostats in the directory."""
        self._hass = hass
        self._thermostats = thermostats
        self._on_unknown_device = on_unknown_device
        self._extensions: list[RecordExtension] = []
        # Records built from each state object, per unit. States are immutable
        # and replaced on every change, so an identical state object means an
        # identical record, and a query rebuilds only what changed.
        self._records: dict[
            tuple[str, str], tuple[ExposedThermostat, State | None, dict[str, Any]]
        ] = {}
        # The encoded response to a query about every thermostat, per unit,
        # with the state objects it was built from. WattShift queries every
        # thermostat far more often than any of them changes.
        self._full_responses: dict[str, tuple[tuple[State | None, ...], bytes]] = {}
        thermostats.async_add_listener(self._async_thermostats_changed)

    @callback
    def async_add_extension(self, extension: RecordExtension) -> Callable[[], None]:
        """Let another feature add fields to each thermostat record.

        The owner of an extension calls async_invalidate whenever the fields
        it adds change, because cached responses are reused until then.
        """
        self._extensions.append(extension)
        self.async_invalidate()

        @callback
        def remove() -> None:
            self._extensions.remove(extension)
            self.async_invalidate()

        return remove

    @callback
    def async_invalidate(self) -> None:
        """Forget the cached responses, so the next query builds them again."""
        self._full_responses.clear()

    @callback
    def _async_thermostats_changed(self) -> None:
        """Forget everything built for the previous set of thermostats."""
        self._records.clear()
        self._full_responses.clear()

    async def __call__(self, envelope: Envelope) -> EventReply:
        """Respond to one THERMOSTAT_QUERY."""
        query = parse_thermostat_query(envelope)
        answer = ThermostatAnswer(self._hass.config.units.temperature_unit, query.unit)
        directory = self._thermostats

        unknown: list[str] = []
        if query.device_ids is None:
            targets = directory.thermostats
        else:
            found: dict[str, ExposedThermostat] = {}
            for device_id in query.device_ids:
                thermostat = directory.find(device_id)
                if thermostat is None:
                    unknown.append(device_id)
                else:
                    found.setdefault(thermostat.ref, thermostat)
            targets = tuple(found.values())

        get_state = self._hass.states.get
        states = tuple(
            [
                get_state(thermostat.entity_id) if thermostat.entity_id else None
                for thermostat in targets
            ]
        )
        if query.device_ids is None:
            full = self._full_responses.get(answer.unit)
            if (
                full is not None
                and len(full[0]) == len(states)
                and all(map(operator.is_, full[0], states))
            ):
                return EventReply({}, encoded=full[1])

        cache = self._records
        extensions = self._extensions
        records: dict[str, dict[str, Any]] = {}
        for thermostat, state in zip(targets, states, strict=True):
            key = (thermostat.ref, answer.unit)
            cached = cache.get(key)
            if cached is not None and cached[0] is thermostat and cached[1] is state:
                record = cached[2]
            else:
                record = answer.record(thermostat, state)
                if thermostat.entity_id is None:
                    record["entityId"] = directory.last_entity_id(thermostat.ref)
                cache[key] = (thermostat, state, record)
            if extensions:
                # Extensions add fields that change without a state change, so
                # they work on a copy and the cached record stays clean.
                record = dict(record)
                for extension in extensions:
                    extension(thermostat, record)
            records[thermostat.ref] = record

        if unknown and self._on_unknown_device is not None:
            for device_id in unknown:
                self._on_unknown_device(device_id)

        response = answer.response(records, unknown)
        if query.device_ids is not None:
            return EventReply(response)
        encoded = json_bytes(response)
        self._full_responses[answer.unit] = (states, encoded)
        return EventReply(response, encoded=encoded)
