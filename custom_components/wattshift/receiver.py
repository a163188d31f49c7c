"""Receive WattShift's deliveries on the Home Assistant webhook.

Home Assistant responds 200 for unknown webhook ids and for handlers that
raise, so WattShift can only trust the body. Every response here therefore
has an explicit JSON body and a status that match what happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
import secrets
from typing import Any, Final

from aiohttp import web
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.json import json_bytes
from homeassistant.util import dt as dt_util
from homeassistant.util.aiohttp import MockRequest
from homeassistant.util.json import json_loads

from .const import HEADER_SECURITY_KEY, LOGGER
from .contract import (
    Envelope,
    PayloadError,
    error_response,
    known_event_type,
    not_handled_response,
    parse_envelope,
)


@dataclass(frozen=True, slots=True)
class EventReply:
    """The status and JSON body sent back for one delivery."""

    body: dict[str, Any]
    status: HTTPStatus = HTTPStatus.OK
    encoded: bytes | None = None
    """The body already encoded as JSON, sent instead of encoding body."""


type EventHandler = Callable[[Envelope], Awaitable[EventReply]]

# Largest accepted body. A schedule of 96 quarter-hour blocks for each of 500
# thermostats is about 6 MiB, the largest delivery a home is expected to send.
MAX_BODY_BYTES: Final = 8 * 1024 * 1024
# Counter key of deliveries whose event type WattShift's enum does not name.
OTHER_EVENT_TYPES: Final = "other"


class BodyTooLargeError(Exception):
    """A delivery's body is larger than MAX_BODY_BYTES."""


class SecurityKeys:
    """The security keys a delivery may carry.

    There is one current key. During a rotation the new key is accepted before
    WattShift learns it, and the old key stays accepted for a grace period
    afterwards. A delivery sent with either key at any moment of the rotation
    is therefore accepted.
    """

    def __init__(self, current: str) -> None:
        """Accept only the current key."""
        self.current = current
        # Extra accepted keys and the instant until which each is accepted.
        self._extra: dict[str, datetime] = {}

    @callback
    def accepts(self, candidate: str) -> bool:
        """Compare a delivered key with every accepted key in constant time."""
        # aiohttp decodes header bytes that are not UTF-8 as surrogates, which
        # a strict encode would turn into an exception instead of a 401.
        given = candidate.encode("utf-8", "surrogateescape")
        if secrets.compare_digest(given, self.current.encode()):
            return True
        if not self._extra:
            return False
        now = dt_util.utcnow()
        accepted = False
        for key, valid_until in list(self._extra.items()):
            if valid_until <= now:
                del self._extra[key]
            elif secrets.compare_digest(given, key.encode()):
                accepted = True
        return accepted

    @callback
    def accept_also(self, key: str, duration: timedelta) -> None:
        """Accept an extra key for the given time."""
        self._extra[key] = dt_util.utcnow() + duration

    @callback
    def promote(self, key: str, grace: timedelta) -> None:
        """Make key the current one and keep the old one for a grace period."""
        old = self.current
        self.current = key
        self._extra.pop(key, None)
        self._extra[old] = dt_util.utcnow() + grace


@dataclass(slots=True)
class DeliveryStats:
    """Counters of accepted deliveries, for the status entities."""

    last_received: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)


