"""Drive Home Assistant's frontend in Debian's headless Chromium with Playwright.

The UI tests and scripts/screenshots share these helpers. Playwright starts
the system browser at /usr/bin/chromium and never downloads a browser of its
own. The page may only reach 127.0.0.1: every other request is aborted, so
the brand icons that the frontend loads from the internet stay blank.

The helpers work with the frontends of Home Assistant 2025.4
(home-assistant-frontend 20250411.0) and 2026.2 (20260128.6). Where the two
differ, the helper's docstring describes both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final, Self
from urllib.parse import urlsplit

from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = (
    "--headless",
    # Chromium's sandbox does not work for root, which CI runs as.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    # Every host name but 127.0.0.1 fails to resolve, so the browser itself
    # cannot reach another machine either.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
VIEWPORT: Final[ViewportSize] = {"width": 1280, "height": 900}
# Milliseconds one browser action (click, fill, navigation) may take. The
# first page load compiles the frontend's JavaScript, which takes seconds on
# a two-core machine.
ACTION_TIMEOUT_MS: Final = 30_000
# Milliseconds an `expect` assertion waits for the page to match.
EXPECT_TIMEOUT_MS: Final = 20_000
_ALLOWED_HOSTS: Final = frozenset({"127.0.0.1"})


@asynccontextmanager
async def launch_chromium(executable: Path = CHROMIUM) -> AsyncIterator[Browser]:
    """Start headless Chromium and close it on exit."""
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_ARGS),
        )
        try:
            yield browser
        finally:
            await browser.close()


class Frontend:
    """One browser tab on a Home Assistant frontend, limited to 127.0.0.1."""

    def __init__(
        self,
        context: BrowserContext,
        page: Page,
        base_url: str,
        blocked_urls: list[str],
    ) -> None:
        """Wrap a page of a context whose requests are already filtered."""
        self.context = context
        self.page = page
        self.base_url = base_url
        # URLs of requests to other hosts that were aborted, filled by the
        # context's request filter.
        self.blocked_urls = blocked_urls
        # Uncaught JavaScript errors of the page, for failure reports.
        self.page_errors: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    @classmethod
    async def open(cls, browser: Browser, base_url: str, *, scale: float = 1) -> Self:
        """Open a new tab with a fresh profile on the Home Assistant at base_url.

        scale is the number of screenshot pixels per CSS pixel.
        """
        context = await browser.new_context(
            viewport=VIEWPORT,
            device_scale_factor=scale,
            locale="en-US",
            timezone_id="UTC",
            # Requests of a service worker would bypass the request filter.
            service_workers="block",
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        blocked_urls: list[str] = []
        await context.route("**/*", lambda route: _filter_request(route, blocked_urls))
        return cls(context, await context.new_page(), base_url, blocked_urls)

    async def close(self) -> None:
        """Close the tab and its profile."""
        await self.context.close()

    async def goto(self, path: str) -> None:
        """Open a path of the frontend, such as /config/repairs."""
        await self.page.goto(f"{self.base_url}{path}")

    async def fill_login(self, username: str, password: str) -> None:
        """Open the login page and fill in the credentials without submitting."""
        page = self.page
        await self.goto("/")
        await page.get_by_role("textbox", name="Username").fill(username)
        # "Password" alone also matches the "Show password" button.
        await page.get_by_role("textbox", name="Password").fill(password)

    async def submit_login(self) -> None:
        """Submit the login form and wait until the frontend is connected."""
        page = self.page
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(
            lambda url: "/auth/" not in url and "auth_callback" not in url
        )
        # The frontend sets hass.connected once its websocket is authenticated.
        await page.wait_for_function(
            "() => document.querySelector('home-assistant')?.hass?.connected === true"
        )

    async def log_in(self, username: str, password: str) -> None:
        """Log in through the login page, as a person would."""
        await self.fill_login(username, password)
        await self.submit_login()

    async def start_config_flow(self, brand: str) -> None:
        """Open Settings > Devices & services > Add integration and pick a brand."""
        page = self.page
        await self.goto("/config/integrations/dashboard")
        await page.get_by_role("button", name="Add integration").click()
        await page.get_by_role("textbox", name="Search for a brand name").fill(brand)
        # The integration's own card on the dashboard has the same text.
        picker = page.locator("dialog-add-integration")
        await picker.get_by_text(brand, exact=True).click()

    def text(self, text: str) -> Locator:
        """Return the first element whose whole text is text.

        Dialog titles render twice in the DOM, as the heading slot and as the
        heading, so the first match is the one to check.
        """
        return self.page.get_by_text(text, exact=True).first

    def dialog(self) -> Locator:
        """Return the visible card of the open dialog, for cropped screenshots.

        Config and options flows open in ha-dialog, a Material 2 dialog whose
        card has the class mdc-dialog__surface. Repair issues open in
        ha-md-dialog (2025.4) or ha-wa-dialog (2026.2), which draw their card
        as a native dialog element.
        """
        return (
            self.page.locator(
                ".mdc-dialog__surface, ha-md-dialog dialog, ha-wa-dialog dialog"
            )
            .filter(visible=True)
            .last
        )

    async def pick_entity(self, name: str) -> None:
        """Add an entity to the open form's entity list by its friendly name.

        The 2025.4 frontend shows one combo box per entity and an empty one
        for the next. The 2026.2 frontend shows an "Add entity" button, or
        "Select an entity" while the list is empty, that opens a searchable
        list.
        """
        page = self.page
        pickers = page.locator("ha-entity-picker")
        combo_boxes = page.get_by_role("combobox", name="Entity")
        add_buttons = page.get_by_text("Select an entity").or_(
            page.get_by_role("button", name="Add entity")
        )
        await expect(combo_boxes.or_(add_buttons).first).to_be_visible()
        before = await pickers.count()
        if await combo_boxes.count():
            empty = combo_boxes.last
            await empty.click()
            await empty.fill(name)
            await page.get_by_role("option", name=name).first.click()
        else:
            await add_buttons.last.click()
            popover = page.get_by_role("dialog", name="Select option")
            await popover.get_by_role("textbox").fill(name)
            await popover.get_by_text(name, exact=True).click()
        await expect(pickers).to_have_count(before + 1)


async def _filter_request(route: Route, blocked_urls: list[str]) -> None:
    """Let requests to 127.0.0.1 through and abort every other one."""
    url = route.request.url
    if urlsplit(url).hostname in _ALLOWED_HOSTS:
        await route.continue_()
        return
    blocked_urls.append(url)
    await route.abort("blockedbyclient")
