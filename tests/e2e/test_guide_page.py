"""The failure-signal guide on a phone, with the demo data, in a real browser under the site's CSP."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.e2e.conftest import BrowserPage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_reads_the_go_guide_on_a_390px_phone_and_prints_without_the_site_chrome(
    live_server, chromium_browser, settings
):
    settings.DEBUG = False  # the production CSP: a blocked script or chart would be a console error
    call_command("load_demo", stdout=StringIO())
    context = chromium_browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    context.set_default_timeout(15_000)
    browser_page = BrowserPage(context.new_page())
    page = browser_page.page
    try:
        response = page.goto(live_server.url + reverse("guide-tag", args=["go"]))
        assert response.status == 200
        page.wait_for_load_state("networkidle")
        assert "条学员评价提炼的" in page.locator("h1").inner_text()
        signals = page.locator(".guide-signal").count()
        assert signals >= 1
        # Every signal's trend is drawn (ECharts puts a canvas in its container).
        assert page.locator(".gs-chart canvas").count() == signals
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"/guide/go/ scrolls sideways by {overflow}px on a 390px-wide phone"
        browser_page.screenshot("guide-go-phone")

        page.emulate_media(media="print")
        assert page.locator(".topbar").is_hidden()
        assert page.locator(".guide-tags").is_hidden()
        assert page.locator(".guide-signal").first.is_visible()
        assert browser_page.problems == []
    finally:
        context.close()
