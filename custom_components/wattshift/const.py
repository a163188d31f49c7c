"""Constants for the WattShift integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "wattshift"
LOGGER = logging.getLogger(__package__)

# Entry data: how to reach WattShift and how WattShift reaches us.
CONF_BASE_URL: Final = "base_url"
CONF_SECURITY_KEY: Final = "security_key"
SECTION_ADVANCED: Final = "advanced"

# Options: what WattShift may see and do.
CONF_THERMOSTATS: Final = "thermostats"
CONF_DEVICE_LINKS: Final = "device_links"
CONF_APPLY_SCHEDULES: Final = "apply_schedules"
CONF_DETECT_OVERRIDES: Final = "detect_overrides"
CONF_OVERRIDE_HOLD: Final = "override_hold_minutes"
CONF_PRICE_SIGNALS: Final = "price_signals"
CONF_OPEN_ADR: Final = "open_adr"
CONF_PRICE_PEAK_THRESHOLD: Final = "price_peak_threshold"

DEFAULT_APPLY_SCHEDULES: Final = True
DEFAULT_DETECT_OVERRIDES: Final = True
# Zero holds a user override until the schedule block in force ends.
DEFAULT_OVERRIDE_HOLD: Final = 0
DEFAULT_PRICE_SIGNALS: Final = False
DEFAULT_OPEN_ADR: Final = False

# WattShift device ids look like ws_device_123efg in every documented example.
WATTSHIFT_DEVICE_ID_PREFIX: Final = "ws_device_"

HEADER_SECURITY_KEY: Final = "x-ws-security-key"

# How long a replaced security key is still accepted after rotation, so that
# deliveries WattShift sent with the old key just before it switched arrive
# without being rejected.
SECURITY_KEY_GRACE: Final = timedelta(minutes=10)
