"""The set-point schedule model: blocks, their order and how schedules merge.

Every instant here is an aware UTC datetime. Temperatures stay in the unit
WattShift sent them in (``unit``), so that a schedule is converted to Home
Assistant's unit once, when a block is written to a thermostat.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from homeassistant.const import UnitOfTemperature
from homeassistant.util import dt as dt_util

# Blocks that ended longer ago than this are dropped when the store is saved,
# so that the store of a thermostat stays near two days of quarter-hour blocks.
HISTORY_KEPT = timedelta(days=1)


class ScheduleMode(StrEnum):
    """WattShift's targetMode values."""

    OFF = "OFF"
    HEAT = "HEAT"
    COOL = "COOL"
    AUTO = "AUTO"


class ScheduleBlock(NamedTuple):
    """One block of a schedule, with the targets its mode uses.

    A named tuple rather than a dataclass, because a delivery can carry
    thousands of blocks and tuples are the cheapest immutable records.
    """

    start: datetime
    end: datetime
    mode: ScheduleMode
    unit: UnitOfTemperature
    temperature: float | None = None
    """The single setpoint: heating in HEAT, cooling in COOL, comfort in AUTO."""

    heat: float | None = None
    """Lower bound of an AUTO block."""

    cool: float | None = None
    """Upper bound of an AUTO block."""

    def contains(self, moment: datetime) -> bool:
        """Return whether the block is in force at moment."""
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class DeviceSchedule:
    """The schedule WattShift sent for one device."""

    start: datetime
    end: datetime
    unit: UnitOfTemperature
    blocks: tuple[ScheduleBlock, ...]


def merge_schedule(
    current: Sequence[ScheduleBlock], schedule: DeviceSchedule
) -> tuple[ScheduleBlock, ...]:
    """Replace the blocks from the new schedule's start on with its blocks.

    Blocks that end before the new schedule starts are kept, and a block that
    runs across its start is cut short there.
    """
    earlier: list[ScheduleBlock] = []
    for block in current:
        if block.end <= schedule.start:
            earlier.append(block)
        elif block.start < schedule.start:
            earlier.append(block._replace(end=schedule.start))
    return (*earlier, *schedule.blocks)


def prune_blocks(
    blocks: Sequence[ScheduleBlock], now: datetime
) -> tuple[ScheduleBlock, ...]:
    """Drop blocks that ended longer ago than the kept history."""
    oldest_end = now - HISTORY_KEPT
    return tuple(block for block in blocks if block.end > oldest_end)


def block_at(blocks: Sequence[ScheduleBlock], moment: datetime) -> ScheduleBlock | None:
    """Return the block in force at moment; blocks are sorted and never overlap."""
    index = bisect_right(blocks, moment, key=_start) - 1
    if index >= 0 and blocks[index].contains(moment):
        return blocks[index]
    return None


def next_block(
    blocks: Sequence[ScheduleBlock], moment: datetime
) -> ScheduleBlock | None:
    """Return the first block that starts after moment."""
    index = bisect_right(blocks, moment, key=_start)
    return blocks[index] if index < len(blocks) else None


def blocks_between(
    blocks: Sequence[ScheduleBlock], start: datetime, end: datetime
) -> list[ScheduleBlock]:
    """Return the blocks that overlap the range from start to end."""
    return [block for block in blocks if block.start < end and block.end > start]


def next_boundary(blocks: Sequence[ScheduleBlock], moment: datetime) -> datetime | None:
    """Return the first block start or end after moment."""
    current = block_at(blocks, moment)
    upcoming = next_block(blocks, moment)
    candidates = [
        instant
        for instant in (
            current.end if current else None,
            upcoming.start if upcoming else None,
        )
        if instant is not None
    ]
    return min(candidates, default=None)


def _start(block: ScheduleBlock) -> datetime:
    """Return the sort key of a block."""
    return block.start


def block_to_dict(block: ScheduleBlock) -> dict[str, Any]:
    """Serialise a block for the store."""
    return {
        "start": block.start.isoformat(),
        "end": block.end.isoformat(),
        "mode": block.mode.value,
        "unit": block.unit.value,
        "temperature": block.temperature,
        "heat": block.heat,
        "cool": block.cool,
    }


def block_from_dict(data: dict[str, Any]) -> ScheduleBlock:
    """Read a block the store wrote with block_to_dict."""
    return ScheduleBlock(
        start=dt_util.as_utc(datetime.fromisoformat(data["start"])),
        end=dt_util.as_utc(datetime.fromisoformat(data["end"])),
        mode=ScheduleMode(data["mode"]),
        unit=UnitOfTemperature(data["unit"]),
        temperature=data.get("temperature"),
        heat=data.get("heat"),
        cool=data.get("cool"),
    )
