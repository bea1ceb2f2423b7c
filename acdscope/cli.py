"""The `acdscope` command line: demo, migrate, produce, worker, query.

Thin wiring over the other packages; no metric is computed here.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from acdscope.settings import get_settings

if TYPE_CHECKING:
    from acdscope.dashboards import DashboardResult
    from producers.feeds.report import FeedReport
    from producers.simulator.scenario import Scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Contact-center outsourcing analytics.",
)
# At least 110 columns: the comparison tables are wide, and CI logs report a width of 80.
console = Console(width=max(110, Console().width))
_FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
_DAYS_FROM_TODAY = {"yesterday": -1, "today": 0, "tomorrow": 1}


def _moment(text: str) -> datetime:
    """An ISO-8601 moment or date (`_FORMATS`), or yesterday / today / tomorrow (UTC midnight), as a live
    deployment is queried: `--from today --until tomorrow`."""
    from datetime import timedelta

    if text in _DAYS_FROM_TODAY:
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return (midnight + timedelta(days=_DAYS_FROM_TODAY[text])).replace(tzinfo=None)
    for layout in _FORMATS:
        try:
            return datetime.strptime(text, layout)  # noqa: DTZ007 - naive = UTC, as the callers read it
        except ValueError:
            continue
    raise typer.BadParameter(
        f"{text!r} is neither ISO-8601 ({', '.join(_FORMATS)}) nor {'/'.join(_DAYS_FROM_TODAY)}"
    )


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="embedded chDB directory (recreated)")] = Path(
        ".local/demo-chdb"
    ),
    report: Annotated[Path, typer.Option(help="where to write the HTML report")] = Path(".local/report.html"),
) -> None:
    """One simulated day through all 3 setups x 3 engagement models, engine in-process, embedded ClickHouse."""
    from rich.progress import Progress

    from acdscope.demo import run_demo

    started = time.perf_counter()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulate -> engine -> embedded ClickHouse", total=9)
        outcome = run_demo(data_dir, on_scenario=lambda _: progress.advance(task))
    elapsed = time.perf_counter() - started
    rows = _print_comparison(outcome.comparison, "Customer calls, same demand, one day")
    _print_intraday(outcome.intraday, outcome.intraday_tenant)
    _print_breaches(outcome.intraday, outcome.intraday_tenant)
    _print_settlement(outcome.settlement)
    from acdscope.report import render_html

    report.parent.mkdir(parents=True, exist_ok=True)
    page = render_html(
        outcome.comparison, intraday=outcome.intraday, intraday_tenant=outcome.intraday_tenant,
        settlement=outcome.settlement,
    )  # fmt: skip
    report.write_text(page, encoding="utf-8")
    console.print(f"HTML report with charts: {report}")
    got = {row["scenario"]: row["in_house_offered"] or 0 for row in rows}
    verdict = "[green]equal[/green]" if got == outcome.truth_in_house_offered else "[red]DIFFERENT[/red]"
    console.print(
        f"n/o = not observable in that setup. {outcome.events:,} events -> {outcome.rows_written:,} rows in "
        f"{elapsed:.1f} s; in-house queue volumes vs the simulator's truth: {verdict}"
    )
    if got != outcome.truth_in_house_offered:
        raise typer.Exit(1)


def _show(value: object, percent: bool = False) -> str:
    if value is None:
        return "[dim]n/o[/dim]"
    if percent and isinstance(value, float):
        return f"{value:.1%}"
    return str(value)


def _print_comparison(
    comparison: DashboardResult, title: str, intervals: dict[tuple[str, str], Any] | None = None
) -> list[dict[str, Any]]:
    """The setup_comparison dashboard as two tables: customer calls end to end, and the vendors as seen; with
    `intervals` ((scenario, column) -> `acdscope.confidence.Interval`), a row's figures are means over the
    seeds with their 95 % intervals."""
    rows = [dict(zip(comparison.columns, row, strict=True)) for row in comparison.rows]

    def _cell(row: dict[str, Any], column: str, percent: bool = False, digits: int = 1) -> str:
        found = (intervals or {}).get((row["scenario"], column))
        if found is None:
            return _show(row[column], percent)
        return "[dim]n/o[/dim]" if found.mean is None else found.text(percent, digits)

    calls = Table(title=f"{title} (dashboard setup_comparison)")
    for column in (
        "setup",
        "engagement",
        "arrived at ACD",
        "overflow rate",
        "end-to-end SL 20 s",
        "in-house SL 20 s",
    ):
        calls.add_column(column, justify="left" if column in ("setup", "engagement") else "right")
    vendor = Table(title="The vendors, as each setup lets the enterprise see them")
    for column in ("setup", "engagement", "offered", "SL 20 s", "abandoned", "ASA s", "AHT s", "adherence"):
        vendor.add_column(column, justify="left" if column in ("setup", "engagement") else "right")
    for row in rows:
        label = (
            "(the log)" if row["engagement"] == "as recorded" else row["setup"].replace("_", "-"),
            row["engagement"].replace("shared (overflow)", "shared 30 s"),
        )
        calls.add_row(
            *label,
            _cell(row, "arrived_at_acd", digits=0),
            _cell(row, "overflow_rate", True),
            _cell(row, "e2e_sl_20s", True),
            _cell(row, "in_house_sl_20s", True),
        )
        vendor.add_row(
            *label,
            _cell(row, "vendor_offered", digits=0),
            _cell(row, "vendor_sl_20s", True),
            _cell(row, "vendor_abandon_rate", True),
            _cell(row, "vendor_asa_s"),
            _cell(row, "vendor_aht_s"),
            _cell(row, "vendor_adherence", True),
        )
    console.print(calls)
    console.print(vendor)
    return rows


def _print_settlement(result: DashboardResult) -> None:
    """Each vendor's contract settled for the billing month to date: the figure a vendor manager signs off."""
    from acdscope.report import settlement_cell
    from acdscope.report import settlement_rows

    table = Table(
        title="Contract settlement, billing month to date (dashboard settlement: every KPI, tier, cap and the "
        "reconciliation in `acdscope query settlement`)"
    )
    shown = (("tenant", "tenant"), ("source", "source"), ("kpis_missed", "KPIs missed"),
             ("billed", "billed"), ("penalty", "penalty"), ("bonus", "bonus"), ("invoice", "invoice"),
             ("cost_per_contact", "per contact"), ("verdict", "verdict"))  # fmt: skip
    for column, label in shown:
        left = column in ("tenant", "source", "kpis_missed", "verdict")
        table.add_column(label, justify="left" if left else "right", no_wrap=column != "kpis_missed")
    for row in settlement_rows(result):
        table.add_row(*(
            "[dim]n/o[/dim]" if text == "n/o" else text
            for text in (settlement_cell(row, column, False) for column, _ in shown)
        ))  # fmt: skip
    console.print(table)


