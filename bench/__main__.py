"""Run the webhook benchmark: `python -m bench --help`."""

from __future__ import annotations

import logging
import sys

# Startup messages that every run prints and that tell nothing about
# the measurement: a custom integration is loaded, optional native libraries for
# cameras and compression are missing, thermostats have no saved set point.
_QUIET_LOGGERS = (
    "homeassistant.loader",
    "homeassistant.components.camera",
    "homeassistant.components.generic_thermostat",
    "aiohttp_fast_zlib",
)


def run() -> int:
    """Configure logging, then import and run the benchmark."""
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # Imported only now because importing Home Assistant's cloud component
    # already logs, and the levels above must be in place first.
    from .cli import main  # noqa: PLC0415

    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(run())
