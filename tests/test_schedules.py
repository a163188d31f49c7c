"""Tests for applying SET_POINT_SCHEDULE deliveries to climate entities.

Every test asserts the exact climate service calls, so that no test passes
while the integration writes something the schedule did not ask for.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate import HVACMode
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED, STATE_UNAVAILABLE
from homeassistant.core import Context, CoreState, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.wattshift.const import (
    CONF_APPLY_SCHEDULES,
    CONF_DETECT_OVERRIDES,
    CONF_OVERRIDE_HOLD,
    DOMAIN,
)

from .conftest import WebhookPoster
from .schedules import (
    NOON,
    ClimateCalls,
    after,
    block,
    device_schedule,
    iso,
    move_to,
    schedule_event,
    send_schedule,
)

LIVING = "climate.living_room"
HOUR = after(NOON, hours=1)
TWO = after(NOON, hours=2)


@pytest.fixture
async def calls(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ClimateCalls:
    """Record climate service calls, with the clock at noon UTC."""
    freezer.move_to(NOON)
    return ClimateCalls(hass)


def set_living(
    hass: HomeAssistant, context: Context | None = None, **changes: Any
) -> None:
    """Change the living room thermostat's state as a device report would."""
    state = hass.states.get(LIVING)
    assert state is not None
    mode = changes.pop("hvac_mode", state.state)
    hass.states.async_set(
        LIVING, mode, {**state.attributes, **changes}, context=context or Context()
    )


def two_heat_blocks(first: float = 22, second: float = 19) -> dict[str, Any]:
    """Return a living room schedule of two one-hour HEAT blocks from noon."""
    return {
        "ws_device_living": device_schedule(
            [
                block(NOON, HOUR, "HEAT", targetTemp=first),
                block(HOUR, TWO, "HEAT", targetTemp=second),
            ]
        )
    }


@pytest.mark.usefixtures("loaded_entry")
async def test_fahrenheit_schedule_rounded_to_half_degree(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    body = await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [block(NOON, HOUR, "HEAT", targetTemp="73")], unit="F"
            )
        },
    )

    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 23.0})
    ]
    [answer] = body["devices"]["ws_device_living"]["blocks"]
    assert answer["status"] == "applied"
    assert answer["current"] is True
    assert answer["hvacMode"] == "heat"
    assert answer["targetTemp"] == 73.4


@pytest.mark.usefixtures("loaded_entry")
async def test_whole_degree_step_rounds_to_21(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    set_living(hass, temperature=18.0, target_temp_step=1)

    await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [block(NOON, HOUR, "HEAT", targetTemp=69)], unit="F"
            )
        },
    )

    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 21.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_target_above_max_clamped(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    body = await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [block(NOON, HOUR, "HEAT", targetHeatSetpoint=104)], unit="F"
            )
        },
    )

    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 35.0})
    ]
    [answer] = body["devices"]["ws_device_living"]["blocks"]
    assert answer["status"] == "clamped"
    assert answer["targetTemp"] == 95.0
    assert "limits" in answer["reason"]


@pytest.mark.usefixtures("loaded_entry")
async def test_cool_block_skipped_on_heat_only(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    body = await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [block(NOON, HOUR, "COOL", targetCoolSetpoint=24)]
            )
        },
    )

    assert calls.calls == []
    [answer] = body["devices"]["ws_device_living"]["blocks"]
    assert answer["status"] == "skipped"
    assert answer["reason"] == "The thermostat cannot cool; it has no cool mode."


