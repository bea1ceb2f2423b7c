"""The live page a supervisor keeps open (Now, Today, Vendors, Setups) against the SQL it shows.

Every number on the page is a cell of an `/api/...` answer, and every answer must equal
`acdscope.dashboards.run` of its dashboard for the same parameters: the page runs in headless Chromium on the
nine simulated scenarios, each request it makes is recorded, fetched again and compared with the dashboard
run here, and cells of each view are read back from the DOM and compared with the answer. A second test feeds
the rest of a day through the pipeline while the page is open and waits for its numbers to move."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright

from acdscope.dashboards import parameters_of
from acdscope.dashboards import run
from acdscope.demo import TOPICS
from acdscope.demo import demo_config
from acdscope.demo import feed
from acdscope.demo import load_scenarios
from acdscope.demo import pipeline_into
from acdscope.webpage import _jsonable
from acdscope.webpage import _parse
from acdscope.webpage import serve
from acdscope.webpage import tenants
from producers.simulator.run import simulate_in_memory
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from tests.support.browser import ARTIFACTS
from tests.support.browser import CHROMIUM_ARGS
from tests.support.browser import chromium_path
from tests.support.scenarios import small

pytestmark = pytest.mark.integration

VIEWS = ("now", "today", "vendors", "settlement-view", "setups")
# The page's own formatting (`show` in its script): fractions as percentages with one decimal.
PERCENT = re.compile(
    r"^(service_level|sla_target|abandon_rate|abandon_rate_excl_short|sl_\w+|overflow_rate|\w+_sl_20s|"
    r"vendor_abandon_rate|(vendor_|in_house_)?adherence|conformance|occupancy|utilisation|shrinkage|seat_fill|"
    r"transfer_rate|fcr_proxy)$"
)


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def _shown(column: str, value: Any) -> str:
    if value is None:
        return "n/o"
    if PERCENT.match(column) and isinstance(value, int | float):
        return f"{100 * value:.1f}%"
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT", value):
        return value[:16].replace("T", " ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # JavaScript's String(5.0) is "5"
    return str(value)


def _expected(client: Any, url: str) -> dict[str, Any]:
    """What the request's dashboard gives for the request's own parameters, run here, as the API serializes it."""
    parsed = urlparse(url)
    name = parsed.path.removeprefix("/api/")
    if name == "tenants":
        result = tenants(client)
    else:
        kinds = parameters_of(name)
        params = {key: _parse(kinds[key], values[0]) for key, values in parse_qs(parsed.query).items()}
        result = run(client, name, params)
    return {"columns": list(result.columns), "rows": [[_jsonable(v) for v in row] for row in result.rows]}


def _cells(page: Page, table: str) -> list[dict[str, str]]:
    return page.evaluate(
        """id => [...document.querySelectorAll('#' + id + ' tbody tr')].map(tr =>
             Object.fromEntries([...tr.cells].map(td => [td.dataset.col, td.textContent])))""",
        table,
    )


def _same_cells(page: Page, table: str, answer: dict[str, Any]) -> int:
    """Every rendered cell of `table` against its row and column of the API's answer; the cells compared."""
    rows = _cells(page, table)
    assert len(rows) == len(answer["rows"]), table
    compared = 0
    for shown, row in zip(rows, answer["rows"], strict=True):
        for column, text in shown.items():
            assert text == _shown(column, row[answer["columns"].index(column)]), (table, column, row)
            compared += 1
    return compared


def _browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)


def _watch(page: Page, errors: list[str], requests: list[str]) -> None:
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exception: errors.append(str(exception)))
    page.on("request", lambda request: requests.append(request.url) if "/api/" in request.url else None)


def _refreshed(page: Page, after: str = "") -> str:
    page.wait_for_function(
        "([before]) => { const t = document.getElementById('refreshed').textContent;"
        " return t.startsWith('refreshed') && t !== before; }",
        arg=[after],
        timeout=90_000,
    )
    return page.locator("#refreshed").inner_text()


