"""Asynchronous client for the WattShift partner API.

The client knows nothing of Home Assistant: it takes an aiohttp session, sends
the API key in the ``x-ws-api-key`` header and turns WattShift's responses into
typed records or into the exceptions defined here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from http import HTTPStatus
import json
import math
from typing import Any, Final

import aiohttp

DEFAULT_BASE_URL: Final = "https://api.wattshift.com"
DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=15)

PATH_THERMOSTAT_BEHAVIOR_WEBHOOK: Final = (
    "/v1/devices/hvac/thermostat_behavior/webhook/set"
)
PATH_SET_POINT_SCHEDULE_WEBHOOK: Final = (
    "/v1/devices/hvac/set_point_schedule/webhook/set"
)
PATH_PRICE_SIGNAL_WEBHOOK: Final = "/v1/webhook/price_signal/set"
PATH_HOME_PRICE_SIGNAL: Final = "/v1/homes/{home_id}/price_signal"

# Maximum length of the error text kept from a response that is not WattShift's JSON error
# envelope, such as an HTML page from a proxy.
_MAX_TEXT_ERROR: Final = 200


class EventType(StrEnum):
    """Event types WattShift delivers to a registered webhook."""

    UNKNOWN = "UNKNOWN"
    SET_POINT_SCHEDULE = "SET_POINT_SCHEDULE"
    THERMOSTAT_QUERY = "THERMOSTAT_QUERY"
    PRICE_SIGNAL = "PRICE_SIGNAL"


class WattShiftError(Exception):
    """Base class for every error the client raises."""


class WattShiftConnectionError(WattShiftError):
    """WattShift could not be reached or did not respond in time."""


class WattShiftApiError(WattShiftError):
    """WattShift responded with an error.

    The fields come from WattShift's error envelope when the response carries
    one; ``status`` is the HTTP status code.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        """Store the details of a failed request."""
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.request_id = request_id
        self.retry_after_seconds = retry_after_seconds


class WattShiftAuthenticationError(WattShiftApiError):
    """WattShift rejected the API key (HTTP 401 or 403, or an AUTH_* code)."""


class WattShiftRateLimitError(WattShiftApiError):
    """WattShift asked us to slow down (HTTP 429 or RATE_LIMITED)."""


@dataclass(frozen=True, slots=True)
class WebhookRegistration:
    """A webhook registration as WattShift stores it."""

    id: str
    api_owner_org_id: str
    webhook_url: str
    event_type: EventType
    open_adr: bool
    created_at: datetime | None
    updated_at: datetime | None
    last_sent_at: datetime | None

    @classmethod
    def from_json(cls, payload: Any) -> WebhookRegistration:
        """Build a registration from WattShift's SetWebhookResponseDto."""
        if not isinstance(payload, Mapping):
            raise WattShiftApiError(
                "WattShift returned a registration that is not an object"
            )
        try:
            return cls(
                id=_required_str(payload, "id"),
                api_owner_org_id=_required_str(payload, "apiOwnerOrgId"),
                webhook_url=_required_str(payload, "webhookUrl"),
                event_type=EventType(payload["eventType"]),
                # Older WattShift responses have no openAdr field at all.
                open_adr=bool(payload.get("openAdr", False)),
                created_at=_optional_datetime(payload.get("createdAt")),
                updated_at=_optional_datetime(payload.get("updatedAt")),
                last_sent_at=_optional_datetime(payload.get("lastSentAt")),
            )
        except (KeyError, ValueError) as err:
            raise WattShiftApiError(
                f"WattShift returned an invalid registration: {err}"
            ) from err


