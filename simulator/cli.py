"""Parse and run the simulator's command line: serve, deliver, fail and delay."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import json
import logging
import signal
import sys
from typing import Any, Final

from aiohttp import ClientError, ClientSession, ClientTimeout
from yarl import URL

from .app import DEFAULT_API_KEY, DEFAULT_ORG_ID, WattShiftSimulator
from .assumptions import INJECTABLE_STATUSES
from .delivery import LOOPBACK_HOSTS
from .errors import ResponseValidationError
from .models import ErrorCode, EventType

DEFAULT_PORT: Final = 8765
DEFAULT_SIMULATOR_URL: Final = f"http://127.0.0.1:{DEFAULT_PORT}"
# Seconds the command line waits for the simulator's control API; a delivery
# itself times out after 10 s inside the simulator.
_CONTROL_TIMEOUT: Final = 30.0


class CommandError(Exception):
    """A client command failed; the message is printed and the exit code is 1."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        result: int = asyncio.run(args.run(args))
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return result


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one subcommand per action."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Run or drive the local WattShift simulator.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="serve the simulated WattShift API until SIGINT or SIGTERM"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1 only)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port to listen on, 0 for a free one (default {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        type=_parse_api_key,
        metavar="KEY=ORG",
        # The help names the default key's constant, not its value, so that
        # no API key is ever printed.
        help=(
            "accept API key KEY for organisation ORG; repeatable (default: "
            f"simulator.DEFAULT_API_KEY for {DEFAULT_ORG_ID})"
        ),
    )
    serve.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="level of the log lines written to stderr (default INFO)",
    )
    serve.set_defaults(run=_serve)

    deliver = commands.add_parser(
        "deliver",
        help="deliver an event through a running simulator and print the response",
    )
    _add_simulator_argument(deliver)
    deliver.add_argument(
        "--event",
        required=True,
        choices=[str(event_type) for event_type in EventType],
        help="eventType of the delivery",
    )
    deliver.add_argument(
        "--data",
        type=_parse_json_argument,
        default={},
        help="JSON value sent as the event's data (default {})",
    )
    deliver.add_argument(
        "--origin",
        help=(
            "scheme://host:port that replaces the registered URL's origin, "
            "for example http://127.0.0.1:8123"
        ),
    )
    deliver.add_argument(
        "--org", help="organisation to deliver for, if several registered"
    )
    deliver.set_defaults(run=_deliver)

    fail = commands.add_parser(
        "fail",
        help="make a running simulator respond to the next requests with an error",
    )
    _add_simulator_argument(fail)
    fail.add_argument(
        "--status",
        type=int,
        required=True,
        choices=sorted(INJECTABLE_STATUSES),
        help="HTTP status of the error response",
    )
    fail.add_argument(
        "--count", type=int, default=1, help="number of requests to fail (default 1)"
    )
    fail.add_argument(
        "--retry-after",
        type=float,
        help="retry_after_seconds in the error envelope, in seconds",
    )
    fail.add_argument(
        "--error-code",
        choices=[str(code) for code in ErrorCode],
        help="error_code in the envelope (default: the status's usual code)",
    )
    fail.add_argument(
        "--path", help="fail only requests to this /v1 path (default: every path)"
    )
    fail.set_defaults(run=_fail)

    delay = commands.add_parser(
        "delay", help="delay every response of a running simulator"
    )
    _add_simulator_argument(delay)
    delay.add_argument(
        "--seconds",
        type=float,
        required=True,
        help="delay before each /v1 response in seconds, 0 to turn it off",
    )
    delay.set_defaults(run=_delay)
    return parser


def _add_simulator_argument(parser: argparse.ArgumentParser) -> None:
    """Add the --simulator option of the client commands."""
    parser.add_argument(
        "--simulator",
        type=_parse_simulator_url,
        default=URL(DEFAULT_SIMULATOR_URL),
        help=f"base URL of the running simulator (default {DEFAULT_SIMULATOR_URL})",
    )