def _print_intraday(result: DashboardResult, tenant: str) -> None:
    """The staffing_interval dashboard as one line per interval, the sources side by side: service level
    against its target, the calls, and staffed against required agents with their occupancy."""
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    sources = sorted({row["source"] for row in rows}, key=lambda source: (source != "in-house", source))
    by_key = {(row["source"], row["interval_start"]): row for row in rows}
    table = Table(
        title=f"Intraday, tenant {tenant}: service level per interval against the SLA, and the staffing behind it "
        "(dashboard staffing_interval; staffed = agents on queue, required = Erlang A for the SLA, with the callers' patience)"
    )
    table.add_column("interval")
    for source in sources:
        for column in ("calls", "SL", "staffed", "req.", "occ."):
            table.add_column(f"{source} {column}" if column == "calls" else column, justify="right")
    for start in sorted({row["interval_start"] for row in rows}):
        cells = [start.strftime("%H:%M")]
        for source in sources:
            row = by_key.get((source, start))
            if row is None:  # neither calls nor agents in this interval
                cells += [""] * 5
                continue
            level, target = row.get("service_level"), row.get("sla_target")
            # No calls: no service level to have (a dash), which is not "not observable".
            shown = "[dim]-[/dim]" if row.get("offered") == 0 else _show(level, True)
            if level is not None and target is not None and level < target:
                shown = f"[red]{shown}[/red]"
            staffed = row.get("staffed_agents")
            cells += [
                _show(row.get("offered")),
                shown,
                _show(None if staffed is None else round(staffed, 1)),
                _show(row.get("required_agents")),
                _show(row.get("occupancy"), True),
            ]
        table.add_row(*cells)
    console.print(table)


def _print_breaches(result: DashboardResult, tenant: str) -> None:
    """The intervals under the SLA and why, against the forecast: the question a WFM team asks of a vendor each
    week ("was it under-staffed, or did we send more than forecast?"), one line per breached interval."""
    from acdscope.report import breached_intervals

    rows = breached_intervals(result)
    table = Table(
        title=f"Intervals under the SLA, tenant {tenant}, and their cause against the forecast "
        "(staffing_interval.breach_cause)"
    )
    for column in ("interval", "source", "calls", "forecast", "staffed", "req. for forecast", "cause"):
        table.add_column(column, justify="left" if column in ("source", "cause") else "right")
    for row in rows:
        staffed = row["staffed_agents"]
        table.add_row(
            row["interval_start"].strftime("%H:%M"),
            row["source"],
            _show(row["offered"]),
            _show(None if row["forecast_calls"] is None else round(row["forecast_calls"])),
            _show(None if staffed is None else round(staffed, 1)),
            _show(row["required_for_forecast"]),
            row["breach_cause"] or f"n/o: {row['breach_cause_hidden_reason']}",
        )
    if not rows:
        table.add_row("", "", "", "", "", "", "no interval under its SLA target")
    console.print(table)


def _refuse(message: str) -> typer.Exit:
    console.print(message, style="red", markup=False, highlight=False)
    return typer.Exit(2)


def _started(scenario: Scenario, start: str, backfill_minutes: int) -> Scenario:
    """`scenario` beginning at `start` (ISO-8601, or `now`: `producers.simulator.live.live_scenario`)."""
    from producers.simulator.live import live_scenario
    from producers.simulator.scenario import ScenarioError
    from producers.simulator.scenario import scenario_from_dict

    if start == "now":
        return live_scenario(scenario, int(time.time() * 1000), backfill_minutes)
    try:
        moment = datetime.fromisoformat(start)
    except ValueError:
        raise ScenarioError(f"--start: {start!r} is neither ISO-8601 nor 'now'") from None
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return scenario_from_dict(
        {
            **scenario.model_dump(),
            "start_date": moment.date(),
            "start_time": moment.time().replace(tzinfo=None),
        }
    )


def _pacing(scenario: Scenario, speed: float, backfill_minutes: int, tenant: Path | None) -> Any:
    """The live run's pacing of the Kafka sink, once its lead over the clock is known to be accepted: the
    engine refuses events dated more than `max_lead_hours` after their record (the tenant file's engine
    setting, else the default), and a run cut off half-way would show a day that stops."""
    from producers.simulator.live import PacedSink
    from producers.simulator.live import anchor_ms
    from producers.simulator.live import lead_hours
    from streams.engine.config import EngineConfig
    from streams.tenant import load_tenant_file

    engine = EngineConfig.model_validate(load_tenant_file(tenant).engine if tenant else {})
    now_ms = int(time.time() * 1000)
    ahead = lead_hours(scenario, now_ms, speed)
    if ahead > engine.max_lead_hours:
        raise _refuse(
            f"at --speed {speed:g} the last of {scenario.days} day(s) is published {ahead:.1f} h ahead of the "
            f"clock; the engine accepts events up to {engine.max_lead_hours} h ahead (max_lead_hours): lower "
            "--speed or --days, or raise max_lead_hours in the tenant file's [engine]"
        )
    anchor = anchor_ms(scenario, backfill_minutes)
    last_report = [0.0]

    def report(progress: Any) -> None:
        now = time.monotonic()
        if now - last_report[0] >= 10:
            last_report[0] = now
            moment = datetime.fromtimestamp(progress.event_time_ms / 1000, tz=UTC)
            console.print(f"published {progress.published:,} events, event time {moment:%Y-%m-%d %H:%M} UTC")

    return lambda sink: PacedSink(sink, anchor, speed, time.monotonic, time.sleep, report)


