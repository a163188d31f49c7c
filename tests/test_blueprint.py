"""Tests for the price peak comfort blueprint, run by Home Assistant itself."""

from __future__ import annotations

from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import WebhookPoster
from .prices import DAY, HOUR, entity, move_to, signal

BLUEPRINT = "wattshift/price_peak_comfort.yaml"
SOURCE = Path(__file__).parent.parent / "blueprints" / "automation" / BLUEPRINT
THERMOSTAT = "climate.living_room_heat_pump"
PEAK = entity("binary_sensor", "price_peak")
NEXT_PEAK = entity("sensor", "next_price_peak")


@pytest.fixture
def blueprint_folder(hass: HomeAssistant, tmp_path: Path) -> None:
    """Give Home Assistant a configuration folder with the blueprint in it."""
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / BLUEPRINT
    target.parent.mkdir(parents=True)
    shutil.copy(SOURCE, target)


def target_temperature(hass: HomeAssistant) -> float:
    """Return the thermostat's target temperature."""
    state = hass.states.get(THERMOSTAT)
    assert state is not None
    return float(state.attributes["temperature"])


async def set_up_thermostat(hass: HomeAssistant, *, cooling: bool) -> None:
    """Create a real generic thermostat driven by an input boolean."""
    # The thermostat switches its heater through homeassistant.turn_on.
    assert await async_setup_component(hass, "homeassistant", {})
    hass.states.async_set("sensor.living_room_temperature", "21", {})
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"heat_pump": None}}
    )
    assert await async_setup_component(
        hass,
        "climate",
        {
            "climate": {
                "platform": "generic_thermostat",
                "name": "Living room heat pump",
                "heater": "input_boolean.heat_pump",
                "target_sensor": "sensor.living_room_temperature",
                "ac_mode": cooling,
                "initial_hvac_mode": "cool" if cooling else "heat",
                "target_temp": 22,
            }
        },
    )
    await hass.async_block_till_done()


@pytest.mark.usefixtures("blueprint_folder")
async def test_blueprint_loads(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "automation", {})

    blueprint = await async_get_blueprints(hass).async_get_blueprint(BLUEPRINT)

    assert blueprint.domain == "automation"
    assert blueprint.validate() is None
    assert set(blueprint.inputs) == {
        "peak_sensor",
        "next_peak_sensor",
        "climate_entity",
        "hvac_direction",
        "comfort_temperature",
        "preconditioning_offset",
        "peak_offset",
        "lead_time",
    }


@pytest.mark.usefixtures("blueprint_folder")
@pytest.mark.parametrize(
    ("direction", "comfort", "expected"),
    [("heat", 20.0, (21.5, 18.0, 20.0)), ("cool", 24.0, (22.5, 26.0, 24.0))],
)
async def test_blueprint_follows_peak(
    hass: HomeAssistant,
    price_entry: MockConfigEntry,
    post_event: WebhookPoster,
    freezer: FrozenDateTimeFactory,
    direction: str,
    comfort: float,
    expected: tuple[float, float, float],
) -> None:
    freezer.move_to(DAY)
    # A day at 0.1 with a peak at 0.5 from 03:00 to 05:00.
    prices = [0.1] * 3 + [0.5] * 2 + [0.1] * 19
    await post_event(signal(DAY, prices, step=HOUR))
    await set_up_thermostat(hass, cooling=direction == "cool")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "price_peak_comfort",
                "alias": "Price peak comfort",
                "use_blueprint": {
                    "path": BLUEPRINT,
                    "input": {
                        "peak_sensor": PEAK,
                        "next_peak_sensor": NEXT_PEAK,
                        "climate_entity": THERMOSTAT,
                        "hvac_direction": direction,
                        "comfort_temperature": comfort,
                        "preconditioning_offset": 1.5,
                        "peak_offset": 2,
                        "lead_time": 60,
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    automation = hass.states.get("automation.price_peak_comfort")
    assert automation is not None
    assert automation.state == STATE_ON
    prepared, relaxed, restored = expected

    await move_to(hass, freezer, DAY + HOUR + HOUR / 2)
    assert target_temperature(hass) == 22.0

    await move_to(hass, freezer, DAY + 2 * HOUR)
    assert target_temperature(hass) == prepared

    await move_to(hass, freezer, DAY + 3 * HOUR)
    assert hass.states.get(PEAK).state == STATE_ON
    assert target_temperature(hass) == relaxed

    await move_to(hass, freezer, DAY + 4 * HOUR + HOUR / 2)
    assert target_temperature(hass) == relaxed

    await move_to(hass, freezer, DAY + 5 * HOUR)
    assert target_temperature(hass) == restored
