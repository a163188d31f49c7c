"""Hold the mutable state that the simulator's HTTP handlers share."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import secrets
from typing import Any, Final

from aiohttp import ClientSession, web

from .assumptions import (
    DEFAULT_ERROR_CODES,
    INJECTABLE_STATUSES,
    REGISTRATION_FOR_EVENT,
)
from .errors import NoRegistrationError, ResponseValidationError, SimulatorError
from .models import (
    ErrorCode,
    EventType,
    InjectedFailure,
    PriceInterval,
    RecordedRequest,
    WebhookRegistration,
    format_timestamp,
    utc_now,
)
from .validation import OpenApiValidator


class AuthenticationError(SimulatorError):
    """An API key was missing, unknown or revoked."""

    def __init__(self, code: ErrorCode) -> None:
        """Store the error code the response carries."""
        super().__init__(str(code))
        self.code = code


class UnknownHomeError(SimulatorError, LookupError):
    """No price signal is stored for the home, or not for this organisation."""


@dataclass(slots=True)
class HomePriceSignal:
    """Price intervals stored for one home, sorted by start."""

    org_id: str | None
    intervals: list[PriceInterval]


@dataclass(slots=True)
class SimulatorState:
    """API keys, registrations, recorded requests and injected behaviour."""

    validator: OpenApiValidator
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)
    revoked_api_keys: set[str] = field(default_factory=set, repr=False)
    registrations: dict[tuple[str, EventType], WebhookRegistration] = field(
        default_factory=dict
    )
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: deque[InjectedFailure] = field(default_factory=deque)
    # Seconds every /v1 response waits before it is sent.
    delay: float = 0.0
    price_signals: dict[str, HomePriceSignal] = field(default_factory=dict)
    response_errors: list[ResponseValidationError] = field(default_factory=list)
    client_session: ClientSession | None = None

    def add_api_key(self, api_key: str, org_id: str) -> None:
        """Accept an API key for an organisation, also one revoked before."""
        if not api_key or not org_id:
            raise ValueError("API key and organisation id must not be empty")
        self.api_keys[api_key] = org_id
        self.revoked_api_keys.discard(api_key)

    def revoke_api_key(self, api_key: str) -> None:
        """Reject an API key from now on with AUTH_REVOKED_CREDENTIAL."""
        if api_key not in self.api_keys:
            raise KeyError("API key is not known to the simulator")
        self.revoked_api_keys.add(api_key)

    def authenticate(self, api_key: str | None) -> str:
        """Return the organisation id of an API key.

        Raises AuthenticationError with the error code to respond with.
        """
        if not api_key:
            raise AuthenticationError(ErrorCode.AUTH_MISSING_API_KEY)
        if api_key in self.revoked_api_keys:
            raise AuthenticationError(ErrorCode.AUTH_REVOKED_CREDENTIAL)
        org_id = self.api_keys.get(api_key)
        if org_id is None:
            raise AuthenticationError(ErrorCode.AUTH_INVALID_API_KEY)
        return org_id

    def queue_failure(
        self,
        status: int,
        *,
        count: int = 1,
        error_code: ErrorCode | str | None = None,
        retry_after_seconds: float | None = None,
        path: str | None = None,
    ) -> InjectedFailure:
        """Queue an error response for the next `count` matching requests."""
        if status not in INJECTABLE_STATUSES:
            raise ValueError(
                f"cannot inject HTTP {status}; use one of "
                f"{', '.join(str(code) for code in sorted(INJECTABLE_STATUSES))}"
            )
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if retry_after_seconds is not None and retry_after_seconds < 0:
            raise ValueError(
                f"retry_after_seconds must not be negative, got {retry_after_seconds}"
            )
        if path is not None and not path.startswith("/v1/"):
            raise ValueError(f"path must start with /v1/, got {path!r}")
        failure = InjectedFailure(
            status=status,
            remaining=count,
            error_code=(
                DEFAULT_ERROR_CODES[status]
                if error_code is None
                else ErrorCode(error_code)
            ),
            retry_after_seconds=retry_after_seconds,
            path=path,
        )
        self.failures.append(failure)
        return failure

    def take_failure(self, path: str) -> InjectedFailure | None:
        """Return the oldest queued failure that applies to `path`, if any."""
        for failure in self.failures:
            if failure.matches(path):
                failure.remaining -= 1
                if failure.remaining == 0:
                    self.failures.remove(failure)
                return failure
        return None

    def set_delay(self, seconds: float) -> None:
        """Delay every /v1 response by `seconds`; 0 turns the delay off."""
        if seconds < 0:
            raise ValueError(f"delay must not be negative, got {seconds}")
        self.delay = seconds

    def upsert_registration(
        self,
        org_id: str,
        event_type: EventType,
        *,
        webhook_url: str,
        security_key: str,
        open_adr: bool,
    ) -> WebhookRegistration:
        """Store the organisation's webhook for an event type.

        A second call keeps `id`, `createdAt` and `lastSentAt` and replaces the
        rest. NOTE: Guess. The docs call only the price signal endpoint "set or
        update", and the simulator treats all three registration endpoints alike.
        """
        now = utc_now()
        registration = self.registrations.get((org_id, event_type))
        if registration is None:
            registration = WebhookRegistration(
                id=f"ws_webhook_{secrets.token_hex(12)}",
                org_id=org_id,
                event_type=event_type,
                webhook_url=webhook_url,
                security_key=security_key,
                open_adr=open_adr,
                created_at=now,
                updated_at=now,
            )
            self.registrations[(org_id, event_type)] = registration
            return registration
        registration.webhook_url = webhook_url
        registration.security_key = security_key
        registration.open_adr = open_adr
        registration.updated_at = now
        return registration

    def find_registration(
        self, event_type: EventType, org_id: str | None = None
    ) -> WebhookRegistration:
        """Return the registration that receives an event type.

        Without `org_id` exactly one organisation must have registered.
        Raises NoRegistrationError when no registration matches, and
        ValueError when several organisations match.
        """
        registration_type = REGISTRATION_FOR_EVENT[event_type]
        if org_id is not None:
            registration = self.registrations.get((org_id, registration_type))
            if registration is None:
                raise NoRegistrationError(
                    f"{org_id} has no webhook registered for {registration_type}"
                )
            return registration
        candidates = [
            registration
            for (_, kind), registration in self.registrations.items()
            if kind == registration_type
        ]
        if not candidates:
            raise NoRegistrationError(
                f"no webhook is registered for {registration_type}"
            )
        if len(candidates) > 1:
            org_ids = ", ".join(sorted(item.org_id for item in candidates))
            raise ValueError(
                f"several organisations registered for {registration_type} "
                f"({org_ids}); pass org_id"
            )
        return candidates[0]

    def set_price_signal(
        self,
        home_id: str,
        intervals: Iterable[PriceInterval | Mapping[str, Any]],
        *,
        org_id: str | None = None,
    ) -> None:
        """Store the intervals served for a home, visible to `org_id` or to all."""
        parsed = [
            item if isinstance(item, PriceInterval) else PriceInterval.from_dto(item)
            for item in intervals
        ]
        parsed.sort(key=lambda interval: interval.start)
        self.price_signals[home_id] = HomePriceSignal(org_id, parsed)

    def price_signal_dto(
        self,
        home_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        org_id: str | None = None,
    ) -> dict[str, Any]:
        """Return a home's `PriceSignalResponseDto` for a window.

        Without `start` and `end` the window spans all stored intervals.
        Intervals that overlap the window are included. Raises
        UnknownHomeError when the home has no price signal for `org_id`.
        """
        signal = self.price_signals.get(home_id)
        if signal is None or (
            org_id is not None and signal.org_id not in (None, org_id)
        ):
            raise UnknownHomeError(f"no price signal for home {home_id}")
        if start is None or end is None:
            if signal.intervals:
                start = signal.intervals[0].start
                end = max(interval.end for interval in signal.intervals)
            else:
                start = end = utc_now()
        selected = [
            interval
            for interval in signal.intervals
            if interval.start < end and interval.end > start
        ]
        return {
            "homeId": home_id,
            "startTime": format_timestamp(start),
            "endTime": format_timestamp(end),
            "data": [interval.to_dto() for interval in selected],
            "prices": [interval.price for interval in selected],
            "import": [interval.effective_import_price for interval in selected],
            "export": [interval.export_price for interval in selected],
        }


STATE_KEY: Final = web.AppKey("wattshift_simulator_state", SimulatorState)
