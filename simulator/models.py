"""Define the records the WattShift simulator stores and returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from multidict import CIMultiDictProxy


class EventType(StrEnum):
    """WattShift webhook event type, as in the `eventType` enum."""

    UNKNOWN = "UNKNOWN"
    SET_POINT_SCHEDULE = "SET_POINT_SCHEDULE"
    THERMOSTAT_QUERY = "THERMOSTAT_QUERY"
    PRICE_SIGNAL = "PRICE_SIGNAL"


class ErrorCode(StrEnum):
    """Value of `error_code` in WattShift's error envelope."""

    AUTH_MISSING_API_KEY = "AUTH_MISSING_API_KEY"
    AUTH_INVALID_API_KEY = "AUTH_INVALID_API_KEY"
    AUTH_EXPIRED_CREDENTIAL = "AUTH_EXPIRED_CREDENTIAL"
    AUTH_REVOKED_CREDENTIAL = "AUTH_REVOKED_CREDENTIAL"
    AUTH_INSUFFICIENT_SCOPE = "AUTH_INSUFFICIENT_SCOPE"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    RATE_LIMITED = "RATE_LIMITED"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    PRODUCTION_ACCESS_DENIED = "PRODUCTION_ACCESS_DENIED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """Format an aware datetime as WattShift does: UTC, milliseconds and `Z`."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 date-time into an aware datetime in UTC.

    Raises ValueError when the text is not a date-time or has no UTC offset.
    """
    moment = datetime.fromisoformat(text.upper())
    if moment.tzinfo is None:
        raise ValueError(f"date-time {text!r} has no UTC offset")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of `field_errors`: a request field and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        """Return the error as `field: message`."""
        return f"{self.field}: {self.message}"

    def to_dto(self) -> dict[str, str]:
        """Return the error as a `field_errors` item."""
        return {"field": self.field, "message": self.message}


@dataclass(slots=True)
class WebhookRegistration:
    """Webhook URL that one organisation registered for one event type."""

    id: str
    org_id: str
    event_type: EventType
    webhook_url: str
    security_key: str = field(repr=False)
    open_adr: bool
    created_at: datetime
    updated_at: datetime
    last_sent_at: datetime | None = None

    def to_dto(self) -> dict[str, Any]:
        """Return the registration as a `SetWebhookResponseDto`."""
        return {
            "id": self.id,
            "createdAt": format_timestamp(self.created_at),
            "updatedAt": format_timestamp(self.updated_at),
            "apiOwnerOrgId": self.org_id,
            "webhookUrl": self.webhook_url,
            "securityKey": self.security_key,
            "eventType": str(self.event_type),
            "lastSentAt": (
                None
                if self.last_sent_at is None
                else format_timestamp(self.last_sent_at)
            ),
            "openAdr": self.open_adr,
        }


@dataclass(slots=True)
class RecordedRequest:
    """Request that reached a /v1 path of the simulator.

    The API key itself is never stored, only whether one was sent and the
    organisation it belongs to. `body` is the parsed JSON body and may contain
    a webhook `securityKey`, so it is left out of the repr.
    """

    request_id: str
    method: str
    path: str
    received_at: datetime
    api_key_present: bool
    body: Any = field(repr=False)
    valid: bool
    errors: list[FieldError]
    org_id: str | None = None
    status: int | None = None
    # `error_code` of the error envelope in the simulator's response.
    error_code: ErrorCode | None = None
    # Whether the response was a failure queued with `fail_next`.
    injected: bool = False

    def to_dto(self) -> dict[str, Any]:
        """Return the request as JSON for the control API, with secrets redacted."""
        return {
            "requestId": self.request_id,
            "method": self.method,
            "path": self.path,
            "receivedAt": format_timestamp(self.received_at),
            "apiKeyPresent": self.api_key_present,
            "orgId": self.org_id,
            "body": redact_secrets(self.body),
            "valid": self.valid,
            "errors": [error.to_dto() for error in self.errors],
            "status": self.status,
            "errorCode": None if self.error_code is None else str(self.error_code),
            "injected": self.injected,
        }


SECRET_FIELDS = frozenset({"securityKey"})
REDACTED = "**REDACTED**"


def redact_secrets(value: Any) -> Any:
    """Return a copy of a JSON value with every `securityKey` replaced."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in SECRET_FIELDS else redact_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class PriceInterval:
    """One interval of a home's price signal, prices in $/kWh."""

    start: datetime
    end: datetime
    price: float
    # None means the import price equals `price`.
    import_price: float | None = None
    export_price: float = 0.0
    confidence: float | None = 1.0

    def __post_init__(self) -> None:
        """Reject naive datetimes and empty intervals."""
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("price interval start and end must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(
                f"price interval ends at {self.end.isoformat()}, "
                f"not after its start {self.start.isoformat()}"
            )

    @property
    def effective_import_price(self) -> float:
        """Import price in $/kWh, falling back to `price`."""
        return self.price if self.import_price is None else self.import_price

    def to_dto(self) -> dict[str, Any]:
        """Return the interval as an item of the price signal's `data` list."""
        return {
            "startTime": format_timestamp(self.start),
            "endTime": format_timestamp(self.end),
            "price": self.price,
            "import": self.effective_import_price,
            "export": self.export_price,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dto(cls, item: Mapping[str, Any]) -> PriceInterval:
        """Build an interval from a `data` item with WattShift's field names.

        Raises ValueError or KeyError when a field is missing or malformed.
        """
        return cls(
            start=parse_timestamp(item["startTime"]),
            end=parse_timestamp(item["endTime"]),
            price=float(item["price"]),
            import_price=None if item.get("import") is None else float(item["import"]),
            export_price=float(item.get("export", 0.0)),
            confidence=(
                None if item.get("confidence") is None else float(item["confidence"])
            ),
        )


def build_price_intervals(
    start: datetime,
    prices: Sequence[float],
    *,
    export_prices: Sequence[float] | None = None,
    step: timedelta = timedelta(minutes=15),
) -> list[PriceInterval]:
    """Build back-to-back intervals of length `step` from a list of prices."""
    if export_prices is not None and len(export_prices) != len(prices):
        raise ValueError(
            f"got {len(export_prices)} export prices for {len(prices)} prices"
        )
    return [
        PriceInterval(
            start=start + index * step,
            end=start + (index + 1) * step,
            price=price,
            export_price=0.0 if export_prices is None else export_prices[index],
        )
        for index, price in enumerate(prices)
    ]


@dataclass(slots=True)
class InjectedFailure:
    """Error response queued with `fail_next`."""

    status: int
    remaining: int
    error_code: ErrorCode
    retry_after_seconds: float | None = None
    # None matches every /v1 path.
    path: str | None = None

    def matches(self, path: str) -> bool:
        """Return whether the failure applies to a request for `path`."""
        return self.path is None or self.path == path


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """Webhook's response to one delivered event."""

    url: str
    status: int
    headers: CIMultiDictProxy[str]
    # Parsed JSON when the webhook responded with a JSON content type, the text
    # otherwise, None for an empty body.
    body: Any

    @property
    def ok(self) -> bool:
        """Whether the webhook responded with a 2xx status."""
        return 200 <= self.status < 300