@pytest.mark.usefixtures("loaded_entry")
async def test_heat_block_skipped_on_cool_only(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    body = await send_schedule(
        hass,
        post_event,
        {
            "climate.bedroom": device_schedule(
                [block(NOON, HOUR, "HEAT", targetTemp=20)]
            )
        },
    )

    assert calls.calls == []
    [answer] = body["devices"]["climate.bedroom"]["blocks"]
    assert answer["status"] == "skipped"
    assert "cannot heat" in answer["reason"]


@pytest.mark.usefixtures("loaded_entry")
async def test_auto_with_one_bound_keeps_other(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    # The hall is at 20 to 24 °C; only the cooling bound changes.
    await send_schedule(
        hass,
        post_event,
        {
            "climate.hall": device_schedule(
                [block(NOON, HOUR, "AUTO", targetCoolSetpoint=77)], unit="F"
            )
        },
    )

    assert calls.calls == [
        (
            "set_temperature",
            {
                "entity_id": "climate.hall",
                "target_temp_low": 20.0,
                "target_temp_high": 25.0,
            },
        )
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_auto_bound_keeps_minimum_gap(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    # A heating bound of 23.5 °C next to the current 24 °C cooling bound
    # would leave too small a gap, so the filled cooling bound moves up.
    await send_schedule(
        hass,
        post_event,
        {
            "climate.hall": device_schedule(
                [block(NOON, HOUR, "AUTO", targetHeatSetpoint=23.5)]
            )
        },
    )

    assert calls.calls == [
        (
            "set_temperature",
            {
                "entity_id": "climate.hall",
                "target_temp_low": 23.5,
                "target_temp_high": 25.0,
            },
        )
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_auto_to_heat_only_single_setpoint(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    body = await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [
                    block(
                        NOON,
                        HOUR,
                        "AUTO",
                        targetHeatSetpoint=68,
                        targetCoolSetpoint=76,
                    )
                ],
                unit="F",
            )
        },
    )

    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 20.0})
    ]
    [answer] = body["devices"]["ws_device_living"]["blocks"]
    assert answer["hvacMode"] == "heat"


@pytest.mark.usefixtures("loaded_entry")
async def test_mode_set_before_temperature(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    await send_schedule(
        hass,
        post_event,
        {"climate.hall": device_schedule([block(NOON, HOUR, "HEAT", targetTemp=19)])},
    )

    assert calls.calls == [
        ("set_hvac_mode", {"entity_id": "climate.hall", "hvac_mode": "heat"}),
        ("set_temperature", {"entity_id": "climate.hall", "temperature": 19.0}),
    ]
    assert calls.contexts[0].id == calls.contexts[1].id


@pytest.mark.usefixtures("loaded_entry")
async def test_mode_dependent_limits_respected(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOON)
    recorded: list[tuple[str, dict[str, Any]]] = []

    async def set_hvac_mode(call: Any) -> None:
        recorded.append((call.service, dict(call.data)))
        # This thermostat cools only between 18 and 30 °C.
        set_living(hass, call.context, hvac_mode=call.data["hvac_mode"], min_temp=18)

    async def set_temperature(call: Any) -> None:
        recorded.append((call.service, dict(call.data)))

    set_living(hass, hvac_modes=[HVACMode.OFF, HVACMode.HEAT, HVACMode.COOL])
    hass.services.async_register("climate", "set_hvac_mode", set_hvac_mode)
    hass.services.async_register("climate", "set_temperature", set_temperature)

    body = await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [block(NOON, HOUR, "COOL", targetTemp=15)]
            )
        },
    )

    assert recorded == [
        ("set_hvac_mode", {"entity_id": LIVING, "hvac_mode": "cool"}),
        ("set_temperature", {"entity_id": LIVING, "temperature": 18.0}),
    ]
    # The acknowledgement was planned before the mode changed, against 7 °C.
    assert body["devices"]["ws_device_living"]["blocks"][0]["targetTemp"] == 15.0


@pytest.mark.usefixtures("loaded_entry")
async def test_off_block_turns_off_only(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [block(NOON, HOUR, "OFF", targetTemp=None)]
            )
        },
    )

    assert calls.calls == [("set_hvac_mode", {"entity_id": LIVING, "hvac_mode": "off"})]


@pytest.mark.usefixtures("loaded_entry")
async def test_write_skipped_when_already_set(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    body = await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [block(NOON, HOUR, "HEAT", targetTemp=21)]
            )
        },
    )

    assert calls.calls == []
    assert body["devices"]["ws_device_living"]["blocks"][0]["status"] == "applied"


@pytest.mark.usefixtures("loaded_entry")
async def test_blocks_applied_at_their_start(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    body = await send_schedule(hass, post_event, two_heat_blocks())
    statuses = [
        answer["status"] for answer in body["devices"]["ws_device_living"]["blocks"]
    ]
    assert statuses == ["applied", "scheduled"]
    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0})
    ]

    await move_to(hass, freezer, after(HOUR, seconds=-1))
    assert len(calls.calls) == 1

    await move_to(hass, freezer, HOUR)
    assert calls.calls[1:] == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 19.0})
    ]

    await move_to(hass, freezer, after(TWO, hours=1))
    assert len(calls.calls) == 2


