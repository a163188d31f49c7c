"""WattShift's side of the webhook deliveries, including what its docs leave open.

WattShift documents the delivery envelope ``{"eventType": ..., "data": ...}``,
the ``x-ws-security-key`` header and the SET_POINT_SCHEDULE body. It does not
document what a THERMOSTAT_QUERY carries, what either event expects back, or
which SET_POINT_SCHEDULE field wins when several carry a setpoint. Every guess
about those open points lives in this module and is marked ``NOTE: guess``, so
that a confirmed contract changes this file only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import itertools
import math
import re
from typing import Any, Final, NamedTuple

from homeassistant.components.climate.const import (
    ATTR_CURRENT_HUMIDITY,
    ATTR_CURRENT_TEMPERATURE,
    ATTR_HVAC_ACTION,
    ATTR_HVAC_MODES,
    ATTR_MAX_TEMP,
    ATTR_MIN_TEMP,
    ATTR_TARGET_TEMP_HIGH,
    ATTR_TARGET_TEMP_LOW,
    HVACMode,
)
from homeassistant.const import (
    ATTR_FRIENDLY_NAME,
    ATTR_TEMPERATURE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfTemperature,
)
from homeassistant.core import State
from homeassistant.util.unit_conversion import TemperatureConverter

from .api import EventType
from .const import WATTSHIFT_DEVICE_ID_PREFIX
from .schedule import DeviceSchedule, ScheduleBlock, ScheduleMode
from .targets import ClimateTarget, convert
from .thermostats import ExposedThermostat


class PayloadError(ValueError):
    """A delivery's body cannot be used; the message is sent back as the reason."""


# WattShift's temperature unit codes and Home Assistant's unit strings.
TEMP_UNITS: Final[dict[str, UnitOfTemperature]] = {
    "C": UnitOfTemperature.CELSIUS,
    "F": UnitOfTemperature.FAHRENHEIT,
}
WATTSHIFT_UNITS: Final[dict[str, str]] = {
    unit: code for code, unit in TEMP_UNITS.items()
}

# WattShift's mode enum (targetMode, defaultMode) is OFF, HEAT, COOL, AUTO.
# NOTE: guess. Home Assistant's "auto" (the device follows its own program)
# is reported as AUTO too; dry and fan_only neither heat nor cool and have no
# WattShift equivalent, so they are reported as null next to the raw hvacMode.
WATTSHIFT_MODES: Final[dict[str, str]] = {
    HVACMode.OFF: "OFF",
    HVACMode.HEAT: "HEAT",
    HVACMode.COOL: "COOL",
    HVACMode.HEAT_COOL: "AUTO",
    HVACMode.AUTO: "AUTO",
}
_HEATING_MODES: Final = frozenset({HVACMode.HEAT, HVACMode.HEAT_COOL})
_COOLING_MODES: Final = frozenset({HVACMode.COOL, HVACMode.HEAT_COOL})

# NOTE: guess. Keys under which a THERMOSTAT_QUERY might list the devices it
# requests, when it does not key "data" by device id.
_DEVICE_LIST_KEYS: Final = ("deviceIds", "devices", "hvacIds", "ids")
_DEVICE_ID_FIELDS: Final = ("deviceId", "hvacId", "id")
_ENTITY_ID_SHAPE: Final = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")
_REGISTRY_ID_SHAPE: Final = re.compile(r"[0-9a-f]{32}")
# Most devices one query may name; far more than a home has thermostats.
MAX_QUERY_DEVICES: Final = 1000


@dataclass(frozen=True, slots=True)
class Envelope:
    """The parts of a delivery every event type shares."""

    event_type: str
    data: Any
    body: Mapping[str, Any]


def parse_envelope(body: Any) -> Envelope:
    """Check the documented ``{"eventType", "data"}`` envelope of a delivery."""
    if not isinstance(body, Mapping):
        raise PayloadError("The request body must be a JSON object.")
    event_type = body.get("eventType")
    if event_type is None:
        raise PayloadError("The request body has no eventType.")
    if not isinstance(event_type, str) or not event_type:
        raise PayloadError("eventType must be a non-empty string.")
    return Envelope(event_type=event_type, data=body.get("data"), body=body)


def known_event_type(event_type: str) -> EventType | None:
    """Return the event type when WattShift's enum has it."""
    return _EVENT_TYPES.get(event_type)


_EVENT_TYPES: Final = {event_type.value: event_type for event_type in EventType}