@app.command()
def simulate(
    out: Annotated[
        Path | None,
        typer.Option(
            help="output directory (must not exist); with --kafka the truth, by default under .local/runs"
        ),
    ] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="scenario file (.toml/.yaml), or a tenant file; defaults if omitted")
    ] = None,
    tenant: Annotated[
        Path | None, typer.Option(help="tenant file: simulate its [simulation] as that tenant")
    ] = None,
    paired: Annotated[
        bool, typer.Option(help="all 3 setups x 3 engagement models on the same demand")
    ] = False,
    fmt: Annotated[list[str], typer.Option("--format", help="parquet and/or jsonl")] = ["parquet"],  # noqa: B006
    days: Annotated[int | None, typer.Option(min=1, help="override the scenario's number of days")] = None,
    kafka: Annotated[
        bool,
        typer.Option(
            help="publish events to the configured Kafka topics (truth to --out); with --paired every "
            "variant, each as its own tenant"
        ),
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            help="when the first simulated day begins (ISO-8601, UTC unless it says), or 'now': the center "
            "opens --backfill-minutes before now"
        ),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="with --kafka, publish in event time at N x real time (0 = flat out); omitted: flat out",
        ),
    ] = None,
    backfill_minutes: Annotated[
        int, typer.Option(min=0, help="with --speed: minutes after the opening published at once")
    ] = 60,
    forecast: Annotated[
        bool,
        typer.Option(
            help="load the run's intended demand, on its own dates, as the forecast into the configured "
            "ClickHouse (forecast_interval) before publishing"
        ),
    ] = False,
) -> None:
    """Simulate a scenario (or all nine variants) to event files or Kafka, plus the simulator's ground truth.

    Live (`--start now --speed 4 --kafka`): the day opens an hour before now and is published as its time
    comes, four times faster than real time, as an ACD feed would deliver it (`producers.simulator.live`)."""
    from rich.progress import Progress

    from producers.simulator.run import simulate_paired
    from producers.simulator.run import simulate_single
    from producers.simulator.scenario import Scenario
    from producers.simulator.scenario import ScenarioError
    from producers.simulator.scenario import load_scenario
    from producers.simulator.scenario import scenario_from_dict
    from producers.simulator.scenario import scenario_from_tenant
    from streams.tenant import TenantFileError
    from streams.tenant import load_tenant_file

    bad = [f for f in fmt if f not in ("parquet", "jsonl")]
    if bad:
        console.print(f"[red]unknown format {bad[0]!r}; valid: parquet, jsonl[/red]")
        raise typer.Exit(2)
    if scenario is not None and tenant is not None:
        raise _refuse("give --scenario or --tenant, not both")
    if speed is not None and (not kafka or paired):
        raise _refuse("--speed paces a publication: it needs --kafka, and one tenant (not --paired)")
    if out is None and not kafka:
        raise _refuse("--out: where to write the events")
    try:
        if tenant is not None:
            base = scenario_from_tenant(load_tenant_file(tenant))
        else:
            base = load_scenario(scenario) if scenario else Scenario()
        if days is not None:
            base = scenario_from_dict({**base.model_dump(), "days": days})
        if start is not None:
            base = _started(base, start, backfill_minutes)
    except (ScenarioError, TenantFileError) as exc:
        console.print(f"[red]{exc}[/red]", markup=False)
        raise typer.Exit(2) from None
    if out is None:
        out = Path(get_settings().runs_dir) / f"{base.name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    pace = None
    if speed is not None:
        pace = _pacing(base, speed, backfill_minutes, tenant)
    if forecast:
        from acdscope.up import load_run_forecast

        rows = load_run_forecast(get_settings(), base)
        console.print(f"forecast: {rows} interval rows of tenant {base.tenant()}", markup=False)
    formats = [f for f in ("parquet", "jsonl") if f in fmt]
    started = time.perf_counter()
    if kafka:
        from producers.kafka_out import ensure_topics
        from producers.simulator.run import simulate_paired_to_kafka
        from producers.simulator.run import simulate_to_kafka
        from streams.events import TOPIC_AGENT_EVENTS
        from streams.events import TOPIC_CONTACT_EVENTS
        from streams.events import TOPIC_VENDOR_REPORTS

        settings = get_settings()
        names = {
            TOPIC_CONTACT_EVENTS: settings.topic_contact_events,
            TOPIC_AGENT_EVENTS: settings.topic_agent_events,
            TOPIC_VENDOR_REPORTS: settings.topic_vendor_reports,
        }
        security = settings.kafka_security()
        ensure_topics(
            settings.kafka_bootstrap, {name: settings.topic_partitions for name in names.values()}, security
        )
        if paired:
            # Every variant, each as its own tenant: publishing only one would leave the comparison nothing to
            # compare, and silently.
            with Progress(console=console) as progress:
                task = progress.add_task("publishing 9 variants", total=9)
                results = simulate_paired_to_kafka(
                    base,
                    out,
                    settings.kafka_bootstrap,
                    topics=names,
                    security=security,
                    on_run=lambda _: progress.advance(task),
                )
        else:
            results = [
                simulate_to_kafka(
                    base, out, settings.kafka_bootstrap, topics=names, security=security, pace=pace
                )
            ]
    elif paired:
        with Progress(console=console) as progress:
            task = progress.add_task("simulating 9 variants", total=9)
            results = simulate_paired(base, out, formats, on_run=lambda _: progress.advance(task))
    else:
        results = [simulate_single(base, out, formats)]
    elapsed = time.perf_counter() - started
    total = sum(result.events for result in results)
    for result in results:
        # Named by tenant on Kafka: the name the worker and the dashboards (`--param tenant=`) know them by.
        where = f"Kafka as tenant {result.scenario.tenant()}, truth -> " if kafka else ""
        console.print(f"{result.scenario.name}: {result.events} events -> {where}{result.directory}")
    console.print(f"{total} events in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} events/s)")


@app.command(name="report")
def report_command(
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("report.html"),
    date_from: Annotated[datetime | None, typer.Option("--from", formats=_FORMATS)] = None,
    date_until: Annotated[datetime | None, typer.Option("--until", formats=_FORMATS)] = None,
) -> None:
    """Compare the setups from the configured ClickHouse (as the read-only dashboards user): terminal table plus
    a self-contained HTML report."""
    from datetime import UTC

    from acdscope.dashboards import run
    from acdscope.report import cell
    from acdscope.report import render_html
    from acdscope.report import rows_of
    from streams.warehouse.client import connect

    start = (date_from or datetime(1970, 1, 1, tzinfo=UTC)).replace(tzinfo=UTC)
    end = (date_until or datetime(2100, 1, 1, tzinfo=UTC)).replace(tzinfo=UTC)
    result = run(connect(get_settings().dashboard_dsn()), "setup_comparison", {"from": start, "until": end})
    table = Table(title="setup_comparison")
    for column in result.columns:
        table.add_column(column)
    for row in rows_of(result):
        table.add_row(*(cell(column, value) for column, value in row.items()))
    console.print(table)
    out.write_text(render_html(result), encoding="utf-8")
    console.print(f"HTML report: {out}")


