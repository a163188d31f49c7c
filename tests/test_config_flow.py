"""Tests for the config, reauthentication, reconfiguration and options flows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.components import webhook
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattshift.const import (
    CONF_APPLY_SCHEDULES,
    CONF_BASE_URL,
    CONF_DETECT_OVERRIDES,
    CONF_DEVICE_LINKS,
    CONF_OPEN_ADR,
    CONF_OVERRIDE_HOLD,
    CONF_PRICE_PEAK_THRESHOLD,
    CONF_PRICE_SIGNALS,
    CONF_SECURITY_KEY,
    CONF_THERMOSTATS,
    DOMAIN,
    SECTION_ADVANCED,
)
from simulator import WattShiftSimulator

from .conftest import (
    API_KEY,
    EXTERNAL_URL,
    ORG_ID,
    OTHER_API_KEY,
    SECURITY_KEY,
    WEBHOOK_ID,
)

CLOUDHOOK_URL = "https://hooks.nabu.casa/cloudhook-id"


@pytest.fixture
def no_setup() -> Iterator[AsyncMock]:
    """Keep the created entry from being set up, so only the flow runs."""
    with patch(
        "custom_components.wattshift.async_setup_entry", return_value=True
    ) as setup:
        yield setup


def user_input(simulator: WattShiftSimulator, api_key: str = API_KEY) -> dict[str, Any]:
    """Return the first form's input pointing at the simulator."""
    return {
        CONF_API_KEY: api_key,
        SECTION_ADVANCED: {CONF_BASE_URL: simulator.base_url},
    }