@dataclass(frozen=True, slots=True)
class ThermostatQuery:
    """The devices and unit a THERMOSTAT_QUERY requests."""

    device_ids: tuple[str, ...] | None
    """Identifiers the query names, or None to ask about every thermostat."""

    unit: UnitOfTemperature | None
    """Unit the response must use, or None for Home Assistant's unit."""


def parse_thermostat_query(envelope: Envelope) -> ThermostatQuery:
    """Read the devices and unit a THERMOSTAT_QUERY requests.

    NOTE: guess. The body is undocumented. The devices may be the keys of
    "data" whose values are objects or null (the SET_POINT_SCHEDULE layout), a
    list under one of the list keys, or "data" itself as a list of ids or of
    objects with an id. "tempUnits" may sit in "data" or next to it.
    """
    data = envelope.data
    device_ids: list[str] | None = None
    unit_code: Any = envelope.body.get("tempUnits")

    if isinstance(data, Mapping):
        unit_code = data.get("tempUnits", unit_code)
        for key in _DEVICE_LIST_KEYS:
            if key in data:
                device_ids = _device_list(data[key], key)
                break
        else:
            keyed = [
                key
                for key, value in data.items()
                if isinstance(value, Mapping)
                or (value is None and _looks_like_device_id(key))
            ]
            device_ids = keyed or None
    elif isinstance(data, list):
        device_ids = _device_list(data, "data")
    elif data is not None:
        raise PayloadError("data must be an object, a list or null.")

    if device_ids is not None and len(device_ids) > MAX_QUERY_DEVICES:
        raise PayloadError(
            f"A THERMOSTAT_QUERY may name at most {MAX_QUERY_DEVICES} devices."
        )
    return ThermostatQuery(
        device_ids=tuple(dict.fromkeys(device_ids)) if device_ids else None,
        unit=_parse_unit(unit_code),
    )


def _looks_like_device_id(key: str) -> bool:
    """Tell whether a key with a null value names a device.

    NOTE: guess. A null value next to an ordinary field name (a request id,
    say) is a field, not a device, so only keys shaped like a WattShift device
    id, an entity id or an entity registry id count.
    """
    return key.startswith(WATTSHIFT_DEVICE_ID_PREFIX) or bool(
        _ENTITY_ID_SHAPE.fullmatch(key) or _REGISTRY_ID_SHAPE.fullmatch(key)
    )


def _device_list(value: Any, key: str) -> list[str]:
    """Read a list of device ids, given as strings or as objects with an id."""
    if not isinstance(value, list):
        raise PayloadError(f"{key} must be a list of device ids.")
    device_ids: list[str] = []
    for item in value:
        if isinstance(item, str) and item:
            device_ids.append(item)
            continue
        if isinstance(item, Mapping):
            found = next(
                (
                    item[field]
                    for field in _DEVICE_ID_FIELDS
                    if isinstance(item.get(field), str) and item[field]
                ),
                None,
            )
            if found is not None:
                device_ids.append(found)
                continue
        raise PayloadError(f"{key} contains an entry that is not a device id.")
    return device_ids


def _parse_unit(code: Any) -> UnitOfTemperature | None:
    """Map WattShift's tempUnits code to a unit; None when absent."""
    if code is None:
        return None
    if isinstance(code, str):
        unit = TEMP_UNITS.get(code.strip().upper().removeprefix("°"))
        if unit is not None:
            return unit
    raise PayloadError('tempUnits must be "F" or "C".')


