"""Own the webhook registration for the whole life of a config entry.

The manager registers Home Assistant's webhook locally and picks the URL
WattShift can reach: a Home Assistant Cloud cloudhook or the external URL,
never the internal one. It registers that URL with each WattShift endpoint the
options enable. It registers again whenever the URL, the cloud connection, the
credentials or the options change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import secrets
from typing import TYPE_CHECKING, Any, Final

from aiohttp.hdrs import METH_POST
from homeassistant.components import webhook
from homeassistant.const import CONF_WEBHOOK_ID, EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import CALLBACK_TYPE, Event, HassJob, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util
from yarl import URL

from . import cloudhook
from .api import (
    WattShiftApiError,
    WattShiftAuthenticationError,
    WattShiftClient,
    WattShiftError,
    WattShiftRateLimitError,
    WebhookRegistration,
)
from .const import (
    CONF_APPLY_SCHEDULES,
    CONF_OPEN_ADR,
    CONF_PRICE_SIGNALS,
    CONF_SECURITY_KEY,
    DEFAULT_APPLY_SCHEDULES,
    DEFAULT_OPEN_ADR,
    DEFAULT_PRICE_SIGNALS,
    DOMAIN,
    LOGGER,
    SECURITY_KEY_GRACE,
)
from .receiver import WebhookReceiver

if TYPE_CHECKING:
    from .data import WattShiftConfigEntry

# Delay before the second attempt after WattShift rejects the API key: a key
# that was just created or rotated can be refused once while WattShift
# propagates it, so one rejection alone does not ask the user to reauthenticate.
AUTH_RETRY_DELAY: Final = 5.0
# Retry delays after transient failures double from the first to the last.
RETRY_FIRST_DELAY: Final = 30.0
RETRY_MAX_DELAY: Final = 1800.0
# Longest delay accepted from WattShift's retry_after_seconds. Its documented
# example requests an hour.
RETRY_AFTER_MAX_DELAY: Final = 6 * 3600.0

ISSUE_NO_URL: Final = "no_url"
ISSUE_AUTH_FAILED: Final = "auth_failed"


class NoWebhookUrlError(Exception):
    """Home Assistant has no URL that WattShift could reach."""


class Endpoint(StrEnum):
    """WattShift endpoints that register a webhook URL."""

    THERMOSTAT_BEHAVIOR = "thermostat_behavior"
    SET_POINT_SCHEDULE = "set_point_schedule"
    PRICE_SIGNAL = "price_signal"


class WebhookStatus(StrEnum):
    """State of the link from WattShift to Home Assistant."""

    REGISTERED = "registered"
    UNREACHABLE = "unreachable"
    AUTHENTICATION_FAILED = "authentication_failed"
    ERROR = "error"


class UrlKind(StrEnum):
    """Kind of URL registered with WattShift."""

    CLOUD = "cloud"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A URL WattShift can reach and what kind it is."""

    url: str
    kind: UrlKind


@dataclass(frozen=True, slots=True)
class SentRegistration:
    """Registration last sent to one WattShift endpoint."""

    url: str
    security_key: str
    open_adr: bool


def generate_security_key() -> str:
    """Return a new security key with 32 bytes of entropy."""
    return secrets.token_urlsafe(32)


