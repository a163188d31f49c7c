"""Write the temporary Home Assistant configuration directory of the demo."""

from __future__ import annotations

import json
from pathlib import Path
import shutil
from typing import Final

REPOSITORY_ROOT: Final = Path(__file__).resolve().parents[2]
# The thermostat package that scripts/develop loads too.
THERMOSTAT_PACKAGE: Final = REPOSITORY_ROOT / "config" / "thermostats.yaml"
CUSTOM_COMPONENTS: Final = REPOSITORY_ROOT / "custom_components"

# Home Assistant's onboarding store (format version 4 in 2025.4 and 2026.2).
# Finishing the core_config step over HTTP sets up met, radio_browser and
# google_translate, which call servers on the internet, so the stack marks
# that step done beforehand. The owner, analytics and integration steps still
# go through the onboarding API, and the last of them completes onboarding.
_ONBOARDING_STORE: Final = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config"]},
}

# Only what the demo needs next to the integrations Home Assistant always
# loads: the HTTP server on loopback, the onboarding and config entry APIs,
# the webhook receiver and the thermostat package.
_CONFIGURATION: Final = """\
homeassistant:
  name: WattShift demo
  unit_system: metric
  time_zone: UTC
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  country: NL
  currency: EUR
  language: en
  external_url: "{url}"
  internal_url: "{url}"
  packages:
    thermostats: !include thermostats.yaml

http:
  server_host: 127.0.0.1
  server_port: {port}

api:
config:
onboarding:
webhook:

logger:
  default: warning
  logs:
    custom_components.wattshift: debug
"""


def write_config_dir(config_dir: Path, port: int) -> str:
    """Fill config_dir for a hass on 127.0.0.1:port and return its URL.

    The external URL is the same loopback URL, so the integration registers a
    webhook URL that the simulator on this machine can reach. The onboarding
    store marks the core_config step done; see _ONBOARDING_STORE.
    """
    url = f"http://127.0.0.1:{port}"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        _CONFIGURATION.format(url=url, port=port), encoding="utf-8"
    )
    storage_dir = config_dir / ".storage"
    storage_dir.mkdir(exist_ok=True)
    (storage_dir / "onboarding").write_text(
        json.dumps(_ONBOARDING_STORE), encoding="utf-8"
    )
    shutil.copyfile(THERMOSTAT_PACKAGE, config_dir / "thermostats.yaml")
    # Home Assistant loads custom integrations from <config>/custom_components,
    # so the link makes it run the repository's code.
    (config_dir / "custom_components").symlink_to(
        CUSTOM_COMPONENTS, target_is_directory=True
    )
    return url