class ThermostatAnswer:
    """Build the response to a THERMOSTAT_QUERY from climate entity states.

    NOTE: guess. WattShift does not document the response it expects. The
    response uses WattShift's own field names where it has them (currentTemp,
    targetTemp, targetHeatSetpoint, targetCoolSetpoint, minTemp, maxTemp,
    tempUnits, targetMode, canHeat, canCool) and camelCase names for what only
    Home Assistant knows (hvacMode, hvacAction, currentHumidity, lastChanged).
    """

    def __init__(
        self, system_unit: str, requested_unit: UnitOfTemperature | None
    ) -> None:
        """Prepare the conversion from Home Assistant's unit to the response's."""
        self.unit = requested_unit or UnitOfTemperature(system_unit)
        self.unit_code = WATTSHIFT_UNITS[self.unit]
        self._convert = (
            None
            if self.unit == system_unit
            else TemperatureConverter.converter_factory(system_unit, self.unit)
        )

    def temperature(self, value: Any) -> float | None:
        """Convert a state temperature once and round it to a tenth."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None
        converted = float(value) if self._convert is None else self._convert(value)
        return round(converted, 1)

    def record(
        self, thermostat: ExposedThermostat, state: State | None
    ) -> dict[str, Any]:
        """Describe one thermostat in WattShift's vocabulary."""
        entity_id = thermostat.entity_id
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return {
                "entityId": entity_id,
                "name": state.attributes.get(ATTR_FRIENDLY_NAME) if state else None,
                "deviceId": thermostat.wattshift_device_id,
                "available": False,
                "state": "not_found" if state is None else state.state,
            }

        attributes = state.attributes
        hvac_mode = state.state
        hvac_modes: Iterable[str] = attributes.get(ATTR_HVAC_MODES) or ()
        temperature = self.temperature
        return {
            "entityId": state.entity_id,
            "name": attributes.get(ATTR_FRIENDLY_NAME, state.entity_id),
            "deviceId": thermostat.wattshift_device_id,
            "available": True,
            "tempUnits": self.unit_code,
            "currentTemp": temperature(attributes.get(ATTR_CURRENT_TEMPERATURE)),
            "targetTemp": temperature(attributes.get(ATTR_TEMPERATURE)),
            "targetHeatSetpoint": temperature(attributes.get(ATTR_TARGET_TEMP_LOW)),
            "targetCoolSetpoint": temperature(attributes.get(ATTR_TARGET_TEMP_HIGH)),
            "minTemp": temperature(attributes.get(ATTR_MIN_TEMP)),
            "maxTemp": temperature(attributes.get(ATTR_MAX_TEMP)),
            "targetMode": WATTSHIFT_MODES.get(hvac_mode),
            "canHeat": any(mode in _HEATING_MODES for mode in hvac_modes),
            "canCool": any(mode in _COOLING_MODES for mode in hvac_modes),
            "hvacMode": hvac_mode,
            "hvacAction": attributes.get(ATTR_HVAC_ACTION),
            "currentHumidity": attributes.get(ATTR_CURRENT_HUMIDITY),
            "lastChanged": _isoformat(state.last_changed),
        }

    def response(
        self,
        records: Mapping[str, dict[str, Any]],
        unknown: Iterable[str],
    ) -> dict[str, Any]:
        """Wrap the records in the response's envelope."""
        return {
            "eventType": EventType.THERMOSTAT_QUERY,
            "handled": True,
            "tempUnits": self.unit_code,
            "thermostats": records,
            "unknownDevices": list(unknown),
        }


def not_handled_response(event_type: str, reason: str) -> dict[str, Any]:
    """Acknowledge a delivery the integration does not act on."""
    return {"eventType": event_type, "handled": False, "reason": reason}


def error_response(error: str, message: str) -> dict[str, Any]:
    """Describe why a delivery was rejected."""
    return {"error": error, "message": message}


