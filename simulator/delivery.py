"""Deliver webhook events to registered URLs on the local machine."""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from aiohttp import ClientError, ClientSession, ClientTimeout
from multidict import CIMultiDictProxy
from yarl import URL

from .assumptions import DELIVERY_METHOD, DELIVERY_SUCCESS_STATUSES
from .errors import NonLoopbackTargetError, WebhookUnreachableError
from .models import DeliveryResult, EventType, utc_now
from .state import SimulatorState

_LOGGER = logging.getLogger(__name__)

SECURITY_KEY_HEADER: Final = "x-ws-security-key"
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def delivery_url(registered_url: str, origin: str | None) -> URL:
    """Return the URL to deliver to, with the origin replaced if given.

    `origin` (`http://127.0.0.1:8123`) replaces the scheme, host and port and
    keeps the registered path and query, so an event for an external URL can
    reach a local Home Assistant. Raises NonLoopbackTargetError unless the
    result is an http or https URL on 127.0.0.1, localhost or ::1.
    """
    url = URL(registered_url)
    if origin is not None:
        origin_url = URL(origin)
        if not origin_url.absolute or origin_url.path not in ("", "/"):
            raise ValueError(
                f"origin must be scheme://host[:port] without a path, got {origin!r}"
            )
        url = URL(str(origin_url.origin()) + url.raw_path_qs, encoded=True)
    if url.scheme not in ("http", "https") or url.host not in LOOPBACK_HOSTS:
        # The URL's path can contain a Home Assistant webhook id, so only the
        # origin goes into the message.
        raise NonLoopbackTargetError(
            f"cannot deliver to {_origin_of(url)}: the simulator delivers only "
            "to 127.0.0.1, localhost or ::1. Pass an origin such as "
            "http://127.0.0.1:8123 to send the event to a local server."
        )
    return url


async def deliver_event(
    state: SimulatorState,
    session: ClientSession,
    event_type: EventType,
    data: Any,
    *,
    org_id: str | None = None,
    security_key: str | None = None,
    omit_security_key: bool = False,
    origin: str | None = None,
    raw_body: bytes | str | None = None,
    timeout_seconds: float = 10.0,
) -> DeliveryResult:
    """POST one event to the webhook registered for its type; return the response.

    The body is `{"eventType": ..., "data": ...}` unless `raw_body` replaces
    it. The `x-ws-security-key` header carries the registered key, or
    `security_key` if given, or nothing with `omit_security_key`. Redirects
    are not followed, so a webhook cannot send the simulator to another host.
    """
    registration = state.find_registration(event_type, org_id)
    url = delivery_url(registration.webhook_url, origin)
    if raw_body is None:
        body = json.dumps({"eventType": str(event_type), "data": data}).encode()
    else:
        body = raw_body.encode() if isinstance(raw_body, str) else raw_body
    headers = {"Content-Type": "application/json"}
    if not omit_security_key:
        headers[SECURITY_KEY_HEADER] = (
            registration.security_key if security_key is None else security_key
        )

    try:
        async with session.request(
            DELIVERY_METHOD,
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=ClientTimeout(total=timeout_seconds),
        ) as response:
            text = _decode(await response.read(), response.charset)
            result = DeliveryResult(
                url=str(url),
                status=response.status,
                headers=CIMultiDictProxy(response.headers.copy()),
                body=_parse_body(text, response.content_type),
            )
    except (ClientError, TimeoutError) as err:
        _LOGGER.warning(
            "Delivering %s to %s failed: %s",
            event_type,
            _origin_of(url),
            err.__class__.__name__,
        )
        raise WebhookUnreachableError(
            f"request to the webhook at {_origin_of(url)} failed: "
            f"{err.__class__.__name__}: {err}"
        ) from err

    if result.status in DELIVERY_SUCCESS_STATUSES:
        registration.last_sent_at = utc_now()
    _LOGGER.info(
        "Delivered %s for %s to %s: HTTP %s",
        event_type,
        registration.org_id,
        _origin_of(url),
        result.status,
    )
    return result


def _decode(raw: bytes, charset: str | None) -> str:
    """Decode a response body, replacing bytes the charset cannot decode."""
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        # The webhook named a charset Python does not know.
        return raw.decode("utf-8", errors="replace")


def _parse_body(text: str, content_type: str) -> Any:
    """Parse a JSON response body, or return any other body as text."""
    if not text:
        return None
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _origin_of(url: URL) -> str:
    """Return scheme, host and port of a URL, which never hold a webhook id."""
    return str(url.origin()) if url.absolute and url.host else "<relative URL>"
