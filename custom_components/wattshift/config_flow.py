"""Config, reauthentication, reconfiguration and options flows for WattShift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol
from yarl import URL

from . import cloudhook
from .api import (
    DEFAULT_BASE_URL,
    WattShiftAuthenticationError,
    WattShiftClient,
    WattShiftError,
    WebhookRegistration,
)
from .const import (
    CONF_APPLY_SCHEDULES,
    CONF_BASE_URL,
    CONF_DETECT_OVERRIDES,
    CONF_DEVICE_LINKS,
    CONF_OPEN_ADR,
    CONF_OVERRIDE_HOLD,
    CONF_PRICE_PEAK_THRESHOLD,
    CONF_PRICE_SIGNALS,
    CONF_SECURITY_KEY,
    CONF_THERMOSTATS,
    DEFAULT_APPLY_SCHEDULES,
    DEFAULT_DETECT_OVERRIDES,
    DEFAULT_OPEN_ADR,
    DEFAULT_OVERRIDE_HOLD,
    DEFAULT_PRICE_SIGNALS,
    DOMAIN,
    LOGGER,
    SECTION_ADVANCED,
    WATTSHIFT_DEVICE_ID_PREFIX,
)
from .thermostats import async_entity_id_from_ref, async_refs_from_entity_ids
from .webhook import async_resolve_target, generate_security_key

TITLE = "WattShift"

_API_KEY_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
)
_THERMOSTATS_SELECTOR = EntitySelector(
    EntitySelectorConfig(domain="climate", multiple=True)
)


def _credentials_schema(*, base_url: str) -> vol.Schema:
    """Return the API key form with the base URL in a collapsed section."""
    return vol.Schema(
        {
            vol.Required(CONF_API_KEY): _API_KEY_SELECTOR,
            vol.Required(SECTION_ADVANCED): section(
                vol.Schema(
                    {
                        vol.Required(CONF_BASE_URL, default=base_url): TextSelector(
                            TextSelectorConfig(type=TextSelectorType.URL)
                        )
                    }
                ),
                {"collapsed": True},
            ),
        }
    )


class WattShiftConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a WattShift account."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no credentials and no webhook id."""
        self._entry_data: dict[str, Any] = {}
        self._webhook_id: str | None = None
        self._security_key: str | None = None
        self._entry_created = False

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> WattShiftOptionsFlow:
        """Return the options flow."""
        return WattShiftOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API key and register Home Assistant's webhook with it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key, base_url = _read_credentials(user_input)
            # The same key always belongs to the same organisation.
            self._async_abort_entries_match({CONF_API_KEY: api_key})
            if not _is_http_url(base_url):
                errors["base"] = "invalid_base_url"

            # Keep the ids across retries of this form, so a failed attempt
            # leaves at most one cloudhook behind.
            self._webhook_id = self._webhook_id or webhook.async_generate_id()
            self._security_key = self._security_key or generate_security_key()
            registration = (
                None
                if errors
                else await self._async_register(
                    errors, api_key, base_url, self._webhook_id, self._security_key
                )
            )
            if registration is not None:
                org_id = registration.api_owner_org_id
                if (
                    existing
                    := self.hass.config_entries.async_entry_for_domain_unique_id(
                        DOMAIN, org_id
                    )
                ):
                    await self._async_restore_registration(existing, self._webhook_id)
                    return self.async_abort(reason="already_configured")
                await self.async_set_unique_id(org_id)
                self._entry_data = {
                    CONF_API_KEY: api_key,
                    CONF_BASE_URL: base_url,
                    CONF_WEBHOOK_ID: self._webhook_id,
                    CONF_SECURITY_KEY: self._security_key,
                }
                return await self.async_step_thermostats()

        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _credentials_schema(base_url=DEFAULT_BASE_URL), user_input
            ),
            errors=errors,
        )

    @callback
    def async_remove(self) -> None:
        """Delete the cloudhook of a flow that ended without creating an entry.

        WattShift keeps the URL it was given, because it offers no way to
        delete a registration, but that URL then leads nowhere.
        """
        if self._webhook_id is not None and not self._entry_created:
            self.hass.async_create_task(
                cloudhook.async_delete_cloudhook(self.hass, self._webhook_id),
                f"{DOMAIN} delete the cloudhook of an abandoned flow",
            )

    async def async_step_thermostats(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick the climate entities WattShift may see."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_ids: list[str] = user_input.get(CONF_THERMOSTATS, [])
            if entity_ids:
                self._entry_created = True
                return self.async_create_entry(
                    title=TITLE,
                    data=self._entry_data,
                    options={
                        CONF_THERMOSTATS: async_refs_from_entity_ids(
                            self.hass, entity_ids
                        ),
                        CONF_DEVICE_LINKS: {},
                    },
                )
            errors[CONF_THERMOSTATS] = "no_thermostats"

        return self.async_show_form(
            step_id="thermostats",
            data_schema=vol.Schema(
                {vol.Required(CONF_THERMOSTATS): _THERMOSTATS_SELECTOR}
            ),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start reauthentication after WattShift rejected the API key."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key for the same organisation."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input[CONF_API_KEY].strip()
            base_url = entry.data.get(CONF_BASE_URL, DEFAULT_BASE_URL)
            registration = await self._async_register(
                errors,
                api_key,
                base_url,
                entry.data[CONF_WEBHOOK_ID],
                entry.data[CONF_SECURITY_KEY],
            )
            if registration is not None:
                await self.async_set_unique_id(registration.api_owner_org_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self._async_update_entry(
                    entry, {CONF_API_KEY: api_key}, reason="reauth_successful"
                )

        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_KEY): _API_KEY_SELECTOR}),
            description_placeholders={"title": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the API key or the API base URL of an entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key, base_url = _read_credentials(user_input)
            registration = None
            if not _is_http_url(base_url):
                errors["base"] = "invalid_base_url"
            else:
                registration = await self._async_register(
                    errors,
                    api_key,
                    base_url,
                    entry.data[CONF_WEBHOOK_ID],
                    entry.data[CONF_SECURITY_KEY],
                )
            if registration is not None:
                await self.async_set_unique_id(registration.api_owner_org_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self._async_update_entry(
                    entry,
                    {CONF_API_KEY: api_key, CONF_BASE_URL: base_url},
                    reason="reconfigure_successful",
                )

        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _credentials_schema(
                    base_url=entry.data.get(CONF_BASE_URL, DEFAULT_BASE_URL)
                ),
                user_input,
            ),
            errors=errors,
        )

    async def _async_register(
        self,
        errors: dict[str, str],
        api_key: str,
        base_url: str,
        webhook_id: str,
        security_key: str,
    ) -> WebhookRegistration | None:
        """Register the webhook with WattShift, filling errors on failure."""
        target = await async_resolve_target(self.hass, webhook_id)
        if target is None:
            errors["base"] = (
                "cloud_not_connected"
                if cloudhook.async_is_subscribed(self.hass)
                else "no_url"
            )
            return None

        client = WattShiftClient(
            async_get_clientsession(self.hass), api_key, base_url=base_url
        )
        try:
            return await client.set_thermostat_behavior_webhook(
                target.url, security_key
            )
        except WattShiftAuthenticationError:
            errors["base"] = "invalid_auth"
        except WattShiftError as err:
            LOGGER.debug("Could not register with WattShift: %s", err)
            errors["base"] = "cannot_connect"
        except Exception:  # noqa: BLE001
            LOGGER.exception("Unexpected error registering with WattShift")
            errors["base"] = "unknown"
        return None

    async def _async_restore_registration(
        self, existing: ConfigEntry, webhook_id: str
    ) -> None:
        """Undo what validating a duplicate key did to the existing entry.

        Registering this flow's URL replaced the existing entry's registration
        at WattShift, so the existing entry sends its own URL and key again and
        the cloudhook this flow created is deleted.
        """
        if existing.state is ConfigEntryState.LOADED:
            existing.runtime_data.webhook.async_schedule_full_sync()
        await cloudhook.async_delete_cloudhook(self.hass, webhook_id)
        self._webhook_id = None

    @callback
    def _async_update_entry(
        self, entry: ConfigEntry, updates: dict[str, Any], *, reason: str
    ) -> ConfigFlowResult:
        """Store new credentials and finish the flow.

        A loaded entry applies the change through its update listener without
        reloading; an entry whose setup failed has no listener and is reloaded.
        """
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, **updates}
        )
        if entry.state is not ConfigEntryState.LOADED:
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(reason=reason)