def test_every_view_shows_its_dashboards_numbers(clickhouse_db) -> None:
    dsn, client = clickhouse_db
    migrate(client)
    load_scenarios(client, small("live-page"))
    server = serve(lambda: connect(dsn), port=0, refresh_s=600)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    errors: list[str] = []
    requests: list[str] = []
    answers: dict[str, dict[str, Any]] = {}
    try:
        with sync_playwright() as playwright:
            browser = _browser(playwright)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            _watch(page, errors, requests)
            page.goto(base + "/")
            _refreshed(page)
            ARTIFACTS.mkdir(exist_ok=True)
            for view in VIEWS:
                page.locator(f"#{view}").screenshot(path=str(ARTIFACTS / f"page-{view}.png"))
            # Each request the page made, fetched again (the data has not changed) for its cells below.
            initial = list(requests)
            for url in initial:
                answers[urlparse(url).path.removeprefix("/api/")] = _get(url)
            compared = {table: _same_cells(page, table, answers[name]) for table, name in (
                ("now-table", "live_now"), ("alerts", "alerts"), ("scorecard", "vendor_scorecard"),
                ("streaks", "sla_streaks_daily"), ("settlement", "settlement"), ("comparison", "setup_comparison"))}  # fmt: skip
            intraday = page.evaluate("document.getElementById('intraday-volume').data")
            in_progress = page.locator("#intraday-status").get_attribute("data-in-progress")
            notes = page.locator("#now-notes").inner_text()
            # Another tenant, and the picker's yesterday: the page asks again, with the new parameters.
            before = page.locator("#refreshed").inner_text()
            requests.clear()
            page.select_option("#tenant", "enterprise-routed-shared")
            _refreshed(page, before)
            routed_requests = list(requests)
            routed = _cells(page, "now-table")
            before = page.locator("#refreshed").inner_text()
            requests.clear()
            page.select_option("#range", "yesterday")
            _refreshed(page, before)
            yesterday = page.locator("#now-status").inner_text()
            yesterday_requests = list(requests)
            browser.close()
        # Every answer the page got equals the dashboard run here with the same parameters.
        for url in [*initial, *routed_requests, *yesterday_requests]:
            got = _get(url)
            assert {"columns": got["columns"], "rows": got["rows"]} == _expected(client, url), url
    finally:
        server.shutdown()
    assert errors == []
    # The page asks the dashboards of its five views, and nothing else.
    assert set(answers) == {
        "tenants", "live_now", "alerts", "rta_board", "staffing_interval", "vendor_scorecard", "sla_streaks_daily",
        "source_cost", "settlement", "setup_comparison",
    }  # fmt: skip
    assert len(routed_requests) == len(yesterday_requests) == len(initial)
    assert all("enterprise-routed-shared" in url for url in routed_requests if "tenant=" in url)
    assert all(count > 0 for count in compared.values()), compared
    # Now: the virtualized tenant sees its agents (a number, not n/o); the calls waiting and the oldest wait are
    # not observable, each with its reason under the table.
    now = answers["live_now"]
    at = now["columns"].index
    assert {row[at("source")] for row in now["rows"]} == {"in-house", "vendor-a"}
    assert all(row[at("agents_on_queue")] is not None for row in now["rows"])
    # No worker wrote a live queue here (the scenarios were loaded, not streamed): n/o, with that reason.
    assert all(row[at("calls_waiting")] is None for row in now["rows"])
    assert "calls_waiting (in-house): no live queue from the worker yet" in notes
    assert "oldest_wait_s (in-house): no live queue from the worker yet" in notes
    # An enterprise-routed vendor's agents are hidden: n/o, never 0.
    vendor = next(row for row in routed if row["source"] == "vendor-a")
    assert vendor["agents_on_queue"] == "n/o"
    assert vendor["agents_available"] == "n/o"
    # Today: the traces are the dashboard's columns, the interval in progress is the tenants query's.
    staffing = answers["staffing_interval"]
    forecast = next(trace for trace in intraday if trace["name"] == "in-house forecast")
    at = staffing["columns"].index
    expected = [row[at("forecast_calls")] for row in staffing["rows"] if row[at("source")] == "in-house"]
    assert forecast["y"] == expected
    tenant_rows = {row[0]: row for row in answers["tenants"]["rows"]}
    assert in_progress == (tenant_rows["virtualized-shared"][3] or "")
    # Yesterday has no intervals: the page says why, from the warehouse.
    assert "no intervals of tenant 'enterprise-routed-shared' from 2026-01-04 00:00" in yesterday
    for view in VIEWS:
        assert (ARTIFACTS / f"page-{view}.png").stat().st_size > 10_000