@app.command()
def dashboard(
    host: Annotated[str, typer.Option(help="listen address (loopback by default)")] = "127.0.0.1",
    port: int = 8050,
    refresh_s: Annotated[float, typer.Option(min=1.0)] = 10.0,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="read the embedded demo's chDB directory instead of the configured DSN"),
    ] = None,
) -> None:
    """Serve the local dashboard page (setup comparison, refreshing itself) over the dashboard SQL."""
    from acdscope.webpage import serve
    from streams.warehouse.client import connect

    dsn = f"chdb://{data_dir.resolve()}" if data_dir else get_settings().dashboard_dsn()
    server = serve(lambda: connect(dsn), host, port, refresh_s)
    console.print(f"dashboard on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


_REPLAY_FORMATS = (
    "jsonl | parquet | anonymous-bank | asterisk | connect-ctr | connect-agents | csv | taskrouter | genesys | "
    "genesys-users | genesys-events | ucce-tcd"
)


@app.command(name="replay")
def replay_command(
    file: Annotated[
        Path, typer.Argument(help="the file, or a folder of pages (API responses saved one per file)")
    ],
    fmt: Annotated[str, typer.Option("--format", help=_REPLAY_FORMATS)] = "jsonl",
    tenant: Annotated[str, typer.Option(help="tenant of a real feed's events")] = "default",
    mapping: Annotated[
        Path | None,
        typer.Option(help="mapping file (TOML) for --format csv (columns) or ucce-tcd (peripherals)"),
    ] = None,
    to: Annotated[
        str, typer.Option(help="kafka (the configured broker and topics) or a .jsonl path")
    ] = "kafka",
    speed: Annotated[
        float, typer.Option(min=0.0, help="1 = real time, 60 = a minute a second, 0 = flat out")
    ] = 0.0,
    date_from: Annotated[datetime | None, typer.Option("--from", formats=_FORMATS)] = None,
    date_until: Annotated[datetime | None, typer.Option("--until", formats=_FORMATS)] = None,
    resume_file: Annotated[Path | None, typer.Option(help="remember progress here; rerun to resume")] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="write every rejected line here (JSON lines: file, line, reason, text)"),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="exit 1 if any line was rejected (the run still completes)")
    ] = False,
) -> None:
    """Replay recorded events (or a real feed through its adapter) into Kafka or a JSON-lines file, then account
    for every input line: read, blank, sent as events, skipped as not a call event, rejected by reason.

    Exits 1 when the input holds no data or every line holding data was rejected (or, with --strict, when any
    was), and 2 on an unknown format or a missing file; the summary is printed either way."""
    from datetime import UTC

    from rich.progress import Progress

    from producers.feeds.report import FeedReport
    from producers.replay import FORMATS
    from producers.replay import JsonLinesOutput
    from producers.replay import KafkaOutput
    from producers.replay import read_events
    from producers.replay import replay
    from producers.simulator.run import caller_key_from_env
    from streams.events import TOPIC_AGENT_EVENTS
    from streams.events import TOPIC_CONTACT_EVENTS
    from streams.events import TOPIC_VENDOR_REPORTS

    if fmt not in FORMATS:
        raise _refuse(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    if not file.exists():
        raise _refuse(f"{file}: no such file or folder")
    settings = get_settings()
    output: JsonLinesOutput | KafkaOutput
    if to == "kafka":
        topics = {
            TOPIC_CONTACT_EVENTS: settings.topic_contact_events,
            TOPIC_AGENT_EVENTS: settings.topic_agent_events,
            TOPIC_VENDOR_REPORTS: settings.topic_vendor_reports,
        }
        output = KafkaOutput(settings.kafka_bootstrap, topics, settings.kafka_security())
    else:
        output = JsonLinesOutput(Path(to), append=resume_file is not None and resume_file.exists())
    feed = FeedReport(fmt)
    start = date_from.replace(tzinfo=UTC) if date_from and not date_from.tzinfo else date_from
    until = date_until.replace(tzinfo=UTC) if date_until and not date_until.tzinfo else date_until
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"replay {file.name}", total=None)
        try:
            stats = replay(
                read_events(file, fmt, caller_key_from_env(), feed, tenant, mapping), output, speed=speed,
                start=start, until=until, resume_file=resume_file, on_event=lambda: progress.advance(task),
            )  # fmt: skip
        finally:
            output.close()
    if rejects is not None:
        rejects.parent.mkdir(parents=True, exist_ok=True)
        with rejects.open("w", encoding="utf-8") as out:
            feed.write_rejects(out, file)
    _print_feed_report(file, feed, rejects)
    console.print(
        f"events: {stats.read:,} read from the feed, {stats.sent:,} sent to {to}, "
        f"{stats.outside_window:,} outside the window, {stats.skipped_resumed:,} already sent before (resumed)"
    )
    data_lines = feed.read - feed.blank
    if data_lines == 0:
        console.print(f"[red]{file} holds no {feed.unit} to replay[/red]")
        raise typer.Exit(1)
    if feed.rejected and (strict or feed.rejected == data_lines):
        why = "every line holding data was rejected" if feed.rejected == data_lines else "--strict"
        console.print(f"[red]{feed.rejected:,} rejected lines ({why})[/red]")
        raise typer.Exit(1)


def _print_feed_report(file: Path, feed: FeedReport, rejects: Path | None) -> None:
    """The accounting of one replayed input, one table: each line of the file is in exactly one row."""
    unit = f"{feed.unit}s"
    pages = f" in {feed.files} files" if feed.files > 1 else ""
    table = Table(title=f"{file.name} ({feed.fmt}): {feed.read:,} {unit} read{pages}", title_justify="left")
    table.add_column(unit)
    table.add_column("count", justify="right")
    table.add_column("first line", justify="right")
    table.add_row("blank or header", f"{feed.blank:,}", "")
    sent = ", ".join(f"{kind} {count:,}" for kind, count in sorted(feed.events.items()))
    table.add_row(
        f"accepted -> {sum(feed.events.values()):,} events ({sent or 'none'})", f"{feed.accepted:,}", ""
    )
    for kind, count in feed.skipped.most_common():
        table.add_row(f"skipped: {kind}", f"{count:,}", "")
    reasons = feed.reasons()
    if not reasons:
        table.add_row("rejected", "0", "")
    for reason in reasons[:10]:
        where = f"{Path(reason.first_source).name}:" if reason.first_source else ""
        table.add_row(f"rejected: {reason.example}", f"{reason.count:,}", f"{where}{reason.first_line:,}")
    if len(reasons) > 10:
        rest = sum(reason.count for reason in reasons[10:])
        table.add_row(f"rejected: {len(reasons) - 10} other reasons", f"{rest:,}", "")
    if feed.unaccounted:
        table.add_row("[red]not accounted (an adapter bug)[/red]", f"{feed.unaccounted:,}", "")
    console.print(table)
    for label, counts in (("corrected", feed.corrections), ("observed", feed.observed)):
        for kind, count in counts.most_common():
            console.print(f"  {label}: {kind}: {count:,}")
    if rejects is not None:
        console.print(f"  {feed.rejected:,} rejected lines written to {rejects}")
    elif feed.rejected:
        console.print("  --rejects FILE writes every rejected line with its number and reason")


