"""Turn a schedule block into the mode and setpoints one thermostat can take.

Climate state attributes carry temperatures in Home Assistant's unit, but
``target_temp_step`` in the entity's own (native) unit. Setpoints are
therefore rounded and clamped in the native unit, and converted to Home
Assistant's unit only for the service call, which converts them back.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Final

from homeassistant.components.climate import ClimateEntity
from homeassistant.components.climate.const import (
    ATTR_CURRENT_TEMPERATURE,
    ATTR_HVAC_MODES,
    ATTR_MAX_TEMP,
    ATTR_MIN_TEMP,
    ATTR_TARGET_TEMP_HIGH,
    ATTR_TARGET_TEMP_LOW,
    ATTR_TARGET_TEMP_STEP,
    ClimateEntityFeature,
    HVACMode,
)
from homeassistant.const import (
    ATTR_SUPPORTED_FEATURES,
    ATTR_TEMPERATURE,
    UnitOfTemperature,
)
from homeassistant.core import State
from homeassistant.util.unit_conversion import TemperatureConverter

from .schedule import ScheduleBlock, ScheduleMode

# Setpoint steps used when an entity does not publish target_temp_step, in
# its native unit. Home Assistant's frontend uses the same defaults.
DEFAULT_STEP: Final[dict[str, float]] = {
    UnitOfTemperature.CELSIUS: 0.5,
    UnitOfTemperature.FAHRENHEIT: 1.0,
}

# NOTE: Home Assistant does not publish a thermostat's minimum distance
# between its heating and cooling setpoints. Many thermostats need 3 °F
# (1.5 °C), so ranges are kept at least this far apart, in the native unit.
MIN_RANGE_GAP: Final[dict[str, float]] = {
    UnitOfTemperature.CELSIUS: 1.5,
    UnitOfTemperature.FAHRENHEIT: 3.0,
}

_SINGLE = ClimateEntityFeature.TARGET_TEMPERATURE
_RANGE = ClimateEntityFeature.TARGET_TEMPERATURE_RANGE


@dataclass(frozen=True, slots=True)
class ClimateTarget:
    """The HVAC mode and setpoints to write, in Home Assistant's unit."""

    hvac_mode: HVACMode
    temperature: float | None = None
    target_temp_low: float | None = None
    target_temp_high: float | None = None

    def temperature_data(self) -> dict[str, float]:
        """Return the temperature fields of a climate.set_temperature call."""
        if self.temperature is not None:
            return {ATTR_TEMPERATURE: self.temperature}
        if self.target_temp_low is not None and self.target_temp_high is not None:
            return {
                ATTR_TARGET_TEMP_LOW: self.target_temp_low,
                ATTR_TARGET_TEMP_HIGH: self.target_temp_high,
            }
        return {}

    def as_dict(self) -> dict[str, Any]:
        """Describe the target with Home Assistant's attribute names."""
        return {
            "hvac_mode": self.hvac_mode.value,
            ATTR_TEMPERATURE: self.temperature,
            ATTR_TARGET_TEMP_LOW: self.target_temp_low,
            ATTR_TARGET_TEMP_HIGH: self.target_temp_high,
        }


@dataclass(frozen=True, slots=True)
class TargetPlan:
    """A block's plan for one thermostat: a target, or the reason it is skipped."""

    target: ClimateTarget | None
    clamped: bool = False
    skip_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ThermostatTraits:
    """A thermostat's capabilities and current setting."""

    hvac_mode: str
    hvac_modes: frozenset[str]
    supports_single: bool
    supports_range: bool
    system_unit: str
    native_unit: str
    min_temp: float
    """Lowest setpoint, in the native unit."""

    max_temp: float
    """Highest setpoint, in the native unit."""

    step: float
    """Setpoint step, in the native unit."""

    current_temperature: float | None
    temperature: float | None
    target_temp_low: float | None
    target_temp_high: float | None

    @classmethod
    def from_state(
        cls, state: State, system_unit: str, entity: ClimateEntity | None
    ) -> ThermostatTraits:
        """Read the traits from a climate state and, if found, its entity.

        Without the entity object, the native unit is unknown and is taken to
        be Home Assistant's unit, as it is for most thermostats.
        """
        attributes = state.attributes
        features = int(attributes.get(ATTR_SUPPORTED_FEATURES) or 0)
        if entity is not None:
            native_unit = entity.temperature_unit
            min_temp = float(entity.min_temp)
            max_temp = float(entity.max_temp)
        else:
            native_unit = system_unit
            min_temp = _number(attributes.get(ATTR_MIN_TEMP)) or -math.inf
            max_temp = _number(attributes.get(ATTR_MAX_TEMP)) or math.inf
        step = _number(attributes.get(ATTR_TARGET_TEMP_STEP))
        if step is None or step <= 0:
            step = DEFAULT_STEP.get(native_unit, 0.5)
        return cls(
            hvac_mode=state.state,
            hvac_modes=frozenset(attributes.get(ATTR_HVAC_MODES) or ()),
            supports_single=bool(features & _SINGLE),
            supports_range=bool(features & _RANGE),
            system_unit=system_unit,
            native_unit=native_unit,
            min_temp=min_temp,
            max_temp=max_temp,
            step=step,
            current_temperature=_number(attributes.get(ATTR_CURRENT_TEMPERATURE)),
            temperature=_number(attributes.get(ATTR_TEMPERATURE)),
            target_temp_low=_number(attributes.get(ATTR_TARGET_TEMP_LOW)),
            target_temp_high=_number(attributes.get(ATTR_TARGET_TEMP_HIGH)),
        )

    @property
    def half_step(self) -> float:
        """Half a setpoint step, in Home Assistant's unit."""
        return convert_delta(self.step, self.native_unit, self.system_unit) / 2

    def to_native(self, value: float) -> float:
        """Convert a temperature from Home Assistant's unit to the native one."""
        return convert(value, self.system_unit, self.native_unit)

    def to_system(self, value: float) -> float:
        """Convert a temperature from the native unit to Home Assistant's."""
        return convert(value, self.native_unit, self.system_unit)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a temperature between units, leaving equal units untouched."""
    if from_unit == to_unit:
        return float(value)
    return TemperatureConverter.convert(value, from_unit, to_unit)


def convert_delta(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a temperature difference between Celsius and Fahrenheit."""
    if from_unit == to_unit:
        return value
    if to_unit == UnitOfTemperature.FAHRENHEIT:
        return value * 9 / 5
    if from_unit == UnitOfTemperature.FAHRENHEIT:
        return value * 5 / 9
    return value