def _isoformat(moment: datetime) -> str:
    """Format an aware UTC datetime the way WattShift writes instants."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# PRICE_SIGNAL deliveries.
#
# NOTE: guess. WattShift documents what one home's price signal looks like
# (the response of POST /v1/homes/{id}/price_signal, or an OpenADR 3.0 event)
# but not how a PRICE_SIGNAL delivery wraps the bodies of several homes.
# "data" is accepted as one per-home body, a list of per-home bodies, or an
# object keyed by home id. An object is one body when it has a key of the
# documented bodies, and is keyed by home id otherwise.
_PRICE_BODY_KEYS: Final = frozenset(
    {
        "homeId",
        "startTime",
        "endTime",
        "data",
        "prices",
        "imports",
        "exports",
        "import",
        "export",
        "priceSignal",
        "intervals",
        "intervalPeriod",
        "programID",
        "eventName",
    }
)
# Maximum number of homes in one PRICE_SIGNAL delivery. Each new home adds a
# device and six entities, which Home Assistant creates on the event loop,
# so hundreds of homes in one delivery would stall it. A Home Assistant
# installation serves one household or a few, far below this limit.
MAX_HOMES_PER_DELIVERY: Final = 50
# NOTE: guess. Documented home ids look like ws_home_ and 32 hex digits. Any
# id of letters, digits and "_.:-" is accepted. Other characters are rejected,
# because a home id becomes part of unique ids and of a URL path.
_HOME_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
HOME_ID_PREFIX: Final = "ws_home_"
# NOTE: guess. No documented body names the home. These keys are read when
# present, so that the home's device can carry its name.
_HOME_NAME_KEYS: Final = ("homeName", "name")


@dataclass(frozen=True, slots=True)
class HomePriceBody:
    """The price-signal body of one home within a delivery."""

    home_id: str
    name: str | None
    body: Mapping[str, Any]


def is_valid_home_id(home_id: Any) -> bool:
    """Tell whether a value can be used as a WattShift home id."""
    return isinstance(home_id, str) and bool(_HOME_ID_PATTERN.fullmatch(home_id))


def split_price_signal(envelope: Envelope) -> list[HomePriceBody]:
    """Split a PRICE_SIGNAL delivery into the bodies of its homes."""
    data = envelope.data
    if isinstance(data, Mapping) and not _PRICE_BODY_KEYS.intersection(data):
        _check_home_count(len(data))
        homes = [
            _home_body(body, f"data[{key!r}]", key_id=str(key))
            for key, body in data.items()
        ]
    elif isinstance(data, Mapping):
        homes = [_home_body(data, "data")]
    elif isinstance(data, list):
        _check_home_count(len(data))
        homes = [_home_body(body, f"data[{index}]") for index, body in enumerate(data)]
    else:
        raise PayloadError(
            "data must be a home's price signal, a list of them, or an object "
            "keyed by home id."
        )

    if not homes:
        raise PayloadError("data contains no home's price signal.")
    seen: set[str] = set()
    for home in homes:
        if home.home_id in seen:
            raise PayloadError(f"Home {home.home_id} appears more than once.")
        seen.add(home.home_id)
    return homes


def _check_home_count(count: int) -> None:
    """Reject a delivery with more homes than MAX_HOMES_PER_DELIVERY."""
    if count > MAX_HOMES_PER_DELIVERY:
        raise PayloadError(
            f"data contains {count} homes; at most {MAX_HOMES_PER_DELIVERY} are "
            "accepted in one delivery."
        )


def _home_body(body: Any, where: str, key_id: str | None = None) -> HomePriceBody:
    """Find the home id and name of one per-home body."""
    if not isinstance(body, Mapping):
        raise PayloadError(f"{where} must be an object.")
    named_id = body.get("homeId")
    if named_id is None:
        named_id = _open_adr_home_id(body)
    if key_id is not None and named_id is not None and named_id != key_id:
        raise PayloadError(f"{where} has homeId {named_id!r}, not its key.")
    home_id = key_id if key_id is not None else named_id
    if home_id is None:
        raise PayloadError(f"{where} has no homeId.")
    if not is_valid_home_id(home_id):
        raise PayloadError(
            f"{where} has an invalid home id; it must be 1 to 128 letters, "
            "digits or _.:- characters."
        )
    name = next(
        (
            body[key].strip()
            for key in _HOME_NAME_KEYS
            if isinstance(body.get(key), str) and body[key].strip()
        ),
        None,
    )
    return HomePriceBody(home_id=home_id, name=name, body=body)


def _open_adr_home_id(event: Mapping[str, Any]) -> str | None:
    """Return the home id an OpenADR event names in its targets.

    NOTE: guess. OpenADR 3.0 events list whom they address under "targets"
    as {type, values}. WattShift does not say which type it uses, so the
    first value that starts with ws_home_ is taken.
    """
    targets = event.get("targets")
    if not isinstance(targets, list):
        return None
    for target in targets:
        values = target.get("values") if isinstance(target, Mapping) else None
        if not isinstance(values, list):
            continue
        for value in values:
            if isinstance(value, str) and value.startswith(HOME_ID_PREFIX):
                return value
    return None


def price_signal_response(
    accepted: Iterable[tuple[str, int, datetime, datetime]],
) -> dict[str, Any]:
    """Acknowledge a PRICE_SIGNAL with each home's interval count and horizon.

    NOTE: guess. WattShift does not say what it expects back. The
    acknowledgement uses its field names for the horizon (startTime, endTime).
    """
    return {
        "eventType": EventType.PRICE_SIGNAL,
        "handled": True,
        "homes": {
            home_id: {
                "accepted": count,
                "startTime": _isoformat(start),
                "endTime": _isoformat(end),
            }
            for home_id, count, start, end in accepted
        },
    }


# SET_POINT_SCHEDULE ---------------------------------------------------------
#
# WattShift documents the body as {"<device id>": {"blocks": [...],
# "startDatetime", "endDatetime", "tempUnits"}} with blocks of
# startDatetime, endDatetime, targetTemp, targetHeatSetpoint,
# targetCoolSetpoint and targetMode. It does not document the response.

# WattShift validates its own temperatures as -50 < x < 200 in either unit.
_SCHEDULE_TEMP_RANGE: Final = (-50.0, 200.0)


class BlockStatus(StrEnum):
    """Fate of one block of a delivered schedule."""

    SCHEDULED = "scheduled"
    APPLIED = "applied"
    CLAMPED = "clamped"
    SKIPPED = "skipped"


class BlockOutcome(NamedTuple):
    """The fate of one delivered block on its thermostat."""

    block: ScheduleBlock
    status: BlockStatus
    current: bool
    target: ClimateTarget | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceOutcome:
    """The fate of one delivered device schedule."""

    entity_id: str | None
    following: bool
    blocks: tuple[BlockOutcome, ...]
    last_error: str | None = None


def parse_set_point_schedule(envelope: Envelope) -> dict[str, DeviceSchedule]:
    """Read and check every device schedule of a SET_POINT_SCHEDULE delivery."""
    data = envelope.data
    if not isinstance(data, Mapping) or not data:
        raise PayloadError(
            "data must be an object that maps WattShift device ids to schedules."
        )
    schedules: dict[str, DeviceSchedule] = {}
    # Blocks start where the one before ends, and devices share their block
    # times, so each distinct text is parsed once.
    instants: dict[str, datetime] = {}
    for device_id, value in data.items():
        if not isinstance(value, Mapping):
            raise PayloadError(f"The schedule of {device_id} must be an object.")
        schedules[device_id] = _parse_device_schedule(device_id, value, instants)
    return schedules


def _parse_device_schedule(
    device_id: str, value: Mapping[str, Any], instants: dict[str, datetime]
) -> DeviceSchedule:
    """Check one device's schedule window, unit and blocks."""
    unit = _parse_unit(value.get("tempUnits"))
    if unit is None:
        raise PayloadError(f'{device_id}: tempUnits is missing; send "F" or "C".')
    try:
        start = _parse_instant(value.get("startDatetime"), "startDatetime", instants)
        end = _parse_instant(value.get("endDatetime"), "endDatetime", instants)
    except _FieldError as err:
        raise PayloadError(f"{device_id}.{err}") from None
    if end <= start:
        raise PayloadError(f"{device_id}: endDatetime must be after startDatetime.")
    raw_blocks = value.get("blocks")
    if not isinstance(raw_blocks, list):
        raise PayloadError(f"{device_id}: blocks must be a list.")

    blocks: list[ScheduleBlock] = []
    for index, raw in enumerate(raw_blocks):
        try:
            block = _parse_block(raw, unit, instants)
        except _FieldError as err:
            raise PayloadError(f"{device_id}.blocks[{index}].{err}") from None
        if block.start < start or block.end > end:
            raise PayloadError(
                f"{device_id}.blocks[{index}] lies outside the schedule window "
                f"{_isoformat(start)} to {_isoformat(end)}."
            )
        blocks.append(block)

    _check_overlaps(device_id, blocks)
    return DeviceSchedule(
        start=start,
        end=end,
        unit=unit,
        blocks=tuple(sorted(blocks, key=_block_start)),
    )