@app.command(name="what-if")
def what_if(
    file: Path,
    fmt: Annotated[str, typer.Option("--format", help="a replay format holding contact events")] = (
        "anonymous-bank"
    ),
    scenario: Annotated[
        Path, typer.Option(help="staffing, vendors, setup and engagement (TOML or YAML)")
    ] = Path("scenarios/bank-1999.toml"),
    days: Annotated[int | None, typer.Option(min=1, help="only the log's first N days")] = None,
    seed: Annotated[int, typer.Option(help="seed of the draws the log cannot supply")] = 1999,
    seeds: Annotated[
        int, typer.Option(min=1, help="replicates on seeds seed, seed+1, ...: means with 95 % intervals")
    ] = 1,
    weekday_staffing: Annotated[
        bool, typer.Option(help="staff each weekday as the log did (agents seen answering, by weekday)")
    ] = False,
    mapping: Annotated[Path | None, typer.Option(help="column mapping (TOML) for --format csv")] = None,
    data_dir: Annotated[Path, typer.Option(help="embedded chDB directory (recreated)")] = Path(
        ".local/what-if-chdb"
    ),
) -> None:
    """A real log's calls (arrivals, patience, handle times) through all 3 setups x 3 engagement models."""
    from rich.progress import Progress

    from acdscope.whatif import run_what_if
    from producers.feeds.report import FeedReport
    from producers.replay import FORMATS
    from producers.replay import read_events
    from producers.simulator.run import caller_key_from_env
    from producers.simulator.scenario import ScenarioError
    from producers.simulator.scenario import load_scenario

    if fmt not in FORMATS:
        console.print(f"[red]unknown format {fmt!r}; valid: {', '.join(FORMATS)}[/red]")
        raise typer.Exit(2)
    try:
        base = load_scenario(scenario)
    except (ScenarioError, OSError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    feed = FeedReport(fmt)
    events = list(read_events(file, fmt, caller_key_from_env(), feed, "default", mapping))
    started = time.perf_counter()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("log -> simulator x 9 -> engine -> embedded ClickHouse", total=9 * seeds)
        outcome = run_what_if(
            events, base, data_dir, seed=seed, days=days, on_scenario=lambda _: progress.advance(task),
            seeds=seeds, weekday_staffing=weekday_staffing,
        )  # fmt: skip
    t = outcome.trace
    first, last = outcome.scenario.start_date, outcome.scenario.days
    pattern = outcome.scenario.in_house.weekday_share
    if pattern:
        days_text = ", ".join(f"{day} {share:.0%}" for day, share in pattern.items())
        console.print(
            f"Staffing by weekday, as the log's (agents seen answering): {outcome.scenario.in_house.agents} "
            f"in-house agents, on shift {days_text}, other days all"
        )
    over = "" if seeds == 1 else f"; means over seeds {seed}-{seed + seeds - 1}, ± the 95 % interval"
    _print_comparison(
        outcome.comparison, f"{file.name}: its {t.calls:,} queued calls, {last} days from {first}{over}",
        outcome.intervals,
    )  # fmt: skip
    console.print(
        f"The log's own calls in every row: {t.answered:,} served (their service times as recorded), "
        f"{t.abandoned:,} hung up (patience = their recorded wait), {t.left_before_queue:,} left in the IVR "
        f"(not queue demand), {feed.rejected} rejected lines. Served callers' patience: Kaplan-Meier draws "
        f"beyond their wait ({t.unbounded_patience:,} beyond the longest recorded abandon: no limit). "
        f"{outcome.events:,} events in {time.perf_counter() - started:.1f} s. n/o = not observable."
    )


@app.command(name="recommend")
def recommend_command(
    scenario: Annotated[
        Path, typer.Option(help="demand, capacities and behaviour (a scenario or tenant file, TOML or YAML)")
    ] = Path("scenarios/bank.toml"),
    tenant: Annotated[
        Path | None, typer.Option(help="the contracts that price every plan (default: tenants/bank.toml)")
    ] = None,
    service_level: Annotated[
        float, typer.Option(min=0.01, max=0.99, help="end-to-end service level target")
    ] = 0.8,
    threshold: Annotated[
        int | None, typer.Option(min=1, help="seconds of the service level (default: the scenario's)")
    ] = None,
    max_abandon: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="most customers who may hang up")
    ] = 0.05,
    min_in_house_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="least share of answered customers kept in-house")
    ] = 0.0,
    seeds: Annotated[int, typer.Option(min=2, help="replicates (seeds) per simulated plan")] = 5,
    seed: Annotated[int | None, typer.Option(help="first replicate's seed (default: the scenario's)")] = None,
    days: Annotated[int, typer.Option(min=1, help="days per replicate")] = 1,
    block_hours: Annotated[int, typer.Option(min=1, max=24, help="hours per staffing block")] = 2,
    confirm: Annotated[int, typer.Option(min=1, help="cheapest estimated plans to simulate")] = 8,
    engagement: Annotated[
        list[str] | None,
        typer.Option(help="only these: in-house only, targeted, shared (split), shared (overflow), full"),
    ] = None,
    setup: Annotated[list[str] | None, typer.Option(help="only these setups")] = None,
    log: Annotated[
        Path | None,
        typer.Option(help="a real log as the demand (through the what-if trace), e.g. the bank's"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="the log's replay format")] = "anonymous-bank",
    log_days: Annotated[int | None, typer.Option(min=1, help="only the log's first N days")] = None,
    rows: Annotated[int, typer.Option(min=1, help="rows of the ranked table to print")] = 8,
    report: Annotated[Path, typer.Option(help="HTML page: ranked table and frontier chart")] = Path(
        ".local/recommend.html"
    ),
    data_dir: Annotated[Path, typer.Option(help="embedded chDB directory (recreated)")] = Path(
        ".local/recommend-chdb"
    ),
) -> None:
    """The setup, engagement model, threshold or split and seats per block that meet the targets at the lowest
    cost per contact: Erlang A prunes, simulation on several seeds confirms (95 % intervals)."""
    from rich.progress import BarColumn
    from rich.progress import MofNCompleteColumn
    from rich.progress import Progress
    from rich.progress import TextColumn
    from rich.progress import TimeElapsedColumn

    from acdscope.demo import DEMO_TENANT
    from acdscope.recommend import RecommendError
    from acdscope.recommend import Targets
    from acdscope.recommend import recommend
    from acdscope.report import render_recommendation
    from producers.simulator.scenario import SETUPS
    from producers.simulator.scenario import ScenarioError
    from producers.simulator.scenario import load_scenario
    from streams.tenant import TenantFileError
    from streams.tenant import load_tenant_file

    unknown = sorted(set(setup or ()) - set(SETUPS))
    if unknown:
        raise _refuse(f"--setup: {unknown} are not setups ({', '.join(SETUPS)})")
    try:
        base = load_scenario(scenario)
        contracts = load_tenant_file(tenant or DEMO_TENANT)
    except (ScenarioError, TenantFileError, OSError) as exc:
        raise _refuse(str(exc)) from None
    targets = Targets(service_level, threshold or base.service_threshold_s, max_abandon, min_in_house_share)
    log_events = None
    if log is not None:
        from producers.feeds.report import FeedReport
        from producers.replay import FORMATS
        from producers.replay import read_events
        from producers.simulator.run import caller_key_from_env

        if fmt not in FORMATS:
            raise _refuse(f"--format: unknown {fmt!r}; valid: {', '.join(FORMATS)}")
        feed = FeedReport(fmt)
        log_events = list(read_events(log, fmt, caller_key_from_env(), feed))
        console.print(f"{log.name}: {len(log_events):,} events, {feed.rejected} rejected lines")
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        tasks: dict[str, Any] = {}

        def step(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        try:
            outcome = recommend(
                base, contracts, targets, data_dir, seeds=seeds, seed=seed, days=days,
                block_hours=block_hours, confirm=confirm,
                setups=tuple(setup) if setup else SETUPS,  # type: ignore[arg-type]
                engagements=tuple(engagement) if engagement else None, progress=step,
                log_events=log_events, log_days=log_days,
            )  # fmt: skip
        except RecommendError as exc:
            raise _refuse(str(exc)) from None
    elapsed = time.perf_counter() - started
    _print_recommendation(outcome, rows)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_recommendation(outcome), encoding="utf-8")
    simulated = sum(1 for e in outcome.ranked if e.simulated is not None)
    console.print(
        f"{outcome.considered} plans estimated, {outcome.pruned} ruled out by Erlang A, {simulated} simulated x "
        f"{len(outcome.seeds)} seeds in {elapsed:.0f} s. Frontier chart: {report}"
    )
    if outcome.best is None:
        raise typer.Exit(1)


