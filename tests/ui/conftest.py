"""Fixtures for the UI tests: hass, the simulator and headless Chromium.

Each test starts the stack of scripts/demo (the WattShift simulator and a real
hass process on 127.0.0.1 with three generic thermostats and an onboarded
owner), opens Home Assistant's frontend in Debian's Chromium and logs in
through the login page. Screenshots go to artifacts/ui/<test name>/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import os
from pathlib import Path
import re
import shutil

from playwright.async_api import Browser
import pytest

from scripts.demo_stack.browser import CHROMIUM, Frontend, launch_chromium
from scripts.demo_stack.stack import OWNER_USERNAME, DemoStack

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ui"
# The demo stack's entry exposes these two thermostats, so that the options
# flow can add the third one, climate.office.
ENTRY_THERMOSTATS = ("climate.living_room", "climate.bedroom")
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def in_ci() -> bool:
    """Tell whether the tests run in CI, where .ci/run installs Chromium."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Return Debian's Chromium; skip without it, except in CI."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"{CHROMIUM} is missing; install it with `apt-get install chromium`"
    if in_ci():
        pytest.fail(
            f"{message}. CI must have it, because .ci/run installs it.", pytrace=False
        )
    pytest.skip(message)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[None]:
    """Keep each phase's report, so that fixtures can tell whether a test failed."""
    report: pytest.TestReport = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


class Screenshots:
    """Numbered screenshots of one test in artifacts/ui/<test name>/."""

    def __init__(self, directory: Path) -> None:
        """Empty the directory, so that it shows only this run."""
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        self.directory = directory
        self._count = 0

    async def take(
        self, frontend: Frontend, name: str, *, dialog: bool = False
    ) -> Path:
        """Save the viewport, or only the open dialog, as NN-name.png."""
        self._count += 1
        path = self.directory / f"{self._count:02d}-{name}.png"
        if dialog:
            await frontend.dialog().screenshot(path=path)
        else:
            await frontend.page.screenshot(path=path)
        return path


def artifact_dir(request: pytest.FixtureRequest) -> Path:
    """Return artifacts/ui/<test name>/ of the running test."""
    return ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)


def failed(request: pytest.FixtureRequest) -> bool:
    """Tell whether the running test's setup or call failed."""
    reports = request.node.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    """Return the screenshot folder of the running test."""
    return Screenshots(artifact_dir(request))


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Start headless Chromium for one test."""
    async with launch_chromium(chromium) as running:
        yield running


@pytest.fixture
async def bare_stack(
    chromium: Path, socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncIterator[DemoStack]:
    """Start hass with an onboarded owner and no WattShift entry."""
    async for running in _run_stack(
        DemoStack(add_entry=False, keep_files=True), request
    ):
        yield running


@pytest.fixture
async def stack(
    chromium: Path, socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncIterator[DemoStack]:
    """Start hass with a WattShift entry that exposes ENTRY_THERMOSTATS."""
    stack = DemoStack(thermostats=ENTRY_THERMOSTATS, keep_files=True)
    async for running in _run_stack(stack, request):
        yield running


@pytest.fixture
async def logged_out_frontend(
    bare_stack: DemoStack, browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[Frontend]:
    """Open a tab on a hass without WattShift; the test logs in itself."""
    async for tab in _open_frontend(bare_stack, browser, request, log_in=False):
        yield tab


@pytest.fixture
async def frontend(
    stack: DemoStack, browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[Frontend]:
    """Open the frontend of a hass with a WattShift entry, logged in as the owner."""
    async for tab in _open_frontend(stack, browser, request, log_in=True):
        yield tab


async def _run_stack(
    stack: DemoStack, request: pytest.FixtureRequest
) -> AsyncIterator[DemoStack]:
    """Run a stack that keeps its files, and keep its hass log after a failure."""
    keep_log = True
    try:
        async with stack:
            yield stack
        keep_log = failed(request)
    finally:
        if stack.work_dir is not None:
            if keep_log:
                directory = artifact_dir(request)
                directory.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(stack.work_dir / "hass.log", directory / "hass.log")
            shutil.rmtree(stack.work_dir, ignore_errors=True)


async def _open_frontend(
    stack: DemoStack, browser: Browser, request: pytest.FixtureRequest, *, log_in: bool
) -> AsyncIterator[Frontend]:
    """Open a tab, log in if asked to, and save what it shows after a failure."""
    tab = await Frontend.open(browser, stack.url)
    try:
        if log_in:
            try:
                await tab.log_in(OWNER_USERNAME, stack.owner_password)
            except Exception:
                await _save_failure(tab, request)
                raise
        yield tab
        if failed(request):
            await _save_failure(tab, request)
    finally:
        await tab.close()


async def _save_failure(tab: Frontend, request: pytest.FixtureRequest) -> None:
    """Save the page, its JavaScript errors and its blocked requests."""
    directory = artifact_dir(request)
    directory.mkdir(parents=True, exist_ok=True)
    await tab.page.screenshot(path=directory / "failure.png")
    (directory / "page-errors.txt").write_text(
        "\n".join(tab.page_errors), encoding="utf-8"
    )
    (directory / "blocked-requests.txt").write_text(
        "\n".join(tab.blocked_urls), encoding="utf-8"
    )
