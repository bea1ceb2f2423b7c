"""Vendor capacity from interval reports: where a network-delivered vendor's agents are hidden, the staffed time
its reports give stands in for their states, against the calls (required agents) and its contracted seats.
Hand-made rows in embedded ClickHouse (chDB), every expected number worked out by hand in the comments; and a
simulated day through the streaming pipeline, against the simulator's own record of the vendor's agents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from acdscope.dashboards import run
from acdscope.demo import TOPICS
from acdscope.demo import demo_config
from acdscope.demo import embedded_warehouse
from acdscope.demo import feed
from acdscope.demo import pipeline_into
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder
from streams.engine.adherence import AdherenceRow
from streams.engine.config import HIDDEN_VENDOR_CALLS
from streams.engine.config import EngineConfig
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig
from streams.engine.quality import QualityRow
from streams.warehouse.sink import clickhouse_writer
from streams.warehouse.tables import TABLES
from streams.warehouse.terms import load_terms
from tests.support.expected import on_queue_by_interval
from tests.support.warehouse import quality_row
from tests.support.warehouse import report_row

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
QUARTER_MS = 900_000
WINDOW = {"tenant": "nd", "from": T0, "until": T0 + timedelta(hours=1)}
Calls = tuple[int, int, int]  # offered, answered, answered within 20 s


def _report(
    source: str, call_type: str, slot: int, calls: Calls, handle_ms: int, staffed_ms: int | None
) -> QualityRow:
    """A row as the engine writes a vendor report: its calls, handle and staffed time, no waits."""
    offered, answered, within = calls
    return report_row(
        "nd", source, T0 + timedelta(minutes=15 * slot), HIDDEN_VENDOR_CALLS["network_delivered"],
        call_type=call_type, offered=offered, answered=answered, abandoned=offered - answered,
        answered_within_20s=within, handled=answered, handle_ms=handle_ms, staffed_ms=staffed_ms,
    )  # fmt: skip


def _in_house_calls() -> QualityRow:
    """20 calls, all answered, 18 within 20 s, 240 s each: a row from events (staffed time NULL there)."""
    return quality_row(
        "nd", "in-house", T0, offered=20, answered=20, answered_within=[10, 18, 20, 20], wait_answered_ms=100_000,
        handled=20, handle_ms=20 * 240_000, talk_ms=20 * 200_000, acw_ms=20 * 40_000,
    )  # fmt: skip


def _agent(n: int) -> AdherenceRow:
    """An in-house agent on queue the whole quarter hour as scheduled, 600 s of it on contacts or wrap-up."""
    return AdherenceRow(
        T0, "nd", "in-house", "team", f"a{n}", 0, QUARTER_MS, 0, QUARTER_MS, 0, 0, 0, QUARTER_MS, QUARTER_MS,
        600_000, 1,
    )  # fmt: skip


# The default bank, network-delivered: its overflow vendor of 5 agents is seen only through its reports.
SIMULATED = variant(Scenario(), "network_delivered", "shared")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data: Path = tmp_path_factory.mktemp("capacity") / "chdb"
    with embedded_warehouse(data) as client:
        config = EngineConfig(
            tenants={
                "nd": TenantConfig(
                    setup="network_delivered",
                    sources={
                        "in-house": SourceTerms(),
                        "vendor-a": SourceTerms(cost_model="per_contact", rate=4.0, contracted_seats=5),
                        "vendor-b": SourceTerms(cost_model="per_contact", rate=4.0),
                    },
                )
            }
        )
        assert load_terms(client, config) == 3
        write = clickhouse_writer(client)
        quality = [
            # 09:00, vendor-a, two call types whose staffed times add up to its agents' time on queue:
            # billing 12 calls, 10 answered (8 within 20 s), 300 s each; sales 6 answered within 20 s, 250 s each.
            _report("vendor-a", "billing", 0, (12, 10, 8), 10 * 300_000, 3_600_000),
            _report("vendor-a", "sales", 0, (6, 6, 6), 6 * 250_000, 1_800_000),
            # 09:15, vendor-a open without calls: two agents on queue the whole quarter hour.
            _report("vendor-a", "billing", 1, (0, 0, 0), 0, 2 * QUARTER_MS),
            # 09:00, vendor-b reports its calls but not its staffed time: 4 calls of 300 s, all within 20 s.
            _report("vendor-b", "billing", 0, (4, 4, 4), 4 * 300_000, None),
            _in_house_calls(),
        ]
        write("quality_interval", TABLES["quality_interval"].columns, quality)
        write("adherence_interval", TABLES["adherence_interval"].columns, [_agent(n) for n in range(8)])
        yield client


@pytest.fixture(scope="module")
def simulated(warehouse: Any) -> TruthRecorder:
    """`SIMULATED`'s day through the streaming pipeline into the same warehouse (chDB opens one directory per
    process), as its own tenant; the simulator's truth of it."""
    memory, truth = simulate_in_memory(SIMULATED)
    memory.close()
    pipeline = pipeline_into(warehouse, demo_config([SIMULATED]))
    feed(pipeline, memory.events(), dict.fromkeys(TOPICS, 0))
    pipeline.sink.flush()
    return truth