def _print_recommendation(outcome: Any, rows: int) -> None:
    from acdscope.recommend import OBSERVES

    simulated = [e for e in outcome.ranked if e.simulated is not None]
    _plans_table(outcome, outcome.leaders, "The best plan of each engagement model")
    _plans_table(outcome, simulated[:rows], f"Plans ranked, the first {min(rows, len(simulated))} simulated")
    console.print("What the enterprise's own systems see of a plan: " + "; ".join(
        f"{'in-house only' if setup is None else setup.replace('_', '-')}: {text}"
        for setup, text in OBSERVES.items()))  # fmt: skip
    console.print(outcome.reason)


def _plans_table(outcome: Any, plans: list[Any], title: str) -> None:
    from rich import box

    from acdscope.recommend import describe
    from acdscope.recommend import figure_text
    from acdscope.recommend import seats_text

    blocks = "/".join(block.label for block in outcome.blocks)
    table = Table(title=f"{title} ({outcome.targets.describe()})", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column(f"plan: setup, engagement, parameters\nseats per block {blocks}", ratio=1)
    for name in (
        "cost per\ncontact",
        "service\nlevel",
        "abandoned",
        "in-house\nshare",
        "occu-\npancy",
        "meets",
    ):
        table.add_column(name, justify="right", no_wrap=True)
    ranks = {id(e): rank for rank, e in enumerate(outcome.ranked, 1)}
    for e in plans:
        f = e.simulated
        table.add_row(
            str(ranks[id(e)]), f"{describe(e.candidate)}\n[dim]{seats_text(e.candidate)}[/dim]",
            figure_text(f["cost_per_contact"], False), figure_text(f["service_level"], True),
            figure_text(f["abandon_rate"], True), _show(f["in_house_share"].mean, True),
            _show(f["occupancy"].mean, True), "yes" if e.meets else "no: " + e.short_misses,
            style="bold green" if e is outcome.best else None,
        )  # fmt: skip
    console.print(table)


@app.command()
def migrate() -> None:
    """Apply the numbered SQL migrations to the configured ClickHouse (safe to re-run)."""
    from streams.warehouse.client import connect
    from streams.warehouse.migrations import migrate as apply

    client = connect(get_settings().clickhouse_dsn)
    applied = apply(client)
    console.print(f"applied {len(applied)} migration(s): {', '.join(m.path.name for m in applied) or 'none'}")


@app.command()
def terms(
    tenant: Annotated[
        list[Path],
        typer.Option(exists=True, dir_okay=False, help="a tenant file, besides ACDSCOPE_TENANT_FILES"),
    ] = [],  # noqa: B006
) -> None:
    """Load each source's contract (cost model, SLA, credits, seats) from the tenant files and the engine
    configuration into `source_terms`, for the dashboards. Loading none is an error: every cost and SLA
    figure would be missing, and the dashboards would say so only later."""
    from streams.edge.engine_config import load_engine_config
    from streams.warehouse.client import connect
    from streams.warehouse.terms import load_terms

    settings = get_settings()
    paths = list(dict.fromkeys([*settings.tenant_paths(), *(str(path) for path in tenant)]))
    try:
        config = load_engine_config(settings.engine_config, paths)
    except ValueError as exc:
        raise _refuse(str(exc)) from None
    loaded = load_terms(connect(settings.clickhouse_dsn), config)
    if not loaded:
        console.print(
            "no contract terms to load: no tenant file (--tenant FILE or ACDSCOPE_TENANT_FILES) and no tenant "
            "with sources in the engine configuration (ACDSCOPE_ENGINE_CONFIG)",
            style="red",
        )
        raise typer.Exit(1)
    tenants = ", ".join(f"{name} ({len(t.sources)})" for name, t in config.tenants.items() if t.sources)
    console.print(f"loaded terms for {loaded} source(s): tenant {tenants}", markup=False)


@app.command()
def forecast(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="forecast CSV (header below)")],
) -> None:
    """Load a forecast CSV into `forecast_interval`, header tenant,source,call_type,interval_start,
    interval_minutes,calls,aht_s (interval_start ISO-8601 with an offset), brought to the engine's interval
    width. Bad lines are rejected and listed; the exit code is 1 when any was."""
    from streams.edge.engine_config import load_engine_config
    from streams.warehouse.client import connect
    from streams.warehouse.forecast import ForecastError
    from streams.warehouse.forecast import at_width
    from streams.warehouse.forecast import load_forecast
    from streams.warehouse.forecast import read_forecast_file

    settings = get_settings()
    try:
        read = read_forecast_file(file)
    except ForecastError as exc:
        console.print(f"{file}: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    parsed = at_width(
        read, load_engine_config(settings.engine_config, settings.tenant_paths()).interval_minutes
    )
    for rejected in parsed.rejected:
        console.print(f"{file}: {rejected}", style="red", markup=False, highlight=False)
    load_forecast(connect(settings.clickhouse_dsn), parsed.rows)
    # Every line read as good and not rejected at the engine's width is accepted, summed ones included.
    accepted = read.accepted - (len(parsed.rejected) - len(read.rejected))
    console.print(
        f"accepted {accepted} line(s) as {parsed.accepted} interval(s), rejected {len(parsed.rejected)}"
    )
    if parsed.rejected:
        raise typer.Exit(1)


