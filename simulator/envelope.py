"""Build WattShift's error envelope (`ApiErrorEnvelopeDto`) responses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import secrets
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from .models import ErrorCode, FieldError

# Default `message` and `recovery_action` for each error code. The wording is
# the simulator's; WattShift's own texts are not documented.
_TEXTS: Final[Mapping[ErrorCode, tuple[str, str]]] = MappingProxyType(
    {
        ErrorCode.AUTH_MISSING_API_KEY: (
            "The x-ws-api-key header is missing.",
            "Send your WattShift API key in the x-ws-api-key header.",
        ),
        ErrorCode.AUTH_INVALID_API_KEY: (
            "The API key is not valid.",
            "Check the API key in the x-ws-api-key header.",
        ),
        ErrorCode.AUTH_EXPIRED_CREDENTIAL: (
            "The API key has expired.",
            "Request a new API key from WattShift.",
        ),
        ErrorCode.AUTH_REVOKED_CREDENTIAL: (
            "The API key has been revoked.",
            "Request a new API key from WattShift.",
        ),
        ErrorCode.AUTH_INSUFFICIENT_SCOPE: (
            "The API key lacks the scope for this operation.",
            "Request an API key with the required scope.",
        ),
        ErrorCode.VALIDATION_FAILED: (
            "The request failed validation.",
            "Fix the fields listed in field_errors and send the request again.",
        ),
        ErrorCode.RATE_LIMITED: (
            "Too many requests.",
            "Wait retry_after_seconds before sending the request again.",
        ),
        ErrorCode.NOT_FOUND: (
            "The resource was not found.",
            "Check the path and the ids in it.",
        ),
        ErrorCode.FORBIDDEN: (
            "The API key may not perform this operation.",
            "Ask WattShift to grant access to this operation.",
        ),
        ErrorCode.PRODUCTION_ACCESS_DENIED: (
            "The API key has no production access.",
            "Use a sandbox resource or ask WattShift for production access.",
        ),
        ErrorCode.INTERNAL_ERROR: (
            "WattShift failed to handle the request.",
            "Send the request again later.",
        ),
    }
)


def new_request_id() -> str:
    """Return a new request id such as `req_3f2a9c0d1e4b5a69`."""
    return f"req_{secrets.token_hex(8)}"


def error_envelope(
    code: ErrorCode,
    request_id: str,
    *,
    message: str | None = None,
    field_errors: Sequence[FieldError] = (),
    retry_after_seconds: float | None = None,
) -> dict[str, Any]:
    """Return an `ApiErrorEnvelopeDto` for an error code."""
    default_message, recovery_action = _TEXTS[code]
    envelope: dict[str, Any] = {
        "request_id": request_id,
        "error_code": str(code),
        "message": message or default_message,
        "recovery_action": recovery_action,
    }
    if field_errors:
        envelope["field_errors"] = [error.to_dto() for error in field_errors]
    if retry_after_seconds is not None:
        envelope["retry_after_seconds"] = retry_after_seconds
    return envelope


def error_response(
    status: int,
    code: ErrorCode,
    request_id: str,
    *,
    message: str | None = None,
    field_errors: Sequence[FieldError] = (),
    retry_after_seconds: float | None = None,
) -> web.Response:
    """Return a JSON response carrying an error envelope."""
    return web.json_response(
        error_envelope(
            code,
            request_id,
            message=message,
            field_errors=field_errors,
            retry_after_seconds=retry_after_seconds,
        ),
        status=status,
    )