def choose_mode(
    block: ScheduleBlock, traits: ThermostatTraits
) -> TargetPlan | HVACMode:
    """Pick the HVAC mode for a block, or the plan that skips it."""
    modes = traits.hvac_modes
    match block.mode:
        case ScheduleMode.OFF:
            if HVACMode.OFF in modes:
                return HVACMode.OFF
            return _skip("The thermostat cannot be turned off.")
        case ScheduleMode.HEAT:
            if HVACMode.HEAT in modes:
                return HVACMode.HEAT
            return _skip("The thermostat cannot heat; it has no heat mode.")
        case ScheduleMode.COOL:
            if HVACMode.COOL in modes:
                return HVACMode.COOL
            return _skip("The thermostat cannot cool; it has no cool mode.")
    return _choose_auto_mode(block, traits)


def _choose_auto_mode(
    block: ScheduleBlock, traits: ThermostatTraits
) -> TargetPlan | HVACMode:
    """Pick heat_cool for AUTO, or heat or cool where heat_cool is missing.

    Home Assistant's "auto" mode hands control to the thermostat's own
    program, so it is never used for WattShift's AUTO.
    """
    modes = traits.hvac_modes
    if HVACMode.HEAT_COOL in modes and (
        traits.supports_range or traits.supports_single
    ):
        return HVACMode.HEAT_COOL
    lower, upper = _auto_bounds(_native_targets(block, traits))
    can_heat = HVACMode.HEAT in modes and lower is not None
    can_cool = HVACMode.COOL in modes and upper is not None
    if can_heat and can_cool:
        assert lower is not None
        assert upper is not None
        return _heat_or_cool(traits, lower, upper)
    if can_heat:
        return HVACMode.HEAT
    if can_cool:
        return HVACMode.COOL
    return _skip("The thermostat has no mode that can follow this AUTO block.")


def _heat_or_cool(traits: ThermostatTraits, lower: float, upper: float) -> HVACMode:
    """Pick heat or cool for AUTO from the room temperature and the current mode.

    The bounds are in the native unit.
    """
    current = _native_or_none(traits, traits.current_temperature)
    if current is not None and current > upper:
        return HVACMode.COOL
    if current is not None and current < lower:
        return HVACMode.HEAT
    if traits.hvac_mode in (HVACMode.HEAT, HVACMode.COOL):
        return HVACMode(traits.hvac_mode)
    if current is not None and current - lower > upper - current:
        return HVACMode.COOL
    return HVACMode.HEAT


def _auto_bounds(block: ScheduleBlock) -> tuple[float | None, float | None]:
    """Return the heating and cooling setpoints of an AUTO block.

    A block with only targetTemp uses it for both.
    """
    lower = block.heat if block.heat is not None else block.temperature
    upper = block.cool if block.cool is not None else block.temperature
    return lower, upper