async def start_flow(hass: HomeAssistant) -> dict[str, Any]:
    """Open the config flow and check its first form."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return dict(result)


@pytest.mark.usefixtures("external_url", "thermostat_states", "no_setup")
async def test_full_flow_creates_entry(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    result = await start_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "thermostats"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_THERMOSTATS: ["climate.living_room", "climate.hall"]}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "WattShift"
    entry = result["result"]
    assert entry.unique_id == ORG_ID
    data = entry.data
    assert data[CONF_API_KEY] == API_KEY
    assert data[CONF_BASE_URL] == simulator.base_url
    assert len(data[CONF_WEBHOOK_ID]) == 64
    # 32 random bytes in URL-safe base64 are 43 characters.
    assert len(data[CONF_SECURITY_KEY]) >= 43
    assert entry.options == {
        CONF_THERMOSTATS: ["climate.living_room", "climate.hall"],
        CONF_DEVICE_LINKS: {},
    }

    registration = simulator.registrations[(ORG_ID, "THERMOSTAT_QUERY")]
    assert registration.webhook_url == (
        f"{EXTERNAL_URL}/api/webhook/{data[CONF_WEBHOOK_ID]}"
    )
    assert registration.security_key == data[CONF_SECURITY_KEY]
    assert all(request.valid for request in simulator.requests)


@pytest.mark.usefixtures("external_url", "no_setup")
async def test_thermostats_stored_by_registry_id(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    registry_entry = er.async_get(hass).async_get_or_create(
        "climate", "demo", "den", suggested_object_id="den"
    )
    result = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_THERMOSTATS: ["climate.den"]}
    )

    assert result["options"][CONF_THERMOSTATS] == [registry_entry.id]


@pytest.mark.usefixtures("external_url", "no_setup")
async def test_no_thermostat_chosen(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    result = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_THERMOSTATS: []}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_THERMOSTATS: "no_thermostats"}


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ({"status": 401}, "invalid_auth"),
        ({"status": 403, "error_code": "FORBIDDEN"}, "invalid_auth"),
        ({"status": 500}, "cannot_connect"),
        ({"status": 429, "retry_after_seconds": 30}, "cannot_connect"),
    ],
)
@pytest.mark.usefixtures("external_url", "no_setup")
async def test_registration_errors_recover(
    hass: HomeAssistant,
    simulator: WattShiftSimulator,
    failure: dict[str, Any],
    error: str,
) -> None:
    result = await start_flow(hass)
    simulator.fail_next(**failure)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["step_id"] == "thermostats"


@pytest.mark.usefixtures("external_url", "no_setup")
async def test_wrong_key_then_right_key(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    result = await start_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator, api_key="not-a-key")
    )
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )
    assert result["step_id"] == "thermostats"


@pytest.mark.usefixtures("external_url", "no_setup", "socket_enabled")
async def test_unreachable_wattshift(hass: HomeAssistant) -> None:
    result = await start_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: API_KEY,
            SECTION_ADVANCED: {CONF_BASE_URL: "http://127.0.0.1:9"},
        },
    )

    assert result["errors"] == {"base": "cannot_connect"}


@pytest.mark.usefixtures("external_url", "no_setup")
async def test_unexpected_error(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    result = await start_flow(hass)

    with patch(
        "custom_components.wattshift.config_flow.WattShiftClient.set_thermostat_behavior_webhook",
        side_effect=RuntimeError("bug"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator)
        )

    assert result["errors"] == {"base": "unknown"}


@pytest.mark.parametrize(
    "base_url",
    ["api.wattshift.com", "ftp://api.wattshift.com", "https://", "http://[::1"],
)
@pytest.mark.usefixtures("external_url", "no_setup")
async def test_invalid_base_url(
    hass: HomeAssistant, simulator: WattShiftSimulator, base_url: str
) -> None:
    result = await start_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_KEY: API_KEY, SECTION_ADVANCED: {CONF_BASE_URL: base_url}},
    )

    assert result["errors"] == {"base": "invalid_base_url"}
    assert simulator.requests == []


@pytest.mark.usefixtures("no_setup")
async def test_no_url_tells_what_to_set_up(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    result = await start_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )

    assert result["errors"] == {"base": "no_url"}
    assert simulator.requests == []


@pytest.mark.usefixtures("no_setup")
async def test_cloud_subscribed_but_disconnected(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    hass.config.components.add("cloud")
    result = await start_flow(hass)

    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=True,
        ),
        patch("homeassistant.components.cloud.async_is_connected", return_value=False),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator)
        )

    assert result["errors"] == {"base": "cloud_not_connected"}


@pytest.mark.usefixtures("external_url", "no_setup")
async def test_cloudhook_preferred(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    hass.config.components.add("cloud")
    result = await start_flow(hass)

    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=True,
        ),
        patch("homeassistant.components.cloud.async_is_connected", return_value=True),
        patch(
            "homeassistant.components.cloud.async_get_or_create_cloudhook",
            return_value=CLOUDHOOK_URL,
        ),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator)
        )

    assert result["step_id"] == "thermostats"
    registration = simulator.registrations[(ORG_ID, "THERMOSTAT_QUERY")]
    assert registration.webhook_url == CLOUDHOOK_URL


@pytest.mark.usefixtures("external_url", "no_setup")
async def test_same_key_aborts_before_registering(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    MockConfigEntry(
        domain=DOMAIN, unique_id=ORG_ID, data={CONF_API_KEY: API_KEY}
    ).add_to_hass(hass)
    result = await start_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator)
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert simulator.requests == []


@pytest.mark.usefixtures("thermostat_states")
async def test_other_key_of_same_org_restores_existing_entry(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
) -> None:
    simulator.add_api_key("second-key-of-same-org", ORG_ID)
    result = await start_flow(hass)

    with patch("homeassistant.components.cloud.async_delete_cloudhook") as delete:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator, api_key="second-key-of-same-org")
        )
        await hass.async_block_till_done(wait_background_tasks=True)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    delete.assert_not_called()
    registration = simulator.registrations[(ORG_ID, "THERMOSTAT_QUERY")]
    assert registration.webhook_url == f"{EXTERNAL_URL}/api/webhook/{WEBHOOK_ID}"
    assert registration.security_key == SECURITY_KEY
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_duplicate_org_deletes_flow_cloudhook(
    hass: HomeAssistant, simulator: WattShiftSimulator
) -> None:
    simulator.add_api_key("second-key-of-same-org", ORG_ID)
    MockConfigEntry(
        domain=DOMAIN, unique_id=ORG_ID, data={CONF_API_KEY: API_KEY}
    ).add_to_hass(hass)
    hass.config.components.add("cloud")
    result = await start_flow(hass)

    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=True,
        ),
        patch("homeassistant.components.cloud.async_is_connected", return_value=True),
        patch(
            "homeassistant.components.cloud.async_get_or_create_cloudhook",
            return_value=CLOUDHOOK_URL,
        ) as create,
        patch("homeassistant.components.cloud.async_delete_cloudhook") as delete,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator, api_key="second-key-of-same-org")
        )

    assert result["reason"] == "already_configured"
    webhook_id = create.call_args.args[1]
    delete.assert_awaited_once_with(hass, webhook_id)


async def test_reauth_accepts_new_key(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    simulator.add_api_key("fresh-key", ORG_ID)
    simulator.revoke_api_key(API_KEY)
    runtime = loaded_entry.runtime_data

    result = await loaded_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["title"] == "WattShift"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "bad-key"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "fresh-key"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert loaded_entry.data[CONF_API_KEY] == "fresh-key"
    # The entry applied the key in place: same runtime data, no reload.
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert loaded_entry.runtime_data is runtime
    assert runtime.credentials[0] == "fresh-key"
    assert simulator.requests[-1].status == 200
    assert list(hass.data[webhook.DOMAIN]) == [WEBHOOK_ID]


async def test_reauth_rejects_other_organisation(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    result = await loaded_entry.start_reauth_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: OTHER_API_KEY}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert loaded_entry.data[CONF_API_KEY] == API_KEY


@pytest.mark.usefixtures("external_url", "thermostat_states")
async def test_reauth_reloads_entry_that_failed_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    simulator.revoke_api_key(API_KEY)
    simulator.add_api_key("fresh-key", ORG_ID)
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: "fresh-key"}
    )
    await hass.async_block_till_done()

    assert result["reason"] == "reauth_successful"
    assert config_entry.state is ConfigEntryState.LOADED
    assert list(hass.data[webhook.DOMAIN]) == [WEBHOOK_ID]


async def test_reconfigure_changes_key_and_base_url(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    simulator.add_api_key("another-key", ORG_ID)
    second = WattShiftSimulator(api_keys={"another-key": ORG_ID})
    await second.start()
    try:
        result = await loaded_entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure"

        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_API_KEY: "another-key",
                SECTION_ADVANCED: {CONF_BASE_URL: f"{second.base_url}/"},
            },
        )
        await hass.async_block_till_done(wait_background_tasks=True)

        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert loaded_entry.data[CONF_API_KEY] == "another-key"
        assert loaded_entry.data[CONF_BASE_URL] == second.base_url
        assert loaded_entry.data[CONF_WEBHOOK_ID] == WEBHOOK_ID
        assert (ORG_ID, "THERMOSTAT_QUERY") in second.registrations
        assert loaded_entry.runtime_data.client.base_url == second.base_url
    finally:
        await second.stop()


@pytest.mark.parametrize(
    ("entered", "error"),
    [
        ({CONF_API_KEY: "bad-key"}, "invalid_auth"),
        (
            {CONF_API_KEY: API_KEY, SECTION_ADVANCED: {CONF_BASE_URL: "not a url"}},
            "invalid_base_url",
        ),
    ],
)
async def test_reconfigure_errors(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator: WattShiftSimulator,
    entered: dict[str, Any],
    error: str,
) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    entered = {SECTION_ADVANCED: {CONF_BASE_URL: simulator.base_url}, **entered}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], entered)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


async def test_reconfigure_rejects_other_organisation(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator: WattShiftSimulator
) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator, api_key=OTHER_API_KEY)
    )

    assert result["reason"] == "wrong_account"
    assert loaded_entry.data[CONF_API_KEY] == API_KEY


async def test_options_change_thermostats_and_links(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    runtime = loaded_entry.runtime_data
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["step_id"] == "init"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_THERMOSTATS: ["climate.bedroom", "climate.hall"],
            CONF_APPLY_SCHEDULES: False,
            CONF_DETECT_OVERRIDES: False,
            CONF_OVERRIDE_HOLD: 60,
            CONF_PRICE_SIGNALS: True,
            CONF_OPEN_ADR: True,
            CONF_PRICE_PEAK_THRESHOLD: 0.3,
        },
    )
    assert result["step_id"] == "devices"
    assert result["description_placeholders"]["thermostats"] == (
        "- climate.bedroom: Bedroom\n- climate.hall: Hall"
    )

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"climate.bedroom": " ws_device_bed ", "climate.hall": ""}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == {
        CONF_THERMOSTATS: ["climate.bedroom", "climate.hall"],
        CONF_DEVICE_LINKS: {"climate.bedroom": "ws_device_bed"},
        CONF_APPLY_SCHEDULES: False,
        CONF_DETECT_OVERRIDES: False,
        CONF_OVERRIDE_HOLD: 60,
        CONF_PRICE_SIGNALS: True,
        CONF_OPEN_ADR: True,
        CONF_PRICE_PEAK_THRESHOLD: 0.3,
    }
    assert loaded_entry.runtime_data is runtime
    directory = runtime.thermostats
    assert [t.entity_id for t in directory.thermostats] == [
        "climate.bedroom",
        "climate.hall",
    ]
    bedroom = directory.find("ws_device_bed")
    assert bedroom is not None
    assert bedroom.entity_id == "climate.bedroom"


async def test_options_clear_threshold_and_need_a_thermostat(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        loaded_entry,
        options={**loaded_entry.options, CONF_PRICE_PEAK_THRESHOLD: 0.25},
    )
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    base = {
        CONF_APPLY_SCHEDULES: True,
        CONF_DETECT_OVERRIDES: True,
        CONF_OVERRIDE_HOLD: 0,
        CONF_PRICE_SIGNALS: False,
        CONF_OPEN_ADR: False,
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, CONF_THERMOSTATS: []}
    )
    assert result["errors"] == {CONF_THERMOSTATS: "no_thermostats"}

    # A thermostat without a state is listed by its entity id alone.
    hass.states.async_remove("climate.hall")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, CONF_THERMOSTATS: ["climate.hall"]}
    )
    assert result["description_placeholders"]["thermostats"] == (
        "- climate.hall: climate.hall"
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_PRICE_PEAK_THRESHOLD not in loaded_entry.options
    assert loaded_entry.options[CONF_DEVICE_LINKS] == {}


@pytest.mark.parametrize(
    ("links", "errors"),
    [
        ({"climate.bedroom": "device_1"}, {"climate.bedroom": "invalid_device_id"}),
        (
            {"climate.bedroom": "ws_device_1", "climate.hall": "ws_device_1"},
            {"climate.hall": "duplicate_device_id"},
        ),
    ],
)
async def test_options_reject_bad_device_links(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    links: dict[str, str],
    errors: dict[str, str],
) -> None:
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_THERMOSTATS: ["climate.bedroom", "climate.hall"],
            CONF_APPLY_SCHEDULES: True,
            CONF_DETECT_OVERRIDES: True,
            CONF_OVERRIDE_HOLD: 0,
            CONF_PRICE_SIGNALS: False,
            CONF_OPEN_ADR: False,
        },
    )

    result = await hass.config_entries.options.async_configure(result["flow_id"], links)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"climate.bedroom": "ws_device_1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("finish", [False, True], ids=["abandoned", "finished"])
@pytest.mark.usefixtures("external_url", "no_setup")
async def test_abandoned_flow_deletes_its_cloudhook(
    hass: HomeAssistant, simulator: WattShiftSimulator, finish: bool
) -> None:
    hass.config.components.add("cloud")
    result = await start_flow(hass)
    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=True,
        ),
        patch("homeassistant.components.cloud.async_is_connected", return_value=True),
        patch(
            "homeassistant.components.cloud.async_get_or_create_cloudhook",
            return_value=CLOUDHOOK_URL,
        ) as create,
        patch("homeassistant.components.cloud.async_delete_cloudhook") as delete,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(simulator)
        )
        if finish:
            await hass.config_entries.flow.async_configure(
                result["flow_id"], {CONF_THERMOSTATS: ["climate.hall"]}
            )
        else:
            hass.config_entries.flow.async_abort(result["flow_id"])
        await hass.async_block_till_done()

    webhook_id = create.call_args.args[1]
    if finish:
        delete.assert_not_called()
    else:
        delete.assert_awaited_once_with(hass, webhook_id)
