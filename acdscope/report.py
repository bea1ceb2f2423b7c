"""The comparison report: one self-contained HTML file (tables and Plotly charts, plotly.js inlined) built from
the `setup_comparison` dashboard's rows, and, when given, one tenant's intraday picture from `staffing_interval`
(service level per interval against the SLA target; staffed against required agents).

Rendering only: every figure comes from the dashboard SQL; nothing is recomputed here. A figure the setup
cannot observe is shown as "n/o" and left out of the charts, never drawn as 0.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

import plotly.graph_objects as go

from acdscope.dashboards import DashboardResult

if TYPE_CHECKING:
    from acdscope.recommend import Evaluated
    from acdscope.recommend import Recommendation

NOT_OBSERVABLE = "n/o"

_PERCENT = {
    "overflow_rate",
    "e2e_sl_20s",
    "in_house_sl_20s",
    "vendor_sl_20s",
    "vendor_abandon_rate",
    "vendor_adherence",
    "in_house_adherence",
}
_LABELS = {
    "scenario": "scenario",
    "setup": "setup",
    "engagement": "engagement",
    "arrived_at_acd": "arrived at ACD",
    "overflow_rate": "overflow rate",
    "e2e_sl_20s": "end-to-end SL 20 s",
    "in_house_offered": "in-house offered",
    "in_house_sl_20s": "in-house SL 20 s",
    "vendor_offered": "vendor offered",
    "vendor_sl_20s": "vendor SL 20 s",
    "vendor_abandon_rate": "vendor abandoned",
    "vendor_asa_s": "vendor ASA s",
    "vendor_aht_s": "vendor AHT s",
    "vendor_adherence": "vendor adherence",
    "in_house_adherence": "in-house adherence",
}


def rows_of(result: DashboardResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def cell(column: str, value: Any) -> str:
    if value is None:
        return NOT_OBSERVABLE
    if column in _PERCENT and isinstance(value, float):
        return f"{value:.1%}"
    return str(value)


def _label(row: dict[str, Any]) -> str:
    return f"{row['setup'].replace('_', '-')} / {row['engagement']}"


def _bar_chart(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str, percent: bool
) -> go.Figure:
    figure = go.Figure()
    labels = [_label(row) for row in rows]
    for column in columns:
        if not rows or column not in rows[0]:
            continue
        values = [row[column] for row in rows]
        figure.add_bar(
            name=_LABELS[column],
            x=labels,
            y=values,  # None stays a gap: not observable is not zero
            text=[cell(column, value) for value in values],
            textposition="outside",
        )
    figure.update_layout(
        title=title,
        barmode="group",
        template="plotly_white",
        height=460,
        margin={"t": 60, "b": 140},
        yaxis={"tickformat": ".0%" if percent else None, "rangemode": "tozero"},
        legend={"orientation": "h", "y": 1.08},
    )
    return figure


def breached_intervals(intraday: DashboardResult) -> list[dict[str, Any]]:
    """The `staffing_interval` rows under the SLA target, in time order: the ones a breach cause explains."""
    rows = [row for row in rows_of(intraday) if row["breach_cause"] or row["breach_cause_hidden_reason"]]
    return sorted(rows, key=lambda row: (row["interval_start"], row["source"]))


def _breach_table(intraday: DashboardResult, tenant: str) -> str:
    columns = ("source", "offered", "forecast_calls", "staffed_agents", "required_for_forecast")
    head = "".join(
        f"<th>{name}</th>"
        for name in ("interval", "source", "calls", "forecast", "staffed", "required for forecast", "cause")
    )
    body = (
        "".join(
            f"<tr><td>{row['interval_start']:%Y-%m-%d %H:%M}</td>"
            + "".join(f"<td>{html.escape(cell(column, row[column]))}</td>" for column in columns)
            + f'<td class="text">{html.escape(row["breach_cause"] or "n/o: " + row["breach_cause_hidden_reason"])}</td>'
            + "</tr>"
            for row in breached_intervals(intraday)
        )
        or '<tr><td colspan="7">no interval under its SLA target</td></tr>'
    )
    return (
        f"<h2>Intervals under the SLA ({html.escape(tenant)}), and their cause against the forecast</h2>"
        f'<table id="breaches"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _intraday_charts(intraday: DashboardResult, tenant: str) -> list[go.Figure]:
    """Per source: service level per interval with its target, and staffed against required agents."""
    rows = rows_of(intraday)
    level = go.Figure()
    staffing = go.Figure()
    volume = go.Figure()
    for source in sorted({row["source"] for row in rows}, key=lambda source: (source != "in-house", source)):
        mine = [row for row in rows if row["source"] == source]
        times = [row["interval_start"] for row in mine]
        level.add_scatter(
            x=times, y=[row["service_level"] for row in mine], name=f"{source} SL", mode="lines+markers"
        )
        targets = [row["sla_target"] for row in mine]
        if any(target is not None for target in targets):
            level.add_scatter(x=times, y=targets, name=f"{source} target", mode="lines", line={"dash": "dot"})
        staffing.add_scatter(x=times, y=[row["staffed_agents"] for row in mine], name=f"{source} staffed")
        staffing.add_scatter(
            x=times,
            y=[row["required_agents"] for row in mine],
            name=f"{source} required",
            line={"dash": "dash"},
        )
        volume.add_scatter(x=times, y=[row["offered"] for row in mine], name=f"{source} calls")
        volume.add_scatter(
            x=times,
            y=[row["forecast_calls"] for row in mine],  # None stays a gap: no forecast is not a forecast of 0
            name=f"{source} forecast",
            line={"dash": "dot"},
        )
    level.update_layout(
        title=f"Service level per interval against the SLA ({tenant}; abandons counted against)",
        template="plotly_white", height=420, yaxis={"tickformat": ".0%", "rangemode": "tozero"},
    )  # fmt: skip
    staffing.update_layout(
        title=f"Agents on queue against those the SLA requires (Erlang A; {tenant})",
        template="plotly_white", height=420, yaxis={"rangemode": "tozero"},
    )  # fmt: skip
    volume.update_layout(
        title=f"Calls offered per interval against the forecast ({tenant})",
        template="plotly_white", height=420, yaxis={"rangemode": "tozero"},
    )  # fmt: skip
    return [level, staffing, volume]


# The settlement table's columns: (dashboard column, heading, shown as a percentage).
SETTLEMENT_COLUMNS = (
    ("tenant", "tenant", False), ("source", "source", False), ("period_start", "month", False),
    ("answered", "contacts", False), ("service_level", "SL", True), ("abandon_rate", "abandoned", True),
    ("aht_s", "AHT s", False), ("qa_score", "QA", False), ("adherence", "adherence", True),
    ("kpis_missed", "KPIs missed", False), ("billed", "billed", False), ("penalty", "penalty", False),
    ("bonus", "bonus", False), ("earn_back", "earn-back", False), ("invoice", "invoice", False),
    ("cost_per_contact", "per contact", False), ("verdict", "verdict", False),
    ("contacts_gap", "reported - seen", False),
)  # fmt: skip


def settlement_rows(settlement: DashboardResult) -> list[dict[str, Any]]:
    """Every source's rows, the in-house center's too: its loaded cost per contact beside the vendors' invoices
    (it has no contract KPI, so no verdict: shown as a dash, not as n/o)."""
    return rows_of(settlement)


MONEY = frozenset({"billed", "interval_credits", "kpi_penalties", "penalty", "bonus", "earn_back", "invoice",
                   "credits_owed", "cost_per_contact"})  # fmt: skip


def settlement_cell(row: dict[str, Any], column: str, percent: bool) -> str:
    """A dash where there is nothing to have (no contract for the in-house center, no contact to divide by),
    which is not "not observable"."""
    value = row[column]
    if value is None and row["kind"] == "in_house" and column in ("verdict", "contacts_gap"):
        return "-"
    if value is None and column == "cost_per_contact" and row["answered"] == 0:
        return "-"
    if percent and isinstance(value, float):
        return f"{value:.1%}"
    if column in MONEY and isinstance(value, float):
        return f"{value:,.2f}"
    return cell(column, value)


def _settlement_table(settlement: DashboardResult) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in SETTLEMENT_COLUMNS)
    body = (
        "".join(
            "<tr>"
            + "".join(
                f'<td class="{"no" if row[column] is None else ""}"'
                f' title="{html.escape(_settlement_reason(row, column))}">'
                f"{html.escape(settlement_cell(row, column, percent))}</td>"
                for column, _, percent in SETTLEMENT_COLUMNS
            )
            + "</tr>"
            for row in settlement_rows(settlement)
        )
        or f'<tr><td colspan="{len(SETTLEMENT_COLUMNS)}">no vendor with a contract in the period</td></tr>'
    )
    return (
        "<h2>Contract settlement, billing month to date (dashboard settlement)</h2>"
        "<p>Each KPI over the month from its counters against the tenant file's contract; penalties and bonuses by"
        " tier, capped; <em>n/o</em>: the setup does not show it (the reason is the cell's tooltip).</p>"
        f'<table id="settlement"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _settlement_reason(row: dict[str, Any], column: str) -> str:
    if row[column] is not None:
        return ""
    if column in ("adherence", "qa_score", "service_level", "abandon_rate", "aht_s"):
        return str(row["unassessed"])
    if column == "verdict":
        return str(row["verdict_hidden_reason"])
    if column == "contacts_gap":
        return str(row["reconciliation_hidden_reason"])
    return str(row["cost_hidden_reason"])


_STYLE = """<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; }
  table { border-collapse: collapse; font-size: 0.9rem; margin-bottom: 2rem; }
  th, td { border: 1px solid #d9e2ec; padding: 0.35rem 0.6rem; text-align: right; }
  th { background: #f0f4f8; }
  td:nth-child(-n+3) { text-align: left; }
  td.no { color: #9aa5b1; font-style: italic; }
  td.text { text-align: left; }
  tr.best td { background: #e3f9e5; font-weight: 600; }
</style>"""


def render_html(
    comparison: DashboardResult,
    title: str = "acdscope: outsourcing setups compared",
    intraday: DashboardResult | None = None,
    intraday_tenant: str = "",
    settlement: DashboardResult | None = None,
) -> str:
    rows = rows_of(comparison)
    figures = [
        _bar_chart(
            rows, ["e2e_sl_20s", "in_house_sl_20s", "vendor_sl_20s"], "Service level within 20 s", True
        ),
        _bar_chart(
            rows, ["overflow_rate", "vendor_abandon_rate"], "Overflow rate and vendor abandonment", True
        ),
        _bar_chart(
            rows, ["vendor_adherence", "in_house_adherence"], "Adherence (where the setup shows agents)", True
        ),
        _bar_chart(rows, ["vendor_asa_s", "vendor_aht_s"], "Vendor ASA and AHT (seconds)", False),
    ]
    breaches = ""
    if intraday is not None:
        figures += _intraday_charts(intraday, intraday_tenant)
        breaches = _breach_table(intraday, intraday_tenant)
    charts = [
        figure.to_html(full_html=False, include_plotlyjs=index == 0, div_id=f"chart-{index}")
        for index, figure in enumerate(figures)
    ]
    columns = [column for column in comparison.columns if column in _LABELS]
    head = "".join(f"<th>{html.escape(_LABELS[column])}</th>" for column in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"no" if row[column] is None else ""}">{html.escape(cell(column, row[column]))}</td>'
            for column in columns
        )
        + "</tr>"
        for row in rows
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
{_STYLE}
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>Same demand through each delivery setup and engagement model. <em>n/o</em>: not observable in that
setup (NULL in the warehouse, never 0). Generated {stamp} from the <code>setup_comparison</code> dashboard.</p>
<table id="comparison"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
{"".join(f'<section class="chart">{chart}</section>' for chart in charts)}
{breaches}
{"" if settlement is None else _settlement_table(settlement)}
</body>
</html>
"""


def render_recommendation(recommendation: Recommendation) -> str:
    """`acdscope recommend`'s page: the ranked table of the simulated plans (95 % intervals) and the cost-service
    frontier: every plan's Erlang A estimate, the simulated ones with their intervals, the target, and the
    frontier (the cheapest simulated plan at each service level or better)."""
    from acdscope.recommend import describe

    simulated = [e for e in recommendation.ranked if e.simulated is not None]
    targets = recommendation.targets
    figure = go.Figure()
    estimated = [e for e in recommendation.ranked if e.estimate["cost_per_contact"] is not None]
    figure.add_trace(
        go.Scatter(
            x=[e.estimate["cost_per_contact"] for e in estimated],
            y=[e.estimate["service_level"] for e in estimated],
            mode="markers",
            name="estimated (Erlang A)",
            marker={"color": "#bcccdc", "size": 5},
            text=[describe(e.candidate) for e in estimated],
            hoverinfo="text+x+y",
        )
    )
    for meets, colour, name in (
        (True, "#2f8132", "simulated: meets the targets"),
        (False, "#cf1124", "simulated: misses"),
    ):
        chosen = [
            (e, e.simulated)
            for e in simulated
            if e.meets is meets
            and e.simulated is not None
            and e.simulated["cost_per_contact"].mean is not None
        ]
        figure.add_trace(
            go.Scatter(
                x=[f["cost_per_contact"].mean for _, f in chosen],
                y=[f["service_level"].mean for _, f in chosen],
                error_x={"array": [f["cost_per_contact"].half_width or 0 for _, f in chosen]},
                error_y={"array": [f["service_level"].half_width or 0 for _, f in chosen]},
                mode="markers",
                name=name,
                marker={"color": colour, "size": 9},
                text=[describe(e.candidate) for e, _ in chosen],
                hoverinfo="text+x+y",
            )
        )
    frontier = _frontier(simulated)
    figure.add_trace(
        go.Scatter(
            x=[x for x, _ in frontier], y=[y for _, y in frontier], mode="lines", name="frontier (simulated)",
            line={"color": "#1f2933", "dash": "dot", "shape": "hv"},
        )
    )  # fmt: skip
    figure.add_hline(y=targets.service_level, line_dash="dash", annotation_text="target")
    figure.update_layout(
        title="Cost per contact against end-to-end service level",
        xaxis_title="cost per contact (gross of credits)",
        yaxis_title=f"service level within {targets.threshold_s} s",
        yaxis_tickformat=".0%",
        height=520,
    )
    ranks = {id(e): rank for rank, e in enumerate(recommendation.ranked, 1)}
    leaders = _plans_table("leaders", recommendation.leaders, ranks, recommendation.best)
    ranked = _plans_table("ranked", simulated, ranks, recommendation.best)
    blocks = ", ".join(block.label for block in recommendation.blocks)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>acdscope recommend</title>
{_STYLE}
</head>
<body>
<h1>Recommendation: setup, engagement and staffing</h1>
<p id="reason">{html.escape(recommendation.reason)}</p>
<p>Targets: {html.escape(targets.describe())}. {recommendation.considered} plans sized and estimated with
Erlang A, {recommendation.pruned} ruled out by the estimate, {len(simulated)} simulated on seeds
{", ".join(str(s) for s in recommendation.seeds)} ({recommendation.days} day each); figures are means with
95 % confidence intervals over the seeds. Seats per block ({html.escape(blocks)}) are agents rostered on it.
Generated {stamp}.</p>
<h2>The best plan of each engagement model</h2>
{leaders}
<section class="chart">{figure.to_html(full_html=False, include_plotlyjs=True, div_id="frontier")}</section>
<h2>Every simulated plan, ranked</h2>
{ranked}
</body>
</html>
"""


def _plans_table(
    table_id: str, plans: Sequence[Evaluated], ranks: dict[int, int], best: Evaluated | None
) -> str:
    """Simulated plans as rows: rank (in the whole search), plan, seats, the figures with their 95 % intervals,
    whether it meets the targets (or which it misses, by how much) and what the setup lets the enterprise see."""
    from acdscope.recommend import describe
    from acdscope.recommend import figure_text
    from acdscope.recommend import seats_text

    head = "".join(
        f"<th>{html.escape(label)}</th>"
        for label in ("rank", "setup, engagement, parameters", "seats per block", "cost per contact",
                      "service level", "abandoned", "in-house share", "occupancy", "meets", "the enterprise observes")
    )  # fmt: skip
    body = []
    for e in plans:
        assert e.simulated is not None
        figures = e.simulated
        cells = [
            str(ranks[id(e)]), describe(e.candidate), seats_text(e.candidate),
            figure_text(figures["cost_per_contact"], False), figure_text(figures["service_level"], True),
            figure_text(figures["abandon_rate"], True), figure_text(figures["in_house_share"], True),
            figure_text(figures["occupancy"], True),
            "yes" if e.meets else "no: " + "; ".join(e.misses), e.candidate.observes,
        ]  # fmt: skip
        css = ' class="best"' if e is best else ""
        body.append(
            f"<tr{css}>" + "".join(f'<td class="text">{html.escape(c)}</td>' for c in cells) + "</tr>"
        )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _frontier(simulated: Sequence[Evaluated]) -> list[tuple[float, float]]:
    """The cost-service frontier of the simulated plans: by cost, each plan that serves better than every
    cheaper one (means)."""
    points = sorted(
        (e.simulated["cost_per_contact"].mean, e.simulated["service_level"].mean)
        for e in simulated
        if e.simulated is not None
        and e.simulated["cost_per_contact"].mean is not None
        and e.simulated["service_level"].mean is not None
    )
    frontier: list[tuple[float, float]] = []
    for cost, level in points:
        if not frontier or level > frontier[-1][1]:
            frontier.append((cost, level))
    return frontier
