"""Write a schedule block to a climate entity through its services."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.climate import DATA_COMPONENT, ClimateEntity
from homeassistant.components.climate.const import (
    ATTR_HVAC_MODE,
    DOMAIN as CLIMATE_DOMAIN,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_TEMPERATURE,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant, State, callback

from .overrides import is_available, setpoints_match
from .schedule import ScheduleBlock
from .targets import (
    ClimateTarget,
    TargetPlan,
    ThermostatTraits,
    choose_mode,
    plan_target,
)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Result of writing one block to a thermostat."""

    target: ClimateTarget | None = None
    """Target the thermostat was set to, in Home Assistant's unit."""

    half_step: float = 0.0
    skip_reason: str | None = None
    error: str | None = None
    unavailable: bool = False


@callback
def async_get_climate_entity(
    hass: HomeAssistant, entity_id: str
) -> ClimateEntity | None:
    """Return the entity object behind a climate entity id, if it is loaded."""
    component = hass.data.get(DATA_COMPONENT)
    return component.get_entity(entity_id) if component is not None else None


@callback
def async_read_traits(hass: HomeAssistant, entity_id: str) -> ThermostatTraits | None:
    """Read what a thermostat can do now; None while it is unavailable."""
    state = hass.states.get(entity_id)
    if state is None or not is_available(state):
        return None
    return ThermostatTraits.from_state(
        state,
        hass.config.units.temperature_unit,
        async_get_climate_entity(hass, entity_id),
    )


async def async_write_block(
    hass: HomeAssistant, entity_id: str, block: ScheduleBlock, context: Context
) -> WriteResult:
    """Set the HVAC mode, then the setpoints, skipping what is already set.

    The mode goes first because some thermostats have limits per mode; the
    setpoints are planned again against the limits shown after the change.
    """
    traits = async_read_traits(hass, entity_id)
    if traits is None:
        return WriteResult(unavailable=True)
    chosen = choose_mode(block, traits)
    if isinstance(chosen, TargetPlan):
        return WriteResult(skip_reason=chosen.skip_reason)

    plan: TargetPlan | None = None
    half_step = traits.half_step
    try:
        if traits.hvac_mode != chosen:
            await hass.services.async_call(
                CLIMATE_DOMAIN,
                SERVICE_SET_HVAC_MODE,
                {ATTR_ENTITY_ID: entity_id, ATTR_HVAC_MODE: chosen},
                blocking=True,
                context=context,
            )
            traits = async_read_traits(hass, entity_id)
            if traits is None:
                return WriteResult(unavailable=True)
            half_step = traits.half_step

        plan = plan_target(block, traits, chosen)
        if plan.target is None:
            return WriteResult(skip_reason=plan.skip_reason)
        data = plan.target.temperature_data()
        state = hass.states.get(entity_id)
        if data and not _shows(state, plan.target, half_step):
            await hass.services.async_call(
                CLIMATE_DOMAIN,
                SERVICE_SET_TEMPERATURE,
                {ATTR_ENTITY_ID: entity_id, **data},
                blocking=True,
                context=context,
            )
    except Exception as err:  # noqa: BLE001
        # Besides HomeAssistantError and vol.Invalid, a climate integration
        # can raise anything; the failure is reported and not retried.
        return WriteResult(
            target=plan.target if plan is not None else None,
            half_step=half_step,
            error=str(err) or type(err).__name__,
        )
    return WriteResult(target=plan.target, half_step=half_step)


def _shows(state: State | None, target: ClimateTarget, half_step: float) -> bool:
    """Return whether the thermostat already shows the target's setpoints."""
    return state is not None and setpoints_match(target, state, half_step)
