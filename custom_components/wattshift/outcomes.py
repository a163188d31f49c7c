"""Predict what happens to each block of a delivered schedule, for its acknowledgement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from .contract import BlockOutcome, BlockStatus
from .schedule import ScheduleBlock
from .targets import TargetPlan, ThermostatTraits, plan_target

ENDED: Final = "The block ended before the schedule arrived."
NOT_FOLLOWING: Final = "The thermostat's Follow WattShift schedule switch is off."
UNAVAILABLE: Final = (
    "The thermostat is unavailable; the block is written when it is available "
    "again within the block."
)
CLAMPED: Final = "A setpoint is outside the thermostat's limits."


def predict_outcomes(
    blocks: Sequence[ScheduleBlock],
    *,
    following: bool,
    traits: ThermostatTraits | None,
    override_until: datetime | None,
    now: datetime,
) -> tuple[BlockOutcome, ...]:
    """Predict each block's fate from the thermostat's state now.

    The prediction uses today's limits and modes, so a thermostat whose
    limits depend on its mode can still clamp differently when the block
    is written.
    """
    # Quarter-hour schedules repeat a few targets many times; plan each once.
    plans: dict[tuple[object, ...], TargetPlan] = {}
    outcomes: list[BlockOutcome] = []
    for block in blocks:
        current = block.start <= now < block.end
        if block.end <= now:
            outcomes.append(
                BlockOutcome(block, BlockStatus.SKIPPED, current, None, ENDED)
            )
        elif not following:
            outcomes.append(
                BlockOutcome(block, BlockStatus.SKIPPED, current, None, NOT_FOLLOWING)
            )
        elif current and override_until is not None:
            reason = (
                "The thermostat was changed by hand; that setting is kept until "
                f"{override_until.isoformat()}."
            )
            outcomes.append(
                BlockOutcome(block, BlockStatus.SKIPPED, current, None, reason)
            )
        elif traits is None:
            outcomes.append(
                BlockOutcome(block, BlockStatus.SCHEDULED, current, None, UNAVAILABLE)
            )
        else:
            # The mode, unit and temperatures of the block.
            key = block[2:]
            if (plan := plans.get(key)) is None:
                plan = plans[key] = plan_target(block, traits)
            outcomes.append(_planned(block, plan, current))
    return tuple(outcomes)


def _planned(block: ScheduleBlock, plan: TargetPlan, current: bool) -> BlockOutcome:
    """Return the outcome of a block that has a plan."""
    if plan.target is None:
        return BlockOutcome(block, BlockStatus.SKIPPED, current, None, plan.skip_reason)
    if plan.clamped:
        return BlockOutcome(block, BlockStatus.CLAMPED, current, plan.target, CLAMPED)
    status = BlockStatus.APPLIED if current else BlockStatus.SCHEDULED
    return BlockOutcome(block, status, current, plan.target, None)
