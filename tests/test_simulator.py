"""Tests for the local WattShift simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import hashlib
import json
from pathlib import Path
import re
import signal
import socket
import sys
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from aiohttp.test_utils import make_mocked_request
import pytest
import yaml

from simulator import (
    ErrorCode,
    EventType,
    NonLoopbackTargetError,
    NoRegistrationError,
    OpenApiValidator,
    PriceInterval,
    ResponseValidationError,
    WattShiftSimulator,
    WebhookRegistration,
    WebhookUnreachableError,
    build_price_intervals,
)
from simulator.validation import (
    PARTNER_DOCUMENT,
    THERMOSTAT_BEHAVIOR_DOCUMENT,
    is_date_time,
    is_uri,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

API_KEY = "sim-test-api-key"
ORG_ID = "org_simulated"
OTHER_API_KEY = "sim-other-api-key"
OTHER_ORG_ID = "org_other"
SECURITY_KEY = "sim-security-key-0123456789"

THERMOSTAT_PATH = "/v1/devices/hvac/thermostat_behavior/webhook/set"
SCHEDULE_PATH = "/v1/devices/hvac/set_point_schedule/webhook/set"
PRICE_WEBHOOK_PATH = "/v1/webhook/price_signal/set"
EXTERNAL_WEBHOOK_URL = "https://home.example.com/api/webhook/abc123?source=ws"

# SHA-256 of the thermostat_behavior OpenAPI file as WattShift gave it. The
# file must stay byte for byte as received.
THERMOSTAT_DOCUMENT_SHA256 = (
    "cc356613a61609d55cfbc10858eff0d8980563463d0f66ca4489b5cf367790a7"
)

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
REQUEST_ID = re.compile(r"req_[0-9a-f]+")
WEBHOOK_ID = re.compile(r"ws_webhook_[0-9a-f]+")
REGISTRATION_FIELDS = {
    "id",
    "createdAt",
    "updatedAt",
    "apiOwnerOrgId",
    "webhookUrl",
    "securityKey",
    "eventType",
    "lastSentAt",
    "openAdr",
}


@dataclass
class Receiver:
    """Webhook endpoint on 127.0.0.1 that stores what it receives."""

    origin: str = ""
    status: int = 200
    answer: Any = field(default_factory=lambda: {"received": True})
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncIterator[WattShiftSimulator]:
    """Run a simulator with two organisations on 127.0.0.1."""
    simulator = WattShiftSimulator(
        api_keys={API_KEY: ORG_ID, OTHER_API_KEY: OTHER_ORG_ID}
    )
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http(socket_enabled: None) -> AsyncIterator[ClientSession]:
    """Return an HTTP client session."""
    async with ClientSession() as session:
        yield session


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncIterator[Receiver]:
    """Run a webhook receiver on 127.0.0.1."""
    state = Receiver()

    async def handle(request: web.Request) -> web.Response:
        state.requests.append(
            (request.path_qs, dict(request.headers), await request.read())
        )
        return web.json_response(state.answer, status=state.status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.origin = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


async def post(
    http: ClientSession,
    sim: WattShiftSimulator,
    path: str,
    body: Any = None,
    *,
    api_key: str | None = API_KEY,
    timeout: float | None = None,
) -> tuple[int, Any]:
    """POST JSON to the simulator and return the status and JSON body."""
    headers = {} if api_key is None else {"x-ws-api-key": api_key}
    async with http.post(
        sim.base_url + path,
        json=body,
        headers=headers,
        timeout=ClientTimeout(total=timeout),
    ) as response:
        return response.status, await response.json(content_type=None)


async def register(
    http: ClientSession,
    sim: WattShiftSimulator,
    path: str = THERMOSTAT_PATH,
    url: str = EXTERNAL_WEBHOOK_URL,
    security_key: str = SECURITY_KEY,
    api_key: str = API_KEY,
    **extra: Any,
) -> dict[str, Any]:
    """Register a webhook and return the response body."""
    status, body = await post(
        http,
        sim,
        path,
        {"webhookUrl": url, "securityKey": security_key, **extra},
        api_key=api_key,
    )
    assert status == 200, body
    return body


async def run_cli(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    """Run `python -m simulator` and return exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        *args,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


# Documents and format checks.


def test_thermostat_document_is_verbatim() -> None:
    digest = hashlib.sha256(THERMOSTAT_BEHAVIOR_DOCUMENT.read_bytes()).hexdigest()
    assert digest == THERMOSTAT_DOCUMENT_SHA256


