"""Start the simulator, hass and the WattShift entry together, and stop them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
import logging
from pathlib import Path
import secrets
import shutil
import signal
import sys
import tempfile
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import ClientSession

from simulator import (
    DEFAULT_API_KEY,
    DEFAULT_ORG_ID,
    DeliveryResult,
    EventType,
    SimulatorError,
    WattShiftSimulator,
    WebhookRegistration,
)

from .client import HassClient
from .config import write_config_dir
from .errors import StackError
from .hass import HassProcess, free_port

_LOGGER = logging.getLogger(__name__)

# The climate entities of config/thermostats.yaml.
DEMO_THERMOSTATS: Final = ("climate.living_room", "climate.bedroom", "climate.office")
# Seconds hass may take from process start to a running core with the
# thermostats loaded. A start takes a few seconds, and the margin is for slow
# machines.
STARTUP_TIMEOUT: Final = 120.0
# hass exits with 0 after SIGTERM. It dies of the signal (-15) when SIGTERM
# arrives before it has installed its signal handlers, early in startup.
CLEAN_EXIT_CODES: Final = frozenset({0, -signal.SIGTERM})
OWNER_NAME: Final = "Demo owner"
OWNER_USERNAME: Final = "demo"

type ProgressCallback = Callable[[str], None]


class DemoStack:
    """The simulator and a hass process with a WattShift entry, on 127.0.0.1.

    Use it as an async context manager: entering starts everything and adds
    the entry, leaving stops hass and the simulator even after an error. The
    entry exposes the given thermostats, by default all three demo
    thermostats. With add_entry=False the stack stops after onboarding, so
    that a browser can add the entry. Each stack gets a temporary
    configuration directory that it deletes on exit unless keep_files is set.
    """

    def __init__(
        self,
        *,
        python: str = sys.executable,
        startup_timeout: float = STARTUP_TIMEOUT,
        keep_files: bool = False,
        add_entry: bool = True,
        thermostats: Sequence[str] = DEMO_THERMOSTATS,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Prepare a stack whose hass runs with the given interpreter."""
        self._python = python
        self._startup_timeout = startup_timeout
        self.keep_files = keep_files
        self._add_entry = add_entry
        self._thermostats = tuple(thermostats)
        self._progress = progress or _LOGGER.info
        self.api_key = DEFAULT_API_KEY
        self.org_id = DEFAULT_ORG_ID
        self.owner_password = secrets.token_urlsafe(16)
        self.simulator = WattShiftSimulator({self.api_key: self.org_id})
        self.work_dir: Path | None = None
        self.hass: HassProcess | None = None
        self._entry: dict[str, Any] | None = None
        self._session: ClientSession | None = None
        self._client: HassClient | None = None

    async def __aenter__(self) -> Self:
        """Start everything, and stop what was started if a step fails."""
        try:
            await self.start()
        except BaseException as err:
            await self._stop_after_error(err)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop hass and the simulator."""
        if exc is None:
            await self.stop()
        else:
            await self._stop_after_error(exc)

    @property
    def client(self) -> HassClient:
        """HTTP client of the running hass, logged in as the owner."""
        if self._client is None:
            raise RuntimeError("the stack is not running")
        return self._client

    @property
    def entry(self) -> dict[str, Any]:
        """The WattShift config entry as the config flow API returned it."""
        if self._entry is None:
            raise RuntimeError("the WattShift entry has not been added")
        return self._entry

    @property
    def registration(self) -> WebhookRegistration:
        """The thermostat_behavior webhook the integration registered."""
        for (org_id, event_type), registration in self.simulator.registrations.items():
            if org_id == self.org_id and event_type is EventType.THERMOSTAT_QUERY:
                return registration
        raise StackError("the integration registered no thermostat_behavior webhook")

    @property
    def url(self) -> str:
        """Base URL of the running hass, such as http://127.0.0.1:40123."""
        return self.client.base_url

    async def start(self) -> None:
        """Start the simulator and hass, onboard the owner and add the entry."""
        try:
            await self.simulator.start("127.0.0.1", 0)
        except OSError as err:
            raise StackError(f"cannot start the WattShift simulator: {err}") from err
        self._progress(f"WattShift simulator listening on {self.simulator.base_url}")

        self.work_dir = Path(tempfile.mkdtemp(prefix="wattshift-demo-"))
        url = write_config_dir(self.work_dir / "config", free_port())
        self.hass = HassProcess(
            self.work_dir / "config", self.work_dir / "hass.log", self._python
        )
        await self.hass.start()
        self._progress(f"hass started (pid {self.hass.pid}), log {self.hass.log_path}")

        self._session = ClientSession()
        self._client = client = HassClient(self._session, url)
        with self._explain_failure():
            await client.wait_for_http(self._startup_timeout, self.hass.check_running)
            self._progress(f"Home Assistant is serving {url}")
            await client.onboard(OWNER_NAME, OWNER_USERNAME, self.owner_password)
            self._progress(f"Created the owner account {OWNER_USERNAME!r}")
            await client.wait_until_running(
                DEMO_THERMOSTATS, self._startup_timeout, self.hass.check_running
            )
            self._progress(
                f"Home Assistant is running with {', '.join(DEMO_THERMOSTATS)}"
            )
            if not self._add_entry:
                return
            entry = await client.add_wattshift_entry(
                self.api_key, self.simulator.base_url, self._thermostats
            )
            if entry.get("state") != "loaded":
                raise StackError(
                    f"the WattShift entry was created but is {entry.get('state')!r}"
                    f" ({entry.get('reason')})"
                )
            self._entry = entry
            self._progress(
                f"Added the WattShift entry {entry['entry_id']} for {self.org_id}"
            )

    async def deliver(
        self,
        event_type: EventType | str,
        data: Any,
        *,
        security_key: str | None = None,
        omit_security_key: bool = False,
    ) -> DeliveryResult:
        """Have the simulator deliver an event to the registered webhook."""
        try:
            return await self.simulator.deliver(
                event_type,
                data,
                org_id=self.org_id,
                security_key=security_key,
                omit_security_key=omit_security_key,
                timeout_seconds=30,
            )
        except (SimulatorError, ValueError) as err:
            raise StackError(
                f"the simulator failed to deliver {event_type}: {err}",
                log_tail=self.hass.log_tail() if self.hass else None,
            ) from err

    async def stop(self) -> None:
        """Stop hass and the simulator, and raise StackError if either failed to stop."""
        errors: list[str] = []
        log_tail: str | None = None
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._client = None
        if self.hass is not None:
            hass, self.hass = self.hass, None
            try:
                code = await hass.stop()
            except StackError as err:
                errors.append(str(err))
                log_tail = err.log_tail
            else:
                self._progress(f"hass stopped with exit code {code}")
                if code not in CLEAN_EXIT_CODES:
                    errors.append(f"hass exited with code {code}")
                    log_tail = hass.log_tail()
        if self.simulator.running:
            try:
                await self.simulator.stop()
            except SimulatorError as err:
                errors.append(f"the simulator reported an error: {err}")
            else:
                self._progress("WattShift simulator stopped")
        if self.work_dir is not None and not self.keep_files:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None
        if errors:
            raise StackError("; ".join(errors), log_tail=log_tail)

    async def _stop_after_error(self, error: BaseException) -> None:
        """Stop everything without hiding the error that ended the run."""
        try:
            await self.stop()
        except StackError as stop_error:
            error.add_note(f"Stopping the stack failed as well: {stop_error}")

    @contextmanager
    def _explain_failure(self) -> Iterator[None]:
        """Attach the hass log tail to a StackError raised in the block."""
        try:
            yield
        except StackError as err:
            if err.log_tail is None and self.hass is not None:
                err.log_tail = self.hass.log_tail()
            raise
