"""Tests for the WattShift API client over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
import pytest

from custom_components.wattshift.api import (
    DEFAULT_BASE_URL,
    EventType,
    WattShiftApiError,
    WattShiftAuthenticationError,
    WattShiftClient,
    WattShiftConnectionError,
    WattShiftRateLimitError,
)
from simulator import WattShiftSimulator

from .conftest import API_KEY, ORG_ID, Responder

URL = "https://home.example.com/api/webhook/abc"


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """Return a plain aiohttp session."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def client_for(
    session: aiohttp.ClientSession, base_url: str, api_key: str = API_KEY
) -> WattShiftClient:
    """Return a client with a short timeout."""
    return WattShiftClient(
        session, api_key, base_url=base_url, timeout=aiohttp.ClientTimeout(total=0.5)
    )


def test_default_base_url() -> None:
    assert DEFAULT_BASE_URL == "https://api.wattshift.com"


async def test_registration_parsed(
    session: aiohttp.ClientSession, simulator: WattShiftSimulator
) -> None:
    client = client_for(session, f"{simulator.base_url}/")

    registration = await client.set_thermostat_behavior_webhook(URL, "key")

    assert client.base_url == simulator.base_url
    assert registration.id.startswith("ws_webhook_")
    assert registration.api_owner_org_id == ORG_ID
    assert registration.webhook_url == URL
    assert registration.event_type is EventType.THERMOSTAT_QUERY
    assert registration.open_adr is False
    assert isinstance(registration.created_at, datetime)
    assert registration.created_at.tzinfo is not None
    assert registration.last_sent_at is None
    [request] = simulator.requests
    assert request.valid
    assert request.api_key_present


async def test_each_endpoint_registers_its_event_type(
    session: aiohttp.ClientSession, simulator: WattShiftSimulator
) -> None:
    client = client_for(session, simulator.base_url)

    schedule = await client.set_set_point_schedule_webhook(URL, "key")
    prices = await client.set_price_signal_webhook(URL, "key", open_adr=True)

    assert schedule.event_type is EventType.SET_POINT_SCHEDULE
    assert prices.event_type is EventType.PRICE_SIGNAL
    assert prices.open_adr is True
    assert [request.path for request in simulator.requests] == [
        "/v1/devices/hvac/set_point_schedule/webhook/set",
        "/v1/webhook/price_signal/set",
    ]
    assert all(request.valid for request in simulator.requests)


@pytest.mark.parametrize(
    ("status", "error_code", "expected"),
    [
        (401, None, WattShiftAuthenticationError),
        (403, "FORBIDDEN", WattShiftAuthenticationError),
        (400, "AUTH_EXPIRED_CREDENTIAL", WattShiftAuthenticationError),
        (429, None, WattShiftRateLimitError),
        (400, "RATE_LIMITED", WattShiftRateLimitError),
        (500, None, WattShiftApiError),
        (404, None, WattShiftApiError),
    ],
)
async def test_error_envelope_mapped(
    session: aiohttp.ClientSession,
    simulator: WattShiftSimulator,
    status: int,
    error_code: str | None,
    expected: type[WattShiftApiError],
) -> None:
    simulator.fail_next(status, error_code=error_code, retry_after_seconds=None)
    client = client_for(session, simulator.base_url)

    with pytest.raises(WattShiftApiError) as raised:
        await client.set_thermostat_behavior_webhook(URL, "key")

    assert type(raised.value) is expected
    assert raised.value.status == status
    assert raised.value.request_id is not None
    assert raised.value.request_id.startswith("req_")
    assert raised.value.error_code is not None
    assert raised.value.message


async def test_rate_limit_carries_retry_after(
    session: aiohttp.ClientSession, simulator: WattShiftSimulator
) -> None:
    simulator.fail_next(429, retry_after_seconds=3600)

    with pytest.raises(WattShiftRateLimitError) as raised:
        await client_for(session, simulator.base_url).set_thermostat_behavior_webhook(
            URL, "key"
        )

    assert raised.value.retry_after_seconds == 3600
    assert raised.value.error_code == "RATE_LIMITED"


async def test_wrong_key_is_authentication_error(
    session: aiohttp.ClientSession, simulator: WattShiftSimulator
) -> None:
    client = client_for(session, simulator.base_url, api_key="wrong")

    with pytest.raises(WattShiftAuthenticationError) as raised:
        await client.set_thermostat_behavior_webhook(URL, "key")

    assert raised.value.error_code == "AUTH_INVALID_API_KEY"
    assert "wrong" not in str(raised.value)


async def test_slow_wattshift_times_out(
    session: aiohttp.ClientSession, simulator: WattShiftSimulator
) -> None:
    simulator.set_delay(0.8)

    with pytest.raises(WattShiftConnectionError, match="Timed out after 0.5 s"):
        await client_for(session, simulator.base_url).set_thermostat_behavior_webhook(
            URL, "key"
        )
    # Let the simulator finish the abandoned request before the test ends.
    await asyncio.sleep(0.5)