def _parse_api_key(text: str) -> tuple[str, str]:
    """Split a KEY=ORG argument; the message never repeats the key."""
    api_key, _, org_id = text.rpartition("=")
    if not api_key or not org_id:
        raise argparse.ArgumentTypeError("expected KEY=ORG with both parts non-empty")
    return api_key, org_id


def _parse_json_argument(text: str) -> Any:
    """Parse a JSON command-line value."""
    try:
        return json.loads(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from err


def _parse_simulator_url(text: str) -> URL:
    """Parse the simulator's base URL, which must be on the local machine."""
    url = URL(text)
    if url.scheme not in ("http", "https") or url.host not in LOOPBACK_HOSTS:
        raise argparse.ArgumentTypeError(
            f"expected a URL on 127.0.0.1, localhost or ::1, got {text!r}"
        )
    return url


async def _serve(args: argparse.Namespace) -> int:
    """Serve the simulator until SIGINT or SIGTERM."""
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    api_keys = dict(args.api_keys or [(DEFAULT_API_KEY, DEFAULT_ORG_ID)])
    simulator = WattShiftSimulator(api_keys)
    try:
        base_url = await simulator.start(args.host, args.port)
    except (OSError, ValueError) as err:
        raise CommandError(f"cannot start the simulator: {err}") from err
    # Scripts read the URL from this line when they pass --port 0.
    print(f"WattShift simulator listening on {base_url}", flush=True)
    print(f"Organisations: {', '.join(sorted(set(api_keys.values())))}", flush=True)

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        try:
            await simulator.stop()
        except ResponseValidationError as err:
            raise CommandError(str(err)) from err
    return 0


async def _deliver(args: argparse.Namespace) -> int:
    """Deliver an event and print the webhook's status and response body."""
    payload: dict[str, Any] = {"eventType": args.event, "data": args.data}
    if args.origin is not None:
        payload["origin"] = args.origin
    if args.org is not None:
        payload["orgId"] = args.org
    answer = await _control_request(args.simulator, "deliver", payload)
    status = answer["status"]
    print(f"HTTP {status}")
    body = answer.get("body")
    if isinstance(body, str):
        print(body)
    elif body is not None:
        print(json.dumps(body, indent=2, sort_keys=True))
    return 0 if status < 400 else 1


async def _fail(args: argparse.Namespace) -> int:
    """Queue a failure and print what was queued."""
    payload: dict[str, Any] = {"status": args.status, "count": args.count}
    if args.retry_after is not None:
        payload["retryAfterSeconds"] = args.retry_after
    if args.error_code is not None:
        payload["errorCode"] = args.error_code
    if args.path is not None:
        payload["path"] = args.path
    answer = await _control_request(args.simulator, "fail", payload)
    print(
        f"Next {answer['count']} request(s) to {answer['path'] or 'any /v1 path'} "
        f"get HTTP {answer['status']} {answer['errorCode']}"
    )
    return 0


async def _delay(args: argparse.Namespace) -> int:
    """Set the response delay and print it."""
    answer = await _control_request(args.simulator, "delay", {"seconds": args.seconds})
    print(f"Responses are delayed by {answer['seconds']} s")
    return 0


async def _control_request(
    simulator: URL, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """POST to a control endpoint and return its JSON response.

    Raises CommandError when the simulator is unreachable or responds with an
    error.
    """
    url = simulator / "_simulator" / action
    try:
        async with (
            ClientSession(timeout=ClientTimeout(total=_CONTROL_TIMEOUT)) as session,
            session.post(url, json=payload) as response,
        ):
            answer = await response.json(content_type=None)
    except (ClientError, TimeoutError, ValueError) as err:
        raise CommandError(
            f"request to the simulator at {simulator} failed: "
            f"{err.__class__.__name__}: {err}"
        ) from err
    if response.status != 200:
        message = answer.get("error") if isinstance(answer, dict) else answer
        raise CommandError(f"simulator responded HTTP {response.status}: {message}")
    if not isinstance(answer, dict):
        raise CommandError(f"simulator responded with unexpected JSON: {answer!r}")
    return answer