def test_partner_document_operations() -> None:
    document = yaml.safe_load(PARTNER_DOCUMENT.read_text())
    description = " ".join(document["info"]["description"].split())
    assert "from WattShift's public API documentation" in description
    assert "WattShift did not publish it" in description

    operations = {
        path: item["post"] for path, item in document["paths"].items() if "post" in item
    }
    assert set(operations) == {
        SCHEDULE_PATH,
        PRICE_WEBHOOK_PATH,
        "/v1/homes/{id}/price_signal",
    }

    parameters = document["components"]["parameters"]
    for path, operation in operations.items():
        headers = [
            parameters[ref["$ref"].rsplit("/", 1)[1]]["name"]
            for ref in operation["parameters"]
            if "$ref" in ref
        ]
        assert headers == ["x-ws-api-key"], path
        assert operation["security"] == [{"x-ws-api-key": []}], path
        assert set(operation["responses"]) == {
            "200",
            "400",
            "401",
            "403",
            "404",
            "429",
            "500",
        }, path

    envelope = document["components"]["schemas"]["ApiErrorEnvelopeDto"]
    assert envelope["required"] == ["request_id", "error_code", "message"]
    assert set(envelope["properties"]) == {
        "request_id",
        "error_code",
        "message",
        "recovery_action",
        "field_errors",
        "retry_after_seconds",
    }
    assert set(envelope["properties"]["error_code"]["enum"]) == {
        str(code) for code in ErrorCode
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/wattshift/webhook", True),
        ("http://127.0.0.1:8123/api/webhook/abc?x=1", True),
        ("urn:example:webhook", True),
        ("not a uri", False),
        ("example.com/webhook", False),
        ("https://", False),
        ("https://exa mple.com/", False),
        ("https://example.com/%zz", False),
        ("https://example.com:99999/", False),
        ("https://example.com/ünïcode", False),
    ],
)
def test_uri_format(value: str, expected: bool) -> None:
    assert is_uri(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-02T12:00:00.000Z", True),
        ("2025-01-02T12:00:00+02:00", True),
        ("2025-01-02t12:00:00z", True),
        ("2025-01-02T12:00:00", False),
        ("2025-01-02", False),
        ("2025-13-02T12:00:00Z", False),
        ("tomorrow", False),
    ],
)
def test_date_time_format(value: str, expected: bool) -> None:
    assert is_date_time(value) is expected


def test_response_validation_rejects_bad_body() -> None:
    validator = OpenApiValidator()
    request = make_mocked_request(
        "POST", THERMOSTAT_PATH, headers={"x-ws-api-key": API_KEY}
    )
    document = validator.validate_request(request, b"").document
    assert document is not None
    response = web.json_response({"id": "ws_webhook_1", "eventType": "NOPE"})
    with pytest.raises(ResponseValidationError):
        validator.validate_response(request, b"", response, document)


def test_error_envelope_validation() -> None:
    validator = OpenApiValidator()
    request = make_mocked_request("POST", THERMOSTAT_PATH)
    document = validator.validate_request(request, b"").document
    good = web.json_response(
        {"request_id": "req_1", "error_code": "RATE_LIMITED", "message": "slow down"},
        status=429,
    )
    validator.validate_response(request, b"", good, document)
    bad = web.json_response({"error_code": "RATE_LIMITED"}, status=429)
    with pytest.raises(ResponseValidationError):
        validator.validate_response(request, b"", bad, document)
    wrong_code = web.json_response(
        {"request_id": "req_1", "error_code": "SLOW_DOWN", "message": "slow down"},
        status=429,
    )
    with pytest.raises(ResponseValidationError):
        validator.validate_response(request, b"", wrong_code, document)


# Registration.