@pytest.mark.usefixtures("loaded_entry")
async def test_writes_wait_for_acknowledgement(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    with patch("custom_components.wattshift.engine.REFRESH_DELAY", 0.5):
        body = await send_schedule(hass, post_event, two_heat_blocks())

    statuses = [
        block["status"] for block in body["devices"]["ws_device_living"]["blocks"]
    ]
    assert statuses == ["applied", "scheduled"]
    # The acknowledgement went out before any write started.
    assert calls.calls == []

    await move_to(hass, freezer, after(NOON, seconds=1))
    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_identical_resend_changes_nothing(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    first = await send_schedule(hass, post_event, two_heat_blocks())
    assert len(calls.calls) == 1

    with patch.object(Store, "async_delay_save") as delay_save:
        second = await send_schedule(hass, post_event, two_heat_blocks())

    delay_save.assert_not_called()
    assert len(calls.calls) == 1
    assert second == first


@pytest.mark.usefixtures("loaded_entry")
async def test_new_schedule_replaces_from_its_start(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
) -> None:
    await send_schedule(hass, post_event, two_heat_blocks())
    half_past = after(NOON, minutes=30)
    await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [block(half_past, after(HOUR, minutes=30), "HEAT", targetTemp=20)]
            )
        },
    )

    engine = loaded_entry.runtime_data.schedules
    blocks = engine.async_blocks(LIVING)
    assert [(b.start, b.end, b.temperature) for b in blocks] == [
        (NOON, half_past, 22.0),
        (half_past, after(HOUR, minutes=30), 20.0),
    ]
    # The block in force did not change at noon, so only the first write.
    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_replaced_current_block_written_now(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    await send_schedule(hass, post_event, two_heat_blocks())
    await send_schedule(hass, post_event, two_heat_blocks(first=20.5))

    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0}),
        ("set_temperature", {"entity_id": LIVING, "temperature": 20.5}),
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_past_blocks_not_replayed(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    earlier = after(NOON, hours=-2)
    body = await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [
                    block(earlier, after(NOON, hours=-1), "HEAT", targetTemp=25),
                    block(after(NOON, hours=-1), NOON, "HEAT", targetTemp=24),
                ]
            )
        },
    )

    assert calls.calls == []
    answers = body["devices"]["ws_device_living"]["blocks"]
    assert [answer["status"] for answer in answers] == ["skipped", "skipped"]
    assert answers[0]["reason"] == "The block ended before the schedule arrived."


