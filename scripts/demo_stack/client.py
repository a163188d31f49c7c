"""Call Home Assistant's HTTP API the way its frontend does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
import json
from typing import Any, Final

from aiohttp import (
    ClientError,
    ClientSession,
    ClientTimeout,
    ClientWebSocketResponse,
    ClientWSTimeout,
)

from .errors import StackError

# Seconds one HTTP request to Home Assistant may take.
REQUEST_TIMEOUT: Final = 30.0
# Seconds between two polls while waiting for Home Assistant.
POLL_INTERVAL: Final = 0.25

type AliveCheck = Callable[[str], None]


class HassClient:
    """An HTTP client for one Home Assistant, authenticated after onboarding."""

    def __init__(self, session: ClientSession, base_url: str) -> None:
        """Talk to the Home Assistant at base_url, such as http://127.0.0.1:8123."""
        self._session = session
        self.base_url = base_url
        # The frontend uses its own URL as the OAuth client id.
        self.client_id = f"{base_url}/"
        self._token: str | None = None

    @property
    def access_token(self) -> str:
        """Access token of the owner account."""
        if self._token is None:
            raise RuntimeError("no access token yet; call onboard() first")
        return self._token

    async def wait_for_http(self, timeout_seconds: float, alive: AliveCheck) -> None:
        """Poll the onboarding status until the HTTP server responds.

        alive raises when the hass process has exited, so a crash ends the
        wait at once instead of after the timeout.
        """
        step = "waiting for its HTTP server"
        last_error = "no response yet"
        try:
            async with asyncio.timeout(timeout_seconds):
                while True:
                    alive(step)
                    try:
                        async with self._session.get(
                            f"{self.base_url}/api/onboarding",
                            timeout=ClientTimeout(total=5),
                        ) as response:
                            if response.status == 200:
                                return
                            last_error = f"HTTP {response.status}"
                    except (ClientError, TimeoutError) as err:
                        last_error = f"{err.__class__.__name__}: {err}"
                    await asyncio.sleep(POLL_INTERVAL)
        except TimeoutError:
            alive(step)
            raise StackError(
                f"Home Assistant at {self.base_url} did not respond within "
                f"{timeout_seconds:.0f} s (last error: {last_error})"
            ) from None

    async def onboard(self, name: str, username: str, password: str) -> None:
        """Create the owner account, get its access token and finish onboarding.

        The frontend sends these requests at the end of its onboarding wizard.
        Home Assistant serves its frontend only once every onboarding step is
        done; the core_config step is marked done in the configuration
        directory beforehand.
        """
        created = await self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": name,
                "username": username,
                "password": password,
                "language": "en",
            },
            authenticated=False,
        )
        tokens = await self.request(
            "POST",
            "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": _field(created, "auth_code", "the onboarding user step"),
                "client_id": self.client_id,
            },
            authenticated=False,
        )
        self._token = _field(tokens, "access_token", "the token exchange")
        await self.request("POST", "/api/onboarding/analytics")
        await self.request(
            "POST",
            "/api/onboarding/integration",
            {
                "client_id": self.client_id,
                "redirect_uri": f"{self.client_id}?auth_callback=1",
            },
        )

    async def wait_until_running(
        self, entity_ids: Iterable[str], timeout_seconds: float, alive: AliveCheck
    ) -> list[dict[str, Any]]:
        """Wait until Home Assistant has started and the entities have a state.

        Returns the states of the entities.
        """
        wanted = list(entity_ids)
        step = "waiting for startup to finish"
        missing: list[str] = wanted
        core_state = "unknown"
        try:
            async with asyncio.timeout(timeout_seconds):
                while True:
                    alive(step)
                    config = await self.request("GET", "/api/config")
                    core_state = str(config.get("state"))
                    states = {
                        state["entity_id"]: state
                        for state in await self.request("GET", "/api/states")
                    }
                    missing = [
                        entity_id
                        for entity_id in wanted
                        if states.get(entity_id, {}).get("state")
                        in (None, "unavailable", "unknown")
                    ]
                    if core_state == "RUNNING" and not missing:
                        return [states[entity_id] for entity_id in wanted]
                    await asyncio.sleep(POLL_INTERVAL)
        except TimeoutError:
            alive(step)
            raise StackError(
                f"Home Assistant did not finish starting within {timeout_seconds:.0f} s: "
                f"core state {core_state}, entities without a state: "
                f"{', '.join(missing) or 'none'}"
            ) from None

    async def add_wattshift_entry(
        self, api_key: str, base_url: str, thermostats: Iterable[str]
    ) -> dict[str, Any]:
        """Add a WattShift entry through the config flow and return the entry.

        The requests are the ones the frontend sends: start the flow for the
        handler, submit the user step (the API base URL sits in the collapsed
        "advanced" section), then submit the thermostats step.
        """
        flow = await self.request(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": "wattshift", "show_advanced_options": False},
        )
        _expect_form(flow, "user", "starting the WattShift config flow")
        flow_url = f"/api/config/config_entries/flow/{flow['flow_id']}"

        result = await self.request(
            "POST", flow_url, {"api_key": api_key, "advanced": {"base_url": base_url}}
        )
        _expect_form(result, "thermostats", "submitting the API key")

        result = await self.request(
            "POST", flow_url, {"thermostats": list(thermostats)}
        )
        if result.get("type") != "create_entry":
            raise StackError(
                f"the thermostats step did not create an entry: {_brief(result)}"
            )
        entry: dict[str, Any] = result["result"]
        return entry

    async def websocket_command(self, command: Mapping[str, Any]) -> Any:
        """Send one command over the websocket API and return its result.

        Raises StackError when the command fails. Some settings, such as the
        core configuration, can only be changed through the websocket API.
        """
        try:
            async with self._session.ws_connect(
                f"{self.base_url}/api/websocket",
                timeout=ClientWSTimeout(ws_close=REQUEST_TIMEOUT),
            ) as websocket:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    await _expect_message(websocket, "auth_required")
                    await websocket.send_json(
                        {"type": "auth", "access_token": self.access_token}
                    )
                    await _expect_message(websocket, "auth_ok")
                    await websocket.send_json({**command, "id": 1})
                    reply = await _expect_message(websocket, "result")
        except (ClientError, TimeoutError) as err:
            raise StackError(
                f"websocket command {command.get('type')} failed: "
                f"{err.__class__.__name__}: {err}"
            ) from err
        if not reply.get("success"):
            raise StackError(
                f"websocket command {command.get('type')} failed: {reply.get('error')}"
            )
        return reply.get("result")

    async def update_core_config(self, **changes: Any) -> None:
        """Change core settings such as external_url, as Settings > System does."""
        await self.websocket_command({"type": "config/core/update", **changes})

    async def config_entries(self, domain: str) -> list[dict[str, Any]]:
        """Return the config entries of a domain with their states."""
        entries: list[dict[str, Any]] = await self.request(
            "GET", f"/api/config/config_entries/entry?domain={domain}"
        )
        return entries

    async def states(self) -> list[dict[str, Any]]:
        """Return every entity state."""
        states: list[dict[str, Any]] = await self.request("GET", "/api/states")
        return states

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        form: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> Any:
        """Send one request and return its JSON body.

        Raises StackError unless the status is 2xx.
        """
        headers = (
            {"Authorization": f"Bearer {self.access_token}"} if authenticated else {}
        )
        try:
            async with self._session.request(
                method,
                f"{self.base_url}{path}",
                json=body,
                data=form,
                headers=headers,
                timeout=ClientTimeout(total=REQUEST_TIMEOUT),
            ) as response:
                text = await response.text()
        except (ClientError, TimeoutError) as err:
            raise StackError(
                f"{method} {path} failed: {err.__class__.__name__}: {err}"
            ) from err
        if not 200 <= response.status < 300:
            raise StackError(f"{method} {path} returned HTTP {response.status}: {text}")
        try:
            return json.loads(text)
        except ValueError as err:
            raise StackError(f"{method} {path} returned invalid JSON: {text}") from err


