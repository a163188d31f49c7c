"""Serve the /_simulator/ control endpoints that drive a running simulator.

They let other processes (the command line, a demo script, a benchmark)
deliver events, inject failures and read what the simulator recorded. They
are not part of WattShift's API and are not validated against it. They
accept requests from loopback addresses only, and POSTs must be JSON, which
a browser cannot send cross-origin without a CORS preflight the simulator
never approves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging
from typing import Any, Final

from aiohttp import web

from .assumptions import INJECTABLE_STATUSES
from .delivery import deliver_event
from .errors import NoRegistrationError, WebhookUnreachableError
from .models import REDACTED, ErrorCode, EventType
from .state import STATE_KEY

_LOGGER = logging.getLogger(__name__)

CONTROL_PREFIX: Final = "/_simulator/"
_LOOPBACK_ADDRESSES: Final = frozenset({"127.0.0.1", "::1"})

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlInputError(ValueError):
    """A control request carried a missing or malformed field."""


def add_control_routes(app: web.Application) -> None:
    """Add the /_simulator/ endpoints to an application."""
    app.router.add_get("/_simulator/registrations", _list_registrations)
    app.router.add_get("/_simulator/requests", _list_requests)
    app.router.add_delete("/_simulator/requests", _clear_requests)
    app.router.add_post("/_simulator/deliver", _deliver)
    app.router.add_post("/_simulator/fail", _fail)
    app.router.add_post("/_simulator/delay", _delay)
    app.router.add_post("/_simulator/price_signal", _set_price_signal)
    app.router.add_post("/_simulator/api_keys", _add_api_key)
    app.router.add_post("/_simulator/api_keys/revoke", _revoke_api_key)


@web.middleware
async def control_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Reject non-loopback callers and non-JSON POSTs; turn input errors into 400."""
    if not request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    if request.remote not in _LOOPBACK_ADDRESSES:
        return _error(403, "control endpoints accept loopback clients only")
    if request.method == "POST" and request.content_type != "application/json":
        return _error(415, "send the control request as application/json")
    try:
        return await handler(request)
    except ControlInputError as err:
        return _error(400, str(err))


async def _list_registrations(request: web.Request) -> web.StreamResponse:
    """Return every registration with its security key redacted."""
    state = request.app[STATE_KEY]
    registrations = []
    for registration in state.registrations.values():
        dto = registration.to_dto()
        dto["securityKey"] = REDACTED
        registrations.append(dto)
    return web.json_response({"registrations": registrations})


async def _list_requests(request: web.Request) -> web.StreamResponse:
    """Return every recorded /v1 request with security keys redacted."""
    state = request.app[STATE_KEY]
    return web.json_response(
        {"requests": [record.to_dto() for record in state.requests]}
    )


async def _clear_requests(request: web.Request) -> web.StreamResponse:
    """Forget the recorded requests."""
    state = request.app[STATE_KEY]
    count = len(state.requests)
    state.requests.clear()
    return web.json_response({"cleared": count})


async def _deliver(request: web.Request) -> web.StreamResponse:
    """Deliver an event and return the webhook's status, headers and body."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    try:
        event_type = EventType(_field(body, "eventType", str))
    except ValueError as err:
        raise ControlInputError(
            f"eventType must be one of {', '.join(EventType)}"
        ) from err
    if state.client_session is None:
        return _error(503, "the simulator is stopping")
    try:
        result = await deliver_event(
            state,
            state.client_session,
            event_type,
            body.get("data", {}),
            org_id=_optional_field(body, "orgId", str),
            security_key=_optional_field(body, "securityKey", str),
            origin=_optional_field(body, "origin", str),
            raw_body=_optional_field(body, "rawBody", str),
        )
    except NoRegistrationError as err:
        return _error(404, str(err))
    except ValueError as err:
        # Also NonLoopbackTargetError, a malformed origin, or several
        # organisations registered for the event type without an orgId.
        return _error(400, str(err))
    except WebhookUnreachableError as err:
        return _error(502, str(err))
    return web.json_response(
        {"status": result.status, "headers": dict(result.headers), "body": result.body}
    )


async def _fail(request: web.Request) -> web.StreamResponse:
    """Queue an error response for the next matching /v1 requests."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    status = _field(body, "status", int)
    if status not in INJECTABLE_STATUSES:
        raise ControlInputError(
            "status must be one of "
            + ", ".join(str(code) for code in sorted(INJECTABLE_STATUSES))
        )
    error_code = _optional_field(body, "errorCode", str)
    if error_code is not None and error_code not in ErrorCode.__members__:
        raise ControlInputError(f"errorCode must be one of {', '.join(ErrorCode)}")
    retry_after = _optional_number(body, "retryAfterSeconds")
    try:
        failure = state.queue_failure(
            status,
            count=_optional_field(body, "count", int) or 1,
            error_code=error_code,
            retry_after_seconds=retry_after,
            path=_optional_field(body, "path", str),
        )
    except ValueError as err:
        raise ControlInputError(str(err)) from err
    _LOGGER.info(
        "Queued %s x HTTP %s %s for %s",
        failure.remaining,
        failure.status,
        failure.error_code,
        failure.path or "every /v1 path",
    )
    return web.json_response(
        {
            "status": failure.status,
            "errorCode": str(failure.error_code),
            "count": failure.remaining,
            "retryAfterSeconds": failure.retry_after_seconds,
            "path": failure.path,
        }
    )


