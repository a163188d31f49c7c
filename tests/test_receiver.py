"""Tests for the webhook's checks and answers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant
from homeassistant.util.aiohttp import MockRequest
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattshift.receiver import MAX_BODY_BYTES

from .conftest import SECURITY_KEY, WEBHOOK_ID, WebhookPoster


@pytest.mark.parametrize(
    "security_key",
    [None, "", "wrong-key", SECURITY_KEY[:-1], SECURITY_KEY + "x"],
    ids=["missing", "empty", "wrong", "prefix", "longer"],
)
async def test_wrong_security_key_rejected(
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    security_key: str | None,
) -> None:
    receiver = loaded_entry.runtime_data.receiver

    status, body = await post_event(
        {"eventType": "THERMOSTAT_QUERY", "data": {}}, security_key=security_key
    )

    assert status == 401
    assert body["error"] == "unauthorized"
    assert "x-ws-security-key" in body["message"]
    assert receiver.stats.counts == {}
    assert receiver.stats.last_received is None


async def test_wrong_key_body_never_read(
    loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    with patch("custom_components.wattshift.receiver.json_loads") as decode:
        status, _ = await post_event(
            {"eventType": "THERMOSTAT_QUERY"}, security_key="x"
        )

    assert status == 401
    decode.assert_not_called()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"THERMOSTAT_QUERY"', "must be a JSON object"),
        (b'{"data": {}}', "no eventType"),
        (b'{"eventType": 7}', "eventType must be"),
        (b'{"eventType": ""}', "eventType must be"),
    ],
)
async def test_bad_body_rejected_and_not_counted(
    loaded_entry: MockConfigEntry, post_event: WebhookPoster, raw: bytes, reason: str
) -> None:
    status, body = await post_event(None, raw=raw)

    assert status == 400
    assert body["error"] == "invalid_payload"
    assert reason in body["message"]
    assert loaded_entry.runtime_data.receiver.stats.counts == {}


@pytest.mark.parametrize(
    ("event_type", "reason"),
    [
        ("UNKNOWN", "does not act on this event type"),
        ("SOMETHING_NEW", "Unknown event type"),
    ],
)
async def test_unhandled_event_acknowledged(
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    event_type: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="custom_components.wattshift")

    status, body = await post_event({"eventType": event_type, "data": {"x": 1}})

    assert status == 200
    assert body == {"eventType": event_type, "handled": False, "reason": body["reason"]}
    assert reason in body["reason"]
    counted_as = "other" if event_type == "SOMETHING_NEW" else event_type
    assert loaded_entry.runtime_data.receiver.stats.counts == {counted_as: 1}
    assert f"Acknowledged a {event_type} delivery" in caplog.text


async def test_handler_error_answers_json_500(
    loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    async def broken(_envelope: Any) -> Any:
        raise RuntimeError("boom")

    loaded_entry.runtime_data.receiver.async_set_handler("THERMOSTAT_QUERY", broken)

    status, body = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})

    assert status == 500
    assert body["error"] == "internal_error"
    assert "boom" not in body["message"]


async def test_get_not_allowed(
    loaded_entry: MockConfigEntry, webhook_client: Any
) -> None:
    webhook_id = loaded_entry.runtime_data.webhook.webhook_id
    response = await webhook_client.get(
        f"/api/webhook/{webhook_id}", headers={"x-ws-security-key": SECURITY_KEY}
    )

    assert response.status == 405


async def test_replaced_key_accepted_until_grace_ends(
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    keys = loaded_entry.runtime_data.receiver.keys
    keys.promote("new-key-value", timedelta(minutes=10))

    assert (await post_event({"eventType": "UNKNOWN"}, security_key=SECURITY_KEY))[
        0
    ] == 200
    assert (await post_event({"eventType": "UNKNOWN"}, security_key="new-key-value"))[
        0
    ] == 200

    freezer.tick(timedelta(minutes=10, seconds=1))

    assert (await post_event({"eventType": "UNKNOWN"}, security_key=SECURITY_KEY))[
        0
    ] == 401
    assert (await post_event({"eventType": "UNKNOWN"}, security_key="new-key-value"))[
        0
    ] == 200


def errors_naming(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    """Return the error records, and any record of ours, that contain text.

    Home Assistant's own debug and access logs name the webhook path; an
    error log naming it means the webhook component caught an exception.
    """
    return [
        record.getMessage()
        for record in caplog.records
        if text in record.getMessage()
        and (record.levelname == "ERROR" or record.name.startswith("custom_components"))
    ]


async def raw_post(client: Any, headers: bytes, body: bytes) -> tuple[bytes, bytes]:
    """Send a hand-written HTTP request and return the status line and body."""
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        b"POST /api/webhook/" + WEBHOOK_ID.encode() + b" HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + headers
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, payload = response.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], payload


@pytest.mark.parametrize("key", [b"\xff\xfe", b"\xe9", "é".encode()])
async def test_non_utf8_security_key_rejected(
    loaded_entry: MockConfigEntry,
    webhook_client: Any,
    key: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    status_line, payload = await raw_post(
        webhook_client,
        b"x-ws-security-key: " + key + b"\r\n",
        b'{"eventType": "UNKNOWN"}',
    )

    assert b" 401 " in status_line
    assert b"unauthorized" in payload
    assert not errors_naming(caplog, WEBHOOK_ID)


async def test_non_utf8_body_rejected(
    loaded_entry: MockConfigEntry,
    webhook_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    status_line, payload = await raw_post(
        webhook_client,
        b"x-ws-security-key: " + SECURITY_KEY.encode() + b"\r\n",
        b'{"eventType": "\xff\xfe"}',
    )

    assert b" 400 " in status_line
    assert b"invalid_payload" in payload
    assert not errors_naming(caplog, WEBHOOK_ID)


async def test_non_utf8_cloud_body_rejected(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    request = MockRequest(
        content=b'{"eventType": "\xff"}',
        mock_source="cloud",
        method="POST",
        headers={"x-ws-security-key": SECURITY_KEY},
    )

    response = await webhook.async_handle_webhook(hass, WEBHOOK_ID, request)

    assert response.status == 400
    assert b"not valid UTF-8" in response.body


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
async def test_oversized_body_rejected(
    loaded_entry: MockConfigEntry,
    webhook_client: Any,
    declared: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"eventType": "UNKNOWN", "data": "' + b"x" * MAX_BODY_BYTES + b'"}'
    headers = {"x-ws-security-key": SECURITY_KEY}

    async def chunks() -> Any:
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    response = await webhook_client.post(
        f"/api/webhook/{WEBHOOK_ID}",
        data=body if declared else chunks(),
        headers=headers,
    )

    assert response.status == 413
    assert (await response.json())["error"] == "payload_too_large"
    assert loaded_entry.runtime_data.receiver.stats.counts == {}
    assert not errors_naming(caplog, WEBHOOK_ID)


async def test_rejected_query_not_counted(
    loaded_entry: MockConfigEntry, post_event: WebhookPoster
) -> None:
    status, _ = await post_event(
        {"eventType": "THERMOSTAT_QUERY", "data": {"tempUnits": "K"}}
    )

    assert status == 400
    assert loaded_entry.runtime_data.receiver.stats.counts == {}
    assert loaded_entry.runtime_data.receiver.stats.last_received is None
