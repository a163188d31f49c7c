"""Run a real Home Assistant with thermostats, the WattShift entry and a baseline webhook.

Home Assistant runs in this process with its `http` and `webhook`
components on 127.0.0.1. The thermostats are `generic_thermostat` climate
entities, each driven by an `input_boolean` switch and an `input_number`
temperature. The WattShift entry registers its webhook with the local
simulator, and the baseline webhook returns a fixed body through the same
HTTP stack, routing and webhook dispatch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
import logging
import secrets
import socket
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web
from aiohttp.hdrs import METH_POST
from homeassistant import bootstrap, loader
from homeassistant.components import webhook
from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntries,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component

from custom_components.wattshift.config_flow import WattShiftConfigFlow
from custom_components.wattshift.const import (
    CONF_BASE_URL,
    CONF_DEVICE_LINKS,
    CONF_SECURITY_KEY,
    CONF_THERMOSTATS,
    DOMAIN,
)
from simulator import EventType, WattShiftSimulator

_LOGGER = logging.getLogger(__name__)

API_KEY: Final = "bench-api-key"
ORG_ID: Final = "org_bench"
# Registered with the simulator only; no request ever goes to this host.
EXTERNAL_URL: Final = "https://home.example.com"
BASELINE_BODY: Final = b'{"handled":true}'
SECURITY_KEY_HEADER: Final = "x-ws-security-key"


@dataclass(frozen=True, slots=True)
class BenchThermostat:
    """One generic_thermostat climate entity of the bench home."""

    entity_id: str
    ref: str
    """Entity registry id, the form the entry's options store."""
    cooling: bool
    """True for an air conditioner (ac_mode), False for a heater."""


def wattshift_device_id(index: int) -> str:
    """Return the WattShift device id the bench links to thermostat `index`."""
    return f"ws_device_{index:03d}"