class WebhookReceiver:
    """Check, parse and dispatch each delivery to its event handler."""

    def __init__(self, keys: SecurityKeys) -> None:
        """Create a receiver that accepts the given security keys."""
        self.keys = keys
        self.stats = DeliveryStats()
        self._handlers: dict[str, EventHandler] = {}
        self._not_handled: dict[str, str] = {}
        self._listeners: list[Callable[[], None]] = []

    @callback
    def async_set_handler(self, event_type: str, handler: EventHandler) -> None:
        """Dispatch deliveries of this event type to handler."""
        self._handlers[event_type] = handler
        self._not_handled.pop(event_type, None)

    @callback
    def async_remove_handler(self, event_type: str, reason: str) -> None:
        """Stop handling an event type and give the reason in the acknowledgement."""
        self._handlers.pop(event_type, None)
        self._not_handled[event_type] = reason

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call listener after every accepted delivery."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        """Respond to one POST to the webhook."""
        key = request.headers.get(HEADER_SECURITY_KEY)
        if not key or not self.keys.accepts(key):
            # Nothing else about the request is read before the key matches.
            return _json(
                error_response(
                    "unauthorized",
                    f"The {HEADER_SECURITY_KEY} header is missing or wrong.",
                ),
                HTTPStatus.UNAUTHORIZED,
            )

        try:
            envelope = parse_envelope(_decode(await _read_body(request)))
        except BodyTooLargeError:
            return _json(
                error_response(
                    "payload_too_large",
                    f"The request body is larger than {MAX_BODY_BYTES} bytes.",
                ),
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        except PayloadError as err:
            return _json(
                error_response("invalid_payload", str(err)), HTTPStatus.BAD_REQUEST
            )

        handler = self._handlers.get(envelope.event_type)
        if handler is None:
            self._count(envelope.event_type)
            return self._not_handled_reply(envelope.event_type)

        try:
            reply = await handler(envelope)
        except PayloadError as err:
            LOGGER.debug("Rejected a %s delivery: %s", envelope.event_type, err)
            return _json(
                error_response("invalid_payload", str(err)), HTTPStatus.BAD_REQUEST
            )
        except Exception:  # noqa: BLE001
            # A bug must still produce a JSON response, not Home Assistant's 200.
            LOGGER.exception(
                "Unexpected error handling a %s delivery", envelope.event_type
            )
            return _json(
                error_response(
                    "internal_error",
                    "Home Assistant failed to handle the event; see its log.",
                ),
                HTTPStatus.INTERNAL_SERVER_ERROR,
            )
        # Only accepted deliveries count, so that a rejected one changes nothing.
        self._count(envelope.event_type)
        if reply.encoded is not None:
            return _json_bytes(reply.encoded, reply.status)
        return _json(reply.body, reply.status)

    def _not_handled_reply(self, event_type: str) -> web.Response:
        """Acknowledge an event type nothing here acts on."""
        reason = self._not_handled.get(event_type)
        if reason is None:
            reason = (
                "This integration does not act on this event type."
                if known_event_type(event_type)
                else "Unknown event type."
            )
        LOGGER.debug("Acknowledged a %s delivery without acting on it", event_type)
        return _json(not_handled_response(event_type, reason), HTTPStatus.OK)

    def _count(self, event_type: str) -> None:
        """Record an accepted delivery and tell the status entities."""
        stats = self.stats
        stats.last_received = dt_util.utcnow()
        # Event types outside WattShift's enum share one counter, so that
        # arbitrary strings cannot grow the counters without limit.
        key = event_type if known_event_type(event_type) else OTHER_EVENT_TYPES
        stats.counts[key] = stats.counts.get(key, 0) + 1
        for listener in self._listeners:
            listener()


async def _read_body(request: web.Request | MockRequest) -> bytes | str:
    """Read the raw body, refusing one above MAX_BODY_BYTES.

    JSON decodes bytes without a text copy first, so plain requests are read
    as bytes. Cloudhook deliveries arrive as Home Assistant's MockRequest,
    which has text() but no read().
    """
    if isinstance(request, web.BaseRequest):
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            raise BodyTooLargeError
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge as err:
            raise BodyTooLargeError from err
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLargeError
        return body
    try:
        text = await request.text()
    except UnicodeDecodeError as err:
        raise PayloadError("The request body is not valid UTF-8.") from err
    if len(text) > MAX_BODY_BYTES:
        raise BodyTooLargeError
    return text


def _decode(body: bytes | str) -> Any:
    """Decode a request body as JSON."""
    if not body:
        raise PayloadError("The request body is empty; a JSON object is required.")
    try:
        return json_loads(body)
    except ValueError as err:
        raise PayloadError(f"The request body is not valid JSON: {err}") from err


def _json(body: dict[str, Any], status: HTTPStatus) -> web.Response:
    """Serialise a response body with Home Assistant's fast JSON encoder."""
    return _json_bytes(json_bytes(body), status)


def _json_bytes(body: bytes, status: HTTPStatus) -> web.Response:
    """Send a JSON body that is already encoded."""
    return web.Response(body=body, status=status, content_type="application/json")