def plan_target(
    block: ScheduleBlock,
    traits: ThermostatTraits,
    hvac_mode: HVACMode | None = None,
) -> TargetPlan:
    """Plan the mode and setpoints of a block for one thermostat.

    Pass hvac_mode to keep a mode chosen earlier, after it has been written.
    """
    if hvac_mode is None:
        chosen = choose_mode(block, traits)
        if isinstance(chosen, TargetPlan):
            return chosen
        hvac_mode = chosen
    if hvac_mode is HVACMode.OFF:
        return TargetPlan(ClimateTarget(HVACMode.OFF))

    native = _native_targets(block, traits)
    lower, upper = _auto_bounds(native)
    if hvac_mode is HVACMode.HEAT_COOL and traits.supports_range:
        return _range_plan(
            hvac_mode, traits, native.heat, native.cool, native.temperature
        )
    if hvac_mode is HVACMode.HEAT_COOL:
        return _single_plan(hvac_mode, traits, _comfort_point(native), heating=True)
    if hvac_mode is HVACMode.HEAT:
        value = native.temperature if block.mode is not ScheduleMode.AUTO else lower
        return _single_plan(hvac_mode, traits, value, heating=True)
    value = native.temperature if block.mode is not ScheduleMode.AUTO else upper
    return _single_plan(hvac_mode, traits, value, heating=False)


def _native_targets(block: ScheduleBlock, traits: ThermostatTraits) -> ScheduleBlock:
    """Convert a block's targets once, from WattShift's unit to the native one."""

    def native(value: float | None) -> float | None:
        if value is None:
            return None
        return convert(value, block.unit, traits.native_unit)

    return ScheduleBlock(
        start=block.start,
        end=block.end,
        mode=block.mode,
        unit=UnitOfTemperature(traits.native_unit),
        temperature=native(block.temperature),
        heat=native(block.heat),
        cool=native(block.cool),
    )


def _comfort_point(native: ScheduleBlock) -> float | None:
    """Return the one setpoint of an AUTO block for a single-setpoint heat_cool."""
    if native.temperature is not None:
        return native.temperature
    if native.heat is not None and native.cool is not None:
        return (native.heat + native.cool) / 2
    return native.heat if native.heat is not None else native.cool


def _single_plan(
    hvac_mode: HVACMode,
    traits: ThermostatTraits,
    value: float | None,
    *,
    heating: bool,
) -> TargetPlan:
    """Plan one setpoint, or a range bound where only ranges are supported."""
    if value is None:
        return _skip("The block has no setpoint for this mode.")
    if traits.supports_single:
        setpoint, clamped = _fit(value, traits)
        return TargetPlan(
            ClimateTarget(hvac_mode, temperature=traits.to_system(setpoint)),
            clamped=clamped,
        )
    if traits.supports_range:
        if heating:
            return _range_plan(hvac_mode, traits, value, None, None)
        return _range_plan(hvac_mode, traits, None, value, None)
    # A thermostat without setpoints can still follow the mode.
    return TargetPlan(ClimateTarget(hvac_mode))


def _range_plan(
    hvac_mode: HVACMode,
    traits: ThermostatTraits,
    low: float | None,
    high: float | None,
    comfort: float | None,
) -> TargetPlan:
    """Plan both bounds of a range, all values in the native unit.

    A missing bound is taken from the thermostat's current setting. The
    bounds stay at least the minimum gap apart, and low never exceeds high.
    """
    gap = max(MIN_RANGE_GAP.get(traits.native_unit, 1.5), traits.step)
    current_low = _native_or_none(traits, traits.target_temp_low)
    current_high = _native_or_none(traits, traits.target_temp_high)
    if low is None and high is None:
        if comfort is None:
            return _skip("The block has no setpoint for this mode.")
        width = gap
        if current_low is not None and current_high is not None:
            width = max(gap, current_high - current_low)
        low, high = comfort - width / 2, comfort + width / 2
    if low is None:
        assert high is not None
        low = current_low if current_low is not None else high - gap
        low = min(low, high - gap)
    elif high is None:
        high = current_high if current_high is not None else low + gap
        high = max(high, low + gap)
    elif high - low < gap:
        high = low + gap

    low, low_clamped = _fit(low, traits)
    high, high_clamped = _fit(high, traits)
    if high - low < gap:
        # Rounding or a limit pushed the bounds together: move the bound that
        # is not at a limit away from the other one.
        if high_clamped:
            low, _ = _fit(high - gap, traits)
        else:
            high, _ = _fit(low + gap, traits)
    return TargetPlan(
        ClimateTarget(
            hvac_mode,
            target_temp_low=traits.to_system(min(low, high)),
            target_temp_high=traits.to_system(high),
        ),
        clamped=low_clamped or high_clamped,
    )


def _fit(value: float, traits: ThermostatTraits) -> tuple[float, bool]:
    """Round a native value to the step and clamp it to the limits."""
    rounded = round_to_step(value, traits.step)
    clamped = min(max(rounded, traits.min_temp), traits.max_temp)
    return clamped, clamped != rounded


def round_to_step(value: float, step: float) -> float:
    """Round to the nearest multiple of step, halves away from zero."""
    steps = math.floor(abs(value) / step + 0.5)
    return round(math.copysign(steps * step, value), 6)


def _native_or_none(traits: ThermostatTraits, value: float | None) -> float | None:
    """Convert a state temperature to the native unit, keeping None."""
    return None if value is None else traits.to_native(value)


def _number(value: Any) -> float | None:
    """Return a state attribute as a float, or None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _skip(reason: str) -> TargetPlan:
    """Return a plan that skips the block for a reason."""
    return TargetPlan(None, skip_reason=reason)
