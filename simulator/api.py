"""Serve the simulated WattShift /v1 endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import json
import logging
from typing import Any, Final

from aiohttp import web

from .envelope import error_response, new_request_id
from .errors import ResponseValidationError
from .models import (
    ErrorCode,
    EventType,
    FieldError,
    RecordedRequest,
    parse_timestamp,
    utc_now,
)
from .state import STATE_KEY, AuthenticationError, UnknownHomeError

_LOGGER = logging.getLogger(__name__)

API_KEY_HEADER: Final = "x-ws-api-key"
API_PREFIX: Final = "/v1/"

THERMOSTAT_BEHAVIOR_WEBHOOK_PATH: Final = (
    "/v1/devices/hvac/thermostat_behavior/webhook/set"
)
SET_POINT_SCHEDULE_WEBHOOK_PATH: Final = (
    "/v1/devices/hvac/set_point_schedule/webhook/set"
)
PRICE_SIGNAL_WEBHOOK_PATH: Final = "/v1/webhook/price_signal/set"
HOME_PRICE_SIGNAL_PATH: Final = "/v1/homes/{id}/price_signal"

# Keys of per-request storage, set by the middleware for the handlers.
_RECORD: Final = "wattshift_recorded_request"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_api_routes(app: web.Application) -> None:
    """Add the /v1 operation handlers to an application."""
    app.router.add_post(
        THERMOSTAT_BEHAVIOR_WEBHOOK_PATH,
        _registration_handler(EventType.THERMOSTAT_QUERY, accepts_open_adr=False),
    )
    app.router.add_post(
        SET_POINT_SCHEDULE_WEBHOOK_PATH,
        _registration_handler(EventType.SET_POINT_SCHEDULE, accepts_open_adr=False),
    )
    app.router.add_post(
        PRICE_SIGNAL_WEBHOOK_PATH,
        _registration_handler(EventType.PRICE_SIGNAL, accepts_open_adr=True),
    )
    app.router.add_post(HOME_PRICE_SIGNAL_PATH, _handle_home_price_signal)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record, delay, check and respond to every request to a /v1 path.

    Every response is validated against the OpenAPI documents. A mismatch is
    a simulator bug. It is logged, stored and raised, so aiohttp responds 500.
    """
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    state = request.app[STATE_KEY]
    body = await request.read()
    check = state.validator.validate_request(request, body)
    record = RecordedRequest(
        request_id=new_request_id(),
        method=request.method,
        path=request.path,
        received_at=utc_now(),
        api_key_present=bool(request.headers.get(API_KEY_HEADER)),
        body=_parse_json(body),
        valid=check.valid,
        errors=list(check.errors),
    )
    state.requests.append(record)
    request[_RECORD] = record

    if state.delay > 0:
        await asyncio.sleep(state.delay)
    response = await _respond(
        request, handler, record, document_found=check.document is not None
    )
    record.status = response.status

    try:
        state.validator.validate_response(
            request, body, _as_response(request, response), check.document
        )
    except ResponseValidationError as err:
        record.status = 500
        state.response_errors.append(err)
        _LOGGER.error("Simulator bug, response does not match its OpenAPI: %s", err)
        raise
    _log_request(record)
    return response


async def _respond(
    request: web.Request,
    handler: Handler,
    record: RecordedRequest,
    *,
    document_found: bool,
) -> web.StreamResponse:
    """Respond with the first error that applies, or call the operation handler.

    NOTE: Guess. WattShift does not document the order of its checks. The
    simulator checks for an unknown path, then for an injected failure, then
    the API key, then the request against the OpenAPI. A request without a
    key therefore gets 401 even when its body is invalid too.
    """
    state = request.app[STATE_KEY]
    if not document_found:
        # The error codes have no METHOD_NOT_ALLOWED, so a known path with an
        # unknown method is a 404 as well.
        return _error(
            record,
            404,
            ErrorCode.NOT_FOUND,
            message=f"No WattShift operation is {request.method} {request.path}.",
        )

    failure = state.take_failure(request.path)
    if failure is not None:
        record.injected = True
        return _error(
            record,
            failure.status,
            failure.error_code,
            retry_after_seconds=failure.retry_after_seconds,
        )

    try:
        record.org_id = state.authenticate(request.headers.get(API_KEY_HEADER))
    except AuthenticationError as err:
        return _error(record, 401, err.code)

    if record.errors:
        return _error(
            record, 400, ErrorCode.VALIDATION_FAILED, field_errors=record.errors
        )
    return await handler(request)


