"""Browser tests of the integration in Home Assistant's frontend."""
