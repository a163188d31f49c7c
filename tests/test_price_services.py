"""Tests for the get_price_signal action, against the simulator over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattshift.const import DOMAIN
from simulator import WattShiftSimulator

from .prices import DAY, HOME, HOUR, OTHER_HOME, QUARTER, data_items, iso

PATH = f"/v1/homes/{HOME}/price_signal"


async def get_price_signal(
    hass: HomeAssistant, entry: MockConfigEntry, **fields: Any
) -> dict[str, Any]:
    """Call the action and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        "get_price_signal",
        {"config_entry_id": entry.entry_id, "home_id": HOME, **fields},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


@pytest.fixture
def stored_prices(simulator: WattShiftSimulator) -> None:
    """Serve four hours of prices for HOME."""
    simulator.set_price_signal(HOME, data_items(DAY, [0.1, 0.2, 0.3, 0.4], step=HOUR))


@pytest.mark.usefixtures("stored_prices")
async def test_returns_every_interval(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    response = await get_price_signal(hass, loaded_entry)

    assert response["home_id"] == HOME
    assert len(response["intervals"]) == 4
    assert response["intervals"][1] == {
        "start": (DAY + HOUR).isoformat(),
        "end": (DAY + 2 * HOUR).isoformat(),
        "price": 0.2,
        "import": 0.21,
        "export": round(0.2 / 3, 4),
        "confidence": 0.9,
    }
    request = simulator.requests[-1]
    assert request.path == PATH
    assert request.valid
    assert request.body is None


@pytest.mark.usefixtures("stored_prices")
async def test_window_sent_in_utc(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    await hass.config.async_set_time_zone("America/New_York")

    # 22:30 on June 1st in New York is 02:30 UTC on June 2nd.
    response = await get_price_signal(
        hass,
        loaded_entry,
        start="2025-06-01 22:30:00",
        end=iso(DAY + 3 * HOUR + QUARTER),
    )

    assert [interval["price"] for interval in response["intervals"]] == [0.3, 0.4]
    request = simulator.requests[-1]
    assert request.valid
    assert set(request.body) == {"startTime", "endTime"}
    assert (
        datetime.fromisoformat(request.body["startTime"])
        == DAY + 2 * HOUR + 2 * QUARTER
    )


@pytest.mark.usefixtures("stored_prices")
async def test_empty_window_returns_no_intervals(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    response = await get_price_signal(
        hass, loaded_entry, start=iso(DAY + 5 * HOUR), end=iso(DAY + 6 * HOUR)
    )

    assert response == {"home_id": HOME, "intervals": []}


@pytest.mark.parametrize(
    ("fields", "translation_key"),
    [
        ({"start": iso(DAY)}, "price_window_incomplete"),
        ({"end": iso(DAY)}, "price_window_incomplete"),
        ({"start": iso(DAY + HOUR), "end": iso(DAY)}, "price_window_invalid"),
        ({"start": iso(DAY), "end": iso(DAY)}, "price_window_invalid"),
        ({"home_id": "ws_home_1/../../webhook"}, "invalid_home_id"),
        ({"home_id": ""}, "invalid_home_id"),
        ({"config_entry_id": "no-such-entry"}, "entry_not_found"),
    ],
    ids=[
        "start_only",
        "end_only",
        "end_before_start",
        "empty_window",
        "path_in_home_id",
        "empty_home_id",
        "unknown_entry",
    ],
)
async def test_bad_input_rejected_before_request(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    fields: dict[str, Any],
    translation_key: str,
) -> None:
    requests_before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as raised:
        await get_price_signal(hass, loaded_entry, **fields)

    assert raised.value.translation_key == translation_key
    assert len(simulator.requests) == requests_before


async def test_unknown_home_is_translated(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with pytest.raises(HomeAssistantError) as raised:
        await get_price_signal(hass, loaded_entry, home_id=OTHER_HOME)

    assert raised.value.translation_key == "price_signal_failed"
    placeholders = raised.value.translation_placeholders
    assert placeholders["home_id"] == OTHER_HOME
    assert "HTTP 404 NOT_FOUND" in placeholders["error"]


@pytest.mark.usefixtures("stored_prices")
async def test_server_error_is_translated(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    simulator.fail_next(500, path=PATH)

    with pytest.raises(HomeAssistantError) as raised:
        await get_price_signal(hass, loaded_entry)

    assert raised.value.translation_key == "price_signal_failed"
    assert "HTTP 500" in raised.value.translation_placeholders["error"]


async def test_unreadable_signal_is_translated(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    overlapping = data_items(DAY, [0.1], step=HOUR) + data_items(
        DAY + QUARTER, [0.2], step=HOUR
    )
    simulator.set_price_signal(HOME, overlapping)

    with pytest.raises(HomeAssistantError) as raised:
        await get_price_signal(hass, loaded_entry)

    assert raised.value.translation_key == "price_signal_invalid"
    assert "overlaps" in raised.value.translation_placeholders["error"]


@pytest.mark.usefixtures("stored_prices")
async def test_unloaded_entry_rejected(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)

    with pytest.raises(ServiceValidationError) as raised:
        await get_price_signal(hass, loaded_entry)

    assert raised.value.translation_key == "entry_not_loaded"