@pytest.mark.usefixtures("loaded_entry")
async def test_unknown_device_reported(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    body = await send_schedule(
        hass,
        post_event,
        {
            "ws_device_unknown": device_schedule(
                [block(NOON, HOUR, "HEAT", targetTemp=20)]
            ),
            **two_heat_blocks(),
        },
    )

    assert body["devices"]["ws_device_unknown"] == {
        "status": "unknown_device",
        "reason": "No thermostat exposed to WattShift is linked to this id.",
    }
    assert body["devices"]["ws_device_living"]["status"] == "accepted"
    issue_ids = [
        issue_id for domain, issue_id in ir.async_get(hass).issues if domain == DOMAIN
    ]
    assert any("ws_device_unknown" in issue_id for issue_id in issue_ids)
    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_two_ids_of_one_thermostat_rejected(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    schedule = device_schedule([block(NOON, HOUR, "HEAT", targetTemp=20)])
    status, body = await post_event(
        schedule_event({"ws_device_living": schedule, LIVING: schedule})
    )

    assert status == 400
    assert body["message"] == (
        "ws_device_living and climate.living_room name the same thermostat."
    )
    assert calls.calls == []


def _valid_block(**changes: Any) -> dict[str, Any]:
    """Return a valid HEAT block with some fields changed."""
    return {**block(NOON, HOUR, "HEAT", targetTemp=20), **changes}


def _without_units(schedule: dict[str, Any]) -> dict[str, Any]:
    """Return a device schedule without tempUnits."""
    return {key: value for key, value in schedule.items() if key != "tempUnits"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "data must be an object"),
        ({"ws_device_living": []}, "must be an object"),
        (
            {"ws_device_living": _without_units(device_schedule([_valid_block()]))},
            "tempUnits is missing",
        ),
        (
            {"ws_device_living": device_schedule([_valid_block()], unit="K")},
            'tempUnits must be "F" or "C"',
        ),
        (
            {
                "ws_device_living": device_schedule(
                    [_valid_block(startDatetime="2024-08-03T12:00:00")],
                    start=NOON,
                    end=HOUR,
                )
            },
            "has no UTC offset",
        ),
        (
            {
                "ws_device_living": device_schedule(
                    [_valid_block(startDatetime="tomorrow")], start=NOON, end=HOUR
                )
            },
            "is not an ISO 8601 instant",
        ),
        (
            {
                "ws_device_living": device_schedule(
                    [_valid_block(endDatetime=iso(NOON))], start=NOON, end=HOUR
                )
            },
            "endDatetime must be after startDatetime",
        ),
        (
            {
                "ws_device_living": device_schedule(
                    [_valid_block()], start=after(NOON, minutes=15), end=HOUR
                )
            },
            "lies outside the schedule window",
        ),
        (
            {"ws_device_living": device_schedule([_valid_block(targetMode="DRY")])},
            "targetMode must be one of OFF, HEAT, COOL or AUTO",
        ),
        (
            {"ws_device_living": device_schedule([_valid_block(targetTemp="warm")])},
            "targetTemp must be a number",
        ),
        (
            {"ws_device_living": device_schedule([_valid_block(targetTemp=True)])},
            "targetTemp must be a number",
        ),
        (
            {"ws_device_living": device_schedule([_valid_block(targetTemp=250)])},
            "outside WattShift's range",
        ),
        (
            {"ws_device_living": device_schedule([_valid_block(targetTemp=None)])},
            "targetMode is HEAT but the block has no targetHeatSetpoint or targetTemp",
        ),
        (
            {
                "ws_device_living": device_schedule(
                    [
                        _valid_block(
                            targetMode="AUTO",
                            targetTemp=None,
                            targetHeatSetpoint=24,
                            targetCoolSetpoint=20,
                        )
                    ]
                )
            },
            "targetHeatSetpoint must not be above targetCoolSetpoint",
        ),
        (
            {
                "ws_device_living": device_schedule(
                    [
                        block(NOON, HOUR, "HEAT", targetTemp=20),
                        block(after(NOON, minutes=30), TWO, "HEAT", targetTemp=21),
                    ]
                )
            },
            "blocks[0] and ws_device_living.blocks[1] overlap",
        ),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_invalid_schedule_rejected(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    data: Any,
    message: str,
) -> None:
    with patch.object(Store, "async_delay_save") as delay_save:
        status, body = await post_event(schedule_event(data))
        await hass.async_block_till_done()

    assert status == 400
    assert body["error"] == "invalid_payload"
    assert message in body["message"]
    delay_save.assert_not_called()
    assert loaded_entry.runtime_data.schedules.async_blocks(LIVING) == ()
    assert calls.calls == []


@pytest.mark.usefixtures("loaded_entry")
async def test_one_bad_device_rejects_whole_delivery(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
) -> None:
    status, _ = await post_event(
        schedule_event(
            {
                **two_heat_blocks(),
                "climate.hall": device_schedule([_valid_block(targetMode="FAN")]),
            }
        )
    )
    await hass.async_block_till_done()

    assert status == 400
    assert loaded_entry.runtime_data.schedules.async_blocks(LIVING) == ()
    assert calls.calls == []


@pytest.mark.usefixtures("loaded_entry")
async def test_unavailable_thermostat_applied_when_back(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    state = hass.states.get(LIVING)
    assert state is not None
    attributes = dict(state.attributes)
    hass.states.async_set(LIVING, STATE_UNAVAILABLE)

    body = await send_schedule(hass, post_event, two_heat_blocks())
    first = body["devices"]["ws_device_living"]["blocks"][0]
    assert first["status"] == "scheduled"
    assert "unavailable" in first["reason"]
    assert calls.calls == []

    await move_to(hass, freezer, after(NOON, minutes=20))
    hass.states.async_set(LIVING, HVACMode.HEAT, attributes)
    await hass.async_block_till_done()

    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_unavailable_at_block_start_then_back(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send_schedule(hass, post_event, two_heat_blocks())
    state = hass.states.get(LIVING)
    assert state is not None
    attributes = dict(state.attributes)
    hass.states.async_set(LIVING, STATE_UNAVAILABLE)

    await move_to(hass, freezer, HOUR)
    assert len(calls.calls) == 1

    # Back after the second block ended: nothing is written for it.
    await move_to(hass, freezer, after(TWO, minutes=5))
    hass.states.async_set(LIVING, HVACMode.HEAT, attributes)
    await hass.async_block_till_done()
    assert len(calls.calls) == 1


@pytest.mark.usefixtures("loaded_entry")
async def test_failed_call_reported_not_retried(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(NOON)
    attempts: list[dict[str, Any]] = []

    async def failing(call: Any) -> None:
        attempts.append(dict(call.data))
        raise ValueError("the thermostat rejected the setpoint")

    hass.services.async_register("climate", "set_temperature", failing)
    await send_schedule(hass, post_event, two_heat_blocks())
    await move_to(hass, freezer, after(NOON, minutes=10))

    assert len(attempts) == 1
    body = await send_schedule(hass, post_event, two_heat_blocks())
    assert body["devices"]["ws_device_living"]["lastError"]
    status, query = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})
    assert status == 200
    assert query["thermostats"][LIVING]["schedule"]["lastError"]
    assert caplog.text.count("Could not apply the WattShift schedule") == 1
    assert len(attempts) == 1


@pytest.mark.usefixtures("loaded_entry")
async def test_user_change_held_until_block_end(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, "wattshift_override")
    await send_schedule(hass, post_event, two_heat_blocks())

    await move_to(hass, freezer, after(NOON, minutes=10))
    set_living(hass, temperature=25.0)
    await hass.async_block_till_done()

    assert len(events) == 1
    assert events[0].data == {
        "entity_id": LIVING,
        "wattshift_device_id": "ws_device_living",
        "until": HOUR.isoformat(),
        "scheduled": {
            "hvac_mode": "heat",
            "temperature": 22.0,
            "target_temp_low": None,
            "target_temp_high": None,
        },
        "user": {
            "hvac_mode": "heat",
            "temperature": 25.0,
            "target_temp_low": None,
            "target_temp_high": None,
        },
    }
    status, query = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})
    assert status == 200
    schedule = query["thermostats"][LIVING]["schedule"]
    assert schedule["source"] == "user"
    assert schedule["overrideUntil"] == iso(HOUR)

    # A schedule re-sent during the override does not undo it.
    await send_schedule(hass, post_event, two_heat_blocks())
    await move_to(hass, freezer, after(NOON, minutes=50))
    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0})
    ]

    await move_to(hass, freezer, HOUR)
    assert calls.calls[1:] == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 19.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_user_change_held_for_configured_time(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.config_entries.async_update_entry(
        loaded_entry, options={**loaded_entry.options, CONF_OVERRIDE_HOLD: 20}
    )
    await hass.async_block_till_done()
    await send_schedule(hass, post_event, two_heat_blocks())

    await move_to(hass, freezer, after(NOON, minutes=10))
    set_living(hass, temperature=25.0)
    await hass.async_block_till_done()

    await move_to(hass, freezer, after(NOON, minutes=29))
    assert len(calls.calls) == 1
    await move_to(hass, freezer, after(NOON, minutes=30))
    assert calls.calls[1:] == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_user_in_context_overrides_at_once(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
) -> None:
    events = async_capture_events(hass, "wattshift_override")
    await send_schedule(hass, post_event, two_heat_blocks())

    # Within the settle window, a change with a user behind it still counts.
    set_living(hass, Context(user_id="user-1"), hvac_mode=HVACMode.OFF)
    await hass.async_block_till_done()

    assert len(events) == 1
    assert events[0].data["user"]["hvac_mode"] == "off"


@pytest.mark.usefixtures("loaded_entry")
async def test_device_reports_are_not_overrides(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, "wattshift_override")
    await send_schedule(hass, post_event, two_heat_blocks())

    # Two-step report right after our write: the old value, then the new one.
    await move_to(hass, freezer, after(NOON, seconds=20))
    set_living(hass, temperature=21.0)
    await hass.async_block_till_done()
    await move_to(hass, freezer, after(NOON, seconds=70))
    set_living(hass, temperature=22.3)
    await hass.async_block_till_done()
    # Device rounding after the settle window stays within half a step.
    await move_to(hass, freezer, after(NOON, minutes=5))
    set_living(hass, temperature=22.2)
    # A report of the room temperature only changes no setpoint.
    set_living(hass, current_temperature=21.7)
    await hass.async_block_till_done()

    assert events == []
    await move_to(hass, freezer, HOUR)
    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0}),
        ("set_temperature", {"entity_id": LIVING, "temperature": 19.0}),
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_override_detection_off(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.config_entries.async_update_entry(
        loaded_entry, options={**loaded_entry.options, CONF_DETECT_OVERRIDES: False}
    )
    await hass.async_block_till_done()
    events = async_capture_events(hass, "wattshift_override")
    await send_schedule(hass, post_event, two_heat_blocks())

    await move_to(hass, freezer, after(NOON, minutes=10))
    set_living(hass, Context(user_id="user-1"), temperature=25.0)
    await hass.async_block_till_done()

    assert events == []
    status, query = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})
    assert status == 200
    assert query["thermostats"][LIVING]["schedule"]["source"] == "device"


