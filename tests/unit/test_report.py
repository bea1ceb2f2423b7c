"""The HTML report is self-contained, shows "n/o" for what a setup hides and never charts it as zero."""

from __future__ import annotations

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
