"""Run the demo: ask Home Assistant for its thermostats the way WattShift does.

Usage: python -m scripts.demo_stack [--timeout SECONDS] [--keep-files]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import json
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from .errors import StackError

if TYPE_CHECKING:
    from .stack import DemoStack

_UNITS = {"C": "°C", "F": "°F"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo and return the exit code."""
    parser = argparse.ArgumentParser(
        prog="scripts/demo",
        description=(
            "Start the WattShift simulator and a real Home Assistant with the "
            "WattShift integration on 127.0.0.1, add the integration through "
            "the config flow, deliver a THERMOSTAT_QUERY and print the answer."
        ),
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds Home Assistant may take to start (default 120)",
    )
    parser.add_argument(
        "--keep-files",
        action="store_true",
        help="keep the temporary configuration directory and the hass log",
    )
    args = parser.parse_args(argv)
    try:
        # Home Assistant, the simulator and their dependencies take seconds
        # to import, and a Ctrl-C meanwhile must not print a traceback.
        from .stack import DemoStack  # noqa: PLC0415

        stack = DemoStack(
            startup_timeout=args.timeout,
            keep_files=args.keep_files,
            progress=_progress,
        )
        return asyncio.run(_run(stack))
    except KeyboardInterrupt:
        _progress("interrupted; everything that was started is stopped")
        return 130


async def _run(stack: DemoStack) -> int:
    """Run the demo with SIGTERM handled like Ctrl-C and return the exit code."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        task.cancel()

    loop.add_signal_handler(signal.SIGTERM, terminate)
    started = time.monotonic()
    try:
        body = await _query_thermostats(stack)
    except asyncio.CancelledError:
        if not terminated:
            raise
        _progress("terminated; everything that was started is stopped")
        return 143
    except StackError as err:
        _progress(f"FAILED: {err}")
        for note in getattr(err, "__notes__", ()):
            _progress(note)
        if err.log_tail is not None:
            print("---- last lines of the hass log ----", file=sys.stderr)
            print(err.log_tail.rstrip() or "(the log is empty)", file=sys.stderr)
            print("------------------------------------", file=sys.stderr)
        return 1
    finally:
        loop.remove_signal_handler(signal.SIGTERM)

    print(json.dumps(body, indent=2, sort_keys=True))
    print()
    print(format_summary(body))
    _progress(f"finished in {time.monotonic() - started:.1f} s")
    return 0


async def _query_thermostats(stack: DemoStack) -> dict[str, Any]:
    """Start the stack, deliver a THERMOSTAT_QUERY and return the response."""
    async with stack:
        _progress("Delivering THERMOSTAT_QUERY to the registered webhook")
        result = await stack.deliver("THERMOSTAT_QUERY", {})
        body = result.body
        if result.status != 200 or not isinstance(body, dict):
            raise StackError(
                f"the webhook responded to THERMOSTAT_QUERY with HTTP {result.status}: "
                f"{body}",
                log_tail=stack.hass.log_tail() if stack.hass else None,
            )
        if stack.keep_files:
            _progress(f"Files kept in {stack.work_dir}")
        return body


def format_summary(body: dict[str, Any]) -> str:
    """Describe a THERMOSTAT_QUERY response in one line per thermostat."""
    thermostats: dict[str, dict[str, Any]] = body.get("thermostats") or {}
    unit = _UNITS.get(str(body.get("tempUnits")), str(body.get("tempUnits")))
    lines = [f"Home Assistant reported {len(thermostats)} thermostat(s):"]
    for record in thermostats.values():
        if not record.get("available"):
            lines.append(
                f"  {record.get('name') or record.get('entityId')}: unavailable "
                f"({record.get('state')})"
            )
            continue
        abilities = [
            name
            for name, able in (("heat", record["canHeat"]), ("cool", record["canCool"]))
            if able
        ]
        lines.append(
            f"  {record['name']} ({record['entityId']}): mode {record['targetMode']}, "
            f"now {_temperature(record['currentTemp'], unit)}, "
            f"target {_temperature(record['targetTemp'], unit)}, "
            f"can {' and '.join(abilities) or 'neither heat nor cool'}, "
            f"action {record.get('hvacAction')}"
        )
    unknown = body.get("unknownDevices") or []
    lines.append(f"Unknown devices: {', '.join(unknown) if unknown else 'none'}")
    return "\n".join(lines)


def _temperature(value: Any, unit: str) -> str:
    """Format a temperature that may be missing."""
    return "unknown" if value is None else f"{value} {unit}"


def _progress(message: str) -> None:
    """Print a progress line to stderr, because stdout carries the response."""
    print(f"demo: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