async def test_registration_response_shape(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    body = await register(http, sim)

    assert set(body) == REGISTRATION_FIELDS
    assert WEBHOOK_ID.fullmatch(body["id"])
    assert TIMESTAMP.fullmatch(body["createdAt"])
    assert TIMESTAMP.fullmatch(body["updatedAt"])
    assert body["apiOwnerOrgId"] == ORG_ID
    assert body["webhookUrl"] == EXTERNAL_WEBHOOK_URL
    assert body["securityKey"] == SECURITY_KEY
    assert body["eventType"] == "THERMOSTAT_QUERY"
    assert body["lastSentAt"] is None
    assert body["openAdr"] is False

    registration = sim.registrations[(ORG_ID, EventType.THERMOSTAT_QUERY)]
    assert registration.id == body["id"]
    assert registration.security_key == SECURITY_KEY
    record = sim.requests[-1]
    assert record.valid
    assert record.status == 200
    assert record.api_key_present
    assert record.org_id == ORG_ID
    assert record.body == {
        "webhookUrl": EXTERNAL_WEBHOOK_URL,
        "securityKey": SECURITY_KEY,
    }


@pytest.mark.parametrize(
    ("path", "extra", "event_type", "open_adr"),
    [
        (SCHEDULE_PATH, {}, "SET_POINT_SCHEDULE", False),
        (PRICE_WEBHOOK_PATH, {}, "PRICE_SIGNAL", False),
        (PRICE_WEBHOOK_PATH, {"openAdr": True}, "PRICE_SIGNAL", True),
    ],
)
async def test_registration_endpoints(
    sim: WattShiftSimulator,
    http: ClientSession,
    path: str,
    extra: dict[str, Any],
    event_type: str,
    open_adr: bool,
) -> None:
    body = await register(http, sim, path, **extra)

    assert set(body) == REGISTRATION_FIELDS
    assert body["eventType"] == event_type
    assert body["openAdr"] is open_adr
    assert list(sim.registrations) == [(ORG_ID, EventType(event_type))]


async def test_registration_upsert_keeps_id(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    first = await register(http, sim)
    await asyncio.sleep(0.002)
    second = await register(
        http, sim, url="https://other.example.com/hook", security_key="new-key"
    )

    assert second["id"] == first["id"]
    assert second["createdAt"] == first["createdAt"]
    assert second["updatedAt"] > first["updatedAt"]
    assert second["webhookUrl"] == "https://other.example.com/hook"
    assert second["securityKey"] == "new-key"
    assert len(sim.registrations) == 1


async def test_registration_per_organisation(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    ours = await register(http, sim)
    theirs = await register(http, sim, api_key=OTHER_API_KEY)

    assert theirs["id"] != ours["id"]
    assert theirs["apiOwnerOrgId"] == OTHER_ORG_ID
    assert set(sim.registrations) == {
        (ORG_ID, EventType.THERMOSTAT_QUERY),
        (OTHER_ORG_ID, EventType.THERMOSTAT_QUERY),
    }


async def test_missing_security_key_rejected(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    status, body = await post(
        http, sim, THERMOSTAT_PATH, {"webhookUrl": EXTERNAL_WEBHOOK_URL}
    )

    assert status == 400
    assert body["error_code"] == "VALIDATION_FAILED"
    assert REQUEST_ID.fullmatch(body["request_id"])
    assert body["message"]
    assert {"field": "securityKey", "message": "is required"} in body["field_errors"]
    assert not sim.registrations
    record = sim.requests[-1]
    assert not record.valid
    assert [error.field for error in record.errors] == ["securityKey"]
    assert record.request_id == body["request_id"]


@pytest.mark.parametrize(
    "webhook_url",
    ["not a uri", "home.example.com/api/webhook/abc", "https://", "https://a b/c"],
)
async def test_invalid_webhook_url_rejected(
    sim: WattShiftSimulator, http: ClientSession, webhook_url: str
) -> None:
    status, body = await post(
        http,
        sim,
        SCHEDULE_PATH,
        {"webhookUrl": webhook_url, "securityKey": SECURITY_KEY},
    )

    assert status == 400
    assert body["error_code"] == "VALIDATION_FAILED"
    assert [error["field"] for error in body["field_errors"]] == ["webhookUrl"]
    assert not sim.registrations


@pytest.mark.parametrize(
    ("payload", "field_name"),
    [
        ({"webhookUrl": 51234, "securityKey": SECURITY_KEY}, "webhookUrl"),
        ({"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": [51234]}, "securityKey"),
        (
            {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": "k", "openAdr": 51234},
            "openAdr",
        ),
        ([51234], "body"),
    ],
)
async def test_wrong_types_rejected(
    sim: WattShiftSimulator, http: ClientSession, payload: Any, field_name: str
) -> None:
    status, body = await post(http, sim, PRICE_WEBHOOK_PATH, payload)

    assert status == 400
    assert [error["field"] for error in body["field_errors"]] == [field_name]
    # Messages describe the broken rule and never echo the value, which could
    # be a secret.
    assert "51234" not in json.dumps(body)
    assert "51234" not in " ".join(str(error) for error in sim.requests[-1].errors)


async def test_body_that_is_not_json_rejected(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    async with http.post(
        sim.base_url + THERMOSTAT_PATH,
        data=b'{"securityKey": "leaked',
        headers={"x-ws-api-key": API_KEY, "Content-Type": "application/json"},
    ) as response:
        status = response.status
        body = await response.json()

    assert status == 400
    assert body["field_errors"] == [
        {"field": "body", "message": "is not valid application/json"}
    ]
    assert sim.requests[-1].body is None


async def test_missing_api_key_rejected(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    status, body = await post(
        http,
        sim,
        THERMOSTAT_PATH,
        {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY},
        api_key=None,
    )

    assert status == 401
    assert body["error_code"] == "AUTH_MISSING_API_KEY"
    assert REQUEST_ID.fullmatch(body["request_id"])
    assert not sim.registrations
    assert sim.requests[-1].api_key_present is False


async def test_wrong_api_key_rejected(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    status, body = await post(
        http,
        sim,
        THERMOSTAT_PATH,
        {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY},
        api_key="not-a-known-key",
    )

    assert status == 401
    assert body["error_code"] == "AUTH_INVALID_API_KEY"
    assert sim.requests[-1].api_key_present is True
    assert sim.requests[-1].org_id is None


async def test_revoked_api_key_rejected(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    sim.revoke_api_key(API_KEY)
    payload = {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY}

    status, body = await post(http, sim, THERMOSTAT_PATH, payload)
    assert status == 401
    assert body["error_code"] == "AUTH_REVOKED_CREDENTIAL"

    sim.add_api_key(API_KEY, ORG_ID)
    status, body = await post(http, sim, THERMOSTAT_PATH, payload)
    assert status == 200


async def test_unknown_path_not_found(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    status, body = await post(http, sim, "/v1/devices/hvac/unknown", {})
    assert status == 404
    assert body["error_code"] == "NOT_FOUND"

    async with http.get(
        sim.base_url + THERMOSTAT_PATH, headers={"x-ws-api-key": API_KEY}
    ) as response:
        assert response.status == 404
    assert [str(error) for error in sim.requests[-1].errors] == [
        "method: GET is not allowed"
    ]


# Injected failures and slow mode.


async def test_fail_next_rate_limited_then_success(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    sim.fail_next(429, count=1, retry_after_seconds=30)
    payload = {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY}

    status, body = await post(http, sim, THERMOSTAT_PATH, payload)
    assert status == 429
    assert body["error_code"] == "RATE_LIMITED"
    assert body["retry_after_seconds"] == 30
    assert REQUEST_ID.fullmatch(body["request_id"])
    assert sim.requests[-1].injected
    assert not sim.registrations

    status, body = await post(http, sim, THERMOSTAT_PATH, payload)
    assert status == 200
    assert body["eventType"] == "THERMOSTAT_QUERY"
    assert not sim.pending_failures


@pytest.mark.parametrize(
    ("status", "error_code"),
    [
        (401, "AUTH_INVALID_API_KEY"),
        (403, "FORBIDDEN"),
        (404, "NOT_FOUND"),
        (500, "INTERNAL_ERROR"),
    ],
)
async def test_fail_next_default_codes(
    sim: WattShiftSimulator, http: ClientSession, status: int, error_code: str
) -> None:
    sim.fail_next(status, count=2)
    payload = {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY}

    for _ in range(2):
        answer_status, body = await post(http, sim, SCHEDULE_PATH, payload)
        assert answer_status == status
        assert body["error_code"] == error_code
        assert "retry_after_seconds" not in body
    answer_status, _ = await post(http, sim, SCHEDULE_PATH, payload)
    assert answer_status == 200


async def test_fail_next_custom_code(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    sim.fail_next(401, error_code=ErrorCode.AUTH_EXPIRED_CREDENTIAL)
    status, body = await post(
        http,
        sim,
        THERMOSTAT_PATH,
        {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY},
    )
    assert status == 401
    assert body["error_code"] == "AUTH_EXPIRED_CREDENTIAL"


async def test_fail_next_limited_to_path(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    sim.fail_next(500, path=PRICE_WEBHOOK_PATH)
    payload = {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY}

    status, _ = await post(http, sim, THERMOSTAT_PATH, payload)
    assert status == 200
    status, body = await post(http, sim, PRICE_WEBHOOK_PATH, payload)
    assert status == 500
    assert body["error_code"] == "INTERNAL_ERROR"
    status, _ = await post(http, sim, PRICE_WEBHOOK_PATH, payload)
    assert status == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 418}, "cannot inject HTTP 418"),
        ({"status": 429, "count": 0}, "count must be at least 1"),
        ({"status": 429, "retry_after_seconds": -1}, "must not be negative"),
        ({"status": 429, "path": "/other"}, "must start with /v1/"),
    ],
)
def test_fail_next_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    simulator = WattShiftSimulator()
    with pytest.raises(ValueError, match=message):
        simulator.fail_next(**kwargs)


async def test_slow_mode_delays_responses(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    loop = asyncio.get_running_loop()
    payload = {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY}

    sim.set_delay(0.4)
    started = loop.time()
    status, _ = await post(http, sim, THERMOSTAT_PATH, payload)
    assert status == 200
    assert loop.time() - started >= 0.4

    with pytest.raises(TimeoutError):
        await post(http, sim, THERMOSTAT_PATH, payload, timeout=0.1)

    sim.set_delay(0)
    # Let the request the client gave up on finish on the server.
    await asyncio.sleep(0.5)
    started = loop.time()
    status, _ = await post(http, sim, THERMOSTAT_PATH, payload)
    assert status == 200
    assert loop.time() - started < 0.4


def test_set_delay_rejects_negative() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        WattShiftSimulator().set_delay(-1)


# Price signal.


async def test_price_signal_window(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    start = datetime(2025, 1, 2, tzinfo=UTC)
    sim.set_price_signal(
        "ws_home_1",
        build_price_intervals(
            start, [0.10, 0.20, 0.30, 0.40], export_prices=[0.05] * 4
        ),
    )
    path = "/v1/homes/ws_home_1/price_signal"

    status, body = await post(http, sim, path)
    assert status == 200
    assert body["homeId"] == "ws_home_1"
    assert body["startTime"] == "2025-01-02T00:00:00.000Z"
    assert body["endTime"] == "2025-01-02T01:00:00.000Z"
    assert body["prices"] == [0.10, 0.20, 0.30, 0.40]
    assert body["import"] == [0.10, 0.20, 0.30, 0.40]
    assert body["export"] == [0.05] * 4
    assert body["data"][1] == {
        "startTime": "2025-01-02T00:15:00.000Z",
        "endTime": "2025-01-02T00:30:00.000Z",
        "price": 0.20,
        "import": 0.20,
        "export": 0.05,
        "confidence": 1.0,
    }

    status, body = await post(
        http,
        sim,
        path,
        {"startTime": "2025-01-02T00:15:00Z", "endTime": "2025-01-02T00:45:00Z"},
    )
    assert status == 200
    assert body["prices"] == [0.20, 0.30]
    assert body["startTime"] == "2025-01-02T00:15:00.000Z"


@pytest.mark.parametrize(
    ("payload", "field_name"),
    [
        ({"startTime": "2025-01-02T00:15:00Z"}, "endTime"),
        ({"endTime": "2025-01-02T00:15:00Z"}, "startTime"),
        ({"startTime": "yesterday", "endTime": "2025-01-02T00:15:00Z"}, "startTime"),
        (
            {"startTime": "2025-01-02T01:00:00Z", "endTime": "2025-01-02T00:00:00Z"},
            "endTime",
        ),
    ],
)
async def test_price_signal_bad_window(
    sim: WattShiftSimulator, http: ClientSession, payload: Any, field_name: str
) -> None:
    sim.set_price_signal(
        "ws_home_1", build_price_intervals(datetime(2025, 1, 2, tzinfo=UTC), [0.1])
    )
    status, body = await post(http, sim, "/v1/homes/ws_home_1/price_signal", payload)

    assert status == 400
    assert body["error_code"] == "VALIDATION_FAILED"
    assert [error["field"] for error in body["field_errors"]] == [field_name]
    assert not sim.requests[-1].valid


async def test_price_signal_unknown_home(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    sim.set_price_signal("ws_home_1", [], org_id=OTHER_ORG_ID)

    status, body = await post(http, sim, "/v1/homes/ws_home_2/price_signal")
    assert status == 404
    assert body["error_code"] == "NOT_FOUND"
    # Another organisation's home is as unknown as a missing one.
    status, _ = await post(http, sim, "/v1/homes/ws_home_1/price_signal")
    assert status == 404
    status, body = await post(
        http, sim, "/v1/homes/ws_home_1/price_signal", api_key=OTHER_API_KEY
    )
    assert status == 200
    assert body["data"] == []


def test_price_interval_from_mapping() -> None:
    interval = PriceInterval.from_dto(
        {
            "startTime": "2025-01-02T00:00:00Z",
            "endTime": "2025-01-02T00:15:00Z",
            "price": 0.3,
            "export": 0.1,
        }
    )
    assert interval.start == datetime(2025, 1, 2, tzinfo=UTC)
    assert interval.end - interval.start == timedelta(minutes=15)
    assert interval.effective_import_price == 0.3
    assert interval.export_price == 0.1
    with pytest.raises(ValueError, match="not after its start"):
        PriceInterval(interval.end, interval.start, 0.1)


# Deliveries.


async def test_deliver_to_local_receiver(
    sim: WattShiftSimulator, http: ClientSession, receiver: Receiver
) -> None:
    await register(http, sim)
    data = {"ws_device_123": {"since": "2025-01-02T00:00:00.000Z"}}

    result = await sim.deliver("THERMOSTAT_QUERY", data, origin=receiver.origin)

    assert result.status == 200
    assert result.ok
    assert result.body == {"received": True}
    assert result.headers["Content-Type"].startswith("application/json")
    assert len(receiver.requests) == 1
    path_qs, headers, raw = receiver.requests[0]
    assert path_qs == "/api/webhook/abc123?source=ws"
    assert headers["x-ws-security-key"] == SECURITY_KEY
    assert headers["Content-Type"] == "application/json"
    assert json.loads(raw) == {"eventType": "THERMOSTAT_QUERY", "data": data}

    registration = sim.registrations[(ORG_ID, EventType.THERMOSTAT_QUERY)]
    assert registration.last_sent_at is not None
    body = await register(http, sim)
    assert TIMESTAMP.fullmatch(body["lastSentAt"])


async def test_deliver_uses_matching_registration(
    sim: WattShiftSimulator, http: ClientSession, receiver: Receiver
) -> None:
    await register(http, sim, url=f"{receiver.origin}/thermostat")
    await register(
        http,
        sim,
        SCHEDULE_PATH,
        url=f"{receiver.origin}/schedule",
        security_key="schedule-key",
    )

    await sim.deliver(EventType.UNKNOWN, {})
    await sim.deliver(EventType.SET_POINT_SCHEDULE, {"ws_device_1": {"blocks": []}})

    assert [
        (path, headers["x-ws-security-key"]) for path, headers, _ in receiver.requests
    ] == [
        ("/thermostat", SECURITY_KEY),
        ("/schedule", "schedule-key"),
    ]
    with pytest.raises(NoRegistrationError):
        await sim.deliver(EventType.PRICE_SIGNAL, {})


async def test_deliver_needs_org_when_ambiguous(
    sim: WattShiftSimulator, http: ClientSession, receiver: Receiver
) -> None:
    await register(http, sim, url=f"{receiver.origin}/ours")
    await register(http, sim, url=f"{receiver.origin}/theirs", api_key=OTHER_API_KEY)

    with pytest.raises(ValueError, match="pass org_id"):
        await sim.deliver("THERMOSTAT_QUERY", {})
    await sim.deliver("THERMOSTAT_QUERY", {}, org_id=OTHER_ORG_ID)
    assert [path for path, _, _ in receiver.requests] == ["/theirs"]


async def test_deliver_overrides(
    sim: WattShiftSimulator, http: ClientSession, receiver: Receiver
) -> None:
    await register(http, sim, url=f"{receiver.origin}/hook")

    await sim.deliver("THERMOSTAT_QUERY", {}, security_key="wrong-key")
    await sim.deliver("THERMOSTAT_QUERY", {}, omit_security_key=True)
    await sim.deliver("THERMOSTAT_QUERY", {}, raw_body=b"{not json")

    assert receiver.requests[0][1]["x-ws-security-key"] == "wrong-key"
    assert "x-ws-security-key" not in receiver.requests[1][1]
    assert receiver.requests[2][2] == b"{not json"


async def test_deliver_failure_keeps_last_sent_at(
    sim: WattShiftSimulator, http: ClientSession, receiver: Receiver
) -> None:
    await register(http, sim, url=f"{receiver.origin}/hook")
    receiver.status = 401
    receiver.answer = {"error": "bad key"}

    result = await sim.deliver("THERMOSTAT_QUERY", {})

    assert result.status == 401
    assert not result.ok
    assert result.body == {"error": "bad key"}
    assert sim.registrations[(ORG_ID, EventType.THERMOSTAT_QUERY)].last_sent_at is None


async def test_deliver_unreachable_webhook(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    # Bind and release a port so that nothing listens on it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await register(http, sim, url=f"http://127.0.0.1:{port}/api/webhook/abc")

    with pytest.raises(WebhookUnreachableError):
        await sim.deliver("THERMOSTAT_QUERY", {})
    async with http.post(
        sim.base_url + "/_simulator/deliver", json={"eventType": "THERMOSTAT_QUERY"}
    ) as response:
        assert response.status == 502
        assert "failed" in (await response.json())["error"]
    assert sim.registrations[(ORG_ID, EventType.THERMOSTAT_QUERY)].last_sent_at is None


@pytest.mark.parametrize(
    ("webhook_url", "origin"),
    [
        (EXTERNAL_WEBHOOK_URL, None),
        ("http://192.0.2.10:8123/api/webhook/abc", None),
        ("http://127.0.0.1:8123/api/webhook/abc", "http://192.0.2.10:8123"),
        ("http://127.0.0.1:8123/api/webhook/abc", "ftp://127.0.0.1"),
    ],
)
async def test_deliver_rejects_non_loopback(
    sim: WattShiftSimulator,
    http: ClientSession,
    webhook_url: str,
    origin: str | None,
) -> None:
    await register(http, sim, url=webhook_url)

    with pytest.raises(NonLoopbackTargetError) as error:
        await sim.deliver("THERMOSTAT_QUERY", {}, origin=origin)
    # The message names the origin only: the path can hold a webhook id.
    assert "abc" not in str(error.value)
    assert sim.registrations[(ORG_ID, EventType.THERMOSTAT_QUERY)].last_sent_at is None


async def test_deliver_rejects_origin_with_path(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    await register(http, sim)
    with pytest.raises(ValueError, match="without a path"):
        await sim.deliver(
            "THERMOSTAT_QUERY", {}, origin="http://127.0.0.1:8123/api/webhook/x"
        )


async def test_start_rejects_other_hosts() -> None:
    simulator = WattShiftSimulator()
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        await simulator.start(host="0.0.0.0")
    assert not simulator.running


async def test_stop_raises_after_invalid_response(
    socket_enabled: None, http: ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    def incomplete_dto(self: WebhookRegistration) -> dict[str, Any]:
        return {"id": self.id}

    monkeypatch.setattr(WebhookRegistration, "to_dto", incomplete_dto)
    async with WattShiftSimulator({API_KEY: ORG_ID}) as simulator:
        async with http.post(
            simulator.base_url + THERMOSTAT_PATH,
            json={"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY},
            headers={"x-ws-api-key": API_KEY},
        ) as response:
            assert response.status == 500
        assert len(simulator.response_errors) == 1
        with pytest.raises(ResponseValidationError, match="createdAt: is required"):
            await simulator.stop()
    assert not simulator.running


# Control endpoints.


async def test_control_lists_redact_secrets(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    await register(http, sim)

    async with http.get(sim.base_url + "/_simulator/registrations") as response:
        assert response.status == 200
        registrations = (await response.json())["registrations"]
    async with http.get(sim.base_url + "/_simulator/requests") as response:
        assert response.status == 200
        text = await response.text()
        requests = json.loads(text)["requests"]

    assert len(registrations) == 1
    assert registrations[0]["securityKey"] == "**REDACTED**"
    assert registrations[0]["eventType"] == "THERMOSTAT_QUERY"
    assert requests[0]["path"] == THERMOSTAT_PATH
    assert requests[0]["status"] == 200
    assert requests[0]["valid"] is True
    assert requests[0]["apiKeyPresent"] is True
    assert requests[0]["body"]["securityKey"] == "**REDACTED**"
    assert SECURITY_KEY not in text
    assert API_KEY not in text

    async with http.delete(sim.base_url + "/_simulator/requests") as response:
        assert (await response.json()) == {"cleared": 1}
    assert sim.requests == []


async def test_control_fail_and_delay(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    async with http.post(
        sim.base_url + "/_simulator/fail",
        json={"status": 429, "count": 1, "retryAfterSeconds": 12},
    ) as response:
        assert response.status == 200
        assert (await response.json())["errorCode"] == "RATE_LIMITED"
    async with http.post(
        sim.base_url + "/_simulator/delay", json={"seconds": 0.25}
    ) as response:
        assert response.status == 200
    assert sim.delay == 0.25

    status, body = await post(
        http,
        sim,
        THERMOSTAT_PATH,
        {"webhookUrl": EXTERNAL_WEBHOOK_URL, "securityKey": SECURITY_KEY},
    )
    assert status == 429
    assert body["retry_after_seconds"] == 12


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/_simulator/fail", {"status": 418}, 400),
        ("/_simulator/fail", {"status": "429"}, 400),
        ("/_simulator/fail", {"status": 429, "errorCode": "NOPE"}, 400),
        ("/_simulator/delay", {"seconds": -1}, 400),
        ("/_simulator/delay", {}, 400),
        ("/_simulator/deliver", {"eventType": "NOPE"}, 400),
        ("/_simulator/deliver", {"eventType": "THERMOSTAT_QUERY"}, 404),
        ("/_simulator/price_signal", {"homeId": "h", "intervals": [{}]}, 400),
        ("/_simulator/api_keys/revoke", {"apiKey": "unknown"}, 404),
    ],
)
async def test_control_rejects_bad_input(
    sim: WattShiftSimulator,
    http: ClientSession,
    path: str,
    payload: dict[str, Any],
    status: int,
) -> None:
    async with http.post(sim.base_url + path, json=payload) as response:
        assert response.status == status
        assert "error" in await response.json()


async def test_control_requires_json(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    async with http.post(
        sim.base_url + "/_simulator/fail", data="status=429"
    ) as response:
        assert response.status == 415
    assert not sim.pending_failures


async def test_control_deliver(
    sim: WattShiftSimulator, http: ClientSession, receiver: Receiver
) -> None:
    await register(http, sim)
    receiver.answer = {"ws_device_1": {"currentTemp": 20.5}}

    async with http.post(
        sim.base_url + "/_simulator/deliver",
        json={
            "eventType": "THERMOSTAT_QUERY",
            "data": {"ws_device_1": {}},
            "origin": receiver.origin,
        },
    ) as response:
        assert response.status == 200
        answer = await response.json()

    assert answer["status"] == 200
    assert answer["body"] == {"ws_device_1": {"currentTemp": 20.5}}
    assert json.loads(receiver.requests[0][2])["data"] == {"ws_device_1": {}}

    async with http.post(
        sim.base_url + "/_simulator/deliver", json={"eventType": "THERMOSTAT_QUERY"}
    ) as response:
        assert response.status == 400
        assert "127.0.0.1" in (await response.json())["error"]


async def test_control_api_keys_and_price_signal(
    sim: WattShiftSimulator, http: ClientSession
) -> None:
    async with http.post(
        sim.base_url + "/_simulator/api_keys",
        json={"apiKey": "third-key", "orgId": "org_third"},
    ) as response:
        assert response.status == 200
    async with http.post(
        sim.base_url + "/_simulator/price_signal",
        json={
            "homeId": "ws_home_9",
            "intervals": [
                {
                    "startTime": "2025-01-02T00:00:00Z",
                    "endTime": "2025-01-02T00:15:00Z",
                    "price": 0.25,
                }
            ],
        },
    ) as response:
        assert response.status == 200

    status, body = await post(
        http, sim, "/v1/homes/ws_home_9/price_signal", api_key="third-key"
    )
    assert status == 200
    assert body["prices"] == [0.25]

    async with http.post(
        sim.base_url + "/_simulator/api_keys/revoke", json={"apiKey": "third-key"}
    ) as response:
        assert response.status == 200
    status, body = await post(
        http, sim, "/v1/homes/ws_home_9/price_signal", api_key="third-key"
    )
    assert status == 401
    assert body["error_code"] == "AUTH_REVOKED_CREDENTIAL"


# Command line.


async def test_cli_deliver_prints_response(
    sim: WattShiftSimulator, http: ClientSession, receiver: Receiver
) -> None:
    await register(http, sim)
    receiver.answer = {"ws_device_1": {"currentTemp": 21}}

    code, stdout, stderr = await run_cli(
        "deliver",
        "--simulator",
        sim.base_url,
        "--event",
        "THERMOSTAT_QUERY",
        "--data",
        '{"ws_device_1": {}}',
        "--origin",
        receiver.origin,
    )

    assert code == 0, stderr
    status_line, _, rest = stdout.partition("\n")
    assert status_line == "HTTP 200"
    assert json.loads(rest) == {"ws_device_1": {"currentTemp": 21}}
    assert json.loads(receiver.requests[0][2]) == {
        "eventType": "THERMOSTAT_QUERY",
        "data": {"ws_device_1": {}},
    }


async def test_cli_deliver_fails_on_webhook_error(
    sim: WattShiftSimulator, http: ClientSession, receiver: Receiver
) -> None:
    await register(http, sim, url=f"{receiver.origin}/hook")
    receiver.status = 500
    receiver.answer = {"error": "boom"}

    code, stdout, _ = await run_cli(
        "deliver", "--simulator", sim.base_url, "--event", "THERMOSTAT_QUERY"
    )

    assert code == 1
    assert stdout.startswith("HTTP 500\n")


async def test_cli_deliver_without_registration(sim: WattShiftSimulator) -> None:
    code, stdout, stderr = await run_cli(
        "deliver", "--simulator", sim.base_url, "--event", "SET_POINT_SCHEDULE"
    )

    assert code == 1
    assert stdout == ""
    assert "no webhook is registered for SET_POINT_SCHEDULE" in stderr


async def test_cli_rejects_remote_simulator() -> None:
    code, _, stderr = await run_cli(
        "fail", "--simulator", "http://192.0.2.1:8765", "--status", "429"
    )
    assert code == 2
    assert "127.0.0.1" in stderr


async def test_cli_serve_fail_and_deliver(
    socket_enabled: None, http: ClientSession, receiver: Receiver
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "serve",
        "--port",
        "0",
        "--api-key",
        f"{API_KEY}={ORG_ID}",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first_line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        match = re.fullmatch(
            r"WattShift simulator listening on (http://127\.0\.0\.1:\d+)\n", first_line
        )
        assert match, first_line
        base_url = match.group(1)

        code, stdout, stderr = await run_cli(
            "fail",
            "--simulator",
            base_url,
            "--status",
            "429",
            "--retry-after",
            "30",
        )
        assert code == 0, stderr
        assert "HTTP 429 RATE_LIMITED" in stdout

        payload = {
            "webhookUrl": f"{receiver.origin}/api/webhook/abc",
            "securityKey": SECURITY_KEY,
        }
        async with http.post(
            base_url + THERMOSTAT_PATH, json=payload, headers={"x-ws-api-key": API_KEY}
        ) as response:
            assert response.status == 429
            assert (await response.json())["retry_after_seconds"] == 30
        async with http.post(
            base_url + THERMOSTAT_PATH, json=payload, headers={"x-ws-api-key": API_KEY}
        ) as response:
            assert response.status == 200

        code, stdout, stderr = await run_cli(
            "deliver", "--simulator", base_url, "--event", "THERMOSTAT_QUERY"
        )
        assert code == 0, stderr
        assert stdout.startswith("HTTP 200\n")
        assert receiver.requests[0][1]["x-ws-security-key"] == SECURITY_KEY

        process.send_signal(signal.SIGINT)
        stdout_rest, stderr_bytes = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0
    log = stderr_bytes.decode()
    assert (
        f"POST {THERMOSTAT_PATH} -> 429 RATE_LIMITED (injected), request valid" in log
    )
    assert f"POST {THERMOSTAT_PATH} -> 200, request valid" in log
    assert "Delivered THERMOSTAT_QUERY" in log
    assert API_KEY not in log
    assert SECURITY_KEY not in log
    assert "/api/webhook/abc" not in log
    assert API_KEY not in first_line + stdout_rest.decode()
