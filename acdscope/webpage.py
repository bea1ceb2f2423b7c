"""`acdscope dashboard`: the live page a supervisor keeps open, running the dashboard SQL through
`clickhouse-connect` and refreshing itself.

Five views, one scrolling page with a nav: Now (per source: agents on queue, available, not ready; service
level and abandonment so far; the alerts, open first; the RTA board), Today (service level, calls against the forecast and staffing
against the requirement per interval, the interval in progress marked), Vendors (scorecard, SLA streaks, cost),
Settlement (each contract settled for the billing month to date: KPIs, penalties, bonuses, the invoice, the
verdict and what the enterprise can check of the bill) and Setups (the comparison). A tenant picker (`/api/tenants`: the tenants with data) and a period picker
(today, yesterday, last 7 days, custom; "today" is the tenant's latest day of data, today itself when live)
apply to every view. Serving only (stdlib HTTP, loopback by default): every number is a cell of a
`sql/dashboards` answer, shown as it came; the charts come from Plotly's own plotly.js, served from the
installed package so the page needs no network.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlparse

import plotly
from clickhouse_connect.driver.client import Client

from acdscope.dashboards import DASHBOARD_DIR
from acdscope.dashboards import BadParameters
from acdscope.dashboards import DashboardResult
from acdscope.dashboards import UnknownDashboard
from acdscope.dashboards import available
from acdscope.dashboards import parameters_of
from acdscope.dashboards import run
from acdscope.dashboards import why_empty

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# The page's own question, not a dashboard (it has no figure, and Grafana has its own tenant variable): which
# tenants have data, the latest interval that anchors the page's "today", and the interval still in progress.
TENANTS_SQL = DASHBOARD_DIR.parent / "page" / "tenants.sql"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>acdscope: the live page</title>
<script src="/plotly.min.js"></script>
<style>
  body { font-family: system-ui, sans-serif; margin: 0 1.5rem 1.5rem; color: #1f2933; }
  nav { position: sticky; top: 0; z-index: 10; background: #fff; border-bottom: 1px solid #d9e2ec;
        padding: 0.5rem 0; display: flex; flex-wrap: wrap; gap: 0.8rem; align-items: center; font-size: 0.9rem; }
  nav a { font-weight: 600; color: #1f4e79; text-decoration: none; }
  section { padding-top: 0.5rem; border-bottom: 1px solid #eef2f6; scroll-margin-top: 3rem; }
  table { border-collapse: collapse; font-size: 0.85rem; margin: 0.6rem 0 1.2rem; display: block;
          overflow-x: auto; max-width: 100%; }
  th, td { border: 1px solid #d9e2ec; padding: 0.3rem 0.55rem; text-align: right; }
  th { background: #f0f4f8; }
  td.text { text-align: left; }
  td.no { color: #9aa5b1; font-style: italic; }
  tr.severe td { background: #fde8e8; }
  .status, #refreshed { color: #52606d; font-size: 0.85rem; }
  .notes { color: #52606d; font-size: 0.8rem; margin: 0 0 1rem; padding-left: 1.2rem; }
</style>
</head>
<body>
<nav>
  <a href="#now">Now</a> <a href="#today">Today</a> <a href="#vendors">Vendors</a> <a href="#settlement-view">Settlement</a> <a href="#setups">Setups</a>
  <label>tenant <select id="tenant"></select></label>
  <label>period <select id="range">
    <option value="today">today</option><option value="yesterday">yesterday</option>
    <option value="week">last 7 days</option><option value="custom">custom</option></select></label>
  <span id="custom" hidden><input type="date" id="from-day"> to <input type="date" id="until-day"> (UTC days,
    both included)</span>
  <span id="period"></span>
  <span id="refreshed">loading...</span>
</nav>
<section id="now">
<h2>Now</h2>
<p class="status" id="now-status"></p>
<table id="now-table"></table>
<ul class="notes" id="now-notes"></ul>
<h3>Alerts (open first)</h3>
<p class="status" id="alerts-status"></p>
<table id="alerts"></table>
<h3>Out of adherence now (RTA board)</h3>
<p class="status" id="rta-status"></p>
<table id="rta"></table>
</section>
<section id="today">
<h2>Today: service level against the SLA, volume against the forecast, staffing against the requirement</h2>
<p class="status"><span id="intraday-status"></span></p>
<div id="intraday-sl" style="height: 360px"></div>
<div id="intraday-volume" style="height: 360px"></div>
<div id="intraday-staffing" style="height: 360px"></div>
</section>
<section id="vendors">
<h2>Vendors</h2>
<p class="status" id="scorecard-status"></p>
<table id="scorecard"></table>
<ul class="notes" id="scorecard-notes"></ul>
<h3>SLA per day and breach streaks</h3>
<p class="status" id="streaks-status"></p>
<table id="streaks"></table>
<h3>Cost after SLA credits per interval</h3>
<p class="status" id="cost-status"></p>
<div id="cost-chart" style="height: 360px"></div>
</section>
<section id="settlement-view">
<h2>Contract settlement, billing month to date</h2>
<p class="status" id="settlement-status"></p>
<table id="settlement"></table>
<ul class="notes" id="settlement-notes"></ul>
</section>
<section id="setups">
<h2>Outsourcing setups compared</h2>
<p class="status" id="status"></p>
<table id="comparison"></table>
<div id="chart" style="height: 460px"></div>
</section>
<script>
// Every figure is a cell of an /api/<dashboard> answer, shown as it came (fractions as percentages); nothing is
// computed here. null is "n/o" (not observable), its reason in the cell's title and the notes under the table.
const PERCENT = /^(service_level|sla_target|abandon_rate|abandon_rate_excl_short|sl_\\w+|overflow_rate|\\w+_sl_20s|vendor_abandon_rate|(vendor_|in_house_)?adherence|conformance|occupancy|utilisation|shrinkage|seat_fill|transfer_rate|fcr_proxy)$/;
const REASONS = {agents_on_queue: "agents_hidden_reason", agents_available: "agents_hidden_reason",
  agents_busy: "agents_hidden_reason", agents_not_ready: "agents_hidden_reason",
  out_of_adherence: "agents_hidden_reason", severe_out: "agents_hidden_reason",
  calls_waiting: "calls_waiting_hidden_reason", oldest_wait_s: "oldest_wait_hidden_reason",
  e2e_sl_20s: "e2e_hidden_reason", verdict: "verdict_hidden_reason", billed: "cost_hidden_reason",
  invoice: "cost_hidden_reason", cost_per_contact: "cost_hidden_reason", reported_contacts: "reconciliation_hidden_reason",
  observed_contacts: "reconciliation_hidden_reason", contacts_gap: "reconciliation_hidden_reason",
  reported_hours: "reconciliation_hidden_reason", observed_hours: "reconciliation_hidden_reason",
  adherence: "unassessed", qa_score: "unassessed"};
let tenants = [];
function show(column, value) {
  if (value === null) return ["n/o", "no"];
  if (PERCENT.test(column) && typeof value === "number") return [(100 * value).toFixed(1) + "%", ""];
  if (typeof value === "string" && /^\\d{4}-\\d\\d-\\d\\dT/.test(value)) return [value.slice(0, 16).replace("T", " "), "text"];
  return [String(value), typeof value === "string" ? "text" : ""];
}
function plotTime(value) { return value.slice(0, 19).replace("T", " "); }  // UTC, as Plotly reads dates
async function api(name, params) {
  const response = await fetch("/api/" + name + "?" + new URLSearchParams(params));
  const data = await response.json();
  if (!response.ok) throw new Error(name + ": " + data.error);
  return data;
}
function render(id, data, columns, rowClass) {
  // The table shows `columns` of the answer (all by default), each cell tagged with its column for the tests.
  const table = document.getElementById(id);
  table.innerHTML = "";
  const shown = columns || data.columns;
  const head = table.createTHead().insertRow();
  for (const column of shown) { const th = document.createElement("th"); th.textContent = column; head.appendChild(th); }
  const body = table.createTBody();
  const notes = new Set();
  for (const row of data.rows) {
    const tr = body.insertRow();
    if (rowClass) tr.className = rowClass(row);
    for (const column of shown) {
      const value = row[data.columns.indexOf(column)];
      const td = tr.insertCell(); const [text, cls] = show(column, value);
      td.textContent = text; td.dataset.col = column; if (cls) td.className = cls;
      const reasonAt = data.columns.indexOf(REASONS[column] || "hidden_reason");
      if (value === null && reasonAt >= 0 && row[reasonAt]) {
        td.title = row[reasonAt];
        notes.add(column + (data.columns.includes("source") ? " (" + row[data.columns.indexOf("source")] + ")" : "") + ": " + row[reasonAt]);
      }
    }
  }
  return [...notes];
}
function notesInto(id, notes) {
  const list = document.getElementById(id); list.innerHTML = "";
  for (const note of notes) { const li = document.createElement("li"); li.textContent = "n/o " + note; list.appendChild(li); }
}
function day(d) { return d.toISOString().slice(0, 10); }
function addDays(d, n) { return new Date(d.getTime() + n * 86400000); }
function chosen() { return tenants.find(t => t.tenant === document.getElementById("tenant").value); }
function period() {
  // Days are UTC days; "today" is the day of the tenant's latest data (today itself while it streams live).
  const tenant = chosen();
  const latest = new Date(tenant.latest_interval);
  const anchor = new Date(Date.UTC(latest.getUTCFullYear(), latest.getUTCMonth(), latest.getUTCDate()));
  const range = document.getElementById("range").value;
  let from = anchor, until = addDays(anchor, 1);
  if (range === "yesterday") { from = addDays(anchor, -1); until = anchor; }
  if (range === "week") { from = addDays(anchor, -6); }
  if (range === "custom") {
    const a = document.getElementById("from-day").value, b = document.getElementById("until-day").value;
    if (a && b) { from = new Date(a + "T00:00:00Z"); until = addDays(new Date(b + "T00:00:00Z"), 1); }
  }
  return {from: from.toISOString().slice(0, 19), until: until.toISOString().slice(0, 19)};
}
async function loadTenants() {
  const data = await api("tenants", {});
  tenants = data.rows.map(r => Object.fromEntries(data.columns.map((c, i) => [c, r[i]])));
  const select = document.getElementById("tenant");
  const names = tenants.map(t => t.tenant);
  if ([...select.options].map(o => o.value).join() !== names.join()) {
    const before = select.value;
    select.innerHTML = "";
    for (const name of names) { const option = document.createElement("option"); option.textContent = name; select.appendChild(option); }
    const keep = names.indexOf(before), preferred = names.indexOf("virtualized-shared");
    select.selectedIndex = keep >= 0 ? keep : Math.max(preferred, 0);
  }
}
async function guarded(statusId, work) {
  try { await work(); } catch (error) { document.getElementById(statusId).textContent = String(error.message || error); }
}
function emptyInto(statusId, data) {
  if (!data.empty) return false;
  document.getElementById(statusId).textContent = "nothing to show: " + data.empty;
  return true;
}
async function now(tenant, window) {
  const data = await api("live_now", {tenant, ...window});
  document.getElementById("now-table").innerHTML = "";
  notesInto("now-notes", []);
  if (emptyInto("now-status", data)) return;
  const notes = render("now-table", data, ["source", "kind", "agents_on_queue", "agents_available", "agents_busy",
    "agents_not_ready", "calls_waiting", "oldest_wait_s", "out_of_adherence", "severe_out", "offered", "answered",
    "abandoned", "service_level", "sla_target", "sla_breached", "abandon_rate", "agents_as_of"]);
  notesInto("now-notes", notes);
  document.getElementById("now-status").textContent = "per source (dashboard live_now): agents as of their latest " +
    "state event before " + window.until.replace("T", " ") + " UTC; service level and abandonment over the period so far";
}
async function alerts(tenant, window) {
  const data = await api("alerts", {tenant, ...window});
  document.getElementById("alerts").innerHTML = "";
  const status = data.columns.indexOf("status");
  const open = data.rows.filter(row => row[status] === "open").length;
  if (data.rows.length === 0) {
    document.getElementById("alerts-status").textContent = "no alert in the period" + (data.empty ? " (" + data.empty + ")" : "");
    return;
  }
  render("alerts", data, ["status", "rule", "source", "fired_interval", "figure", "threshold", "unit", "streak", "message",
    "resolved_interval"], row => row[status] === "open" ? "severe" : "");
  document.getElementById("alerts-status").textContent = open + " open, " + (data.rows.length - open) +
    " resolved in the period (dashboard alerts: the tenant file's rules, judged by the worker on each interval once final)";
}
async function rta(tenant) {
  const data = await api("rta_board", {tenant, min_duration_s: 0});
  document.getElementById("rta").innerHTML = "";
  const severe = data.columns.indexOf("severe");
  if (data.rows.length === 0) {
    document.getElementById("rta-status").textContent = "nobody out of adherence" + (data.empty ? " (" + data.empty + ")" : "");
    return;
  }
  render("rta", data, ["agent_id", "source", "team", "scheduled", "actual", "impact", "since", "minutes_out", "severe"],
    row => row[severe] ? "severe" : "");
  document.getElementById("rta-status").textContent = data.rows.length +
    " agents out of adherence (dashboard rta_board), longest (and so severe) first";
}
async function intraday(tenant, window) {
  const data = await api("staffing_interval", {tenant, ...window});
  const status = document.getElementById("intraday-status");
  if (emptyInto("intraday-status", data)) return;
  const at = name => data.columns.indexOf(name);
  const sources = [...new Set(data.rows.map(r => r[at("source")]))];
  const level = [], staffing = [], volume = [];
  for (const source of sources) {
    const rows = data.rows.filter(r => r[at("source")] === source);
    const x = rows.map(r => plotTime(r[at("interval_start")]));
    level.push({type: "scatter", mode: "lines+markers", name: source + " SL", x, y: rows.map(r => r[at("service_level")])});
    level.push({type: "scatter", mode: "lines", line: {dash: "dot"}, name: source + " target", x, y: rows.map(r => r[at("sla_target")])});
    staffing.push({type: "scatter", name: source + " staffed", x, y: rows.map(r => r[at("staffed_agents")])});
    staffing.push({type: "scatter", line: {dash: "dash"}, name: source + " required", x, y: rows.map(r => r[at("required_agents")])});
    volume.push({type: "scatter", name: source + " calls", x, y: rows.map(r => r[at("offered")])});
    volume.push({type: "scatter", line: {dash: "dot"}, name: source + " forecast", x, y: rows.map(r => r[at("forecast_calls")])});
  }
  // The interval still in progress (its quality rows not final yet): its figures still grow.
  const open = chosen().in_progress;
  const starts = [...new Set(data.rows.map(r => r[at("interval_start")]))].sort();
  const width = starts.length > 1 ? new Date(starts[1]) - new Date(starts[0]) : 15 * 60000;
  const marked = open && starts.includes(open);
  const shapes = marked ? [{type: "rect", xref: "x", yref: "paper", x0: plotTime(open),
    x1: plotTime(new Date(new Date(open).getTime() + width).toISOString()), y0: 0, y1: 1,
    fillcolor: "#f7c948", opacity: 0.25, line: {width: 0}}] : [];
  const annotations = marked ? [{xref: "x", yref: "paper", x: plotTime(open), y: 1, text: "in progress",
    showarrow: false, xanchor: "left", yanchor: "bottom"}] : [];
  const layout = title => ({title: {text: title}, shapes, annotations, margin: {t: 50}});
  Plotly.react("intraday-sl", level, {...layout("Service level per interval (abandons counted against)"), yaxis: {tickformat: ".0%"}});
  Plotly.react("intraday-volume", volume, layout("Calls offered per interval against the forecast"));
  Plotly.react("intraday-staffing", staffing, layout("Agents on queue against those the SLA requires (Erlang A)"));
  status.textContent = data.rows.length + " source-intervals (dashboard staffing_interval); gaps are n/o" +
    (marked ? "; the interval from " + plotTime(open).slice(11, 16) + " UTC is in progress: its staffed agents " +
      "are time on queue over the whole interval, so they read low until it ends" : "");
  status.dataset.inProgress = marked ? open : "";
}
async function vendors(tenant, window) {
  const card = await api("vendor_scorecard", {tenant, ...window});
  document.getElementById("scorecard").innerHTML = "";
  notesInto("scorecard-notes", []);
  if (!emptyInto("scorecard-status", card)) {
    notesInto("scorecard-notes", render("scorecard", card, ["source", "kind", "offered", "sl_abandons_against",
      "sla_target", "intervals_breached", "asa_s", "abandon_rate", "aht_s", "transfer_rate", "fcr_proxy", "qa_score",
      "csat", "cost_per_contact", "adherence", "occupancy", "staffing_basis", "open_staffed_agents", "contracted_seats",
      "seat_fill"]));
    document.getElementById("scorecard-status").textContent = card.rows.length + " sources (dashboard vendor_scorecard)";
  }
  const streaks = await api("sla_streaks_daily", {tenant, ...window});
  document.getElementById("streaks").innerHTML = "";
  if (!emptyInto("streaks-status", streaks)) {
    render("streaks", streaks, ["source", "day", "offered", "service_level", "sla_target", "breached", "streak_days", "chronic"]);
    document.getElementById("streaks-status").textContent = streaks.rows.length + " source-days (dashboard sla_streaks_daily)";
  }
  const cost = await api("source_cost", {tenant, ...window});
  if (emptyInto("cost-status", cost)) return;
  const at = name => cost.columns.indexOf(name);
  const traces = [...new Set(cost.rows.map(r => r[at("source")]))].map(source => {
    const rows = cost.rows.filter(r => r[at("source")] === source);
    return {type: "scatter", name: source + " net cost", x: rows.map(r => plotTime(r[at("interval_start")])), y: rows.map(r => r[at("net_cost")])};
  });
  Plotly.react("cost-chart", traces, {title: {text: "Net cost per interval (gross - SLA credit; gaps are n/o)"}, margin: {t: 50}});
  document.getElementById("cost-status").textContent = cost.rows.length + " source-intervals (dashboard source_cost)";
}
async function settlement(tenant, window) {
  // The billing month the period starts in, to the period's end: a contract settles by month, not by day.
  const from = window.from.slice(0, 8) + "01T00:00:00";
  const data = await api("settlement", {tenant, from, until: window.until});
  document.getElementById("settlement").innerHTML = "";
  notesInto("settlement-notes", []);
  if (emptyInto("settlement-status", data)) return;
  const verdict = data.columns.indexOf("verdict");
  notesInto("settlement-notes", render("settlement", data, ["source", "verdict", "kpis_missed", "period_start", "answered",
    "service_level", "abandon_rate", "aht_s", "qa_score", "adherence", "billed", "penalty", "bonus", "earn_back",
    "invoice", "cost_per_contact", "reported_contacts", "contacts_gap"],
    row => row[verdict] === "chronic" ? "severe" : ""));
  document.getElementById("settlement-status").textContent = data.rows.length + " source-periods from " +
    from.slice(0, 10) + " (dashboard settlement: the tenant file's contracts; a period still open is settled to date)";
}
async function setups(window) {
  const data = await api("setup_comparison", window);
  document.getElementById("comparison").innerHTML = "";
  if (emptyInto("status", data)) return;
  render("comparison", data);
  const labels = data.rows.map(r => r[data.columns.indexOf("setup")] + " / " + r[data.columns.indexOf("engagement")]);
  const traces = ["e2e_sl_20s", "in_house_sl_20s", "vendor_sl_20s"].map(column => ({
    type: "bar", name: column, x: labels, y: data.rows.map(r => r[data.columns.indexOf(column)])
  }));
  Plotly.react("chart", traces, {barmode: "group", title: {text: "Service level within 20 s"},
    yaxis: {tickformat: ".0%"}, margin: {b: 160}});
  document.getElementById("status").textContent =
    data.rows.length + " scenarios (dashboard setup_comparison); n/o = not observable in that setup";
}
let running = false;
async function refresh() {
  if (running) return;
  running = true;
  try {
    await loadTenants();
    if (!tenants.length) { document.getElementById("refreshed").textContent = "no tenant has data yet"; return; }
    const tenant = document.getElementById("tenant").value, window = period();
    document.getElementById("period").textContent = window.from.slice(0, 10) + " to " + window.until.slice(0, 10) + " (UTC, until excluded)";
    await guarded("now-status", () => now(tenant, window));
    await guarded("alerts-status", () => alerts(tenant, window));
    await guarded("rta-status", () => rta(tenant));
    await guarded("intraday-status", () => intraday(tenant, window));
    await guarded("scorecard-status", () => vendors(tenant, window));
    await guarded("settlement-status", () => settlement(tenant, window));
    await guarded("status", () => setups(window));
    document.getElementById("refreshed").textContent = "refreshed " + new Date().toLocaleTimeString() + " (every REFRESH_S s)";
  } catch (error) {
    document.getElementById("refreshed").textContent = String(error.message || error);
  } finally { running = false; }
}
document.getElementById("range").addEventListener("change", () => {
  document.getElementById("custom").hidden = document.getElementById("range").value !== "custom"; refresh();
});
for (const id of ["tenant", "from-day", "until-day"]) document.getElementById(id).addEventListener("change", refresh);
refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
"""


