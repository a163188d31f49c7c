"""Simulate WattShift's partner API and webhook deliveries on 127.0.0.1."""

from .app import DEFAULT_API_KEY, DEFAULT_ORG_ID, WattShiftSimulator
from .errors import (
    DeliveryError,
    NonLoopbackTargetError,
    NoRegistrationError,
    ResponseValidationError,
    SimulatorError,
    WebhookUnreachableError,
)
from .models import (
    DeliveryResult,
    ErrorCode,
    EventType,
    FieldError,
    InjectedFailure,
    PriceInterval,
    RecordedRequest,
    WebhookRegistration,
    build_price_intervals,
)
from .validation import OpenApiValidator

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_ORG_ID",
    "DeliveryError",
    "DeliveryResult",
    "ErrorCode",
    "EventType",
    "FieldError",
    "InjectedFailure",
    "NoRegistrationError",
    "NonLoopbackTargetError",
    "OpenApiValidator",
    "PriceInterval",
    "RecordedRequest",
    "ResponseValidationError",
    "SimulatorError",
    "WattShiftSimulator",
    "WebhookRegistration",
    "WebhookUnreachableError",
    "build_price_intervals",
]