def test_the_page_moves_when_new_events_arrive(clickhouse_db) -> None:
    """Half a day through the pipeline, the page open and refreshing every second, then the other half: the
    calls offered so far in the Now view rise to the dashboard's new figure without a reload."""
    dsn, client = clickhouse_db
    migrate(client)
    scenario = small("live-feed")
    pipeline = pipeline_into(client, demo_config([scenario]))
    memory, _ = simulate_in_memory(scenario)
    events = list(memory.events())
    memory.close()
    noon = datetime(2026, 1, 5, 12, tzinfo=UTC)
    offsets = dict.fromkeys(TOPICS, 0)
    feed(pipeline, [event for event in events if event.ts < noon], offsets)
    pipeline.tick()  # the live queue and board, as the worker's timer writes them
    pipeline.sink.flush()
    server = serve(lambda: connect(dsn), port=0, refresh_s=1)
    errors: list[str] = []
    requests: list[str] = []
    window = {"tenant": scenario.tenant(), "from": datetime(2026, 1, 5, tzinfo=UTC),
              "until": datetime(2026, 1, 6, tzinfo=UTC)}  # fmt: skip
    try:
        with sync_playwright() as playwright:
            browser = _browser(playwright)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            _watch(page, errors, requests)
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            _refreshed(page)
            before = _cells(page, "now-table")
            feed(pipeline, [event for event in events if event.ts >= noon], offsets)
            pipeline.tick()
            pipeline.sink.flush()
            after_run = run(client, "live_now", window)
            offered = after_run.columns.index("offered")
            source = after_run.columns.index("source")
            wanted = {row[source]: str(row[offered]) for row in after_run.rows}
            # The sink writes its tables one after another: a refresh between two writes can show the new calls
            # with the old agent states, so the page is waited on for both (the in-house agents' states move).
            states_before = next(row["agents_as_of"] for row in before if row["source"] == "in-house")
            page.wait_for_function(
                """([wanted, statesBefore]) => {
                     const rows = [...document.querySelectorAll('#now-table tbody tr')];
                     return rows.length > 0 && rows.every(tr => {
                       const cell = c => [...tr.cells].find(td => td.dataset.col === c).textContent;
                       return wanted[cell('source')] === cell('offered') &&
                         (cell('source') !== 'in-house' || cell('agents_as_of') !== statesBefore); }); }""",
                arg=[wanted, states_before],
                timeout=60_000,
            )
            after = _cells(page, "now-table")
            browser.close()
    finally:
        server.shutdown()
    assert errors == []
    in_house_before = next(row for row in before if row["source"] == "in-house")
    in_house_after = next(row for row in after if row["source"] == "in-house")
    assert int(in_house_after["offered"]) > int(in_house_before["offered"]) > 0
    # The live queue is the worker's: a number of calls waiting at noon, and its oldest wait, not n/o.
    assert in_house_before["calls_waiting"].isdigit()
    assert in_house_before["oldest_wait_s"] != "n/o"
    assert in_house_after["agents_as_of"] > in_house_before["agents_as_of"]
