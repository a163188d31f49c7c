"""Tell a user's change to a thermostat from our own writes and device noise."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.components.climate.const import (
    ATTR_TARGET_TEMP_HIGH,
    ATTR_TARGET_TEMP_LOW,
)
from homeassistant.const import ATTR_TEMPERATURE, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Context, State
from homeassistant.util import dt as dt_util

from .targets import ClimateTarget

EVENT_OVERRIDE: Final = "wattshift_override"

# NOTE: cloud thermostats report a write back in one or more steps, often
# minutes apart. Changes without a user in their context are taken for such
# reports during this window after each write of ours, never for overrides.
SETTLE_WINDOW: Final = timedelta(minutes=2)

# Floating-point slack added to half a step when setpoints are compared.
_EPSILON: Final = 1e-6

_SETPOINT_ATTRIBUTES: Final = (
    ATTR_TEMPERATURE,
    ATTR_TARGET_TEMP_LOW,
    ATTR_TARGET_TEMP_HIGH,
)


@dataclass(frozen=True, slots=True)
class AppliedTarget:
    """Target we last wrote to a thermostat for one block."""

    block_start: datetime
    target: ClimateTarget
    written_at: datetime
    half_step: float
    """Half the thermostat's setpoint step, in Home Assistant's unit."""


@dataclass(frozen=True, slots=True)
class Override:
    """A user's change that is kept instead of the schedule until a time."""

    until: datetime
    scheduled: dict[str, Any]
    """Setting we had written, with Home Assistant's attribute names."""

    user: dict[str, Any]
    """Setting the user chose, with the same names."""

    def as_dict(self) -> dict[str, Any]:
        """Serialise the override for the store and the override event."""
        return {
            "until": self.until.isoformat(),
            "scheduled": self.scheduled,
            "user": self.user,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Override:
        """Read an override written by as_dict."""
        return cls(
            until=dt_util.as_utc(datetime.fromisoformat(data["until"])),
            scheduled=dict(data.get("scheduled") or {}),
            user=dict(data.get("user") or {}),
        )


def is_available(state: State | None) -> bool:
    """Return whether a state belongs to a thermostat that can be written."""
    return state is not None and state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


def setting_of(state: State) -> dict[str, Any]:
    """Return the mode and setpoints a climate state shows."""
    setting: dict[str, Any] = {"hvac_mode": state.state}
    for attribute in _SETPOINT_ATTRIBUTES:
        setting[attribute] = state.attributes.get(attribute)
    return setting


def matches(target: ClimateTarget, state: State, half_step: float) -> bool:
    """Return whether a state shows the target's mode and, within half a step, its setpoints."""
    if state.state != target.hvac_mode:
        return False
    return setpoints_match(target, state, half_step)


def setpoints_match(target: ClimateTarget, state: State, half_step: float) -> bool:
    """Return whether a state shows the target's setpoints within half a step."""
    tolerance = half_step + _EPSILON
    targets = (
        (target.temperature, ATTR_TEMPERATURE),
        (target.target_temp_low, ATTR_TARGET_TEMP_LOW),
        (target.target_temp_high, ATTR_TARGET_TEMP_HIGH),
    )
    for value, attribute in targets:
        if value is None:
            continue
        current = state.attributes.get(attribute)
        if not isinstance(current, (int, float)) or abs(current - value) > tolerance:
            return False
    return True


def is_user_override(
    applied: AppliedTarget,
    old_state: State | None,
    new_state: State,
    *,
    context: Context,
    own_context_ids: Collection[str],
    now: datetime,
) -> bool:
    """Decide whether a state change is a user's change to what we set.

    Our own writes, returns from unavailability, changes that leave mode and
    setpoints alone, device reports during the settle window and values
    within half a step of ours are not overrides.
    """
    if not is_available(old_state) or not is_available(new_state):
        return False
    assert old_state is not None
    if context.id in own_context_ids or context.parent_id in own_context_ids:
        return False
    if setting_of(old_state) == setting_of(new_state):
        return False
    settling = now < applied.written_at + SETTLE_WINDOW
    if settling and context.user_id is None:
        return False
    return not matches(applied.target, new_state, applied.half_step)


def hold_until(now: datetime, block_end: datetime, hold_minutes: float) -> datetime:
    """Return when an override found now ends; zero minutes means at block end."""
    if hold_minutes <= 0:
        return block_end
    return now + timedelta(minutes=hold_minutes)
