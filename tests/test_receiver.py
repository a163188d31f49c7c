"""Tests for the webhook's checks and answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import SECURITY_KEY, WebhookPoster


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
    assert loaded_entry.runtime_data.receiver.stats.counts == {event_type: 1}
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
