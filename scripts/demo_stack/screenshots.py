"""Take the README's screenshots of WattShift in Home Assistant's frontend.

Usage: python -m scripts.demo_stack.screenshots [--output DIR]

Starts the demo stack with a WattShift entry and logs in to the frontend in
Debian's headless Chromium. Saves two cropped PNG files: setup-form.png shows
the setup form with its advanced section open, and device-page.png the
diagnostic card of the service device page with the integration's entities.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import io
from pathlib import Path
import sys
from typing import Final

from PIL import Image
from playwright.async_api import Error as PlaywrightError, expect

from .browser import CHROMIUM, Frontend, launch_chromium
from .config import REPOSITORY_ROOT
from .errors import StackError
from .stack import OWNER_USERNAME, DemoStack

DEFAULT_OUTPUT: Final = REPOSITORY_ROOT / "docs" / "images"
# Image pixels per CSS pixel: the 600 px wide dialog becomes 900 px wide and
# the 318 px wide entity card 795 px wide.
SETUP_FORM_SCALE: Final = 1.5
DEVICE_CARD_SCALE: Final = 2.5
# Colours of the saved PNG files. A palette keeps each file well below
# 100 KB, and the frontend's flat colours lose nothing visible.
PALETTE_COLOURS: Final = 128


def main(argv: Sequence[str] | None = None) -> int:
    """Take the screenshots and return the exit code."""
    parser = argparse.ArgumentParser(
        prog="scripts/screenshots",
        description="Save the README screenshots of WattShift in Home Assistant.",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"folder for the PNG files (default {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        _progress(
            f"error: {CHROMIUM} is missing; install it with `apt-get install chromium`"
        )
        return 1
    args.output.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(_take_screenshots(args.output))
    except StackError as err:
        _progress(f"FAILED: {err}")
        if err.log_tail is not None:
            print(err.log_tail, file=sys.stderr)
        return 1
    except PlaywrightError as err:
        # The page did not show what the screenshot needs, such as the form.
        _progress(f"FAILED in the browser: {err}")
        return 1
    return 0


async def _take_screenshots(output: Path) -> None:
    """Start the stack and the browser, then save both screenshots."""
    async with DemoStack(progress=_progress) as stack, launch_chromium() as browser:
        setup = await Frontend.open(browser, stack.url, scale=SETUP_FORM_SCALE)
        try:
            await setup.log_in(OWNER_USERNAME, stack.owner_password)
            await _save_setup_form(setup, output / "setup-form.png")
        finally:
            await setup.close()

        # The last message row shows a time instead of "Unknown".
        await stack.deliver("THERMOSTAT_QUERY", {})
        device = await Frontend.open(browser, stack.url, scale=DEVICE_CARD_SCALE)
        try:
            await device.log_in(OWNER_USERNAME, stack.owner_password)
            await _save_device_page(device, output / "device-page.png")
        finally:
            await device.close()


async def _save_setup_form(frontend: Frontend, path: Path) -> None:
    """Open the WattShift config flow and save its form."""
    page = frontend.page
    await frontend.start_config_flow("WattShift")
    advanced = page.get_by_role("button", name="Advanced settings")
    await advanced.click()
    await expect(page.get_by_role("textbox", name="API base URL")).to_be_visible()
    # Let the expand animation of the section finish.
    await expect(advanced).to_have_attribute("aria-expanded", "true")
    await page.wait_for_timeout(500)
    _save_png(await frontend.dialog().screenshot(), path)


async def _save_device_page(frontend: Frontend, path: Path) -> None:
    """Open the WattShift service device and save its diagnostic entities."""
    page = frontend.page
    await frontend.goto("/config/integrations/integration/wattshift")
    await page.get_by_role("link", name="1 service").first.click()
    entities = page.locator("ha-device-entities-card").filter(has_text="Diagnostic")
    await expect(entities.get_by_text("Webhook status", exact=True)).to_be_visible()
    await expect(entities.get_by_text("Unknown")).to_have_count(0)
    _save_png(await entities.screenshot(), path)


def _save_png(png: bytes, path: Path) -> None:
    """Save a screenshot with a small palette, and report its size."""
    with Image.open(io.BytesIO(png)) as image:
        reduced = image.convert("RGB").quantize(colors=PALETTE_COLOURS)
        reduced.save(path, optimize=True)
        width, height = image.size
    _progress(f"saved {path} ({width}x{height}, {path.stat().st_size // 1024} KB)")


def _progress(message: str) -> None:
    """Print a progress line to stderr."""
    print(f"screenshots: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