def _check_overlaps(device_id: str, blocks: list[ScheduleBlock]) -> None:
    """Reject blocks that overlap, naming them by their position in the delivery."""
    order = sorted(range(len(blocks)), key=lambda index: blocks[index].start)
    for earlier, later in itertools.pairwise(order):
        if blocks[later].start < blocks[earlier].end:
            first, second = sorted((earlier, later))
            raise PayloadError(
                f"{device_id}.blocks[{first}] and {device_id}.blocks[{second}] overlap."
            )


def _block_start(block: ScheduleBlock) -> datetime:
    """Return the sort key of a block."""
    return block.start


class _FieldError(Exception):
    """A field of a block is invalid; the caller adds where the block is."""

    def __init__(self, field: str, problem: str) -> None:
        """Describe the problem of one field, such as "targetTemp"."""
        super().__init__(f"{field} {problem}")


def _parse_block(
    raw: Any, unit: UnitOfTemperature, instants: dict[str, datetime]
) -> ScheduleBlock:
    """Check one block and resolve which setpoints its mode uses.

    NOTE: guess. WattShift does not say which field wins when a block has
    both targetTemp and the heat or cool setpoint. The mode's own setpoint
    (targetHeatSetpoint in HEAT, targetCoolSetpoint in COOL) wins over
    targetTemp. In AUTO, both setpoints make the range, and targetTemp alone
    is the comfort point in its middle.
    """
    if not isinstance(raw, Mapping):
        raise _FieldError("block", "must be an object.")
    start = _parse_instant(raw.get("startDatetime"), "startDatetime", instants)
    end = _parse_instant(raw.get("endDatetime"), "endDatetime", instants)
    if end <= start:
        raise _FieldError("endDatetime", "must be after startDatetime.")
    mode = _parse_mode(raw.get("targetMode"))
    temperature = _parse_temperature(raw, "targetTemp")
    heat = _parse_temperature(raw, "targetHeatSetpoint")
    cool = _parse_temperature(raw, "targetCoolSetpoint")

    if mode is ScheduleMode.OFF:
        return ScheduleBlock(start, end, mode, unit)
    if mode is ScheduleMode.HEAT:
        setpoint = heat if heat is not None else temperature
        if setpoint is None:
            raise _FieldError(
                "targetMode",
                "is HEAT but the block has no targetHeatSetpoint or targetTemp.",
            )
        return ScheduleBlock(start, end, mode, unit, temperature=setpoint)
    if mode is ScheduleMode.COOL:
        setpoint = cool if cool is not None else temperature
        if setpoint is None:
            raise _FieldError(
                "targetMode",
                "is COOL but the block has no targetCoolSetpoint or targetTemp.",
            )
        return ScheduleBlock(start, end, mode, unit, temperature=setpoint)
    if heat is None and cool is None and temperature is None:
        raise _FieldError(
            "targetMode",
            "is AUTO but the block has no targetHeatSetpoint, "
            "targetCoolSetpoint or targetTemp.",
        )
    if heat is not None and cool is not None and heat > cool:
        raise _FieldError("targetHeatSetpoint", "must not be above targetCoolSetpoint.")
    return ScheduleBlock(
        start, end, mode, unit, temperature=temperature, heat=heat, cool=cool
    )