class WattShiftOptionsFlow(OptionsFlow):
    """Change what WattShift may see and do."""

    def __init__(self) -> None:
        """Start with no pending options."""
        self._options: dict[str, Any] = {}

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the thermostats and the features WattShift may use."""
        options = self.config_entry.options
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_ids: list[str] = user_input.get(CONF_THERMOSTATS, [])
            if entity_ids:
                self._options = {
                    **options,
                    **user_input,
                    CONF_THERMOSTATS: async_refs_from_entity_ids(self.hass, entity_ids),
                }
                if CONF_PRICE_PEAK_THRESHOLD not in user_input:
                    # An emptied field means "use the default threshold".
                    self._options.pop(CONF_PRICE_PEAK_THRESHOLD, None)
                return await self.async_step_devices()
            errors[CONF_THERMOSTATS] = "no_thermostats"

        current = {
            CONF_THERMOSTATS: [
                entity_id
                for ref in options.get(CONF_THERMOSTATS, [])
                if (entity_id := async_entity_id_from_ref(self.hass, ref)) is not None
            ],
            CONF_APPLY_SCHEDULES: options.get(
                CONF_APPLY_SCHEDULES, DEFAULT_APPLY_SCHEDULES
            ),
            CONF_DETECT_OVERRIDES: options.get(
                CONF_DETECT_OVERRIDES, DEFAULT_DETECT_OVERRIDES
            ),
            CONF_OVERRIDE_HOLD: options.get(CONF_OVERRIDE_HOLD, DEFAULT_OVERRIDE_HOLD),
            CONF_PRICE_SIGNALS: options.get(CONF_PRICE_SIGNALS, DEFAULT_PRICE_SIGNALS),
            CONF_OPEN_ADR: options.get(CONF_OPEN_ADR, DEFAULT_OPEN_ADR),
            CONF_PRICE_PEAK_THRESHOLD: options.get(CONF_PRICE_PEAK_THRESHOLD),
        }
        schema = vol.Schema(
            {
                vol.Required(CONF_THERMOSTATS): _THERMOSTATS_SELECTOR,
                vol.Required(CONF_APPLY_SCHEDULES): BooleanSelector(),
                vol.Required(CONF_DETECT_OVERRIDES): BooleanSelector(),
                vol.Required(CONF_OVERRIDE_HOLD): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=1440,
                        step=5,
                        unit_of_measurement="min",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(CONF_PRICE_SIGNALS): BooleanSelector(),
                vol.Required(CONF_OPEN_ADR): BooleanSelector(),
                vol.Optional(CONF_PRICE_PEAK_THRESHOLD): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        step=0.001,
                        unit_of_measurement="USD/kWh",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or current
            ),
            errors=errors,
        )

    async def async_step_devices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Link each exposed thermostat to its WattShift device id."""
        refs: list[str] = self._options[CONF_THERMOSTATS]
        entity_ids = {
            ref: async_entity_id_from_ref(self.hass, ref) or ref for ref in refs
        }
        links: dict[str, str] = self._options.get(CONF_DEVICE_LINKS, {})
        errors: dict[str, str] = {}
        if user_input is not None:
            new_links: dict[str, str] = {}
            for ref, entity_id in entity_ids.items():
                device_id = str(user_input.get(entity_id, "")).strip()
                if not device_id:
                    continue
                if not device_id.startswith(WATTSHIFT_DEVICE_ID_PREFIX):
                    errors[entity_id] = "invalid_device_id"
                elif device_id in new_links.values():
                    errors[entity_id] = "duplicate_device_id"
                else:
                    new_links[ref] = device_id
            if not errors:
                return self.async_create_entry(
                    data={**self._options, CONF_DEVICE_LINKS: new_links}
                )

        schema = vol.Schema(
            {
                vol.Optional(entity_id): TextSelector()
                for entity_id in entity_ids.values()
            }
        )
        suggested = user_input or {
            entity_ids[ref]: device_id
            for ref, device_id in links.items()
            if ref in entity_ids
        }
        return self.async_show_form(
            step_id="devices",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={
                "thermostats": "\n".join(
                    f"- {entity_id}: {self._friendly_name(entity_id)}"
                    for entity_id in entity_ids.values()
                )
            },
        )

    def _friendly_name(self, entity_id: str) -> str:
        """Return the name a thermostat shows in the UI."""
        state = self.hass.states.get(entity_id)
        return state.name if state is not None else entity_id


def _read_credentials(user_input: Mapping[str, Any]) -> tuple[str, str]:
    """Return the API key and the base URL without a trailing slash."""
    api_key = str(user_input[CONF_API_KEY]).strip()
    advanced = user_input.get(SECTION_ADVANCED) or {}
    base_url = str(advanced.get(CONF_BASE_URL) or DEFAULT_BASE_URL).strip()
    return api_key, base_url.rstrip("/")


def _is_http_url(value: str) -> bool:
    """Tell whether value is an absolute http or https URL."""
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.scheme in ("http", "https") and bool(url.host)