async def _delay(request: web.Request) -> web.StreamResponse:
    """Set the delay of every /v1 response, in seconds."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    seconds = _optional_number(body, "seconds")
    if seconds is None:
        raise ControlInputError("seconds is required")
    try:
        state.set_delay(seconds)
    except ValueError as err:
        raise ControlInputError(str(err)) from err
    _LOGGER.info("Response delay set to %s s", state.delay)
    return web.json_response({"seconds": state.delay})


async def _set_price_signal(request: web.Request) -> web.StreamResponse:
    """Store the price intervals served for a home."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    home_id = _field(body, "homeId", str)
    intervals = _field(body, "intervals", list)
    try:
        state.set_price_signal(
            home_id, intervals, org_id=_optional_field(body, "orgId", str)
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ControlInputError(
            "each interval needs startTime and endTime (ISO 8601 with offset), "
            f"price and optionally import, export and confidence: {err}"
        ) from err
    return web.json_response({"homeId": home_id, "intervals": len(intervals)})


async def _add_api_key(request: web.Request) -> web.StreamResponse:
    """Accept an API key for an organisation."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    org_id = _field(body, "orgId", str)
    try:
        state.add_api_key(_field(body, "apiKey", str), org_id)
    except ValueError as err:
        raise ControlInputError(str(err)) from err
    return web.json_response({"orgId": org_id})


async def _revoke_api_key(request: web.Request) -> web.StreamResponse:
    """Revoke an API key."""
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    try:
        state.revoke_api_key(_field(body, "apiKey", str))
    except KeyError:
        return _error(404, "the API key is not known to the simulator")
    return web.json_response({"revoked": True})


async def _json_object(request: web.Request) -> dict[str, Any]:
    """Return the request's JSON object body."""
    try:
        body = await request.json()
    except ValueError as err:
        raise ControlInputError("the body is not valid JSON") from err
    if not isinstance(body, dict):
        raise ControlInputError("the body must be a JSON object")
    return body


def _field[T](body: dict[str, Any], name: str, kind: type[T]) -> T:
    """Return a required field, checking its JSON type."""
    if name not in body:
        raise ControlInputError(f"{name} is required")
    return _checked(body[name], name, kind)


def _optional_field[T](body: dict[str, Any], name: str, kind: type[T]) -> T | None:
    """Return an optional field or None, checking its JSON type."""
    value = body.get(name)
    return None if value is None else _checked(value, name, kind)


def _optional_number(body: dict[str, Any], name: str) -> float | None:
    """Return an optional JSON number as a float, or None."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlInputError(f"{name} must be a number")
    return float(value)


def _checked[T](value: Any, name: str, kind: type[T]) -> T:
    """Return the value if it has the expected JSON type."""
    # JSON true and false are ints in Python, but never a valid int here.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ControlInputError(f"{name} must be of type {kind.__name__}")
    return value


def _error(status: int, message: str) -> web.Response:
    """Log a rejected control request and return `{"error": message}`."""
    # Messages name fields, organisations and origins, never keys.
    _LOGGER.warning("Control request rejected with HTTP %s: %s", status, message)
    return web.json_response({"error": message}, status=status)
