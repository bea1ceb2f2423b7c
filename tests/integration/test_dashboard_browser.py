"""The dashboard page in headless Chromium (Debian's package, driven by Playwright): it loads, shows the
comparison table and a chart, hides nothing as zero, and logs no console error. A screenshot is kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from acdscope.demo import load_scenarios
from acdscope.webpage import serve
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from tests.support.browser import ARTIFACTS
from tests.support.browser import CHROMIUM_ARGS
from tests.support.browser import chromium_path
from tests.support.scenarios import small

pytestmark = pytest.mark.integration

SMALL = small("browser")


def test_dashboard_page_renders_table_and_chart_without_console_errors(clickhouse_db) -> None:
    dsn, client = clickhouse_db
    migrate(client)
    load_scenarios(client, SMALL)
    server = serve(lambda: connect(dsn), port=0, refresh_s=60)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    errors: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on(
                "console", lambda message: errors.append(message.text) if message.type == "error" else None
            )
            page.on("pageerror", lambda exception: errors.append(str(exception)))
            page.goto(url)
            page.wait_for_selector("#comparison tbody tr", timeout=30_000)
            page.wait_for_selector("#chart .main-svg", timeout=30_000)
            # The intraday section: one tenant's service level and staffing per interval (staffing_interval).
            page.wait_for_selector("#intraday-staffing .main-svg", timeout=30_000)
            page.wait_for_function(
                "document.getElementById('intraday-status').textContent.includes('source-intervals')",
                timeout=30_000,
            )
            intraday = page.locator("#intraday-status").inner_text()
            lines = page.locator("#intraday-staffing .scatterlayer .trace").count()
            rows = page.locator("#comparison tbody tr").count()
            hidden = page.locator("#comparison td.no").count()
            status = page.locator("#status").inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    assert rows == 9
    assert hidden > 0  # not-observable cells are shown as n/o
    assert "9 scenarios" in status
    assert int(intraday.split()[0]) > 20  # the chosen tenant's source-intervals
    assert lines >= 2  # staffed and required, per source
    assert errors == []
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