async def _expect_message(
    websocket: ClientWebSocketResponse, message_type: str
) -> dict[str, Any]:
    """Receive the next websocket message and raise unless it has message_type."""
    try:
        message = await websocket.receive_json()
    except (TypeError, ValueError) as err:
        # A close frame or a message that is not JSON text.
        raise StackError(f"expected a {message_type} websocket message: {err}") from err
    if not isinstance(message, dict) or message.get("type") != message_type:
        raise StackError(f"expected a {message_type} websocket message, got {message}")
    return message


def _field(body: Any, name: str, step: str) -> str:
    """Return a non-empty string field of a JSON object."""
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise StackError(f"{step} returned no {name}: {body}")
    return value


def _expect_form(result: dict[str, Any], step_id: str, step: str) -> None:
    """Raise unless a flow result shows the form of step_id without errors."""
    if (
        result.get("type") != "form"
        or result.get("step_id") != step_id
        or result.get("errors")
    ):
        raise StackError(
            f"{step} did not lead to the {step_id!r} form: {_brief(result)}"
        )


def _brief(result: dict[str, Any]) -> str:
    """Describe a flow result by its type, step, errors and abort reason."""
    keys = ("type", "step_id", "errors", "reason", "description_placeholders")
    return json.dumps({key: result[key] for key in keys if key in result})