def _as_response(request: web.Request, response: web.StreamResponse) -> web.Response:
    """Return the response if its body can be validated, else raise."""
    if not isinstance(response, web.Response):
        raise ResponseValidationError(
            f"{request.method} {request.path}: handler returned a "
            f"{type(response).__name__}, which cannot be validated"
        )
    return response


def _registration_handler(event_type: EventType, *, accepts_open_adr: bool) -> Handler:
    """Return a handler that stores the caller's webhook for `event_type`."""

    async def handle_registration(request: web.Request) -> web.StreamResponse:
        """Store the organisation's webhook and return the registration."""
        state = request.app[STATE_KEY]
        record: RecordedRequest = request[_RECORD]
        assert record.org_id is not None
        body = await request.json()
        registration = state.upsert_registration(
            record.org_id,
            event_type,
            webhook_url=body["webhookUrl"],
            security_key=body["securityKey"],
            open_adr=bool(body.get("openAdr", False)) if accepts_open_adr else False,
        )
        return web.json_response(registration.to_dto())

    return handle_registration


async def _handle_home_price_signal(request: web.Request) -> web.StreamResponse:
    """Return the price signal stored for the home in the path."""
    state = request.app[STATE_KEY]
    record: RecordedRequest = request[_RECORD]
    home_id = request.match_info["id"]
    body = _parse_json(await request.read()) or {}
    start_text: str | None = body.get("startTime")
    end_text: str | None = body.get("endTime")

    # NOTE: The docs say to send both times or neither; OpenAPI 3.0 cannot
    # express that, so it is checked here.
    if (start_text is None) != (end_text is None):
        missing, given = (
            ("endTime", "startTime") if end_text is None else ("startTime", "endTime")
        )
        return _reject(request, [FieldError(missing, f"is required with {given}")])
    start = end = None
    if start_text is not None and end_text is not None:
        start = parse_timestamp(start_text)
        end = parse_timestamp(end_text)
        if end <= start:
            return _reject(request, [FieldError("endTime", "must be after startTime")])

    try:
        signal = state.price_signal_dto(
            home_id, start=start, end=end, org_id=record.org_id
        )
    except UnknownHomeError:
        return _error(
            record, 404, ErrorCode.NOT_FOUND, message=f"Home {home_id} was not found."
        )
    return web.json_response(signal)


def _reject(request: web.Request, errors: list[FieldError]) -> web.Response:
    """Mark the request invalid and respond 400 VALIDATION_FAILED."""
    record: RecordedRequest = request[_RECORD]
    record.valid = False
    record.errors.extend(errors)
    return _error(record, 400, ErrorCode.VALIDATION_FAILED, field_errors=errors)


def _error(
    record: RecordedRequest,
    status: int,
    code: ErrorCode,
    *,
    message: str | None = None,
    field_errors: list[FieldError] | None = None,
    retry_after_seconds: float | None = None,
) -> web.Response:
    """Build an error envelope response and note its code in the record."""
    record.error_code = code
    return error_response(
        status,
        code,
        record.request_id,
        message=message,
        field_errors=field_errors or (),
        retry_after_seconds=retry_after_seconds,
    )


def _parse_json(body: bytes) -> Any:
    """Parse a request body, or return None when it is empty or not JSON.

    Bodies that are not JSON are dropped instead of kept as text, because
    they may contain a security key that redaction cannot find.
    """
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _log_request(record: RecordedRequest) -> None:
    """Log one line per request, without API keys or security keys."""
    result = f"{record.status}"
    if record.error_code is not None:
        result += f" {record.error_code}"
    if record.injected:
        result += " (injected)"
    if record.valid:
        outcome = "request valid"
    else:
        outcome = "request invalid: " + "; ".join(str(e) for e in record.errors)
    _LOGGER.info("%s %s -> %s, %s", record.method, record.path, result, outcome)