def _parse(kind: str, value: str) -> Any:
    """Query-string values typed by the dashboard's own placeholders."""
    if kind.startswith("DateTime"):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if kind.startswith(("UInt", "Int")):
        return int(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _answer(result: DashboardResult) -> dict[str, Any]:
    return {
        "columns": list(result.columns),
        "rows": [[_jsonable(value) for value in row] for row in result.rows],
    }


def tenants(client: Client) -> DashboardResult:
    """The tenants with data (`sql/page/tenants.sql`), as `/api/tenants` serves them."""
    result = client.query(TENANTS_SQL.read_text(encoding="utf-8"))
    return DashboardResult(tuple(result.column_names), [tuple(row) for row in result.result_rows])


def make_handler(client_factory: Callable[[], Client], refresh_s: float) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()
    client_holder: dict[str, Client] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a page that refreshes itself would flood the terminal."""

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/":
                page = PAGE.replace("REFRESH_MS", str(int(refresh_s * 1000))).replace(
                    "REFRESH_S", f"{refresh_s:g}"
                )
                self._send(200, page.encode(), "text/html; charset=utf-8")
            elif url.path == "/plotly.min.js":
                self._send(200, PLOTLY_JS.read_bytes(), "application/javascript")
            elif url.path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")  # browsers ask; a 404 would be a console error
            elif url.path == "/api":
                self._json(200, {"dashboards": available()})
            elif url.path == "/api/tenants":
                self._tenants()
            elif url.path.startswith("/api/"):
                self._dashboard(url.path.removeprefix("/api/"), parse_qs(url.query))
            else:
                self._json(404, {"error": f"no such page {url.path!r}"})

        def _client(self) -> Client:
            """One clickhouse-connect client for the server, made on first use; callers hold `lock`."""
            client = client_holder.get("client")
            if client is None:
                client = client_holder["client"] = client_factory()
            return client

        def _tenants(self) -> None:
            with lock:
                result = tenants(self._client())
            self._json(200, _answer(result))

        def _dashboard(self, name: str, query: dict[str, list[str]]) -> None:
            try:
                kinds = parameters_of(name)
                params = {key: _parse(kinds.get(key, "String"), values[0]) for key, values in query.items()}
                with lock:  # one clickhouse-connect client, one query at a time
                    client = self._client()
                    result = run(client, name, params)
                    empty = None if result.rows else why_empty(client, params)
            except UnknownDashboard as exc:
                self._json(404, {"error": exc.args[0]})
                return
            except (BadParameters, ValueError) as exc:
                self._json(400, {"error": str(exc)})
                return
            # An empty answer says why, as `acdscope query` does; the page shows it instead of an empty table.
            reason = {} if empty is None else {"empty": empty.reason, "missing": empty.missing}
            self._json(200, {**_answer(result), **reason})

    return Handler


def serve(
    client_factory: Callable[[], Client], host: str = "127.0.0.1", port: int = 8050, refresh_s: float = 10.0
) -> ThreadingHTTPServer:
    """A started server (in a daemon thread); loopback by default, as a local tool should."""
    server = ThreadingHTTPServer((host, port), make_handler(client_factory, refresh_s))
    threading.Thread(target=server.serve_forever, daemon=True, name="acdscope-dashboard").start()
    return server
