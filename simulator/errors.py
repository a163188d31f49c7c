"""Define the exceptions the WattShift simulator raises."""

from __future__ import annotations


class SimulatorError(Exception):
    """Base class of the simulator's exceptions."""


class ResponseValidationError(SimulatorError):
    """A response of the simulator does not match its OpenAPI document.

    This is a bug in the simulator, never in the client under test.
    """


class DeliveryError(SimulatorError):
    """A webhook event could not be delivered."""


class NoRegistrationError(DeliveryError, LookupError):
    """No webhook is registered for the event type and organisation."""


class NonLoopbackTargetError(DeliveryError, ValueError):
    """The delivery URL points at a host other than the local machine."""


class WebhookUnreachableError(DeliveryError):
    """The request to the webhook failed: connection error or timeout."""
