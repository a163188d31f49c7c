"""Run the WattShift simulator: an aiohttp server on 127.0.0.1 and its Python API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
import logging
import socket
from types import MappingProxyType, TracebackType
from typing import Any, Final, Self

from aiohttp import ClientSession, web

from .api import add_api_routes, api_middleware
from .control import add_control_routes, control_middleware
from .delivery import deliver_event
from .errors import ResponseValidationError
from .models import (
    DeliveryResult,
    ErrorCode,
    EventType,
    InjectedFailure,
    PriceInterval,
    RecordedRequest,
    WebhookRegistration,
)
from .state import STATE_KEY, SimulatorState
from .validation import OpenApiValidator, default_validator

_LOGGER = logging.getLogger(__name__)

DEFAULT_API_KEY: Final = "test-api-key"
DEFAULT_ORG_ID: Final = "org_simulated"
# The simulator listens on IPv4 loopback only; "localhost" is an alias for it.
_BIND_HOSTS: Final = frozenset({"127.0.0.1", "localhost"})
# Seconds aiohttp waits for in-flight requests (for example delayed ones)
# when the server stops.
_SHUTDOWN_TIMEOUT: Final = 1.0


class WattShiftSimulator:
    """Local stand-in for WattShift's servers, for tests, demos and benchmarks.

    Requests to /v1 paths are validated against the OpenAPI documents in
    `simulator/openapi/` and recorded in `requests`. They get the response
    WattShift would send, unless a failure or delay set through this API
    changes it.
    """

    def __init__(
        self,
        api_keys: Mapping[str, str] | None = None,
        *,
        validator: OpenApiValidator | None = None,
    ) -> None:
        """Create a stopped simulator that accepts `api_keys` (key -> org id).

        Without `api_keys` the simulator accepts DEFAULT_API_KEY for
        DEFAULT_ORG_ID.
        """
        self._state = SimulatorState(validator or default_validator())
        keys = {DEFAULT_API_KEY: DEFAULT_ORG_ID} if api_keys is None else api_keys
        for api_key, org_id in keys.items():
            self._state.add_api_key(api_key, org_id)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        # Number of response_errors that stop() has raised already.
        self._reported_errors = 0

    async def __aenter__(self) -> Self:
        """Start the simulator on a free port of 127.0.0.1."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the simulator."""
        await self.stop()

    @property
    def base_url(self) -> str:
        """URL of the running server, such as `http://127.0.0.1:8765`."""
        if self._base_url is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return self._base_url

    @property
    def running(self) -> bool:
        """Whether the server is running."""
        return self._runner is not None

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests to /v1 paths in arrival order, a live list."""
        return self._state.requests

    @property
    def registrations(self) -> Mapping[tuple[str, EventType], WebhookRegistration]:
        """Registrations by (organisation id, event type), a read-only live view."""
        return MappingProxyType(self._state.registrations)

    @property
    def pending_failures(self) -> list[InjectedFailure]:
        """Failures queued with `fail_next` that have not been used up."""
        return list(self._state.failures)

    @property
    def delay(self) -> float:
        """Seconds every /v1 response waits before it is sent."""
        return self._state.delay

    @property
    def response_errors(self) -> list[ResponseValidationError]:
        """Responses that did not match the OpenAPI documents (simulator bugs)."""
        return list(self._state.response_errors)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on `host`:`port` and return the base URL.

        Port 0 picks a free port. Only 127.0.0.1 (or its alias localhost) is
        accepted as host, so the simulator is never reachable from the network.
        """
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        if host not in _BIND_HOSTS:
            raise ValueError(f"the simulator binds to 127.0.0.1 only, not {host!r}")

        app = web.Application(middlewares=[control_middleware, api_middleware])
        app[STATE_KEY] = self._state
        add_api_routes(app)
        add_control_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise

        self._state.client_session = ClientSession()
        self._runner = runner
        self._base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        _LOGGER.info("WattShift simulator listening on %s", self._base_url)
        return self._base_url

    async def stop(self) -> None:
        """Stop the server and close the delivery client.

        Raises ResponseValidationError afterwards if a response failed
        validation since the last stop, so a test that hit a simulator bug
        cannot pass silently.
        """
        runner, self._runner = self._runner, None
        session, self._state.client_session = self._state.client_session, None
        if session is not None:
            await session.close()
        if runner is not None:
            await runner.cleanup()
            _LOGGER.info("WattShift simulator at %s stopped", self._base_url)
        self._base_url = None

        new_errors = self._state.response_errors[self._reported_errors :]
        self._reported_errors = len(self._state.response_errors)
        if new_errors:
            raise ResponseValidationError(
                f"simulator responses that did not match the OpenAPI documents "
                f"({len(new_errors)}): " + "; ".join(str(err) for err in new_errors)
            )

    def add_api_key(self, api_key: str, org_id: str) -> None:
        """Accept an API key for an organisation, also one revoked before."""
        self._state.add_api_key(api_key, org_id)

    def revoke_api_key(self, api_key: str) -> None:
        """Reject later requests with this key: 401 AUTH_REVOKED_CREDENTIAL."""
        self._state.revoke_api_key(api_key)

    def fail_next(
        self,
        status: int,
        count: int = 1,
        error_code: ErrorCode | str | None = None,
        retry_after_seconds: float | None = None,
        path: str | None = None,
    ) -> InjectedFailure:
        """Respond to the next `count` /v1 requests with an error envelope.

        `status` is one of 400, 401, 403, 404, 429 and 500. `error_code`
        defaults to the status's usual code (401 AUTH_INVALID_API_KEY, 429
        RATE_LIMITED, ...). `path` limits the failure to one endpoint, such as
        `/v1/webhook/price_signal/set`. Failures queue up in call order. A
        request to an unknown path never uses one up.
        """
        return self._state.queue_failure(
            status,
            count=count,
            error_code=error_code,
            retry_after_seconds=retry_after_seconds,
            path=path,
        )

    def clear_failures(self) -> None:
        """Drop every queued failure."""
        self._state.failures.clear()

    def set_delay(self, seconds: float) -> None:
        """Delay every /v1 response by `seconds` ("slow" mode); 0 turns it off."""
        self._state.set_delay(seconds)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        self._state.requests.clear()

    def set_price_signal(
        self,
        home_id: str,
        intervals: Iterable[PriceInterval | Mapping[str, Any]],
        *,
        org_id: str | None = None,
    ) -> None:
        """Store the intervals `POST /v1/homes/{id}/price_signal` serves.

        Intervals are PriceInterval objects or mappings with WattShift's field
        names (startTime, endTime, price, import, export, confidence). With
        `org_id` only that organisation's keys see the home.
        """
        self._state.set_price_signal(home_id, intervals, org_id=org_id)

    def price_signal_dto(
        self,
        home_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[str, Any]:
        """Return a home's price signal response, for example to deliver it."""
        return self._state.price_signal_dto(home_id, start=start, end=end)

    async def deliver(
        self,
        event_type: EventType | str,
        data: Any,
        *,
        org_id: str | None = None,
        security_key: str | None = None,
        omit_security_key: bool = False,
        origin: str | None = None,
        raw_body: bytes | str | None = None,
        timeout_seconds: float = 10.0,
    ) -> DeliveryResult:
        """POST `{"eventType": ..., "data": ...}` to the registered webhook.

        THERMOSTAT_QUERY and UNKNOWN go to the thermostat_behavior
        registration, SET_POINT_SCHEDULE and PRICE_SIGNAL to their own. The
        `x-ws-security-key` header carries the registered key unless
        `security_key` overrides it or `omit_security_key` drops it. `origin`
        (`http://127.0.0.1:8123`) replaces the registered URL's scheme, host
        and port. `raw_body` is sent as is instead of the JSON envelope.
        `timeout_seconds` limits the whole exchange. A 2xx response sets the registration's
        `lastSentAt`.

        Raises NoRegistrationError, NonLoopbackTargetError for a target other
        than 127.0.0.1, localhost or ::1, WebhookUnreachableError, or
        ValueError for an unknown event type or an ambiguous organisation.
        """
        session = self._state.client_session
        if session is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return await deliver_event(
            self._state,
            session,
            EventType(event_type),
            data,
            org_id=org_id,
            security_key=security_key,
            omit_security_key=omit_security_key,
            origin=origin,
            raw_body=raw_body,
            timeout_seconds=timeout_seconds,
        )
