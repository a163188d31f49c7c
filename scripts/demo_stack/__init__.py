"""Run a real Home Assistant with the WattShift integration and the simulator.

scripts/demo and the end-to-end test share this package. `stack.DemoStack`
starts the WattShift simulator and a hass process on 127.0.0.1, creates the
owner account, adds the WattShift entry through the config flow HTTP API and
has the simulator deliver events to the registered webhook.

This module imports nothing, so that `python -m scripts.demo_stack` can
handle Ctrl-C while the heavy modules load.
"""
