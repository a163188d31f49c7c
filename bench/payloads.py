"""Build the request bodies WattShift sends: THERMOSTAT_QUERY and SET_POINT_SCHEDULE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
import json
from typing import Any, Final

from .home import BenchThermostat, wattshift_device_id

THERMOSTAT_QUERY: Final = json.dumps({"eventType": "THERMOSTAT_QUERY", "data": {}})
BLOCK_LENGTH: Final = timedelta(minutes=15)
# Set points in °C by (cools, shifted block).
_SET_POINTS: Final = {
    (False, False): 20.5,
    (False, True): 18.5,
    (True, False): 24.0,
    (True, True): 26.0,
}


def _instant(moment: datetime) -> str:
    """Format a UTC instant the way WattShift's examples write them."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def current_quarter_hour(now: datetime | None = None) -> datetime:
    """Return the start of the quarter hour that contains `now` (UTC)."""
    now = now or datetime.now(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


def _target_temperature(cooling: bool, block: int, variant: int) -> float:
    """Return a set point that alternates between comfort and shifted blocks.

    Four comfort blocks alternate with four shifted blocks, as an optimiser
    pre-heats or pre-cools before a price peak. `variant` moves every set point
    by half a degree, so two schedules sent in turn both change the thermostats.
    """
    shifted = block % 8 >= 4
    return _SET_POINTS[cooling, shifted] + variant * 0.5


def set_point_schedule(
    thermostats: Sequence[BenchThermostat],
    blocks: int,
    start: datetime,
    variant: int = 0,
) -> str:
    """Return a SET_POINT_SCHEDULE body with `blocks` quarter hours per thermostat.

    The thermostats are keyed by the WattShift device ids that
    BenchHome.expose(linked=True) links them to. The first block starts at
    `start`, so a receiver that applies the block in force acts at once.
    """
    end = start + blocks * BLOCK_LENGTH
    data: dict[str, Any] = {}
    for index, thermostat in enumerate(thermostats):
        mode = "COOL" if thermostat.cooling else "HEAT"
        data[wattshift_device_id(index)] = {
            "blocks": [
                {
                    "startDatetime": _instant(start + block * BLOCK_LENGTH),
                    "endDatetime": _instant(start + (block + 1) * BLOCK_LENGTH),
                    "targetTemp": _target_temperature(
                        thermostat.cooling, block, variant
                    ),
                    "targetMode": mode,
                }
                for block in range(blocks)
            ],
            "startDatetime": _instant(start),
            "endDatetime": _instant(end),
            "tempUnits": "C",
        }
    return json.dumps({"eventType": "SET_POINT_SCHEDULE", "data": data})
