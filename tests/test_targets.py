"""Tests for planning a schedule block against one thermostat's capabilities."""

from __future__ import annotations

from typing import Any

from homeassistant.components.climate import ClimateEntityFeature, HVACMode
from homeassistant.const import UnitOfTemperature
from homeassistant.core import State
import pytest

from custom_components.wattshift.schedule import ScheduleBlock, ScheduleMode
from custom_components.wattshift.targets import (
    ClimateTarget,
    ThermostatTraits,
    convert_delta,
    plan_target,
    round_to_step,
)

from .schedules import HOUR, NOON

CELSIUS = UnitOfTemperature.CELSIUS
FAHRENHEIT = UnitOfTemperature.FAHRENHEIT
SINGLE = ClimateEntityFeature.TARGET_TEMPERATURE
RANGE = ClimateEntityFeature.TARGET_TEMPERATURE_RANGE


def traits(mode: str = HVACMode.HEAT, **attributes: Any) -> ThermostatTraits:
    """Return the traits of a Celsius thermostat with default limits."""
    defaults: dict[str, Any] = {
        "hvac_modes": [HVACMode.OFF, HVACMode.HEAT, HVACMode.COOL],
        "supported_features": SINGLE,
        "min_temp": 7,
        "max_temp": 35,
        "temperature": 20,
    }
    state = State("climate.test", mode, {**defaults, **attributes})
    return ThermostatTraits.from_state(state, CELSIUS, None)


def auto(**targets: float) -> ScheduleBlock:
    """Return a Celsius AUTO block from noon to one o'clock."""
    return ScheduleBlock(NOON, HOUR, ScheduleMode.AUTO, CELSIUS, **targets)


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [(22.78, 0.5, 23.0), (20.56, 1, 21.0), (20.5, 1, 21.0), (-0.25, 0.5, -0.5)],
)
def test_round_to_step(value: float, step: float, expected: float) -> None:
    assert round_to_step(value, step) == expected


def test_delta_conversion() -> None:
    assert convert_delta(1, FAHRENHEIT, CELSIUS) == pytest.approx(5 / 9)
    assert convert_delta(0.5, CELSIUS, FAHRENHEIT) == pytest.approx(0.9)
    assert convert_delta(0.5, CELSIUS, CELSIUS) == 0.5


def test_native_step_in_system_unit() -> None:
    # A Fahrenheit thermostat's step of 1 is 5/9 of a degree Celsius.
    state = State(
        "climate.test",
        HVACMode.HEAT,
        {
            "hvac_modes": [HVACMode.HEAT],
            "supported_features": SINGLE,
            "target_temp_step": 1,
        },
    )
    plain = ThermostatTraits.from_state(state, CELSIUS, None)
    assert plain.half_step == 0.5

    class FahrenheitEntity:
        temperature_unit = FAHRENHEIT
        min_temp = 45.0
        max_temp = 90.0

    native = ThermostatTraits.from_state(state, CELSIUS, FahrenheitEntity())  # type: ignore[arg-type]
    assert native.half_step == pytest.approx(5 / 18)
    assert native.min_temp == 45.0


@pytest.mark.parametrize(
    ("current", "mode", "expected"),
    [
        (26.0, HVACMode.HEAT, ClimateTarget(HVACMode.COOL, temperature=24.0)),
        (18.0, HVACMode.COOL, ClimateTarget(HVACMode.HEAT, temperature=20.0)),
        (22.0, HVACMode.COOL, ClimateTarget(HVACMode.COOL, temperature=24.0)),
        (23.5, HVACMode.OFF, ClimateTarget(HVACMode.COOL, temperature=24.0)),
        (None, HVACMode.OFF, ClimateTarget(HVACMode.HEAT, temperature=20.0)),
    ],
)
def test_auto_without_heat_cool(
    current: float | None, mode: str, expected: ClimateTarget
) -> None:
    plan = plan_target(
        auto(heat=20, cool=24), traits(mode, current_temperature=current)
    )

    assert plan.target == expected


def test_auto_single_setpoint_heat_cool() -> None:
    thermostat = traits(
        HVACMode.HEAT_COOL, hvac_modes=[HVACMode.OFF, HVACMode.HEAT_COOL]
    )

    assert plan_target(auto(heat=20, cool=24), thermostat).target == ClimateTarget(
        HVACMode.HEAT_COOL, temperature=22.0
    )
    assert plan_target(auto(temperature=21), thermostat).target == ClimateTarget(
        HVACMode.HEAT_COOL, temperature=21.0
    )


def test_auto_comfort_point_on_range() -> None:
    thermostat = traits(
        HVACMode.HEAT_COOL,
        hvac_modes=[HVACMode.HEAT_COOL],
        supported_features=RANGE,
        target_temp_low=19,
        target_temp_high=23,
    )

    plan = plan_target(auto(temperature=22), thermostat)

    # The current range is 4 °C wide, and that width is kept around 22 °C.
    assert plan.target == ClimateTarget(
        HVACMode.HEAT_COOL, target_temp_low=20.0, target_temp_high=24.0
    )


def test_range_at_max_keeps_gap() -> None:
    thermostat = traits(
        HVACMode.HEAT_COOL,
        hvac_modes=[HVACMode.HEAT_COOL],
        supported_features=RANGE,
        max_temp=30,
    )

    plan = plan_target(auto(heat=29.5, cool=32), thermostat)

    assert plan.clamped is True
    assert plan.target == ClimateTarget(
        HVACMode.HEAT_COOL, target_temp_low=28.5, target_temp_high=30.0
    )


def test_range_without_current_bounds() -> None:
    thermostat = traits(
        HVACMode.HEAT_COOL,
        hvac_modes=[HVACMode.HEAT_COOL],
        supported_features=RANGE,
    )

    assert plan_target(auto(cool=25), thermostat).target == ClimateTarget(
        HVACMode.HEAT_COOL, target_temp_low=23.5, target_temp_high=25.0
    )


@pytest.mark.parametrize(
    ("block", "attributes", "reason"),
    [
        (
            ScheduleBlock(NOON, HOUR, ScheduleMode.OFF, CELSIUS),
            {"hvac_modes": [HVACMode.HEAT]},
            "The thermostat cannot be turned off.",
        ),
        (
            auto(cool=24),
            {"hvac_modes": [HVACMode.OFF, HVACMode.HEAT]},
            "The thermostat has no mode that can follow this AUTO block.",
        ),
        (
            auto(heat=20),
            {"hvac_modes": [HVACMode.OFF, HVACMode.DRY]},
            "The thermostat has no mode that can follow this AUTO block.",
        ),
    ],
)
def test_block_skipped(
    block: ScheduleBlock, attributes: dict[str, Any], reason: str
) -> None:
    plan = plan_target(block, traits(**attributes))

    assert plan.target is None
    assert plan.skip_reason == reason


def test_mode_only_thermostat() -> None:
    thermostat = traits(supported_features=0)

    plan = plan_target(
        ScheduleBlock(NOON, HOUR, ScheduleMode.COOL, CELSIUS, temperature=24),
        thermostat,
    )

    assert plan.target == ClimateTarget(HVACMode.COOL)
