"""Home Assistant Cloud, reached only where the cloud integration is set up.

Importing homeassistant.components.cloud imports the voice, camera and media
components with their Python requirements. An installation without Home
Assistant Cloud may lack those packages, so this module imports the cloud
component only when it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from types import ModuleType
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .const import LOGGER


def _cloud_module(hass: HomeAssistant) -> ModuleType | None:
    """Return the cloud component when Home Assistant has set it up."""
    if "cloud" not in hass.config.components:
        return None
    from homeassistant.components import cloud  # noqa: PLC0415

    return cloud


@callback
def async_is_subscribed(hass: HomeAssistant) -> bool:
    """Tell whether the user has an active Home Assistant Cloud subscription."""
    cloud = _cloud_module(hass)
    return cloud is not None and bool(cloud.async_active_subscription(hass))


async def async_get_cloudhook_url(hass: HomeAssistant, webhook_id: str) -> str | None:
    """Return the cloudhook URL of a webhook, creating it when needed.

    Returns None when there is no subscription, no connection, or the cloud
    cannot create the cloudhook right now.
    """
    cloud = _cloud_module(hass)
    if cloud is None or not (
        cloud.async_active_subscription(hass) and cloud.async_is_connected(hass)
    ):
        return None
    try:
        url: str = await cloud.async_get_or_create_cloudhook(hass, webhook_id)
    except cloud.CloudNotAvailable:
        LOGGER.debug("Home Assistant Cloud could not provide a cloudhook")
        return None
    return url


async def async_delete_cloudhook(hass: HomeAssistant, webhook_id: str) -> None:
    """Delete the cloudhook of a webhook if there is one; never raises."""
    cloud = _cloud_module(hass)
    if cloud is None:
        return
    # The cloud raises ValueError for a webhook id it has no cloudhook for.
    with suppress(cloud.CloudNotAvailable, ValueError):
        await cloud.async_delete_cloudhook(hass, webhook_id)


@callback
def async_listen(
    hass: HomeAssistant, webhook_id: str, on_change: Callable[[], None]
) -> list[CALLBACK_TYPE]:
    """Call on_change when the cloud connects, disconnects or the cloudhook changes.

    Return the unsubscribe callbacks. The cloudhook listener exists from Home
    Assistant 2025.12 on and is used only where the running version has it.
    """
    cloud = _cloud_module(hass)
    if cloud is None:
        return []

    @callback
    def _connection_changed(state: Any) -> None:
        LOGGER.debug("Home Assistant Cloud connection changed: %s", state)
        on_change()

    @callback
    def _cloudhook_changed(_cloudhook: dict[str, Any] | None) -> None:
        on_change()

    unsubscribers = [cloud.async_listen_connection_change(hass, _connection_changed)]
    listen_cloudhook = getattr(cloud, "async_listen_cloudhook_change", None)
    if listen_cloudhook is not None:
        unsubscribers.append(listen_cloudhook(hass, webhook_id, _cloudhook_changed))
    return unsubscribers
