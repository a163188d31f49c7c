"""Look at an added WattShift entry in the browser: device, options, repairs."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import expect
import pytest

from scripts.demo_stack.browser import Frontend
from scripts.demo_stack.stack import DemoStack

from .conftest import Screenshots

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]

# Names of the entities on the service device, as en.json translates them.
DIAGNOSTIC_ENTITIES = {
    "Webhook status": "Registered",
    "Connection": "Connected",
    "Last message": "Unknown",
}
DISABLED_ENTITIES = (
    "Thermostat queries received",
    "Schedules received",
    "Price signals received",
    "Other events received",
)
NO_URL_TITLE = "WattShift cannot reach Home Assistant"
# Seconds the integration may take to notice a changed external URL.
ISSUE_TIMEOUT = 20


async def test_service_device_page(
    stack: DemoStack, frontend: Frontend, screenshots: Screenshots
) -> None:
    page = frontend.page
    await frontend.goto("/config/integrations/integration/wattshift")
    await expect(page.get_by_role("button", name="Configure")).to_be_visible()
    await screenshots.take(frontend, "integration-page")

    await page.get_by_role("link", name="1 service").first.click()
    card = page.locator("ha-device-entities-card").filter(has_text="Diagnostic")
    await expect(card).to_be_visible()
    await expect(page.get_by_text("Partner API").first).to_be_visible()
    # A row's state is light DOM text of an element whose shadow root contains
    # the name, so the states are matched as substrings.
    for name, state in DIAGNOSTIC_ENTITIES.items():
        await expect(card.get_by_text(name, exact=True)).to_be_visible()
        await expect(card.get_by_text(state)).to_be_visible()
    await screenshots.take(frontend, "device-page")

    await card.get_by_role("button", name=re.compile(r"\+\d+ disabled entit")).click()
    for name in DISABLED_ENTITIES:
        await expect(card.get_by_text(name, exact=True)).to_be_visible()
    await screenshots.take(frontend, "disabled-entities")

    # A delivery sets the time of the last message, which the row then shows
    # as a relative time instead of "Unknown".
    answer = await stack.deliver("THERMOSTAT_QUERY", {})
    assert answer.status == 200
    await expect(card.get_by_text("Unknown")).to_have_count(0)
    await screenshots.take(frontend, "after-delivery")


async def test_options_flow_adds_thermostat(
    stack: DemoStack, frontend: Frontend, screenshots: Screenshots
) -> None:
    page = frontend.page
    await frontend.goto("/config/integrations/integration/wattshift")
    await page.get_by_role("button", name="Configure").click()

    await expect(frontend.text("WattShift options")).to_be_visible()
    await expect(frontend.text("Thermostats")).to_be_visible()
    await expect(
        page.get_by_text("Climate entities WattShift may see.")
    ).to_be_visible()
    for name in ("Apply WattShift schedules", "Detect manual overrides"):
        await expect(page.get_by_role("switch", name=name)).to_be_checked()
    for name in ("Receive price signals", "Price signals in OpenADR format"):
        await expect(page.get_by_role("switch", name=name)).not_to_be_checked()
    await expect(page.get_by_role("spinbutton", name="Override hold")).to_have_value(
        "0"
    )
    await expect(
        page.get_by_role("spinbutton", name="Price peak threshold")
    ).to_be_empty()
    await expect(
        page.get_by_text("How long a manual override is kept, in minutes.")
    ).to_be_visible()
    await screenshots.take(frontend, "options", dialog=True)

    await frontend.pick_entity("Office")
    await screenshots.take(frontend, "office-added", dialog=True)
    await page.get_by_role("button", name="Submit").click()

    await expect(frontend.text("Link WattShift devices")).to_be_visible()
    await expect(
        page.get_by_text("Optionally enter the WattShift device id (ws_device_…)")
    ).to_be_visible()
    living_room = page.get_by_role("textbox", name="climate.living_room")
    await living_room.fill("living-room")
    await page.get_by_role("button", name="Submit").click()
    await expect(
        page.get_by_text("A WattShift device id starts with ws_device_.")
    ).to_be_visible()
    await screenshots.take(frontend, "invalid-device-id", dialog=True)

    await living_room.fill("ws_device_living_room")
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text("Options successfully saved").first).to_be_visible()
    await screenshots.take(frontend, "options-saved", dialog=True)

    answer = await stack.deliver("THERMOSTAT_QUERY", {})
    assert answer.status == 200
    records = {
        record["entityId"]: record for record in answer.body["thermostats"].values()
    }
    assert sorted(records) == [
        "climate.bedroom",
        "climate.living_room",
        "climate.office",
    ]
    assert records["climate.living_room"]["deviceId"] == "ws_device_living_room"
    assert records["climate.office"]["deviceId"] is None


async def test_no_url_repair(
    stack: DemoStack, frontend: Frontend, screenshots: Screenshots
) -> None:
    page = frontend.page
    assert await wattshift_issues(stack) == []

    # Without an external URL and without Home Assistant Cloud, WattShift has
    # no address to call.
    await stack.client.update_core_config(external_url=None)
    await wait_for_issues(stack, ["no_url"])
    await frontend.goto("/config/repairs")
    issue = page.get_by_text(NO_URL_TITLE)
    await expect(issue).to_be_visible()
    await screenshots.take(frontend, "repairs")

    await issue.click()
    await expect(
        page.get_by_text(
            "Home Assistant has no Home Assistant Cloud subscription and no "
            "external URL, so WattShift cannot send requests to the WattShift entry."
        )
    ).to_be_visible()
    await expect(
        page.get_by_text("set an external https URL under Settings > System > Network")
    ).to_be_visible()
    await screenshots.take(frontend, "repair-details", dialog=True)

    await stack.client.update_core_config(external_url=stack.url)
    await wait_for_issues(stack, [])
    await frontend.goto("/config/repairs")
    await expect(
        page.get_by_text("Repairs", exact=True).filter(visible=True).first
    ).to_be_visible()
    await expect(page.get_by_text(NO_URL_TITLE)).to_have_count(0)
    await screenshots.take(frontend, "repaired")


async def wattshift_issues(stack: DemoStack) -> list[str]:
    """Return the translation keys of WattShift's open repair issues."""
    result = await stack.client.websocket_command({"type": "repairs/list_issues"})
    return sorted(
        issue["translation_key"]
        for issue in result["issues"]
        if issue["domain"] == "wattshift"
    )


async def wait_for_issues(stack: DemoStack, expected: list[str]) -> None:
    """Wait until WattShift's open repair issues are the expected ones."""
    issues: list[str] = []
    try:
        async with asyncio.timeout(ISSUE_TIMEOUT):
            while (issues := await wattshift_issues(stack)) != expected:
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(f"WattShift's repair issues stayed {issues}, expected {expected}")