def _by_source_interval(client: Any) -> dict[tuple[str, datetime], dict[str, Any]]:
    result = run(client, "staffing_interval", WINDOW)
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return {(row["source"], row["interval_start"]): row for row in rows}


def test_a_hidden_vendor_is_staffed_by_its_reports_against_its_calls_and_seats(warehouse: Any) -> None:
    rows = _by_source_interval(warehouse)
    busy = rows[("vendor-a", T0)]
    # 3,600,000 + 1,800,000 ms on queue over the 900,000 ms interval: 6 agents.
    assert busy["staffing_basis"] == "vendor report"
    assert busy["staffed_agents"] == 6.0
    # Handle time 3,000,000 + 1,500,000 ms over 5,400,000 ms on queue.
    assert busy["occupancy"] == round(4_500_000 / 5_400_000, 4)  # 0.8333
    # 18 calls at an AHT of 4,500,000 ms / 16 handled = 281.25 s: 5.625 Erlangs; 80 % within 20 s needs 9
    # agents by Erlang C (8 answer 76.7 %, 9 answer 88.6 %): 6 reported on queue are 3 short.
    assert (busy["offered"], busy["aht_s"]) == (18, 281.2)
    assert busy["required_agents"] == 9
    assert busy["over_under_agents"] == busy["staffed_agents"] - busy["required_agents"] == -3.0
    # 6 on queue against the 5 seats contracted: 1 over.
    assert (busy["contracted_seats"], busy["seats_gap_agents"]) == (5, 1.0)
    # Its schedules are not in a report: no utilisation or shrinkage, and it says why; staffing is not hidden.
    assert (busy["utilisation"], busy["shrinkage"]) == (None, None)
    assert busy["staffing_hidden_reason"] == ""
    assert "reports its agents' time on queue, not their schedules" in busy["schedule_hidden_reason"]

    quiet = rows[("vendor-a", T0 + timedelta(minutes=15))]
    # No calls, two agents on queue: none required (its calls are reported, and there were none), 2 over, 3
    # seats short, occupancy 0 (not NULL: the time on queue is known and nothing was handled).
    assert (quiet["offered"], quiet["staffed_agents"], quiet["occupancy"]) == (0, 2.0, 0.0)
    assert (quiet["required_agents"], quiet["over_under_agents"], quiet["seats_gap_agents"]) == (0, 2.0, -3.0)


def test_staffing_is_hidden_only_where_neither_agent_states_nor_a_report_show_it(warehouse: Any) -> None:
    rows = _by_source_interval(warehouse)
    silent = rows[("vendor-b", T0)]
    assert silent["staffing_basis"] == ""
    # NULL, never 0: the report did not say, and the contract names no seats.
    assert (silent["staffed_agents"], silent["occupancy"], silent["over_under_agents"]) == (None, None, None)
    assert (silent["contracted_seats"], silent["seats_gap_agents"]) == (None, None)
    assert "the agents of vendor-b are not seen" in silent["staffing_hidden_reason"]
    # What its calls need is still known from them: 4 calls of 300 s in 15 minutes (1.33 Erlangs), 80 % in
    # 20 s: 3 agents answer 89 % by Erlang C (2 agents 60 %).
    assert silent["required_agents"] == 3
    stored = warehouse.query("select staffed_ms from quality_interval where source = 'vendor-b'")
    assert stored.result_rows == [(None,)]

    seen = rows[("in-house", T0)]
    # The in-house agents are seen: 8 on queue the quarter hour, 8 x 600 s handling of 8 x 900 s on queue; rows
    # from events carry no staffed time and do not hide them.
    assert seen["staffing_basis"] == "agent states"
    assert (seen["staffed_agents"], seen["occupancy"], seen["shrinkage"]) == (8.0, 0.6667, 0.0)
    assert (seen["staffing_hidden_reason"], seen["schedule_hidden_reason"]) == ("", "")
    assert (seen["contracted_seats"], seen["seats_gap_agents"]) == (None, None)


