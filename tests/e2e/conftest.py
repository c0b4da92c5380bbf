"""Headless Debian Chromium driven by Playwright (no browser download: `make browser` installs chromium)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = {"desktop": 1280, "phone": 390}
STAR_COLOUR = "rgb(232, 160, 19)"
# In the project (not the test run's temporary var dir), so they are still there to look at after a run.
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "var" / "e2e"


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium).", pytrace=False)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run beside one unless
    # told it is safe. It is here (the test's ORM calls and the browser steps never run concurrently), and
    # only while the browser is open: the rest of the suite keeps Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class BrowserPage:
    """A page plus the browser-side problems it reported (console errors, uncaught exceptions, CSP)."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.problems.append(message.text))
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def screenshot(self, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def browser_page(chromium_browser, request) -> Iterator[BrowserPage]:
    context = chromium_browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    wrapped = BrowserPage(context.new_page())
    yield wrapped
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        wrapped.screenshot(f"{request.node.name}-failed")
    context.close()


@pytest.fixture(params=list(WIDTHS))
def screen(request, chromium_browser) -> Iterator[tuple[str, BrowserPage]]:
    width = WIDTHS[request.param]
    context = chromium_browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": 860}, is_mobile=width < 600, has_touch=width < 600
    )
    context.set_default_timeout(15_000)
    page = BrowserPage(context.new_page())
    yield request.param, page
    context.close()


def log_in(page, live_server, user) -> None:
    """Give the browser the session of a user logged in through Django's test client."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def lit_stars(page, field: str) -> int:
    """How many star labels of a rating field are drawn in the star colour (pointer moved away first)."""
    page.mouse.move(1, 1)
    fieldset = page.locator("fieldset", has=page.locator(f'input[name="{field}"]'))
    colours = fieldset.locator("label.star").evaluate_all("els => els.map(e => getComputedStyle(e).color)")
    return sum(colour == STAR_COLOUR for colour in colours)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