@pytest.mark.usefixtures("loaded_entry")
async def test_option_off_acknowledges_not_handled(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send_schedule(hass, post_event, two_heat_blocks())
    hass.config_entries.async_update_entry(
        loaded_entry, options={**loaded_entry.options, CONF_APPLY_SCHEDULES: False}
    )
    await hass.async_block_till_done()

    status, body = await post_event(schedule_event(two_heat_blocks(first=18)))
    assert status == 200
    assert body == {
        "eventType": "SET_POINT_SCHEDULE",
        "handled": False,
        "reason": "Applying WattShift schedules is turned off in the integration's options.",
    }
    await move_to(hass, freezer, HOUR)
    assert len(calls.calls) == 1

    # Turned on again, the block in force is written at once.
    hass.config_entries.async_update_entry(
        loaded_entry, options={**loaded_entry.options, CONF_APPLY_SCHEDULES: True}
    )
    await hass.async_block_till_done()
    assert calls.calls[1:] == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 19.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_restart_in_block_applies_it_again(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    three = after(NOON, hours=3)
    await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [
                    block(NOON, HOUR, "HEAT", targetTemp=22),
                    block(HOUR, TWO, "HEAT", targetTemp=19),
                    block(TWO, three, "HEAT", targetTemp=20),
                ]
            )
        },
    )
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.schedules.{loaded_entry.entry_id}"]
    assert len(stored["data"]["thermostats"][LIVING]["blocks"]) == 3

    # While Home Assistant was stopped, the second block began and someone
    # set the thermostat to 23 °C at the device.
    freezer.move_to(after(HOUR, minutes=30))
    set_living(hass, temperature=23.0)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()

    assert calls.calls == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0}),
        ("set_temperature", {"entity_id": LIVING, "temperature": 19.0}),
    ]
    await move_to(hass, freezer, TWO)
    assert calls.calls[2:] == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 20.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_restart_keeps_override(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send_schedule(hass, post_event, two_heat_blocks())
    await move_to(hass, freezer, after(NOON, minutes=10))
    set_living(hass, temperature=25.0)
    await hass.async_block_till_done()

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()

    assert len(calls.calls) == 1
    await move_to(hass, freezer, HOUR)
    assert calls.calls[1:] == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 19.0})
    ]