def test_the_scorecard_gives_the_periods_staffing_and_seat_fill_from_the_reports(warehouse: Any) -> None:
    result = run(warehouse, "vendor_scorecard", WINDOW)
    rows = {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}
    vendor = rows["vendor-a"]
    # 5,400,000 + 1,800,000 ms on queue over the 2 quarter hours it reported staffed time for: 4 agents on
    # average, of 5 seats contracted; its occupancy over the period 4,500,000 / 7,200,000.
    assert vendor["staffing_basis"] == "vendor report"
    assert (vendor["open_staffed_agents"], vendor["contracted_seats"], vendor["seat_fill"]) == (4.0, 5, 0.8)
    assert vendor["occupancy"] == 0.625
    assert (vendor["adherence"], vendor["conformance"], vendor["utilisation"], vendor["shrinkage"]) == (
        None,
        None,
        None,
        None,
    )
    silent = rows["vendor-b"]
    assert (silent["staffing_basis"], silent["open_staffed_agents"], silent["seat_fill"]) == ("", None, None)
    in_house = rows["in-house"]
    assert (in_house["staffing_basis"], in_house["open_staffed_agents"], in_house["seat_fill"]) == (
        "agent states",
        8.0,
        None,
    )


def test_through_the_pipeline_a_hidden_vendors_staffing_is_its_agents_time_on_queue(
    warehouse: Any, simulated: TruthRecorder
) -> None:
    """Per interval, staffed agents from the reports = the vendor's agents' time on queue in the simulator's
    record / 15 minutes; the contract's 3 seats (its roster's 2.67 agents on shift on average) against them."""
    start = datetime.combine(SIMULATED.start_date, datetime.min.time(), tzinfo=UTC)
    result = run(
        warehouse,
        "staffing_interval",
        {"tenant": SIMULATED.name, "from": start, "until": start + timedelta(days=1)},
    )
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows if row[0] == "vendor-a"]
    on_queue = on_queue_by_interval(simulated, "vendor-a", QUARTER_MS)
    assert len(rows) == len(on_queue) > 40  # every interval it was open, calls or not
    got = {int(row["interval_start"].timestamp() * 1000): row["staffed_agents"] for row in rows}
    assert got == {interval: round(ms / QUARTER_MS, 2) for interval, ms in on_queue.items()}
    assert {row["staffing_basis"] for row in rows} == {"vendor report"}
    assert {row["staffing_hidden_reason"] for row in rows} == {""}
    assert {row["contracted_seats"] for row in rows} == {3}
    assert all(row["seats_gap_agents"] == pytest.approx(row["staffed_agents"] - 3, abs=0.01) for row in rows)
    assert all(row["over_under_agents"] is not None for row in rows)


def test_a_vendor_staffing_to_its_roster_fills_about_its_contracted_seats(
    warehouse: Any, simulated: TruthRecorder
) -> None:
    """Seat fill = agents on queue over the contract's seat-hours (3 seats x the intervals open): a vendor that
    staffs its roster fills them but for its agents' breaks and the roster's shoulders, as the simulator's own
    record of its agents' time on queue says, by a reader independent of the reports."""
    start = datetime.combine(SIMULATED.start_date, datetime.min.time(), tzinfo=UTC)
    result = run(
        warehouse,
        "vendor_scorecard",
        {"tenant": SIMULATED.name, "from": start, "until": start + timedelta(days=1)},
    )
    (vendor,) = [dict(zip(result.columns, row, strict=True)) for row in result.rows if row[0] == "vendor-a"]
    on_queue = on_queue_by_interval(simulated, "vendor-a", QUARTER_MS)
    expected = sum(on_queue.values()) / (3 * QUARTER_MS * len(on_queue))
    assert vendor["seat_fill"] == pytest.approx(expected, abs=1e-4)
    assert 0.7 < vendor["seat_fill"] < 1.0