def _parse_instant(value: Any, field: str, instants: dict[str, datetime]) -> datetime:
    """Read an ISO 8601 instant with a UTC offset and return it in UTC."""
    if isinstance(value, str) and (known := instants.get(value)) is not None:
        return known
    if not isinstance(value, str) or not value:
        raise _FieldError(field, "is missing; send an ISO 8601 instant.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _FieldError(field, f"is not an ISO 8601 instant: {value!r}.") from None
    if moment.utcoffset() is None:
        raise _FieldError(
            field,
            f"has no UTC offset: {value!r}. Send Z or an offset such as +01:00, "
            "because a local time is ambiguous when clocks change.",
        )
    instants[value] = moment = moment.astimezone(UTC)
    return moment


# NOTE: guess. WattShift writes modes in capitals; other cases are accepted.
_SCHEDULE_MODES: Final = {mode.value: mode for mode in ScheduleMode}


def _parse_mode(value: Any) -> ScheduleMode:
    """Read targetMode."""
    if isinstance(value, str):
        mode = _SCHEDULE_MODES.get(value) or _SCHEDULE_MODES.get(value.strip().upper())
        if mode is not None:
            return mode
    raise _FieldError(
        "targetMode", f"must be one of OFF, HEAT, COOL or AUTO, not {value!r}."
    )


def _parse_temperature(block: Mapping[str, Any], field: str) -> float | None:
    """Read a temperature sent as a number or a numeric string; None if absent.

    NOTE: guess. WattShift's guide sends targetTemp as a string such as "70"
    and its schema as a number or null, so all three are accepted.
    """
    value = block.get(field)
    if value is None:
        return None
    number: float | None = None
    if type(value) is float or type(value) is int:  # bool is a subclass of int
        number = float(value)
    elif isinstance(value, str):
        with suppress(ValueError):
            number = float(value.strip())
    if number is None or not math.isfinite(number):
        raise _FieldError(field, f"must be a number, not {value!r}.")
    low, high = _SCHEDULE_TEMP_RANGE
    if not low < number < high:
        raise _FieldError(
            field, f"is {number:g}, outside WattShift's range of {low:g} to {high:g}."
        )
    return number


def schedule_acknowledgement(
    devices: Mapping[str, DeviceOutcome | None], system_unit: str
) -> dict[str, Any]:
    """Build the response to a SET_POINT_SCHEDULE: per device and block, what happens.

    NOTE: guess. WattShift documents no response to its schedule deliveries.
    Devices keep the ids WattShift sent, and None marks an unknown device.
    Temperatures are given in each schedule's own tempUnits.
    """
    formatter = _BlockFormatter(system_unit)
    response: dict[str, Any] = {}
    for device_id, outcome in devices.items():
        if outcome is None:
            response[device_id] = {
                "status": "unknown_device",
                "reason": "No thermostat exposed to WattShift is linked to this id.",
            }
            continue
        response[device_id] = {
            "status": "accepted",
            "entityId": outcome.entity_id,
            "following": outcome.following,
            "lastError": outcome.last_error,
            "blocks": [formatter.describe(block) for block in outcome.blocks],
        }
    return {
        "eventType": EventType.SET_POINT_SCHEDULE,
        "handled": True,
        "devices": response,
    }


class _BlockFormatter:
    """Describe block outcomes in WattShift's field names.

    Instants and outcomes repeat across blocks and devices, so each distinct
    one is formatted once per response.
    """

    def __init__(self, system_unit: str) -> None:
        """Format temperatures from Home Assistant's unit."""
        self._system_unit = system_unit
        self._instants: dict[datetime, str] = {}
        self._fields: dict[tuple[object, ...], dict[str, Any]] = {}

    def describe(self, outcome: BlockOutcome) -> dict[str, Any]:
        """Describe one block's fate."""
        block = outcome.block
        # Enum members are singletons, so their ids make a cheap cache key.
        key = (
            id(block.mode),
            id(block.unit),
            id(outcome.status),
            id(outcome.target),
            outcome.current,
            outcome.reason,
        )
        if (fields := self._fields.get(key)) is None:
            fields = self._fields[key] = self._outcome_fields(outcome)
        return {
            "startDatetime": self._instant(block.start),
            "endDatetime": self._instant(block.end),
            **fields,
        }

    def _outcome_fields(self, outcome: BlockOutcome) -> dict[str, Any]:
        """Describe a block's mode, status, target and reason."""
        fields: dict[str, Any] = {
            "targetMode": outcome.block.mode.value,
            "status": outcome.status.value,
            "current": outcome.current,
        }
        if (target := outcome.target) is not None:
            fields["hvacMode"] = target.hvac_mode.value
            values = {
                "targetTemp": target.temperature,
                "targetHeatSetpoint": target.target_temp_low,
                "targetCoolSetpoint": target.target_temp_high,
            }
            unit = outcome.block.unit
            for name, value in values.items():
                if value is not None:
                    fields[name] = round(convert(value, self._system_unit, unit), 1)
        if outcome.reason is not None:
            fields["reason"] = outcome.reason
        return fields

    def _instant(self, moment: datetime) -> str:
        """Format an instant, once per distinct instant."""
        if (text := self._instants.get(moment)) is None:
            text = self._instants[moment] = _isoformat(moment)
        return text


def schedule_query_fields(
    *,
    enabled: bool,
    following: bool,
    block: ScheduleBlock | None,
    next_block: ScheduleBlock | None,
    source: str | None,
    override_until: datetime | None,
    last_error: str | None,
) -> dict[str, Any]:
    """Describe a thermostat's schedule for its THERMOSTAT_QUERY record.

    NOTE: guess. WattShift does not say what it expects back; the block is
    given in the fields and unit WattShift sent it in.
    """
    return {
        "enabled": enabled,
        "following": following,
        "block": _query_block(block),
        "nextBlock": _query_block(next_block),
        "source": source,
        "overrideUntil": _isoformat(override_until) if override_until else None,
        "lastError": last_error,
    }


def _query_block(block: ScheduleBlock | None) -> dict[str, Any] | None:
    """Describe one block in WattShift's own field names."""
    if block is None:
        return None
    return {
        "startDatetime": _isoformat(block.start),
        "endDatetime": _isoformat(block.end),
        "targetMode": block.mode.value,
        "targetTemp": block.temperature,
        "targetHeatSetpoint": block.heat,
        "targetCoolSetpoint": block.cool,
        "tempUnits": WATTSHIFT_UNITS[block.unit],
    }