async def test_blocks_wait_for_home_assistant_start(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
) -> None:
    await send_schedule(hass, post_event, two_heat_blocks())
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    set_living(hass, temperature=17.0)

    # Set up during startup, the entry waits for Home Assistant to start.
    hass.set_state(CoreState.starting)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert len(calls.calls) == 1

    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert calls.calls[1:] == [
        ("set_temperature", {"entity_id": LIVING, "temperature": 22.0})
    ]


@pytest.mark.usefixtures("loaded_entry")
async def test_removed_entry_deletes_store(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    hass_storage: dict[str, Any],
) -> None:
    await send_schedule(hass, post_event, two_heat_blocks())
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    key = f"{DOMAIN}.schedules.{loaded_entry.entry_id}"
    assert key in hass_storage

    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()

    assert key not in hass_storage


@pytest.mark.usefixtures("loaded_entry")
async def test_query_record_has_schedule(
    hass: HomeAssistant, post_event: WebhookPoster, calls: ClimateCalls
) -> None:
    await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [
                    block(NOON, HOUR, "HEAT", targetTemp="70"),
                    block(
                        HOUR, TWO, "AUTO", targetHeatSetpoint=66, targetCoolSetpoint=76
                    ),
                ],
                unit="F",
            )
        },
    )

    status, body = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})

    assert status == 200
    assert body["thermostats"][LIVING]["schedule"] == {
        "enabled": True,
        "following": True,
        "block": {
            "startDatetime": iso(NOON),
            "endDatetime": iso(HOUR),
            "targetMode": "HEAT",
            "targetTemp": 70.0,
            "targetHeatSetpoint": None,
            "targetCoolSetpoint": None,
            "tempUnits": "F",
        },
        "nextBlock": {
            "startDatetime": iso(HOUR),
            "endDatetime": iso(TWO),
            "targetMode": "AUTO",
            "targetTemp": None,
            "targetHeatSetpoint": 66.0,
            "targetCoolSetpoint": 76.0,
            "tempUnits": "F",
        },
        "source": "wattshift",
        "overrideUntil": None,
        "lastError": None,
    }
    assert body["thermostats"]["climate.bedroom"]["schedule"]["block"] is None
    assert body["thermostats"]["climate.bedroom"]["schedule"]["source"] is None


