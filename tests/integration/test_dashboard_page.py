"""`acdscope dashboard`: the page, its plotly.js and its JSON API over the dashboard SQL, on a real ClickHouse
endpoint filled by the engine from the nine simulated scenarios."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from acdscope.demo import load_scenarios
from acdscope.webpage import serve
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from tests.support.scenarios import small

pytestmark = pytest.mark.integration

SMALL = small("page")


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def page(clickhouse_db):
    dsn, client = clickhouse_db
    migrate(client)
    outcome = load_scenarios(client, SMALL)
    server = serve(lambda: connect(dsn), port=0, refresh_s=2)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", outcome
    finally:
        server.shutdown()


def test_page_and_api_serve_the_comparison(page: Any) -> None:
    base, outcome = page
    status, html = _get(base + "/")
    assert status == 200
    assert b"Outsourcing setups compared" in html
    assert b'src="/plotly.min.js"' in html
    status, script = _get(base + "/plotly.min.js")
    assert status == 200
    assert len(script) > 1_000_000
    status, body = _get(base + "/api/setup_comparison?from=2026-01-01T00:00:00&until=2027-01-01T00:00:00")
    assert status == 200
    data = json.loads(body)
    assert len(data["rows"]) == 9
    assert data["columns"] == list(outcome.comparison.columns)
    overflow = data["columns"].index("overflow_rate")
    nd = [row for row in data["rows"] if row[1] == "network_delivered"]
    assert all(row[overflow] is None for row in nd)  # JSON null, shown as n/o by the page


def test_api_errors_list_what_is_valid(page: Any) -> None:
    base, _ = page
    status, body = _get(base + "/api/setup_comparisn")
    assert status == 404
    assert "setup_comparison" in json.loads(body)["error"]
    status, body = _get(base + "/api/setup_comparison?from=2026-01-01T00:00:00")
    assert status == 400
    assert "missing until" in json.loads(body)["error"]