@app.command()
def topics() -> None:
    """Create the input and dead-letter topics with the configured partition count (safe to re-run)."""
    from producers.kafka_out import ensure_topics

    settings = get_settings()
    from acdscope.up import all_topics

    wanted = all_topics(settings)
    ensure_topics(settings.kafka_bootstrap, wanted, settings.kafka_security())
    console.print(f"topics ready: {', '.join(f'{name} ({n} partitions)' for name, n in wanted.items())}")


@app.command(name="alerts-webhook")
def alerts_webhook(
    url: Annotated[
        str | None,
        typer.Option(help="where to POST each alert transition (default ACDSCOPE_ALERT_WEBHOOK_URL)"),
    ] = None,
) -> None:
    """Deliver every alert transition on the alerts topic to a webhook: signed when ACDSCOPE_ALERT_WEBHOOK_SECRET
    is set, retried until the receiver answers, POSTed once per idempotency key, each outcome recorded in
    `alert_deliveries`. Runs until SIGTERM or Ctrl-C; one line per delivery on stderr."""
    import asyncio
    import logging

    from producers.kafka_out import ensure_topics
    from streams.edge.webhook import KafkaAlertSource
    from streams.edge.webhook import WebhookDeliverer
    from streams.edge.webhook import check_url
    from streams.edge.webhook import deliver_until_stopped
    from streams.edge.webhook import describe_url
    from streams.warehouse.client import connect
    from streams.warehouse.deliveries import ClickHouseDeliveryStore

    settings = get_settings()
    target = url or settings.alert_webhook_url
    if not target:
        raise _refuse("alerts-webhook: no webhook URL: pass --url URL or set ACDSCOPE_ALERT_WEBHOOK_URL")
    try:
        check_url(target)
    except ValueError as exc:
        raise _refuse(f"alerts-webhook: {exc}") from None
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)  # the topic admin's connection chatter
    # Only where missing, with the partition count every topic of the deployment has: the deliverer may start
    # before the worker that publishes to it.
    ensure_topics(
        settings.kafka_bootstrap,
        {settings.topic_alerts: settings.topic_partitions},
        settings.kafka_security(),
    )
    secret = settings.alert_webhook_secret.get_secret_value() if settings.alert_webhook_secret else ""
    group = f"{settings.faust_app_id}-alert-webhook"
    logging.getLogger("acdscope.cli").info(
        "alerts-webhook: %s (group %s) to %s, %s", settings.topic_alerts, group, describe_url(target),
        "signed" if secret else "unsigned (no ACDSCOPE_ALERT_WEBHOOK_SECRET)",
    )  # fmt: skip

    async def main() -> None:
        # The client is built in the store's thread, with backoff: building one queries the server.
        store = ClickHouseDeliveryStore(lambda: connect(settings.clickhouse_dsn))
        deliverer = WebhookDeliverer(
            target, store, secret=secret.encode() or None, timeout_s=settings.alert_webhook_timeout_s
        )
        source = KafkaAlertSource(
            settings.kafka_bootstrap, settings.topic_alerts, group, settings.kafka_security()
        )
        await deliver_until_stopped(deliverer, source)

    asyncio.run(main())