class WebhookManager:
    """Keep WattShift's webhook registrations true for one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattShiftConfigEntry,
        client: WattShiftClient,
        receiver: WebhookReceiver,
    ) -> None:
        """Prepare the manager; nothing is registered until async_start."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._receiver = receiver
        self._webhook_id: str = entry.data[CONF_WEBHOOK_ID]
        self._sent: dict[Endpoint, SentRegistration] = {}
        self._listeners: list[Callable[[], None]] = []
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._cancel_retry: CALLBACK_TYPE | None = None
        self._lock = asyncio.Lock()
        self._sync_requested = False
        self._retries = 0
        self._auth_failures = 0
        self._problem: str | None = None
        self._warned_plain_http = False
        self._stopped = False

        self.status: WebhookStatus | None = None
        self.url_kind: UrlKind | None = None
        self.last_error: str | None = None
        self.last_registered: datetime | None = None
        self.registrations: dict[Endpoint, WebhookRegistration] = {}

    @property
    def webhook_id(self) -> str:
        """Home Assistant webhook id; a secret, never logged."""
        return self._webhook_id

    @property
    def registered_endpoints(self) -> list[Endpoint]:
        """Enabled endpoints that accepted the current URL and key.

        An endpoint turned off in the options keeps its registration at
        WattShift, which offers no way to delete one, but is not listed.
        """
        return list(self._sent)

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call listener whenever the status changes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def async_start(self) -> None:
        """Register locally and with WattShift.

        Raises WattShiftAuthenticationError when WattShift rejects the key
        twice, and other WattShiftError subclasses when it cannot be reached,
        so that setup can fail with the right exception. A failure leaves no
        webhook handler and no listener behind.
        """
        webhook.async_register(
            self._hass,
            DOMAIN,
            self._entry.title,
            self._webhook_id,
            self._receiver.async_handle,
            allowed_methods=[METH_POST],
        )
        try:
            self._subscribe()
            async with self._lock:
                await self._async_setup_pass()
        except BaseException:
            self.async_stop()
            raise
        self._run_pending_request()

    @callback
    def async_stop(self) -> None:
        """Unregister locally and stop every listener and timer."""
        self._stopped = True
        webhook.async_unregister(self._hass, self._webhook_id)
        self._stop_retry()
        while self._unsubscribers:
            self._unsubscribers.pop()()

    @callback
    def async_use_client(self, client: WattShiftClient) -> None:
        """Switch to new credentials and register everything again with them."""
        self._client = client
        self._auth_failures = 0
        self.async_schedule_full_sync()

    @callback
    def async_schedule_full_sync(self) -> None:
        """Send every registration again, because WattShift's copy changed."""
        self._sent.clear()
        self.async_schedule_sync()

    @callback
    def async_schedule_sync(self) -> None:
        """Bring the registrations up to date in the background."""
        if self._stopped:
            return
        self._stop_retry()
        self._entry.async_create_background_task(
            self._hass, self._async_sync(), f"{DOMAIN} webhook registration"
        )

    async def async_register_now(self) -> None:
        """Send every registration again, raising any error to the caller."""
        self._stop_retry()
        async with self._lock:
            self._sent.clear()
            await self._async_checked_pass(raise_errors=True)
        self._run_pending_request()

    async def async_rotate_security_key(self) -> None:
        """Replace the security key without rejecting any delivery.

        The new key is accepted before WattShift learns it, WattShift gets it
        for every endpoint, and only then does the old key start its grace
        period. On failure the old key stays current, and the endpoints that
        already switched are registered again with it.
        """
        keys = self._receiver.keys
        new_key = generate_security_key()
        async with self._lock:
            target = await self._async_target()
            if target is None:
                raise NoWebhookUrlError
            keys.accept_also(new_key, SECURITY_KEY_GRACE)
            try:
                for endpoint in self._enabled_endpoints():
                    await self._async_send(endpoint, target, new_key)
            except WattShiftError as err:
                failure: WattShiftError | None = err
                self.last_error = self._describe(err)
            else:
                failure = None
                keys.promote(new_key, SECURITY_KEY_GRACE)

        if failure is not None:
            # The new key stays accepted for its grace period, because WattShift
            # may already use it on the endpoints that switched. The next pass
            # registers the old key with those endpoints again.
            self.async_schedule_sync()
            raise failure
        self._run_pending_request()

        self._hass.config_entries.async_update_entry(
            self._entry, data={**self._entry.data, CONF_SECURITY_KEY: new_key}
        )
        LOGGER.info("Rotated the WattShift webhook security key")

    @callback
    def _subscribe(self) -> None:
        """Listen for everything that can change the URL WattShift needs."""
        hass = self._hass
        self._unsubscribers.append(
            hass.bus.async_listen(
                EVENT_CORE_CONFIG_UPDATE, self._async_core_config_updated
            )
        )
        self._unsubscribers.extend(
            cloudhook.async_listen(hass, self._webhook_id, self.async_schedule_sync)
        )

    @callback
    def _async_core_config_updated(self, event: Event[Any]) -> None:
        """Register again if the external URL may have changed."""
        self.async_schedule_sync()

    async def _async_sync(self) -> None:
        """Run registration passes in the background until no request is left.

        A request that arrives while the lock is held is run by the pass that
        holds it, or right after a rotation or a forced registration.
        """
        self._sync_requested = True
        if self._lock.locked():
            return
        async with self._lock:
            while self._sync_requested and not self._stopped:
                self._sync_requested = False
                await self._async_checked_pass(raise_errors=False)

    @callback
    def _run_pending_request(self) -> None:
        """Start the pass that a request made while the lock was held."""
        if self._sync_requested and not self._lock.locked():
            self.async_schedule_sync()

    async def _async_setup_pass(self) -> None:
        """Register during setup, trying a rejected key a second time.

        Errors are raised for setup to report and are neither logged nor
        retried here, because Home Assistant retries a setup that failed.
        """
        try:
            await self._async_pass()
        except NoWebhookUrlError:
            return
        except WattShiftAuthenticationError:
            LOGGER.debug("WattShift rejected the API key once; trying again")
            await asyncio.sleep(AUTH_RETRY_DELAY)
            try:
                await self._async_pass()
            except NoWebhookUrlError:
                return
            except WattShiftAuthenticationError as err:
                self.last_error = self._describe(err)
                # ConfigEntryAuthFailed starts the reauthentication flow.
                self._handle_auth_failure(start_reauth=False)
                raise
            except WattShiftError as err:
                self.last_error = self._describe(err)
                raise
        except WattShiftError as err:
            self.last_error = self._describe(err)
            raise

    async def _async_checked_pass(self, *, raise_errors: bool) -> None:
        """Register, and schedule the retry or reauthentication a failure needs."""
        try:
            await self._async_pass()
        except NoWebhookUrlError:
            if raise_errors:
                raise
        except WattShiftAuthenticationError as err:
            self.last_error = self._describe(err)
            self._auth_failures += 1
            if self._auth_failures == 1:
                LOGGER.debug("WattShift rejected the API key once; trying again")
                self._schedule_retry(AUTH_RETRY_DELAY)
            else:
                self._handle_auth_failure(start_reauth=True)
            if raise_errors:
                raise
        except WattShiftError as err:
            self.last_error = self._describe(err)
            self._handle_transient_failure(err)
            if raise_errors:
                raise

    async def _async_pass(self) -> None:
        """Register the current URL with every enabled endpoint that lacks it.

        Raises NoWebhookUrlError when there is no URL WattShift can reach, and
        the client's errors when WattShift does not accept a registration.
        """
        target = await self._async_target()
        if target is None:
            self._set_unreachable()
            raise NoWebhookUrlError
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id(ISSUE_NO_URL))

        key = self._receiver.keys.current
        for endpoint in self._enabled_endpoints():
            if self._sent.get(endpoint) != self._wanted(endpoint, target, key):
                await self._async_send(endpoint, target, key)
        self._handle_success(target)

    async def _async_target(self) -> WebhookTarget | None:
        """Pick the URL WattShift should call, warning once about plain http."""
        target = await async_resolve_target(self._hass, self._webhook_id)
        if (
            target is not None
            and URL(target.url).scheme == "http"
            and not self._warned_plain_http
        ):
            self._warned_plain_http = True
            LOGGER.warning(
                "The external URL of Home Assistant uses plain http, so WattShift's "
                "deliveries and their security key cross the internet unencrypted; "
                "set an https external URL or use Home Assistant Cloud"
            )
        return target

    def _enabled_endpoints(self) -> list[Endpoint]:
        """Return the endpoints the options ask us to register with."""
        options = self._entry.options
        endpoints = [Endpoint.THERMOSTAT_BEHAVIOR]
        if options.get(CONF_APPLY_SCHEDULES, DEFAULT_APPLY_SCHEDULES):
            endpoints.append(Endpoint.SET_POINT_SCHEDULE)
        if options.get(CONF_PRICE_SIGNALS, DEFAULT_PRICE_SIGNALS):
            endpoints.append(Endpoint.PRICE_SIGNAL)
        return endpoints

    def _wanted(
        self, endpoint: Endpoint, target: WebhookTarget, key: str
    ) -> SentRegistration:
        """Describe the registration an endpoint should have."""
        open_adr = endpoint is Endpoint.PRICE_SIGNAL and bool(
            self._entry.options.get(CONF_OPEN_ADR, DEFAULT_OPEN_ADR)
        )
        return SentRegistration(target.url, key, open_adr)

    async def _async_send(
        self, endpoint: Endpoint, target: WebhookTarget, key: str
    ) -> None:
        """Register the URL and key with one endpoint."""
        wanted = self._wanted(endpoint, target, key)
        client = self._client
        if endpoint is Endpoint.THERMOSTAT_BEHAVIOR:
            registration = await client.set_thermostat_behavior_webhook(target.url, key)
        elif endpoint is Endpoint.SET_POINT_SCHEDULE:
            registration = await client.set_set_point_schedule_webhook(target.url, key)
        else:
            registration = await client.set_price_signal_webhook(
                target.url, key, open_adr=wanted.open_adr
            )
        self._sent[endpoint] = wanted
        self.registrations[endpoint] = registration
        LOGGER.debug(
            "Registered the %s URL with the %s endpoint", target.kind, endpoint
        )

    def _handle_success(self, target: WebhookTarget) -> None:
        """Record a pass that left every endpoint registered."""
        for endpoint in set(self._sent) - set(self._enabled_endpoints()):
            # WattShift has no way to delete a registration; the receiver
            # acknowledges those events without acting on them.
            del self._sent[endpoint]
        if self._problem is not None:
            LOGGER.info("WattShift has the webhook registered again")
        self._problem = None
        self._retries = 0
        self._auth_failures = 0
        self.last_error = None
        self.last_registered = dt_util.utcnow()
        self.url_kind = target.kind
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id(ISSUE_AUTH_FAILED))
        self._set_status(WebhookStatus.REGISTERED)

    def _handle_auth_failure(self, *, start_reauth: bool) -> None:
        """Ask the user for a new key after WattShift rejected it twice."""
        if self._stopped:
            return
        self._report_problem(
            "WattShift rejected the API key; reauthentication is required"
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self._issue_id(ISSUE_AUTH_FAILED),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_AUTH_FAILED,
            translation_placeholders={"title": self._entry.title},
        )
        self._set_status(WebhookStatus.AUTHENTICATION_FAILED)
        if start_reauth:
            # During setup, ConfigEntryAuthFailed starts the reauth flow.
            self._entry.async_start_reauth(self._hass)

    def _handle_transient_failure(self, err: WattShiftError) -> None:
        """Retry with a doubling delay, or after the delay WattShift requests."""
        delay = min(RETRY_FIRST_DELAY * 2**self._retries, RETRY_MAX_DELAY)
        if isinstance(err, WattShiftRateLimitError) and err.retry_after_seconds:
            # Honour WattShift's delay, within bounds that keep retrying.
            delay = min(max(err.retry_after_seconds, 1.0), RETRY_AFTER_MAX_DELAY)
        self._retries += 1
        self._report_problem(
            f"Could not register the webhook with WattShift ({self.last_error}); "
            f"retrying in {delay:.0f} s"
        )
        self._set_status(WebhookStatus.ERROR)
        self._schedule_retry(delay)

    def _set_unreachable(self) -> None:
        """Record that WattShift has no URL to reach Home Assistant."""
        hass = self._hass
        waiting_for_cloud = cloudhook.async_is_subscribed(hass)
        if waiting_for_cloud:
            # The cloudhook WattShift already has works again once the cloud
            # reconnects, and the connection listener registers then.
            self.last_error = "Home Assistant Cloud is not connected"
        else:
            self.last_error = "Home Assistant has no external URL"
            ir.async_create_issue(
                hass,
                DOMAIN,
                self._issue_id(ISSUE_NO_URL),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_NO_URL,
                translation_placeholders={"title": self._entry.title},
            )
        self._report_problem(
            f"WattShift cannot reach Home Assistant: {self.last_error.lower()}"
        )
        self.url_kind = None
        self._set_status(WebhookStatus.UNREACHABLE)

    def _report_problem(self, message: str) -> None:
        """Log a problem when it starts, and only then."""
        if self._problem is None:
            LOGGER.warning(message)
        else:
            LOGGER.debug(message)
        self._problem = message

    def _set_status(self, status: WebhookStatus) -> None:
        """Store the status and tell the entities."""
        self.status = status
        for listener in list(self._listeners):
            listener()

    def _schedule_retry(self, delay: float) -> None:
        """Try the registration again after delay seconds."""
        self._stop_retry()
        if self._stopped:
            return
        self._cancel_retry = async_call_later(
            self._hass,
            delay,
            HassJob(self._async_retry, cancel_on_shutdown=True),
        )

    @callback
    def _async_retry(self, _now: datetime) -> None:
        """Run the retry the timer was set for."""
        self._cancel_retry = None
        self.async_schedule_sync()

    def _stop_retry(self) -> None:
        """Cancel a pending retry."""
        if self._cancel_retry is not None:
            self._cancel_retry()
            self._cancel_retry = None

    def _describe(self, err: WattShiftError) -> str:
        """Summarise an error without the secrets WattShift might echo back."""
        text = describe_error(err)
        for secret in (self._webhook_id, self._receiver.keys.current):
            text = text.replace(secret, "**REDACTED**")
        return text

    def _issue_id(self, kind: str) -> str:
        """Return the repair issue id of this entry for one kind of problem."""
        return f"{kind}_{self._entry.entry_id}"

    @callback
    def async_delete_issues(self) -> None:
        """Remove this entry's repair issues."""
        for kind in (ISSUE_NO_URL, ISSUE_AUTH_FAILED):
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id(kind))


async def async_resolve_target(
    hass: HomeAssistant, webhook_id: str
) -> WebhookTarget | None:
    """Return the URL WattShift should call, or None when there is none.

    A cloudhook wins when Home Assistant Cloud is subscribed and connected;
    otherwise the external URL is used. The internal URL is never used,
    because WattShift calls from the internet.
    """
    if (url := await cloudhook.async_get_cloudhook_url(hass, webhook_id)) is not None:
        return WebhookTarget(url, UrlKind.CLOUD)

    try:
        url = webhook.async_generate_url(
            hass,
            webhook_id,
            allow_internal=False,
            allow_ip=True,
            prefer_external=True,
        )
    except NoURLAvailableError:
        return None
    return WebhookTarget(url, UrlKind.EXTERNAL)


def describe_error(err: WattShiftError) -> str:
    """Summarise an error for logs, diagnostics and actions, without secrets."""
    if isinstance(err, WattShiftApiError) and err.status is not None:
        code = f" {err.error_code}" if err.error_code else ""
        return f"HTTP {err.status}{code}: {err.message}"
    return str(err) or type(err).__name__
