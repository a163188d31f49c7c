"""Add WattShift in the browser: Settings > Devices & services > Add integration."""

from __future__ import annotations

import re

from playwright.async_api import expect
import pytest

from scripts.demo_stack.browser import Frontend
from scripts.demo_stack.stack import OWNER_NAME, OWNER_USERNAME, DemoStack

from .conftest import Screenshots

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]

# Field names of the user step. The frontend shows such a name instead of
# the label when a translation is missing.
RAW_FIELD_NAMES = re.compile(r"\b(api_key|base_url|advanced|thermostats)\b")
INVALID_AUTH = (
    "WattShift rejected the API key. Check that you copied the whole key and "
    "that it has not been revoked."
)


async def test_add_integration(
    bare_stack: DemoStack, logged_out_frontend: Frontend, screenshots: Screenshots
) -> None:
    frontend = logged_out_frontend
    page = frontend.page

    await frontend.fill_login(OWNER_USERNAME, bare_stack.owner_password)
    await screenshots.take(frontend, "login")
    await frontend.submit_login()
    await expect(page.get_by_text(OWNER_NAME).first).to_be_visible()

    await frontend.start_config_flow("WattShift")
    await expect(frontend.text("Connect to WattShift")).to_be_visible()
    await expect(
        page.get_by_text("Enter the WattShift API key of your organisation.")
    ).to_be_visible()
    await expect(page.get_by_role("textbox", name="API key")).to_be_visible()
    await expect(
        page.get_by_text("The partner API key WattShift issued to your organisation.")
    ).to_be_visible()
    advanced = page.get_by_role("button", name="Advanced settings")
    await expect(advanced).to_have_attribute("aria-expanded", "false")
    base_url = page.get_by_role("textbox", name="API base URL")
    await expect(base_url).to_be_hidden()
    assert not RAW_FIELD_NAMES.search(await frontend.dialog().inner_text())
    await screenshots.take(frontend, "user-step", dialog=True)

    await advanced.click()
    await expect(advanced).to_have_attribute("aria-expanded", "true")
    await expect(
        page.get_by_text("Change these only for WattShift's sandbox")
    ).to_be_visible()
    await expect(base_url).to_have_value("https://api.wattshift.com")
    await expect(
        page.get_by_text("Address of the WattShift API, without the /v1 path.")
    ).to_be_visible()
    assert not RAW_FIELD_NAMES.search(await frontend.dialog().inner_text())
    await screenshots.take(frontend, "advanced-settings", dialog=True)

    # The simulator's base URL goes in before the first submit, so that no
    # request is sent to WattShift's real API.
    await base_url.fill(bare_stack.simulator.base_url)
    await page.get_by_role("textbox", name="API key").fill("not-a-wattshift-key")
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text(INVALID_AUTH)).to_be_visible()
    await screenshots.take(frontend, "invalid-auth", dialog=True)

    # The frontend renders the form anew after an error, with the section
    # collapsed again.
    if await advanced.get_attribute("aria-expanded") == "false":
        await advanced.click()
    await base_url.fill(bare_stack.simulator.base_url)
    await page.get_by_role("textbox", name="API key").fill(bare_stack.api_key)
    await page.get_by_role("button", name="Submit").click()

    await expect(frontend.text("Choose thermostats")).to_be_visible()
    await expect(
        page.get_by_text("Pick the climate entities WattShift may see.")
    ).to_be_visible()
    await expect(frontend.text("Thermostats")).to_be_visible()
    await expect(
        page.get_by_text("Climate entities whose temperatures, setpoints and modes")
    ).to_be_visible()
    await frontend.pick_entity("Living room")
    await frontend.pick_entity("Office")
    assert not RAW_FIELD_NAMES.search(await frontend.dialog().inner_text())
    await screenshots.take(frontend, "thermostats-step", dialog=True)
    await page.get_by_role("button", name="Submit").click()

    # The 2025.4 frontend titles this dialog "Success!" and 2026.2 "Device
    # created". Both show the service device with its model.
    await expect(page.get_by_text("Partner API").first).to_be_visible()
    await screenshots.take(frontend, "entry-created", dialog=True)
    await page.get_by_role("button", name=re.compile("finish", re.IGNORECASE)).click()
    await expect(frontend.dialog()).to_have_count(0)

    entries = await bare_stack.client.config_entries("wattshift")
    assert [entry["state"] for entry in entries] == ["loaded"]
    answer = await bare_stack.deliver("THERMOSTAT_QUERY", {})
    assert answer.status == 200
    exposed = sorted(
        record["entityId"] for record in answer.body["thermostats"].values()
    )
    assert exposed == ["climate.living_room", "climate.office"]