class WattShiftClient:
    """Client for the WattShift endpoints the integration uses."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        """Create a client that sends every request with the given API key."""
        self._session = session
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        """Base URL the client sends requests to."""
        return self._base_url

    async def set_thermostat_behavior_webhook(
        self, webhook_url: str, security_key: str
    ) -> WebhookRegistration:
        """Register the URL that receives THERMOSTAT_QUERY events."""
        return await self._set_webhook(
            PATH_THERMOSTAT_BEHAVIOR_WEBHOOK,
            {"webhookUrl": webhook_url, "securityKey": security_key},
        )

    async def set_set_point_schedule_webhook(
        self, webhook_url: str, security_key: str
    ) -> WebhookRegistration:
        """Register the URL that receives SET_POINT_SCHEDULE events."""
        return await self._set_webhook(
            PATH_SET_POINT_SCHEDULE_WEBHOOK,
            {"webhookUrl": webhook_url, "securityKey": security_key},
        )

    async def set_price_signal_webhook(
        self, webhook_url: str, security_key: str, *, open_adr: bool = False
    ) -> WebhookRegistration:
        """Register the organisation's URL that receives PRICE_SIGNAL events."""
        return await self._set_webhook(
            PATH_PRICE_SIGNAL_WEBHOOK,
            {
                "webhookUrl": webhook_url,
                "securityKey": security_key,
                "openAdr": open_adr,
            },
        )

    async def get_price_signal(
        self,
        home_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Any:
        """Fetch a home's price signal, for a window when start and end are set."""
        body: dict[str, str] | None = None
        if start is not None and end is not None:
            body = {"startTime": start.isoformat(), "endTime": end.isoformat()}
        elif start is not None or end is not None:
            raise ValueError("Pass both start and end, or neither")
        return await self._request(PATH_HOME_PRICE_SIGNAL.format(home_id=home_id), body)

    async def _set_webhook(
        self, path: str, body: dict[str, Any]
    ) -> WebhookRegistration:
        """Send one webhook registration and parse the stored record."""
        return WebhookRegistration.from_json(await self._request(path, body))

    async def _request(self, path: str, body: dict[str, Any] | None) -> Any:
        """POST to WattShift and return the decoded JSON response."""
        try:
            async with self._session.post(
                f"{self._base_url}{path}",
                json=body,
                headers={"x-ws-api-key": self._api_key, "Accept": "application/json"},
                timeout=self._timeout,
            ) as response:
                # A body that is not valid UTF-8 is a broken response, not a
                # reason to raise anything but the client's own errors.
                text = (await response.read()).decode("utf-8", "replace")
                if response.status >= HTTPStatus.BAD_REQUEST:
                    raise _error_from_response(response, text)
        except TimeoutError as err:
            raise WattShiftConnectionError(
                f"Timed out after {self._timeout.total} s waiting for WattShift"
            ) from err
        except aiohttp.ClientError as err:
            raise WattShiftConnectionError(
                f"Could not reach WattShift: {type(err).__name__}"
            ) from err

        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as err:
            raise WattShiftApiError(
                "WattShift returned a response that is not JSON",
                status=response.status,
            ) from err


def _error_from_response(
    response: aiohttp.ClientResponse, text: str
) -> WattShiftApiError:
    """Turn an error response into the matching exception."""
    status = response.status
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    envelope: Mapping[str, Any] = decoded if isinstance(decoded, Mapping) else {}
    # Text that is not a JSON object, such as a proxy's HTML page, is the
    # only description of the error there is.
    raw_text = "" if decoded is not None else text[:_MAX_TEXT_ERROR].strip()

    error_code = _optional_str(envelope.get("error_code"))
    message = (
        _optional_str(envelope.get("message"))
        or _optional_str(envelope.get("error"))
        or raw_text
        or _status_phrase(status)
    )
    details: dict[str, Any] = {
        "status": status,
        "error_code": error_code,
        "request_id": _optional_str(envelope.get("request_id")),
    }

    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN) or (
        error_code is not None and error_code.startswith("AUTH_")
    ):
        return WattShiftAuthenticationError(message, **details)
    if status == HTTPStatus.TOO_MANY_REQUESTS or error_code == "RATE_LIMITED":
        return WattShiftRateLimitError(
            message,
            retry_after_seconds=_retry_after(envelope, response),
            **details,
        )
    return WattShiftApiError(message, **details)


def _retry_after(
    envelope: Mapping[str, Any], response: aiohttp.ClientResponse
) -> float | None:
    """Return the delay WattShift requests, from the envelope or Retry-After."""
    value = envelope.get("retry_after_seconds")
    if value is None:
        value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    # JSON parsers accept NaN and Infinity, and neither is a delay.
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _status_phrase(status: int) -> str:
    """Return the reason phrase of a status, also for codes HTTPStatus lacks."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _required_str(payload: Mapping[str, Any], key: str) -> str:
    """Return a string field, or raise ValueError naming the field."""
    value = payload[key]
    if isinstance(value, str):
        return value
    raise ValueError(f"{key} is not a string")


def _optional_str(value: Any) -> str | None:
    """Return the value when it is a non-empty string."""
    return value if isinstance(value, str) and value else None


def _optional_datetime(value: Any) -> datetime | None:
    """Parse an ISO 8601 timestamp; WattShift types these fields as any."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
