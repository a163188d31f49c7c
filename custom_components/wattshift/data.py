"""Runtime data of a WattShift config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .api import WattShiftClient
from .price_board import PriceBoard
from .query import ThermostatQueryHandler
from .receiver import WebhookReceiver
from .thermostats import ThermostatDirectory
from .webhook import WebhookManager

if TYPE_CHECKING:
    from .engine import ScheduleEngine

type WattShiftConfigEntry = ConfigEntry[WattShiftData]


@dataclass(slots=True)
class WattShiftData:
    """Everything a loaded WattShift config entry runs on."""

    client: WattShiftClient
    thermostats: ThermostatDirectory
    receiver: WebhookReceiver
    webhook: WebhookManager
    query: ThermostatQueryHandler
    credentials: tuple[str, str]
    """API key and base URL the client was built with."""
    prices: PriceBoard
    schedules: ScheduleEngine