@app.command()
def produce(
    hours: Annotated[float, typer.Option(min=0.1)] = 8.0,
    calls_per_hour: Annotated[float, typer.Option(min=1.0)] = 240.0,
    seed: int = 7,
) -> None:
    """Publish the tiny two-source simulation to the contact-events topic."""
    from producers.kafka_out import ensure_topics
    from producers.kafka_out import publish_contact_events
    from producers.tiny_sim import TinyScenario
    from producers.tiny_sim import simulate

    settings = get_settings()
    events, _ = simulate(TinyScenario(hours=hours, calls_per_hour=calls_per_hour, seed=seed))
    from acdscope.up import all_topics

    ensure_topics(settings.kafka_bootstrap, all_topics(settings), settings.kafka_security())
    sent = publish_contact_events(
        settings.kafka_bootstrap, settings.topic_contact_events, events, settings.kafka_security()
    )
    console.print(f"published {sent} events to {settings.topic_contact_events}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(ctx: typer.Context) -> None:
    """Run the Faust worker (`faust -A streams.edge.app worker`); extra arguments go to Faust."""
    # No HTTP endpoint (the Faust CLI would start one whatever the app says): several workers on one host
    # would fight over its port, and nothing reads it.
    args = [sys.executable, "-m", "faust", "-A", "streams.edge.app", "worker", "-l", "info", "--without-web",
            *ctx.args]  # fmt: skip
    os.execv(sys.executable, args)


@app.command()
def query(
    name: str,
    date_from: Annotated[
        datetime | None,
        typer.Option(
            "--from", parser=_moment, help="start of the window (if it has one): ISO-8601, today, yesterday"
        ),
    ] = None,
    date_until: Annotated[
        datetime | None,
        typer.Option(
            "--until", parser=_moment, help="end of the window, exclusive: ISO-8601, tomorrow, today"
        ),
    ] = None,
    param: Annotated[
        list[str], typer.Option("--param", help="name=value, for the dashboard's other parameters")
    ] = [],  # noqa: B006
) -> None:
    """Run one dashboard query from sql/dashboards against the configured ClickHouse, as its read-only
    dashboards user. --from/--until only for a dashboard over a window (not the live rta_board).

    An answer wider than the terminal is printed as one column-and-value list per row."""

    from acdscope.dashboards import WINDOW
    from acdscope.dashboards import BadParameters
    from acdscope.dashboards import UnknownDashboard
    from acdscope.dashboards import describe_parameters
    from acdscope.dashboards import parameters_of
    from acdscope.dashboards import run
    from acdscope.dashboards import why_empty
    from acdscope.dashboards import window_of
    from streams.warehouse.client import connect

    def refuse(message: str) -> typer.Exit:
        console.print(f"[red]{message}[/red]")
        return typer.Exit(2)

    try:
        kinds = parameters_of(name)
    except UnknownDashboard as exc:
        raise refuse(exc.args[0]) from None
    others: dict[str, str] = {}
    for item in param:
        key, _, value = item.partition("=")
        if key in WINDOW:
            raise refuse(f"give the window as --{key}, not --param {key}=")
        others[key] = value
    # The window is whatever the dashboard's SQL has placeholders for (`window_of`), not a CLI assumption:
    # a live board has none, and a window given to it would be silently meaningless.
    wanted = window_of(name)
    given = {
        key: moment for key, moment in (("from", date_from), ("until", date_until)) if moment is not None
    }
    if not wanted and given:
        raise refuse(
            f"dashboard {name!r} is not over a time window: drop {' and '.join(f'--{key}' for key in given)}; "
            f"its parameters are: {describe_parameters(name)}"
        )
    missing = [key for key in wanted if key not in given]
    if missing:
        raise refuse(
            f"dashboard {name!r} needs {' and '.join(f'--{key}' for key in missing)}; "
            f"its parameters are: {describe_parameters(name)}"
        )
    params: dict[str, object] = {}
    for key, moment in given.items():
        # A dashboard over local days takes dates; the others take UTC moments.
        params[key] = (
            moment.date()
            if kinds.get(key) == "Date"
            else moment
            if moment.tzinfo
            else moment.replace(tzinfo=UTC)
        )
    params.update(others)
    client = connect(get_settings().dashboard_dsn())
    try:
        result = run(client, name, params)
        empty = None if result.rows else why_empty(client, params)
    except (UnknownDashboard, BadParameters) as exc:
        raise refuse(exc.args[0]) from None
    finally:
        client.close()
    if empty is not None:
        # Never an empty table: say why, and fail where what the dashboard reads is not there.
        console.print(f"{name}: {empty.reason}", style="red" if empty.missing else None, markup=False)
        raise typer.Exit(1 if empty.missing else 0)
    cells = [["" if value is None else str(value) for value in row] for row in result.rows]
    # Each column as wide as its longest cell or name, plus the borders and padding Rich draws.
    width = sum(
        max([len(column), *(len(row[index]) for row in cells)]) + 3
        for index, column in enumerate(result.columns)
    )
    if width <= console.width:
        table = Table(title=name)
        for column in result.columns:
            table.add_column(column)
        for cell_row in cells:
            table.add_row(*cell_row)
        console.print(table)
        return
    # Too wide for the terminal as a table (vendor_scorecard has 60 columns): one list per row, NULL as NULL.
    for number, row in enumerate(result.rows, 1):
        table = Table(title=f"{name}, row {number} of {len(result.rows)}", show_header=False)
        table.add_column("column")
        table.add_column("value")
        for column, value in zip(result.columns, row, strict=True):
            table.add_row(column, "NULL" if value is None else str(value))
        console.print(table)


@app.command()
def up(
    tenant: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="the tenant file (streams/tenant.py)")
    ] = Path("tenants/bank.toml"),
    speed: Annotated[float, typer.Option(min=0.0, help="event time at N x real time; 0 = flat out")] = 4.0,
    days: Annotated[int, typer.Option(min=1, help="simulated days")] = 1,
    port: Annotated[int, typer.Option(help="the dashboard page's port")] = 8050,
    backfill_minutes: Annotated[int, typer.Option(min=0, help="minutes of the day published at once")] = 60,
) -> None:
    """The streaming deployment, live, in one command: local Kafka + ClickHouse endpoint (those not running),
    migrations, topics, the tenant's terms and forecast, the worker, the page and the full simulator publishing
    the tenant live. Ctrl-C (or `acdscope down`) stops everything it started."""
    import contextlib
    import signal as signals
    import subprocess

    from acdscope import up as deployment
    from producers.simulator.scenario import ScenarioError
    from streams.tenant import TenantFileError

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False)

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Both by hand: a shell starting `up` in the background leaves SIGINT ignored, and Python then never
    # raises KeyboardInterrupt for it.
    signals.signal(signals.SIGTERM, terminate)
    signals.signal(signals.SIGINT, terminate)
    code = 0
    elsewhere = False  # `acdscope down` from another shell is stopping it all
    try:
        try:
            started, processes = deployment.up(
                tenant, speed, days, port, backfill_minutes, get_settings(), say
            )
        except (deployment.UpError, TenantFileError, ScenarioError) as exc:
            console.print(str(exc), style="red", markup=False, highlight=False)
            code = 2
            return
        table = Table(title=f"acdscope up: tenant {started.tenant}, live at {speed:g} x real time")
        for column in ("process", "pid", "log"):
            table.add_column(column)
        for process in started.processes:
            table.add_row(str(process["name"]), str(process["pid"]), str(process["log"]))
        console.print(table)
        say(f"page: {started.url}   (Ctrl-C here, or `acdscope down`, stops what this started)")
        finished = False
        while True:
            state = deployment.Started.load()
            if state is None or state.stopping:
                elsewhere = True
                for child in processes.values():  # reap them as `down` stops them: they are our children
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        child.wait(deployment.STOP_TIMEOUT_S + 5)
                say("stopped by `acdscope down`")
                return
            for name in ("worker", "page", "webhook"):
                if name in processes and processes[name].poll() is not None:
                    console.print(
                        f"{name} exited with {processes[name].returncode}; see {deployment.state_dir() / name}.log",
                        style="red",
                        markup=False,
                    )
                    code = 1
                    return
            if not finished and processes["simulator"].poll() is not None:
                finished = True
                outcome = "finished" if processes["simulator"].returncode == 0 else "FAILED"
                say(
                    f"simulator {outcome} (exit {processes['simulator'].returncode}); worker and page keep running"
                )
                code = processes["simulator"].returncode or 0
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        if not elsewhere:
            deployment.down(say)
        if code:
            raise typer.Exit(code)


@app.command()
def down() -> None:
    """Stop what `acdscope up` started (by the PIDs it recorded), and the local servers it started."""
    from acdscope import up as deployment

    if not deployment.down(lambda line: console.print(line, markup=False, highlight=False)):
        console.print(f"nothing is up (no {deployment.state_dir() / 'state.json'})")


if __name__ == "__main__":
    app()