@pytest.mark.usefixtures("loaded_entry")
async def test_query_schedule_moves_with_blocks(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    calls: ClimateCalls,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send_schedule(
        hass,
        post_event,
        {
            "ws_device_living": device_schedule(
                [
                    block(NOON, HOUR, "HEAT", targetTemp=20),
                    block(HOUR, TWO, "HEAT", targetTemp=18),
                ]
            )
        },
    )
    hass.states.async_remove("climate.bedroom")
    _, before = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})

    # Only the clock moves: no thermostat state changes at the boundary.
    calls.follow = False
    await move_to(hass, freezer, HOUR + timedelta(minutes=1))
    _, after = await post_event({"eventType": "THERMOSTAT_QUERY", "data": {}})

    assert before["thermostats"][LIVING]["schedule"]["block"]["targetTemp"] == 20.0
    assert after["thermostats"][LIVING]["schedule"]["block"]["targetTemp"] == 18.0
    assert after["thermostats"][LIVING]["schedule"]["nextBlock"] is None


@pytest.mark.usefixtures("loaded_entry")
async def test_error_cleared_by_next_write(
    hass: HomeAssistant,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(NOON)
    failures = [HomeAssistantError("The thermostat is offline")]

    async def set_temperature(call: Any) -> None:
        if failures:
            raise failures.pop()

    hass.services.async_register("climate", "set_temperature", set_temperature)
    await send_schedule(hass, post_event, two_heat_blocks())
    sensor = hass.states.get("sensor.living_room_wattshift_target")
    assert sensor is not None
    assert sensor.attributes["last_error"] == "The thermostat is offline"

    await move_to(hass, freezer, HOUR)

    sensor = hass.states.get("sensor.living_room_wattshift_target")
    assert sensor is not None
    assert sensor.attributes["last_error"] is None
    assert "Applied the WattShift schedule to climate.living_room again" in caplog.text


async def test_store_removal_failure_logged(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with patch(
        "homeassistant.helpers.storage.Store.async_remove",
        side_effect=PermissionError("read-only file system"),
    ):
        await hass.config_entries.async_remove(loaded_entry.entry_id)
        await hass.async_block_till_done()

    assert hass.config_entries.async_get_entry(loaded_entry.entry_id) is None
    assert "Could not delete the stored schedules" in caplog.text
    assert "read-only file system" in caplog.text