def _free_port() -> int:
    """Return a TCP port of 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _thermostat_config(count: int) -> dict[str, Any]:
    """Return the YAML-equivalent configuration of `count` thermostats.

    Every fourth thermostat cools, and room temperatures differ per
    thermostat, so the records are not all alike.
    """
    switches: dict[str, Any] = {}
    temperatures: dict[str, Any] = {}
    climates: list[dict[str, Any]] = []
    for index in range(count):
        name = f"{index:03d}"
        cooling = index % 4 == 3
        switches[f"bench_switch_{name}"] = {"name": f"Bench switch {name}"}
        temperatures[f"bench_temperature_{name}"] = {
            "name": f"Bench temperature {name}",
            "min": 0,
            "max": 40,
            "step": 0.1,
            "mode": "box",
            "initial": (24.0 if cooling else 19.0) + (index % 20) / 10,
        }
        climates.append(
            {
                "platform": "generic_thermostat",
                "name": f"Bench thermostat {name}",
                "unique_id": f"bench_thermostat_{name}",
                "heater": f"input_boolean.bench_switch_{name}",
                "target_sensor": f"input_number.bench_temperature_{name}",
                "ac_mode": cooling,
                "initial_hvac_mode": "cool" if cooling else "heat",
                "target_temp": 25.0 if cooling else 20.0,
                "min_temp": 7.0,
                "max_temp": 32.0,
            }
        )
    return {
        "input_boolean": switches,
        "input_number": temperatures,
        "climate": climates,
    }


async def _baseline_handler(
    hass: HomeAssistant, webhook_id: str, request: web.Request
) -> web.Response:
    """Respond to every delivery with the same small JSON body."""
    return web.Response(
        body=BASELINE_BODY, status=HTTPStatus.OK, content_type="application/json"
    )


class BenchHome:
    """A running Home Assistant with the WattShift entry and the baseline webhook."""

    def __init__(
        self,
        hass: HomeAssistant,
        simulator: WattShiftSimulator,
        port: int,
        thermostats: list[BenchThermostat],
    ) -> None:
        """Wrap a started Home Assistant; use BenchHome.start to create one."""
        self.hass = hass
        self.simulator = simulator
        self.thermostats = thermostats
        self.webhook_id = secrets.token_hex(32)
        self.baseline_webhook_id = secrets.token_hex(32)
        self.security_key = secrets.token_urlsafe(32)
        self._origin = f"http://127.0.0.1:{port}"
        self._entry: ConfigEntry | None = None

    @property
    def ours_url(self) -> str:
        """Local URL of the WattShift webhook."""
        return f"{self._origin}/api/webhook/{self.webhook_id}"

    @property
    def baseline_url(self) -> str:
        """Local URL of the baseline webhook."""
        return f"{self._origin}/api/webhook/{self.baseline_webhook_id}"

    @property
    def entry(self) -> ConfigEntry:
        """The WattShift config entry."""
        if self._entry is None:
            raise RuntimeError("the WattShift entry is not set up yet")
        return self._entry

    @classmethod
    async def start(cls, config_dir: str, thermostat_count: int) -> BenchHome:
        """Start Home Assistant, the simulator, the thermostats and both webhooks."""
        simulator = WattShiftSimulator(api_keys={API_KEY: ORG_ID})
        await simulator.start(host="127.0.0.1", port=0)

        hass = HomeAssistant(config_dir)
        hass.config.skip_pip = True
        loader.async_setup(hass)
        hass.config_entries = ConfigEntries(hass, {})
        await loader.async_get_custom_components(hass)
        await bootstrap.async_load_base_functionality(hass)
        await _setup(hass, "homeassistant", {})
        await async_process_ha_core_config(
            hass,
            {
                "name": "Bench home",
                "unit_system": "metric",
                "time_zone": "UTC",
                "external_url": EXTERNAL_URL,
            },
        )

        port = _free_port()
        await _setup(
            hass, "http", {"http": {"server_host": ["127.0.0.1"], "server_port": port}}
        )
        await _setup(hass, "webhook", {})
        config = _thermostat_config(thermostat_count)
        for domain in ("input_boolean", "input_number", "climate"):
            await _setup(hass, domain, config)
        await hass.async_block_till_done()

        home = cls(
            hass, simulator, port, _registered_thermostats(hass, thermostat_count)
        )
        webhook.async_register(
            hass,
            "bench",
            "Baseline",
            home.baseline_webhook_id,
            _baseline_handler,
            allowed_methods=[METH_POST],
        )
        await home._async_add_entry()
        # The start event makes the http component start listening.
        await hass.async_start()
        await hass.async_block_till_done()
        return home

    async def _async_add_entry(self) -> None:
        """Add and set up the WattShift entry with no thermostat exposed."""
        entry = ConfigEntry(
            data={
                CONF_API_KEY: API_KEY,
                CONF_BASE_URL: self.simulator.base_url,
                CONF_WEBHOOK_ID: self.webhook_id,
                CONF_SECURITY_KEY: self.security_key,
            },
            discovery_keys=MappingProxyType({}),
            domain=DOMAIN,
            minor_version=WattShiftConfigFlow.MINOR_VERSION,
            options={CONF_THERMOSTATS: [], CONF_DEVICE_LINKS: {}},
            source=SOURCE_USER,
            subentries_data=None,
            title="WattShift",
            unique_id=ORG_ID,
            version=WattShiftConfigFlow.VERSION,
        )
        await self.hass.config_entries.async_add(entry)
        await self.hass.async_block_till_done()
        if entry.state is not ConfigEntryState.LOADED:
            raise RuntimeError(f"the WattShift entry did not load: {entry.state}")
        if (ORG_ID, EventType.THERMOSTAT_QUERY) not in self.simulator.registrations:
            raise RuntimeError("the WattShift entry did not register its webhook")
        self._entry = entry

    async def expose(self, count: int, *, linked: bool = False) -> None:
        """Expose the first `count` thermostats, with device links if `linked`."""
        if count > len(self.thermostats):
            raise ValueError(
                f"the home has {len(self.thermostats)} thermostats, not {count}"
            )
        chosen = self.thermostats[:count]
        links: Mapping[str, str] = (
            {
                thermostat.ref: wattshift_device_id(index)
                for index, thermostat in enumerate(chosen)
            }
            if linked
            else {}
        )
        self.hass.config_entries.async_update_entry(
            self.entry,
            options={
                **self.entry.options,
                CONF_THERMOSTATS: [thermostat.ref for thermostat in chosen],
                CONF_DEVICE_LINKS: dict(links),
            },
        )
        await self.hass.async_block_till_done()

    async def stop(self) -> None:
        """Stop Home Assistant and then the simulator."""
        await self.hass.async_stop()
        await self.simulator.stop()


async def _setup(hass: HomeAssistant, domain: str, config: dict[str, Any]) -> None:
    """Set up one component and raise if it fails."""
    if not await async_setup_component(hass, domain, config):
        raise RuntimeError(f"Home Assistant failed to set up {domain}")


def _registered_thermostats(hass: HomeAssistant, count: int) -> list[BenchThermostat]:
    """Find each thermostat's registry entry and check that its state exists."""
    registry = er.async_get(hass)
    thermostats: list[BenchThermostat] = []
    for index in range(count):
        entity_id = registry.async_get_entity_id(
            "climate", "generic_thermostat", f"bench_thermostat_{index:03d}"
        )
        if entity_id is None or hass.states.get(entity_id) is None:
            raise RuntimeError(f"thermostat {index} did not start")
        entry = registry.async_get(entity_id)
        assert entry is not None
        thermostats.append(
            BenchThermostat(entity_id=entity_id, ref=entry.id, cooling=index % 4 == 3)
        )
    return thermostats
