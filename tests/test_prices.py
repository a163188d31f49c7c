"""Tests for PRICE_SIGNAL deliveries and the price entities of each home."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    load_json_object_fixture,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.wattshift.const import (
    CONF_OPEN_ADR,
    CONF_PRICE_PEAK_THRESHOLD,
    CONF_PRICE_SIGNALS,
    DOMAIN,
)
from custom_components.wattshift.price_board import (
    MAX_HOME_INTERVALS,
    MAX_HOMES,
    price_store_key,
)
from custom_components.wattshift.thermostat_entity import THERMOSTAT_MODEL
from simulator import WattShiftSimulator

from .conftest import ORG_ID, WebhookPoster
from .prices import (
    DAY,
    HOME,
    HOUR,
    OTHER_HOME,
    QUARTER,
    data_items,
    delivery,
    entity,
    home_body,
    home_ids,
    iso,
    move_to,
    signal,
)

CURRENT = entity("sensor", "current_price")
IMPORT = entity("sensor", "current_import_price")
EXPORT = entity("sensor", "current_export_price")
NEXT_CHANGE = entity("sensor", "next_price_change")
NEXT_PEAK = entity("sensor", "next_price_peak")
PEAK = entity("binary_sensor", "price_peak")
PRICE_ENTITIES = (CURRENT, IMPORT, EXPORT, NEXT_CHANGE, NEXT_PEAK, PEAK)
THIRD_HOME = "ws_home_00000000000000000000000000000003"


def state(hass: HomeAssistant, entity_id: str) -> str:
    """Return the state string of an entity, failing when it does not exist."""
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current.state


def attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """Return the attributes of an existing entity."""
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return dict(current.attributes)


def timestamp(hass: HomeAssistant, entity_id: str) -> datetime | None:
    """Return the instant a timestamp sensor shows."""
    return dt_util.parse_datetime(state(hass, entity_id))


async def test_option_off_leaves_signal_unhandled(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    hass_storage: dict[str, Any],
) -> None:
    events = async_capture_events(hass, "wattshift_price_signal")

    status, body = await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()

    assert status == 200
    assert body["handled"] is False
    assert "turned off" in body["reason"]
    assert hass.states.get(CURRENT) is None
    assert events == []
    assert price_store_key(loaded_entry.entry_id) not in hass_storage


async def test_option_switches_handling_live(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    hass.config_entries.async_update_entry(
        loaded_entry, options={**loaded_entry.options, CONF_PRICE_SIGNALS: True}
    )
    await hass.async_block_till_done()

    status, body = await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()
    assert status == 200
    assert body["handled"] is True
    assert state(hass, CURRENT) == "0.1"

    hass.config_entries.async_update_entry(
        loaded_entry, options={**loaded_entry.options, CONF_PRICE_SIGNALS: False}
    )
    await hass.async_block_till_done()
    status, body = await post_event(signal(DAY, [0.5] * 4))
    await hass.async_block_till_done()
    assert body["handled"] is False
    assert state(hass, CURRENT) == "0.1"


async def test_first_signal_creates_home_device(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY + timedelta(minutes=20))

    status, body = await post_event(signal(DAY, [0.1, 0.2, 0.3, 0.4]))
    await hass.async_block_till_done()

    assert status == 200
    assert body == {
        "eventType": "PRICE_SIGNAL",
        "handled": True,
        "homes": {
            HOME: {
                "accepted": 4,
                "startTime": iso(DAY),
                "endTime": iso(DAY + HOUR),
            }
        },
    }
    devices = dr.async_get(hass)
    device = devices.async_get_device(identifiers={(DOMAIN, f"{ORG_ID}_{HOME}")})
    assert device is not None
    assert device.name == HOME
    account = devices.async_get_device(identifiers={(DOMAIN, ORG_ID)})
    assert account is not None
    assert device.via_device_id == account.id
    entries = er.async_entries_for_device(er.async_get(hass), device.id)
    assert {entry.unique_id for entry in entries} == {
        f"{ORG_ID}_{HOME}_{key}"
        for key in (
            "current_price",
            "current_import_price",
            "current_export_price",
            "next_price_change",
            "next_price_peak",
            "price_peak",
        )
    }


async def test_price_sensors_show_interval_in_force(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY + timedelta(minutes=20))

    await post_event(signal(DAY, [0.1, 0.2, 0.2, 0.4]))
    await hass.async_block_till_done()

    assert state(hass, CURRENT) == "0.2"
    assert state(hass, IMPORT) == "0.21"
    assert state(hass, EXPORT) == str(round(0.2 / 3, 4))
    current = attributes(hass, CURRENT)
    assert current["unit_of_measurement"] == "USD/kWh"
    assert current["state_class"] == "measurement"
    assert "device_class" not in current
    assert current["confidence"] == 0.9
    # The series starts with the interval in force and ends at the last end.
    assert current["prices"] == [
        [(DAY + QUARTER).isoformat(), 0.2],
        [(DAY + 2 * QUARTER).isoformat(), 0.2],
        [(DAY + 3 * QUARTER).isoformat(), 0.4],
        [(DAY + HOUR).isoformat(), None],
    ]
    assert attributes(hass, IMPORT)["prices"][0] == [(DAY + QUARTER).isoformat(), 0.21]
    # Equal prices in a row count as one price, so the change comes at 00:45.
    assert timestamp(hass, NEXT_CHANGE) == DAY + 3 * QUARTER
    assert attributes(hass, NEXT_CHANGE)["next_price"] == 0.4
    assert "device_class" not in attributes(hass, PEAK)


def open_adr_event() -> dict[str, Any]:
    """Return the OpenADR 3.0 event fixture."""
    return load_json_object_fixture("open_adr_event.json")


def arrays_body(imports_key: str, exports_key: str) -> dict[str, Any]:
    """Build the older parallel-array body with the given array names."""
    return {
        "homeId": HOME,
        "startTime": iso(DAY),
        "prices": [0.1, 0.2, 0.3, 0.4],
        imports_key: [0.11, 0.21, 0.31, 0.41],
        exports_key: [0.01, 0.02, 0.03, 0.04],
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (home_body(HOME, data_items(DAY, [0.1, 0.2, 0.3, 0.4])), ("0.2", "0.21")),
        (arrays_body("imports", "exports"), ("0.2", "0.21", "0.02")),
        (arrays_body("import", "export"), ("0.2", "0.21", "0.02")),
        (
            {"homeId": HOME, "startTime": iso(DAY), "priceSignal": [0.1, 0.2] * 48},
            ("0.2", STATE_UNKNOWN, STATE_UNKNOWN),
        ),
        (open_adr_event(), ("0.2", STATE_UNKNOWN, "0.05")),
    ],
    ids=["data", "imports_exports", "import_export", "price_signal", "open_adr"],
)
async def test_every_documented_shape(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    body: dict[str, Any],
    expected: tuple[str, ...],
) -> None:
    freezer.move_to(DAY + timedelta(minutes=20))

    status, answer = await post_event(delivery(body))
    await hass.async_block_till_done()

    assert status == 200, answer
    assert state(hass, CURRENT) == expected[0]
    assert state(hass, IMPORT) == expected[1]
    if len(expected) > 2:
        assert state(hass, EXPORT) == expected[2]


async def test_open_adr_interval_lengths(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)

    status, answer = await post_event(delivery(open_adr_event()))
    await hass.async_block_till_done()

    # Two quarter-hours, one interval of its own hour, then two that take
    # the event's PT1H one after another.
    assert answer["homes"][HOME] == {
        "accepted": 5,
        "startTime": iso(DAY),
        "endTime": iso(DAY + 3 * HOUR + 2 * QUARTER),
    }
    await move_to(hass, freezer, DAY + 2 * QUARTER)
    assert state(hass, CURRENT) == "0.3"
    await move_to(hass, freezer, DAY + HOUR + 2 * QUARTER)
    assert state(hass, CURRENT) == "0.5"
    await move_to(hass, freezer, DAY + 2 * HOUR + 2 * QUARTER)
    assert state(hass, CURRENT) == "0.1"


async def test_simulator_delivers_open_adr_signal(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    webhook_client: TestClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY + QUARTER)
    hass.config_entries.async_update_entry(
        price_entry, options={**price_entry.options, CONF_OPEN_ADR: True}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.registrations[(ORG_ID, "PRICE_SIGNAL")].open_adr is True

    result = await simulator.deliver(
        "PRICE_SIGNAL",
        {HOME: open_adr_event()},
        origin=str(webhook_client.make_url("/")).rstrip("/"),
    )
    await hass.async_block_till_done()

    assert result.status == 200
    assert state(hass, CURRENT) == "0.2"
    assert state(hass, EXPORT) == "0.05"


@pytest.mark.parametrize(
    "wrap",
    [
        lambda bodies: bodies,
        lambda bodies: {body["homeId"]: body for body in bodies},
        lambda bodies: {
            body["homeId"]: {k: v for k, v in body.items() if k != "homeId"}
            for body in bodies
        },
    ],
    ids=["list", "keyed", "keyed_without_home_id"],
)
async def test_several_homes_in_one_delivery(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    wrap: Any,
) -> None:
    freezer.move_to(DAY)
    bodies = [
        home_body(HOME, data_items(DAY, [0.1] * 4)),
        home_body(OTHER_HOME, data_items(DAY, [0.3] * 4)),
    ]

    status, answer = await post_event(delivery(wrap(bodies)))
    await hass.async_block_till_done()

    assert status == 200, answer
    assert set(answer["homes"]) == {HOME, OTHER_HOME}
    assert state(hass, CURRENT) == "0.1"
    assert state(hass, entity("sensor", "current_price", OTHER_HOME)) == "0.3"


async def test_state_follows_each_boundary(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    quarter_prices = [round(0.1 + index / 1000, 3) for index in range(96)]
    await post_event(signal(DAY, quarter_prices))
    await hass.async_block_till_done()

    for index in (0, 1, 2, 50, 95):
        await move_to(hass, freezer, DAY + index * QUARTER)
        assert state(hass, CURRENT) == str(quarter_prices[index])
        # Nothing changes inside an interval.
        await move_to(hass, freezer, DAY + index * QUARTER + timedelta(minutes=14))
        assert state(hass, CURRENT) == str(quarter_prices[index])

    # The next day arrives at hourly resolution.
    tomorrow = DAY + timedelta(days=1)
    hourly_prices = [round(0.2 + index / 100, 2) for index in range(24)]
    await post_event(signal(tomorrow, hourly_prices, step=HOUR))
    await hass.async_block_till_done()
    for index in (0, 1, 23):
        await move_to(hass, freezer, tomorrow + index * HOUR)
        assert state(hass, CURRENT) == str(hourly_prices[index])
        await move_to(hass, freezer, tomorrow + index * HOUR + timedelta(minutes=59))
        assert state(hass, CURRENT) == str(hourly_prices[index])
        assert timestamp(hass, NEXT_CHANGE) == tomorrow + (index + 1) * HOUR

    # Then intervals of 5 minutes, 55 minutes and 2 hours.
    after = tomorrow + timedelta(days=1)
    lengths = [timedelta(minutes=5), timedelta(minutes=55), 2 * HOUR]
    await post_event(signal(after, [0.7, 0.8, 0.9], step=lengths))
    await hass.async_block_till_done()
    expected = [
        (after, "0.7"),
        (after + timedelta(minutes=4), "0.7"),
        (after + timedelta(minutes=5), "0.8"),
        (after + timedelta(minutes=59), "0.8"),
        (after + HOUR, "0.9"),
        (after + 2 * HOUR + timedelta(minutes=59), "0.9"),
        (after + 3 * HOUR, STATE_UNAVAILABLE),
    ]
    for moment, price in expected:
        await move_to(hass, freezer, moment)
        assert state(hass, CURRENT) == price, moment


async def test_gap_shows_unknown_until_prices_resume(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    items = data_items(DAY, [0.1] * 4) + data_items(DAY + 2 * HOUR, [0.5] * 4)
    await post_event(delivery(home_body(HOME, items)))
    await hass.async_block_till_done()
    assert timestamp(hass, NEXT_CHANGE) == DAY + HOUR
    assert attributes(hass, NEXT_CHANGE)["next_price"] is None

    await move_to(hass, freezer, DAY + HOUR + 2 * QUARTER)

    # Inside the gap no price is known, but the entities stay available
    # because prices follow.
    for entity_id in (CURRENT, IMPORT, EXPORT, PEAK):
        assert state(hass, entity_id) == STATE_UNKNOWN, entity_id
    assert timestamp(hass, NEXT_CHANGE) == DAY + 2 * HOUR
    assert attributes(hass, NEXT_CHANGE)["next_price"] == 0.5
    assert attributes(hass, CURRENT)["prices"] == [
        [(DAY + 2 * HOUR).isoformat(), 0.5],
        [(DAY + 2 * HOUR + QUARTER).isoformat(), 0.5],
        [(DAY + 2 * HOUR + 2 * QUARTER).isoformat(), 0.5],
        [(DAY + 2 * HOUR + 3 * QUARTER).isoformat(), 0.5],
        [(DAY + 3 * HOUR).isoformat(), None],
    ]

    await move_to(hass, freezer, DAY + 2 * HOUR)
    assert state(hass, CURRENT) == "0.5"


async def test_series_marks_gaps_with_null(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    items = data_items(DAY, [0.1]) + data_items(DAY + HOUR, [0.2])
    await post_event(delivery(home_body(HOME, items)))
    await hass.async_block_till_done()

    assert attributes(hass, CURRENT)["prices"] == [
        [DAY.isoformat(), 0.1],
        [(DAY + QUARTER).isoformat(), None],
        [(DAY + HOUR).isoformat(), 0.2],
        [(DAY + HOUR + QUARTER).isoformat(), None],
    ]


async def test_series_stops_after_48_hours(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 72, step=HOUR))
    await hass.async_block_till_done()

    series = attributes(hass, CURRENT)["prices"]

    assert len(series) == 49
    assert series[-2] == [(DAY + 47 * HOUR).isoformat(), 0.1]
    assert series[-1] == [(DAY + 48 * HOUR).isoformat(), None]


async def test_entities_unavailable_when_signal_runs_out(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()

    await move_to(hass, freezer, DAY + HOUR)
    for entity_id in PRICE_ENTITIES:
        assert state(hass, entity_id) == STATE_UNAVAILABLE, entity_id
    await move_to(hass, freezer, DAY + 5 * HOUR)
    assert caplog.text.count("has run out") == 1

    await post_event(signal(DAY + 5 * HOUR, [0.3] * 4))
    await hass.async_block_till_done()
    assert state(hass, CURRENT) == "0.3"
    assert state(hass, NEXT_CHANGE) != STATE_UNAVAILABLE
    assert caplog.text.count("are current again") == 1

    await move_to(hass, freezer, DAY + 6 * HOUR)
    assert state(hass, CURRENT) == STATE_UNAVAILABLE
    assert caplog.text.count("has run out") == 2


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload and set up a config entry again, as a restart does."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_run_out_not_logged_after_restart(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()
    await move_to(hass, freezer, DAY + HOUR)
    assert caplog.text.count("has run out") == 1

    await restart(hass, price_entry)
    freezer.move_to(DAY + timedelta(days=3))
    await restart(hass, price_entry)

    assert caplog.text.count("has run out") == 1
    assert state(hass, CURRENT) == STATE_UNAVAILABLE

    # New prices end the run-out, so the next one is logged again.
    await post_event(signal(DAY + timedelta(days=3), [0.3] * 4))
    await hass.async_block_till_done()
    await restart(hass, price_entry)
    await move_to(hass, freezer, DAY + timedelta(days=3, hours=1))
    assert caplog.text.count("has run out") == 2


async def test_run_out_while_stopped_logged_once(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(price_entry.entry_id)
    await hass.async_block_till_done()

    freezer.move_to(DAY + 2 * HOUR)
    assert await hass.config_entries.async_setup(price_entry.entry_id)
    await hass.async_block_till_done()
    assert caplog.text.count("has run out") == 1

    await restart(hass, price_entry)
    assert caplog.text.count("has run out") == 1


async def test_event_fired_per_home(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    events = async_capture_events(hass, "wattshift_price_signal")
    bodies = [
        # 15 minutes at 0.1 and an hour at 0.4: the mean is weighted by time.
        home_body(HOME, data_items(DAY, [0.1, 0.4], step=[QUARTER, HOUR])),
        home_body(OTHER_HOME, data_items(DAY, [0.2] * 2)),
    ]

    await post_event(delivery(bodies))
    await hass.async_block_till_done()

    assert len(events) == 2
    first = events[0].data
    assert first == {
        "config_entry_id": price_entry.entry_id,
        "home_id": HOME,
        "start": DAY.isoformat(),
        "end": (DAY + QUARTER + HOUR).isoformat(),
        "interval_count": 2,
        "min_price": 0.1,
        "max_price": 0.4,
        "mean_price": pytest.approx(0.34),
    }
    assert events[1].data["home_id"] == OTHER_HOME


async def test_default_threshold_is_75th_percentile(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    # Eight hours at 0.1 to 0.8: 75 % of the time is at or below 0.6.
    prices = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    await post_event(signal(DAY, prices, step=HOUR))
    await hass.async_block_till_done()

    assert state(hass, PEAK) == STATE_OFF
    assert attributes(hass, PEAK)["threshold"] == 0.6
    assert attributes(hass, PEAK)["threshold_source"] == "percentile"
    assert timestamp(hass, NEXT_PEAK) == DAY + 5 * HOUR
    assert attributes(hass, NEXT_PEAK)["end"] == DAY + 8 * HOUR

    await move_to(hass, freezer, DAY + 5 * HOUR)
    assert state(hass, PEAK) == STATE_ON
    # The peak in force is no upcoming peak.
    assert state(hass, NEXT_PEAK) == STATE_UNKNOWN


async def test_flat_prices_have_no_peak(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.2] * 8))
    await hass.async_block_till_done()

    assert state(hass, PEAK) == STATE_OFF
    assert state(hass, NEXT_PEAK) == STATE_UNKNOWN


async def test_threshold_option_applies_live(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    # 75 % of the eight hours are at or below 0.3, the default threshold.
    prices = [0.25, 0.3, 0.1, 0.1, 0.1, 0.3, 0.35, 0.4]
    await post_event(signal(DAY, prices, step=HOUR))
    await hass.async_block_till_done()
    assert state(hass, PEAK) == STATE_OFF
    assert attributes(hass, PEAK)["threshold"] == 0.3

    hass.config_entries.async_update_entry(
        price_entry, options={**price_entry.options, CONF_PRICE_PEAK_THRESHOLD: 0.25}
    )
    await hass.async_block_till_done()

    assert state(hass, PEAK) == STATE_ON
    assert attributes(hass, PEAK)["threshold"] == 0.25
    assert attributes(hass, PEAK)["threshold_source"] == "option"
    await move_to(hass, freezer, DAY + 2 * HOUR)
    assert state(hass, PEAK) == STATE_OFF

    options = dict(price_entry.options)
    del options[CONF_PRICE_PEAK_THRESHOLD]
    hass.config_entries.async_update_entry(price_entry, options=options)
    await hass.async_block_till_done()
    assert attributes(hass, PEAK)["threshold_source"] == "percentile"


async def test_later_signal_keeps_earlier_prices(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY + HOUR)
    await post_event(signal(DAY, [0.1] * 24, step=HOUR))
    await hass.async_block_till_done()

    # A day-ahead signal for tomorrow, and a correction of 02:00 to 02:30.
    await post_event(signal(DAY + timedelta(days=1), [0.2] * 24, step=HOUR))
    await post_event(signal(DAY + 2 * HOUR, [0.9, 0.9]))
    await hass.async_block_till_done()

    assert state(hass, CURRENT) == "0.1"
    await move_to(hass, freezer, DAY + 2 * HOUR)
    assert state(hass, CURRENT) == "0.9"
    await move_to(hass, freezer, DAY + 2 * HOUR + 2 * QUARTER)
    assert state(hass, CURRENT) == "0.1"
    await move_to(hass, freezer, DAY + timedelta(days=1, hours=3))
    assert state(hass, CURRENT) == "0.2"


async def test_prices_beyond_7_days_dropped(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(DAY)
    events = async_capture_events(hass, "wattshift_price_signal")

    status, answer = await post_event(signal(DAY, [0.1] * 240, step=HOUR))
    await hass.async_block_till_done()

    assert status == 200, answer
    assert answer["homes"][HOME] == {
        "accepted": 168,
        "startTime": iso(DAY),
        "endTime": iso(DAY + timedelta(days=7)),
    }
    assert events[0].data["interval_count"] == 168
    stored = hass_storage[price_store_key(price_entry.entry_id)]["data"]
    assert len(stored["homes"][HOME]["intervals"]) == 168


async def test_prices_only_beyond_7_days_rejected(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()

    status, answer = await post_event(
        signal(DAY + timedelta(days=7), [0.5] * 4, home_id=OTHER_HOME)
    )
    await hass.async_block_till_done()

    assert status == 400
    assert answer["error"] == "invalid_payload"
    assert f"Home {OTHER_HOME}" in answer["message"]
    assert "7 days" in answer["message"]
    assert hass.states.get(entity("sensor", "current_price", OTHER_HOME)) is None


async def test_intervals_per_home_limited(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(DAY)
    minute = timedelta(minutes=1)
    half = MAX_HOME_INTERVALS // 2 + 1
    status, answer = await post_event(signal(DAY, [0.1] * half, step=minute))
    await hass.async_block_till_done()
    assert status == 200, answer
    stored = hass_storage[price_store_key(price_entry.entry_id)]["data"]

    # A window after the first adds as many intervals again.
    status, answer = await post_event(
        signal(DAY + half * minute, [0.2] * half, step=minute)
    )
    await hass.async_block_till_done()

    assert status == 400
    assert f"Home {HOME}" in answer["message"]
    assert f"{2 * half} price intervals" in answer["message"]
    assert f"at most {MAX_HOME_INTERVALS}" in answer["message"]
    assert hass_storage[price_store_key(price_entry.entry_id)]["data"] == stored

    # The same window replaces what is known, so it is accepted.
    status, answer = await post_event(signal(DAY, [0.3] * half, step=minute))
    await hass.async_block_till_done()
    assert status == 200, answer
    assert state(hass, CURRENT) == "0.3"

    # Intervals that ended more than 24 hours ago are no longer counted.
    await move_to(hass, freezer, DAY + timedelta(days=2))
    status, answer = await post_event(
        signal(DAY + timedelta(days=2), [0.4] * half, step=minute)
    )
    await hass.async_block_till_done()
    assert status == 200, answer


async def test_home_name_renames_device(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 4))
    body = home_body(HOME, data_items(DAY, [0.1] * 4))
    body["homeName"] = "Beach house"

    await post_event(delivery(body))
    await hass.async_block_till_done()

    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{ORG_ID}_{HOME}")}
    )
    assert device is not None
    assert device.name == "Beach house"


async def test_implausible_price_is_logged(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(DAY)

    status, _ = await post_event(signal(DAY, [45.0, 52.0]))
    await hass.async_block_till_done()

    assert status == 200
    assert state(hass, CURRENT) == "45.0"
    assert caplog.text.count("changed the price unit") == 1

    # Further implausible prices of the same home are not logged again.
    await post_event(signal(DAY, [46.0, 52.0]))
    await post_event(signal(DAY + HOUR, [0.2, 60.0]))
    await hass.async_block_till_done()
    assert caplog.text.count("changed the price unit") == 1

    # Another home is logged on its own.
    await post_event(signal(DAY, [45.0], home_id=OTHER_HOME))
    await hass.async_block_till_done()
    assert caplog.text.count("changed the price unit") == 2

    # After plausible prices, implausible ones are logged again.
    await post_event(signal(DAY, [0.1, 0.2]))
    await post_event(signal(DAY, [45.0, 52.0]))
    await hass.async_block_till_done()
    assert caplog.text.count("changed the price unit") == 3


async def test_signal_survives_restart(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1, 0.6, 0.2, 0.3]))
    await hass.async_block_till_done()
    assert price_store_key(price_entry.entry_id) in hass_storage

    assert await hass.config_entries.async_unload(price_entry.entry_id)
    await hass.async_block_till_done()
    freezer.move_to(DAY + QUARTER)
    assert await hass.config_entries.async_setup(price_entry.entry_id)
    await hass.async_block_till_done()

    assert state(hass, CURRENT) == "0.6"
    assert state(hass, IMPORT) == "0.61"
    assert state(hass, PEAK) == STATE_ON
    assert timestamp(hass, NEXT_CHANGE) == DAY + 2 * QUARTER
    await move_to(hass, freezer, DAY + 2 * QUARTER)
    assert state(hass, CURRENT) == "0.2"


async def test_stored_homes_exist_before_any_signal(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    thermostat_states: None,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(DAY + QUARTER)
    hass_storage[price_store_key(config_entry.entry_id)] = {
        "version": 1,
        "minor_version": 1,
        "key": price_store_key(config_entry.entry_id),
        "data": {
            "homes": {
                HOME: {
                    "name": "Beach house",
                    "intervals": [
                        [
                            DAY.isoformat(),
                            (DAY + HOUR).isoformat(),
                            0.3,
                            None,
                            0.1,
                            None,
                        ]
                    ],
                },
                OTHER_HOME: {"name": None, "intervals": [["not a time"]]},
                # Overlapping intervals cannot come from a valid signal.
                THIRD_HOME: {
                    "name": None,
                    "intervals": [
                        [
                            DAY.isoformat(),
                            (DAY + HOUR).isoformat(),
                            0.3,
                            None,
                            None,
                            None,
                        ],
                        [
                            DAY.isoformat(),
                            (DAY + HOUR).isoformat(),
                            0.4,
                            None,
                            None,
                            None,
                        ],
                    ],
                },
            }
        },
    }
    config_entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{ORG_ID}_{HOME}")}
    )
    assert device is not None
    assert device.name == "Beach house"
    account = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, ORG_ID)})
    assert account is not None
    assert device.via_device_id == account.id
    assert state(hass, "sensor.beach_house_current_price") == "0.3"
    assert state(hass, "sensor.beach_house_current_import_price") == STATE_UNKNOWN
    assert state(hass, "sensor.beach_house_current_export_price") == "0.1"
    assert hass.states.get(entity("sensor", "current_price", OTHER_HOME)) is None
    assert hass.states.get(entity("sensor", "current_price", THIRD_HOME)) is None
    assert caplog.text.count("Ignoring the stored prices") == 2


async def test_stored_home_not_object_skipped(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    thermostat_states: None,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(DAY + QUARTER)
    valid = {
        "name": None,
        "intervals": [
            [DAY.isoformat(), (DAY + HOUR).isoformat(), 0.3, None, None, None]
        ],
    }
    hass_storage[price_store_key(config_entry.entry_id)] = {
        "version": 1,
        "minor_version": 1,
        "key": price_store_key(config_entry.entry_id),
        "data": {
            "homes": {
                HOME: valid,
                OTHER_HOME: ["not", "an", "object"],
                THIRD_HOME: None,
                "a/b": valid,
            }
        },
    }
    config_entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.LOADED
    assert state(hass, CURRENT) == "0.3"
    assert hass.states.get(entity("sensor", "current_price", OTHER_HOME)) is None
    assert hass.states.get(entity("sensor", "current_price", THIRD_HOME)) is None
    assert caplog.text.count("Ignoring the stored prices") == 3


async def test_known_homes_limited_per_entry(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    external_url: str,
    thermostat_states: None,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(DAY)
    known = home_ids(MAX_HOMES - 1, first=1000)
    hass_storage[price_store_key(config_entry.entry_id)] = {
        "version": 1,
        "minor_version": 1,
        "key": price_store_key(config_entry.entry_id),
        "data": {"homes": {home: {"name": None, "intervals": []} for home in known}},
    }
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_PRICE_SIGNALS: True}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    events = async_capture_events(hass, "wattshift_price_signal")

    two_new = [home_body(home, data_items(DAY, [0.1])) for home in (HOME, OTHER_HOME)]
    status, answer = await post_event(delivery(two_new))
    await hass.async_block_till_done()

    assert status == 400
    assert answer["error"] == "invalid_payload"
    assert "2 new homes" in answer["message"]
    assert "at most 200" in answer["message"]
    assert "Remove the devices of homes" in answer["message"]
    assert events == []
    assert hass.states.get(CURRENT) is None
    stored = hass_storage[price_store_key(config_entry.entry_id)]["data"]["homes"]
    assert len(stored) == MAX_HOMES - 1

    status, answer = await post_event(signal(DAY, [0.1]))
    await hass.async_block_till_done()
    assert status == 200, answer
    assert state(hass, CURRENT) == "0.1"

    status, answer = await post_event(signal(DAY, [0.2], home_id=OTHER_HOME))
    await hass.async_block_till_done()
    assert status == 400
    assert "1 new home" in answer["message"]

    # A known home is still accepted at the limit.
    status, answer = await post_event(signal(DAY, [0.3], home_id=known[0]))
    await hass.async_block_till_done()
    assert status == 200, answer


@pytest.fixture
async def device_removal(hass: HomeAssistant) -> None:
    """Set up the websocket command that removes a device from an entry.

    It must run before any HTTP client, because the router then freezes.
    """
    assert await async_setup_component(hass, "config", {})
    assert await async_setup_component(hass, "websocket_api", {})


async def test_home_device_removal_forgets_home(
    hass: HomeAssistant,
    device_removal: None,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    hass_ws_client: WebSocketGenerator,
) -> None:
    # The access token is issued at the real time, so it is checked before
    # the clock moves back to an earlier day.
    client = await hass_ws_client(hass)
    freezer.move_to(DAY)
    both = [
        home_body(HOME, data_items(DAY, [0.1] * 4)),
        home_body(OTHER_HOME, data_items(DAY, [0.3] * 4)),
    ]
    await post_event(delivery(both))
    await hass.async_block_till_done()
    devices = dr.async_get(hass)
    home_device = devices.async_get_device(identifiers={(DOMAIN, f"{ORG_ID}_{HOME}")})
    assert home_device is not None

    response = await client.remove_device(home_device.id, price_entry.entry_id)
    await hass.async_block_till_done()

    assert response["success"], response
    assert devices.async_get(home_device.id) is None
    assert hass.states.get(CURRENT) is None
    assert er.async_entries_for_device(er.async_get(hass), home_device.id) == []
    stored = hass_storage[price_store_key(price_entry.entry_id)]["data"]["homes"]
    assert set(stored) == {OTHER_HOME}
    assert state(hass, entity("sensor", "current_price", OTHER_HOME)) == "0.3"

    # The home stays gone after a restart.
    assert await hass.config_entries.async_unload(price_entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(price_entry.entry_id)
    await hass.async_block_till_done()
    assert devices.async_get_device(identifiers={(DOMAIN, f"{ORG_ID}_{HOME}")}) is None
    assert hass.states.get(CURRENT) is None

    # A new signal of the home brings its device and entities back.
    status, answer = await post_event(signal(DAY, [0.2] * 4))
    await hass.async_block_till_done()
    assert status == 200, answer
    assert devices.async_get_device(identifiers={(DOMAIN, f"{ORG_ID}_{HOME}")})
    assert state(hass, CURRENT) == "0.2"


async def test_device_removal_rejected(
    hass: HomeAssistant,
    device_removal: None,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    # The access token is issued at the real time, so it is checked before
    # the clock moves back to an earlier day.
    client = await hass_ws_client(hass)
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()
    devices = dr.async_get(hass)
    entry_devices = dr.async_entries_for_config_entry(devices, price_entry.entry_id)
    account = devices.async_get_device(identifiers={(DOMAIN, ORG_ID)})
    assert account is not None
    thermostats = [d for d in entry_devices if d.model == THERMOSTAT_MODEL]
    assert len(thermostats) == 3

    for device in (account, *thermostats):
        response = await client.remove_device(device.id, price_entry.entry_id)
        await hass.async_block_till_done()

        assert not response["success"], device.name
        assert devices.async_get(device.id) is not None, device.name
    assert state(hass, CURRENT) == "0.1"

    # A home device stays while the entry is not loaded, because the store
    # would bring its home back at the next setup.
    home_device = devices.async_get_device(identifiers={(DOMAIN, f"{ORG_ID}_{HOME}")})
    assert home_device is not None
    assert await hass.config_entries.async_unload(price_entry.entry_id)
    await hass.async_block_till_done()
    response = await client.remove_device(home_device.id, price_entry.entry_id)
    await hass.async_block_till_done()
    assert not response["success"]
    assert devices.async_get(home_device.id) is not None


async def test_remove_entry_deletes_stored_prices(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()
    assert price_store_key(price_entry.entry_id) in hass_storage

    await hass.config_entries.async_remove(price_entry.entry_id)
    await hass.async_block_till_done()

    assert price_store_key(price_entry.entry_id) not in hass_storage


_REMOVE = object()


def one_item(**changes: Any) -> dict[str, Any]:
    """Return a single valid data[] item with some fields changed or removed."""
    item = data_items(DAY, [0.1])[0]
    for key, value in changes.items():
        if value is _REMOVE:
            del item[key]
        else:
            item[key] = value
    return item


def with_item(item: dict[str, Any]) -> dict[str, Any]:
    """Return a delivery for HOME whose data[] is one item."""
    return delivery({"homeId": HOME, "data": [item]})


def open_adr_with(**changes: Any) -> dict[str, Any]:
    """Return the OpenADR event fixture with top-level fields replaced."""
    event = open_adr_event()
    event.update(changes)
    return delivery(event)


INVALID_DELIVERIES: list[tuple[str, Any, str]] = [
    ("no_data", {"eventType": "PRICE_SIGNAL"}, "data must be"),
    ("data_string", delivery("prices"), "data must be"),
    ("empty_list", delivery([]), "no home"),
    ("empty_object", delivery({}), "no home"),
    ("list_of_strings", delivery(["x"]), "must be an object"),
    ("no_home_id", delivery({"data": [one_item()]}), "no homeId"),
    ("bad_home_id", delivery({"homeId": "a/b", "data": [one_item()]}), "invalid home"),
    (
        "duplicate_home",
        delivery([{"homeId": HOME, "data": [one_item()]}] * 2),
        "more than once",
    ),
    (
        "key_mismatch",
        delivery({HOME: {"homeId": OTHER_HOME, "data": [one_item()]}}),
        "not its key",
    ),
    (
        "too_many_homes",
        delivery([{"homeId": home, "data": [one_item()]} for home in home_ids(51)]),
        "data contains 51 homes; at most 50 are accepted in one delivery",
    ),
    ("no_shape", delivery({"homeId": HOME}), "needs data"),
    ("data_not_list", delivery({"homeId": HOME, "data": {"a": 1}}), "must be a list"),
    ("no_intervals", delivery({"homeId": HOME, "data": []}), "no intervals"),
    ("item_not_object", delivery({"homeId": HOME, "data": [1]}), "must be an object"),
    ("no_price", with_item(one_item(price=_REMOVE)), "price is missing"),
    ("price_text", with_item(one_item(price="cheap")), "must be a number"),
    ("price_bool", with_item(one_item(price=True)), "must be a number"),
    ("price_null", with_item(one_item(price=None)), "must be a number"),
    ("import_list", with_item(one_item(**{"import": [1]})), "must be a number"),
    ("no_start", with_item(one_item(startTime=_REMOVE)), "startTime"),
    ("bad_start", with_item(one_item(startTime="tomorrow")), "not a valid"),
    ("naive_start", with_item(one_item(startTime="2025-06-02T00:00:00")), "offset"),
    ("date_only", with_item(one_item(endTime="2025-06-03")), "offset"),
    ("end_before_start", with_item(one_item(endTime=iso(DAY))), "does not end"),
    (
        "overlap",
        delivery(
            {
                "homeId": HOME,
                "data": [one_item(), one_item(startTime=iso(DAY + QUARTER / 3))],
            }
        ),
        "overlaps",
    ),
    (
        "start_year_9999",
        delivery({"homeId": HOME, "startTime": "9999-12-31T23:50Z", "prices": [1, 2]}),
        "startTime must be between the years 2000 and 2100",
    ),
    (
        "start_year_1",
        with_item(one_item(startTime="0001-01-01T00:00+05:00")),
        "data[0].startTime must be between the years 2000 and 2100",
    ),
    (
        "start_month_13",
        with_item(one_item(startTime="2025-13-02T00:00Z")),
        "data[0].startTime is not a valid",
    ),
    (
        "start_offset_99_hours",
        with_item(one_item(startTime="2025-06-02T00:00+99:00")),
        "data[0].startTime is not a valid",
    ),
    (
        "too_many",
        delivery({"homeId": HOME, "startTime": iso(DAY), "prices": [0.1] * 5001}),
        "at most 5000",
    ),
    (
        "array_mismatch",
        delivery(
            {"homeId": HOME, "startTime": iso(DAY), "prices": [0.1], "imports": []}
        ),
        "has 0 values",
    ),
    ("arrays_no_start", delivery({"homeId": HOME, "prices": [0.1]}), "startTime"),
    (
        "oldest_not_list",
        delivery({"homeId": HOME, "startTime": iso(DAY), "priceSignal": 0.1}),
        "must be a list",
    ),
    ("adr_not_list", open_adr_with(intervals={}), "must be a list"),
    (
        "adr_no_start",
        open_adr_with(
            intervalPeriod={"duration": "PT1H"},
            intervals=[{"id": 0, "payloads": [{"type": "PRICE", "values": [1]}]}],
        ),
        "has no start",
    ),
    (
        "adr_no_duration",
        open_adr_with(
            intervalPeriod=None,
            intervals=[
                {
                    "id": 0,
                    "intervalPeriod": {"start": iso(DAY)},
                    "payloads": [{"type": "PRICE", "values": [1]}],
                }
            ],
        ),
        "has no duration",
    ),
    (
        "adr_bad_duration",
        open_adr_with(intervalPeriod={"start": iso(DAY), "duration": "1 hour"}),
        "ISO 8601 duration",
    ),
    *[
        (
            f"adr_duration_{case}",
            open_adr_with(intervalPeriod={"start": iso(DAY), "duration": duration}),
            "intervalPeriod.duration must be at most 7 days",
        )
        for case, duration in (
            ("999999999_days", "P999999999D"),
            ("1000000000_days", "P1000000000D"),
            ("beyond_c_int", "P" + "9" * 20 + "D"),
            ("beyond_c_int_hours", "PT" + "9" * 20 + "H"),
            ("eight_days", "P8D"),
        )
    ],
    (
        "adr_zero_duration",
        open_adr_with(intervalPeriod={"start": iso(DAY), "duration": "PT0S"}),
        "longer than zero",
    ),
    (
        "adr_no_price",
        open_adr_with(
            intervals=[{"id": 0, "payloads": [{"type": "GHG", "values": [1]}]}]
        ),
        "no PRICE",
    ),
    (
        "adr_empty_values",
        open_adr_with(intervals=[{"id": 0, "payloads": [{"type": "PRICE"}]}]),
        "non-empty list",
    ),
    ("adr_interval_not_object", open_adr_with(intervals=[7]), "must be an object"),
    (
        "adr_period_not_object",
        open_adr_with(intervalPeriod="PT1H"),
        "intervalPeriod must be an object",
    ),
    (
        "adr_payloads_not_list",
        open_adr_with(intervals=[{"id": 0, "payloads": {"PRICE": 1}}]),
        "payloads must be a list",
    ),
    (
        "adr_payload_without_type",
        open_adr_with(intervals=[{"id": 0, "payloads": [{"values": [1]}]}]),
        "object with a type",
    ),
    (
        "adr_descriptors_not_list",
        open_adr_with(payloadDescriptors={"PRICE": "USD"}),
        "payloadDescriptors must be a list",
    ),
    (
        "adr_descriptor_not_object",
        open_adr_with(payloadDescriptors=["USD"]),
        "must contain objects",
    ),
    (
        "adr_euro",
        open_adr_with(
            payloadDescriptors=[
                {"payloadType": "PRICE", "units": "KWH", "currency": "EUR"}
            ]
        ),
        "EUR",
    ),
    (
        "adr_per_mwh",
        open_adr_with(
            payloadDescriptors=[
                {"payloadType": "PRICE", "units": "MWH", "currency": "USD"}
            ]
        ),
        "MWH",
    ),
    (
        "second_home_invalid",
        delivery(
            [
                {"homeId": OTHER_HOME, "data": [one_item()]},
                {"homeId": HOME, "data": [one_item(price="x")]},
            ]
        ),
        "data[0].price",
    ),
]


@pytest.mark.parametrize(
    ("body", "reason"),
    [(body, reason) for _, body, reason in INVALID_DELIVERIES],
    ids=[case_id for case_id, _, _ in INVALID_DELIVERIES],
)
async def test_invalid_signal_rejected_and_ignored(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    body: Any,
    reason: str,
) -> None:
    freezer.move_to(DAY)
    await post_event(signal(DAY, [0.1] * 4))
    await hass.async_block_till_done()
    stored = hass_storage[price_store_key(price_entry.entry_id)]["data"]
    events = async_capture_events(hass, "wattshift_price_signal")
    devices_before = len(dr.async_get(hass).devices)

    status, answer = await post_event(body)
    await hass.async_block_till_done()

    assert status == 400
    assert answer["error"] == "invalid_payload"
    assert reason in answer["message"]
    assert events == []
    assert len(dr.async_get(hass).devices) == devices_before
    assert hass_storage[price_store_key(price_entry.entry_id)]["data"] == stored
    assert state(hass, CURRENT) == "0.1"
    assert hass.states.get(entity("sensor", "current_price", OTHER_HOME)) is None


async def test_store_removal_failure_logged(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with patch(
        "homeassistant.helpers.storage.Store.async_remove",
        side_effect=PermissionError("read-only file system"),
    ):
        await hass.config_entries.async_remove(price_entry.entry_id)
        await hass.async_block_till_done()

    assert hass.config_entries.async_get_entry(price_entry.entry_id) is None
    assert "Could not delete the stored prices" in caplog.text
    assert "read-only file system" in caplog.text
