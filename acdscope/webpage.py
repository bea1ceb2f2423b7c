"""`acdscope dashboard`: a small local web page that runs the dashboard SQL through `clickhouse-connect` and
refreshes itself.

Serving only (stdlib HTTP, loopback by default): the figures come from `sql/dashboards`, the charts from
Plotly's own plotly.js, served from the installed package so the page needs no network.
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

from acdscope.dashboards import BadParameters
from acdscope.dashboards import UnknownDashboard
from acdscope.dashboards import available
from acdscope.dashboards import parameters_of
from acdscope.dashboards import run
from acdscope.dashboards import why_empty

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>acdscope dashboard</title>
<script src="/plotly.min.js"></script>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2933; }
  table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0 2rem; }
  th, td { border: 1px solid #d9e2ec; padding: 0.3rem 0.55rem; text-align: right; }
  th { background: #f0f4f8; }
  td.text { text-align: left; }
  td.no { color: #9aa5b1; font-style: italic; }
  #status { color: #52606d; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>Outsourcing setups compared</h1>
<p id="status">loading...</p>
<table id="comparison"></table>
<div id="chart" style="height: 460px"></div>
<h2>Intraday: service level against the SLA, and the staffing behind it</h2>
<p>Tenant <select id="tenant"></select> <span id="intraday-status"></span></p>
<div id="intraday-sl" style="height: 380px"></div>
<div id="intraday-staffing" style="height: 380px"></div>
<div id="intraday-volume" style="height: 380px"></div>
<script>
const PERCENT = new Set(["overflow_rate", "e2e_sl_20s", "in_house_sl_20s", "vendor_sl_20s",
  "vendor_abandon_rate", "vendor_adherence", "in_house_adherence"]);
function show(column, value) {
  if (value === null) return ["n/o", "no"];
  if (PERCENT.has(column)) return [(100 * value).toFixed(1) + "%", ""];
  return [String(value), typeof value === "string" ? "text" : ""];
}
async function refresh() {
  const response = await fetch("/api/setup_comparison?from=1970-01-01T00:00:00&until=2100-01-01T00:00:00");
  const data = await response.json();
  if (!response.ok) { document.getElementById("status").textContent = data.error; return; }
  if (data.empty) { document.getElementById("status").textContent = "nothing to show: " + data.empty; return; }
  const table = document.getElementById("comparison");
  table.innerHTML = "";
  const head = table.createTHead().insertRow();
  for (const column of data.columns) { const th = document.createElement("th"); th.textContent = column; head.appendChild(th); }
  const body = table.createTBody();
  for (const row of data.rows) {
    const tr = body.insertRow();
    data.columns.forEach((column, i) => {
      const td = tr.insertCell(); const [text, cls] = show(column, row[i]); td.textContent = text; if (cls) td.className = cls;
    });
  }
  const labels = data.rows.map(r => r[data.columns.indexOf("setup")] + " / " + r[data.columns.indexOf("engagement")]);
  const traces = ["e2e_sl_20s", "in_house_sl_20s", "vendor_sl_20s"].map(column => ({
    type: "bar", name: column, x: labels, y: data.rows.map(r => r[data.columns.indexOf(column)])
  }));
  Plotly.react("chart", traces, {barmode: "group", title: {text: "Service level within 20 s"},
    yaxis: {tickformat: ".0%"}, margin: {b: 160}});
  document.getElementById("status").textContent =
    data.rows.length + " scenarios; n/o = not observable in that setup; refreshed " + new Date().toLocaleTimeString();
  const select = document.getElementById("tenant");
  const tenants = data.rows.map(r => r[data.columns.indexOf("scenario")]);
  if (select.options.length !== tenants.length) {
    select.innerHTML = "";
    for (const tenant of tenants) { const option = document.createElement("option"); option.textContent = tenant; select.appendChild(option); }
    const seen = tenants.indexOf("virtualized-shared");
    if (seen >= 0) select.selectedIndex = seen;
  }
  await intraday();
}
async function intraday() {
  const tenant = document.getElementById("tenant").value;
  if (!tenant) return;
  const response = await fetch("/api/staffing_interval?tenant=" + encodeURIComponent(tenant) +
    "&from=1970-01-01T00:00:00&until=2100-01-01T00:00:00");
  const data = await response.json();
  const status = document.getElementById("intraday-status");
  if (!response.ok) { status.textContent = data.error; return; }
  if (data.empty) { status.textContent = "nothing to show: " + data.empty; return; }
  const at = name => data.columns.indexOf(name);
  const sources = [...new Set(data.rows.map(r => r[at("source")]))];
  const level = [], staffing = [], volume = [];
  for (const source of sources) {
    const rows = data.rows.filter(r => r[at("source")] === source);
    const x = rows.map(r => r[at("interval_start")]);
    level.push({type: "scatter", mode: "lines+markers", name: source + " SL", x, y: rows.map(r => r[at("service_level")])});
    level.push({type: "scatter", mode: "lines", line: {dash: "dot"}, name: source + " target", x, y: rows.map(r => r[at("sla_target")])});
    staffing.push({type: "scatter", name: source + " staffed", x, y: rows.map(r => r[at("staffed_agents")])});
    staffing.push({type: "scatter", line: {dash: "dash"}, name: source + " required", x, y: rows.map(r => r[at("required_agents")])});
    volume.push({type: "scatter", name: source + " calls", x, y: rows.map(r => r[at("offered")])});
    volume.push({type: "scatter", line: {dash: "dot"}, name: source + " forecast", x, y: rows.map(r => r[at("forecast_calls")])});
  }
  Plotly.react("intraday-sl", level, {title: {text: "Service level per interval (abandons counted against)"}, yaxis: {tickformat: ".0%"}});
  Plotly.react("intraday-staffing", staffing, {title: {text: "Agents on queue against those the SLA requires (Erlang A)"}});
  Plotly.react("intraday-volume", volume, {title: {text: "Calls offered per interval against the forecast"}});
  status.textContent = data.rows.length + " source-intervals (dashboard staffing_interval); gaps are n/o";
}
document.getElementById("tenant").addEventListener("change", intraday);
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
                page = PAGE.replace("REFRESH_MS", str(int(refresh_s * 1000)))
                self._send(200, page.encode(), "text/html; charset=utf-8")
            elif url.path == "/plotly.min.js":
                self._send(200, PLOTLY_JS.read_bytes(), "application/javascript")
            elif url.path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")  # browsers ask; a 404 would be a console error
            elif url.path == "/api":
                self._json(200, {"dashboards": available()})
            elif url.path.startswith("/api/"):
                self._dashboard(url.path.removeprefix("/api/"), parse_qs(url.query))
            else:
                self._json(404, {"error": f"no such page {url.path!r}"})

        def _dashboard(self, name: str, query: dict[str, list[str]]) -> None:
            try:
                kinds = parameters_of(name)
                params = {key: _parse(kinds.get(key, "String"), values[0]) for key, values in query.items()}
                with lock:  # one clickhouse-connect client, one query at a time
                    client = client_holder.get("client")
                    if client is None:
                        client = client_holder["client"] = client_factory()
                    result = run(client, name, params)
                    empty = None if result.rows else why_empty(client, params)
            except UnknownDashboard as exc:
                self._json(404, {"error": exc.args[0]})
                return
            except (BadParameters, ValueError) as exc:
                self._json(400, {"error": str(exc)})
                return
            rows = [[_jsonable(value) for value in row] for row in result.rows]
            # An empty answer says why, as `acdscope query` does; the page shows it instead of an empty table.
            reason = {} if empty is None else {"empty": empty.reason, "missing": empty.missing}
            self._json(200, {"columns": list(result.columns), "rows": rows, **reason})

    return Handler


def serve(
    client_factory: Callable[[], Client], host: str = "127.0.0.1", port: int = 8050, refresh_s: float = 10.0
) -> ThreadingHTTPServer:
    """A started server (in a daemon thread); loopback by default, as a local tool should."""
    server = ThreadingHTTPServer((host, port), make_handler(client_factory, refresh_s))
    threading.Thread(target=server.serve_forever, daemon=True, name="acdscope-dashboard").start()
    return server
