"""Collect the simulator's guesses about WattShift behaviour the docs leave open.

WattShift's public documentation describes the endpoints and the error
envelope, but not how deliveries are routed, which status each error code
comes with, or in which order a request is checked. Every such guess is a
constant here, so when WattShift clarifies one, only this module changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from .models import ErrorCode, EventType

# NOTE: Guess. The docs name three registration endpoints but not the one that
# receives UNKNOWN events. The simulator sends them to the thermostat_behavior
# registration, whose records carry THERMOSTAT_QUERY.
REGISTRATION_FOR_EVENT: Final[Mapping[EventType, EventType]] = MappingProxyType(
    {
        EventType.THERMOSTAT_QUERY: EventType.THERMOSTAT_QUERY,
        EventType.UNKNOWN: EventType.THERMOSTAT_QUERY,
        EventType.SET_POINT_SCHEDULE: EventType.SET_POINT_SCHEDULE,
        EventType.PRICE_SIGNAL: EventType.PRICE_SIGNAL,
    }
)

# NOTE: Guess. The docs list the error codes but pair only 400 and 401 with a
# status. The other pairs follow the codes' names.
DEFAULT_ERROR_CODES: Final[Mapping[int, ErrorCode]] = MappingProxyType(
    {
        400: ErrorCode.VALIDATION_FAILED,
        401: ErrorCode.AUTH_INVALID_API_KEY,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
        429: ErrorCode.RATE_LIMITED,
        500: ErrorCode.INTERNAL_ERROR,
    }
)

# Statuses that `fail_next` can inject: the error responses of
# partner-endpoints.yaml.
INJECTABLE_STATUSES: Final[frozenset[int]] = frozenset(DEFAULT_ERROR_CODES)

# NOTE: Guess. The docs imply but never state that deliveries are POSTs with a
# JSON body.
DELIVERY_METHOD: Final = "POST"

# NOTE: Guess. `lastSentAt` is the only sign of delivery tracking in the docs.
# The simulator sets it only when the webhook responds with a 2xx status.
DELIVERY_SUCCESS_STATUSES: Final = range(200, 300)