async def test_closed_port_is_connection_error(session: aiohttp.ClientSession) -> None:
    with pytest.raises(WattShiftConnectionError, match="Could not reach WattShift"):
        await client_for(session, "http://127.0.0.1:9").set_thermostat_behavior_webhook(
            URL, "key"
        )


@pytest.mark.parametrize(
    ("status", "body", "headers", "message", "retry_after"),
    [
        (502, "<html>Bad gateway</html>", {}, "<html>Bad gateway</html>", None),
        (503, "", {}, "Service Unavailable", None),
        (500, '{"error": "database down"}', {}, "database down", None),
        (429, "", {"Retry-After": "120"}, "Too Many Requests", 120.0),
        (429, "", {"Retry-After": "soon"}, "Too Many Requests", None),
        (429, '{"retry_after_seconds": -5}', {}, "Too Many Requests", None),
        (429, '{"retry_after_seconds": NaN}', {}, "Too Many Requests", None),
        (429, "", {"Retry-After": "inf"}, "Too Many Requests", None),
        (520, "", {}, "HTTP 520", None),
        (502, b"bad \xff gateway", {}, "bad \ufffd gateway", None),
    ],
)
async def test_error_without_envelope(
    session: aiohttp.ClientSession,
    misbehaving_wattshift: Callable[[Responder], Awaitable[str]],
    status: int,
    body: str | bytes,
    headers: dict[str, str],
    message: str,
    retry_after: float | None,
) -> None:
    raw = body.encode() if isinstance(body, str) else body

    async def respond(_request: web.Request) -> web.Response:
        return web.Response(status=status, body=raw, headers=headers)

    base_url = await misbehaving_wattshift(respond)

    with pytest.raises(WattShiftApiError) as raised:
        await client_for(session, base_url).set_thermostat_behavior_webhook(URL, "key")

    assert raised.value.status == status
    assert raised.value.message == message
    assert raised.value.error_code is None
    assert getattr(raised.value, "retry_after_seconds", None) == retry_after


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not an object"),
        ('{"id": "ws_webhook_1"}', "invalid registration"),
        (
            '{"id": 5, "apiOwnerOrgId": "org", "webhookUrl": "u", "eventType": "PRICE_SIGNAL"}',
            "id is not a string",
        ),
        (
            '{"id": "x", "apiOwnerOrgId": "org", "webhookUrl": "u", "eventType": "NEW"}',
            "invalid registration",
        ),
        ("", "not an object"),
    ],
)
async def test_malformed_success_rejected(
    session: aiohttp.ClientSession,
    misbehaving_wattshift: Callable[[Responder], Awaitable[str]],
    body: str,
    reason: str,
) -> None:
    async def respond(_request: web.Request) -> web.Response:
        return web.Response(status=200, text=body, content_type="application/json")

    base_url = await misbehaving_wattshift(respond)

    with pytest.raises(WattShiftApiError, match=reason):
        await client_for(session, base_url).set_thermostat_behavior_webhook(URL, "key")


async def test_older_registration_without_open_adr(
    session: aiohttp.ClientSession,
    misbehaving_wattshift: Callable[[Responder], Awaitable[str]],
) -> None:
    async def respond(_request: web.Request) -> web.Response:
        return web.json_response(
            {
                "id": "ws_webhook_1",
                "apiOwnerOrgId": "org_1",
                "webhookUrl": URL,
                "eventType": "THERMOSTAT_QUERY",
                "createdAt": "yesterday",
                "updatedAt": 1735819200,
                "lastSentAt": "2025-01-02T12:00:00.000Z",
            }
        )

    base_url = await misbehaving_wattshift(respond)

    registration = await client_for(session, base_url).set_thermostat_behavior_webhook(
        URL, "key"
    )

    assert registration.open_adr is False
    assert registration.created_at is None
    assert registration.updated_at is None
    assert registration.last_sent_at == datetime(2025, 1, 2, 12, tzinfo=UTC)


async def test_price_signal_window(
    session: aiohttp.ClientSession,
    misbehaving_wattshift: Callable[[Responder], Awaitable[str]],
) -> None:
    received: list[object] = []

    async def respond(request: web.Request) -> web.Response:
        received.append(
            (request.path, await request.text(), request.headers["x-ws-api-key"])
        )
        return web.json_response({"homeId": "ws_home_1", "data": []})

    base_url = await misbehaving_wattshift(respond)
    client = client_for(session, base_url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2026, 1, 2, tzinfo=UTC)

    assert await client.get_price_signal("ws_home_1") == {
        "homeId": "ws_home_1",
        "data": [],
    }
    await client.get_price_signal("ws_home_1", start=start, end=end)
    with pytest.raises(ValueError, match="both start and end"):
        await client.get_price_signal("ws_home_1", start=start)

    assert received == [
        ("/v1/homes/ws_home_1/price_signal", "", API_KEY),
        (
            "/v1/homes/ws_home_1/price_signal",
            '{"startTime": "2026-01-01T00:00:00+00:00", "endTime": "2026-01-02T00:00:00+00:00"}',
            API_KEY,
        ),
    ]
