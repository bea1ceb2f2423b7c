"""The HTML report is self-contained, shows "n/o" for what a setup hides and never charts it as zero."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from rich.console import Console

from acdscope.dashboards import DashboardResult
from acdscope.report import render_html

COLUMNS = (
    "scenario",
    "setup",
    "engagement",
    "arrived_at_acd",
    "overflow_rate",
    "e2e_sl_20s",
    "vendor_sl_20s",
)
RESULT = DashboardResult(
    COLUMNS,
    [
        ("network-delivered-shared", "network_delivered", "shared", 4148, None, 0.985, 0.544),
        ("virtualized-shared", "virtualized", "shared", 4258, 0.021, 0.955, 0.633),
    ],
)


def test_report_is_self_contained_with_tables_and_charts() -> None:
    page = render_html(RESULT)
    assert page.startswith("<!doctype html>")
    assert 'id="comparison"' in page
    assert page.count('class="chart"') == 4
    assert "Plotly.newPlot" in page
    # plotly.js is inlined, not fetched: the file works offline.
    assert '<script src="http' not in page
    assert len(page) > 1_000_000
    assert ">network-delivered-shared<" in page
    assert ">98.5%<" in page


def test_hidden_figures_are_n_o_and_not_plotted_as_zero() -> None:
    page = render_html(RESULT)
    assert '<td class="no">n/o</td>' in page
    # The overflow-rate series carries null for the network-delivered scenario, not 0.
    assert '"y":[null,0.021]' in page.replace(" ", "")


INTRADAY_COLUMNS = (
    "source", "interval_start", "offered", "forecast_calls", "service_level", "sla_target", "staffed_agents",
    "required_agents", "required_for_forecast", "breach_cause", "breach_cause_hidden_reason",
)  # fmt: skip
T = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
INTRADAY = DashboardResult(
    INTRADAY_COLUMNS,
    [
        ("in-house", T, 100, 100.0, 0.9, 0.8, 40.0, 37, 37, None, ""),
        (
            "in-house",
            T + timedelta(minutes=15),
            130,
            100.0,
            0.6,
            0.8,
            40.0,
            48,
            37,
            "sent more than forecast",
            "",
        ),
        ("vendor-a", T, 6, None, 0.5, 0.8, 2.0, 4, None, None, "no forecast of vendor-a for the interval"),
    ],
)


def test_the_intraday_section_charts_calls_against_the_forecast_and_lists_each_breach_with_its_cause() -> (
    None
):
    page = render_html(RESULT, intraday=INTRADAY, intraday_tenant="virtualized-shared")
    assert page.count('class="chart"') == 4 + 3  # service level, staffing, calls against the forecast
    assert "Calls offered per interval against the forecast (virtualized-shared)" in page
    # The vendor has no forecast: its forecast series is a gap, not a forecast of 0 calls.
    assert '"name":"vendor-aforecast"' in page.replace(" ", "")
    assert '"y":[null]' in page.replace(" ", "")
    breaches = page[page.index('id="breaches"') :]
    rows = breaches.split("<tr>")[2:]  # after the head
    assert len(rows) == 2  # the met interval is not listed
    assert "2026-01-05 12:00" in rows[0]
    assert "vendor-a" in rows[0]
    assert "n/o: no forecast of vendor-a for the interval" in rows[0]
    assert "2026-01-05 12:15" in rows[1]
    assert "<td>130</td><td>100.0</td><td>40.0</td><td>37</td>" in rows[1]
    assert "sent more than forecast" in rows[1]


def test_the_demo_prints_the_same_breaches_with_their_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    from acdscope import cli

    monkeypatch.setattr(cli, "console", Console(width=160))  # whatever the terminal running the tests
    with cli.console.capture() as captured:
        cli._print_breaches(INTRADAY, "virtualized-shared")
    lines = [line for line in captured.get().splitlines() if "│" in line]
    assert len(lines) == 2
    assert "12:00" in lines[0]
    assert "vendor-a" in lines[0]
    assert "n/o: no forecast of vendor-a" in lines[0]
    assert [cell.strip() for cell in lines[1].split("│")[1:-1]] == [
        "12:15", "in-house", "130", "100", "40.0", "37", "sent more than forecast",
    ]  # fmt: skip
