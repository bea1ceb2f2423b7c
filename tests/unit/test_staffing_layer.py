"""The staffing layer against queueing theory: a single pool of agents with Poisson arrivals, exponential talk
times and callers who never hang up is Erlang C's M/M/c, so its measured occupancy must be the offered load per
agent and its required agents Erlang C's closed form; the same pool with exponential patience is Erlang A's
M/M/c+M, so its measured occupancy is the load carried per agent, its estimated patience the simulator's, and
its required agents Erlang A's (the engine's queueing module, by uniformization: an independent method from the
SQL's negative-binomial sums). Embedded ClickHouse (chDB), the streaming pipeline, no servers."""

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
from producers.simulator.scenario import scenario_from_dict
from streams.engine.queueing import erlang_a
from streams.engine.queueing import erlang_c_service_level

AGENTS = 46
CALLS_PER_HOUR = 600
TALK_S = 240.0
PATIENCE_S = 180.0
OPEN = range(8, 18)  # ten hours at a constant rate


def _pool(name: str, agents: int, patience: dict[str, Any]) -> Scenario:
    """One pool, everyone on queue all day (no breaks, no deviations): a = 600 x 240 / 3600 = 40 Erlangs."""
    return scenario_from_dict(
        {
            "name": name,
            "setup": "virtualized",
            "days": 2,
            "intraday_profile": [1.0 if hour in OPEN else 0.0 for hour in range(24)],
            "call_types": [
                {
                    "name": "billing",
                    "daily_volume": CALLS_PER_HOUR * len(OPEN),
                    "transfer_prob": 0.0,
                    "handle": {"distribution": "exponential", "talk_mean_s": TALK_S, "hold_prob": 0.0,
                               "acw_mean_s": 0.0},
                }
            ],
            "patience": patience,
            "in_house": {
                "id": "in-house",
                "agents": agents,
                "teams": 2,
                "repeat_prob": 0.0,  # repeat calls would add load the rate above does not count
                "shifts": [{"start": "07:30:00", "hours": 11.0, "share": 1.0, "breaks": False}],
                "behaviour": {"late_login_prob": 0, "long_break_prob": 0, "early_logout_prob": 0,
                              "unscheduled_not_ready_per_hour": 0},
            },
            "vendors": [],
        }
    )  # fmt: skip


# M/M/c: callers never hang up. M/M/c+M: exponential patience of 180 s, and four agents fewer, so that some do.
POOL = _pool("pool", AGENTS, {"distribution": "none"})
IMPATIENT = _pool("impatient", AGENTS - 4, {"distribution": "exponential", "mean_s": PATIENCE_S})
START = datetime.combine(POOL.start_date, datetime.min.time(), tzinfo=UTC)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data: Path = tmp_path_factory.mktemp("staffing") / "chdb"
    with embedded_warehouse(data) as client:
        pipeline = pipeline_into(client, demo_config([POOL, IMPATIENT]))
        offsets = dict.fromkeys(TOPICS, 0)  # one stream: the second pool's records follow the first's
        for scenario in (POOL, IMPATIENT):
            memory, _ = simulate_in_memory(scenario)
            memory.close()
            feed(pipeline, memory.events(), offsets)
        pipeline.sink.flush()
        yield client


def _rows(client: Any, tenant: str = "pool") -> list[dict[str, Any]]:
    result = run(
        client, "staffing_interval", {"tenant": tenant, "from": START, "until": START + timedelta(days=3)}
    )
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _erlang_c_agents(calls: float, aht_s: float, span_s: float, threshold_s: float, target: float) -> int:
    load = calls * aht_s / span_s
    agents = int(load) + 1
    while erlang_c_service_level(agents, load, aht_s, threshold_s) < target:
        agents += 1
    return agents


def test_measured_occupancy_is_the_offered_load_per_agent(warehouse: Any) -> None:
    rows = [row for row in _rows(warehouse) if row["interval_start"].hour in OPEN]
    assert len(rows) == 2 * len(OPEN) * 4
    # Every agent is on queue all the open hours: staffed is the pool's size.
    assert all(abs(row["staffed_agents"] - AGENTS) < 1e-9 for row in rows)
    assert all(row["shrinkage"] == 0 for row in rows)
    occupancy = sum(row["occupancy"] for row in rows) / len(rows)
    offered_load = CALLS_PER_HOUR * TALK_S / 3600
    assert occupancy == pytest.approx(offered_load / AGENTS, rel=0.02)  # 40 / 46 = 0.870
    assert 0.75 < occupancy < 0.95


def test_required_agents_are_erlang_cs_for_the_measured_volume_and_aht(warehouse: Any) -> None:
    query = (
        "select interval_start, offered, handle_ms / handled / 1000, required_agents, staffed_agents,"
        " over_under_agents from source_metrics(tenant = 'pool', from = {from:DateTime64(3, 'UTC')},"
        " until = {until:DateTime64(3, 'UTC')}, tz = 'UTC') where grain = 'interval' and offered > 0"
    )
    result = warehouse.query(query, parameters={"from": START, "until": START + timedelta(days=3)})
    assert len(result.result_rows) == 2 * len(OPEN) * 4
    for _, offered, aht_s, required, staffed, over_under in result.result_rows:
        # The demo's terms: 80 % within 20 s, over the 15-minute interval.
        assert required == _erlang_c_agents(offered, aht_s, 900, 20, 0.8)
        assert over_under == pytest.approx(staffed - required)
    # 150 calls of 240 s in 15 minutes is 40 Erlangs: 46 agents are the fewest for 80 % within 20 s
    # (45 give 1 - C(45, 40) e^(-5 x 20 / 240) = 0.77), so the pool is sized for its mean load.
    assert _erlang_c_agents(150, 240, 900, 20, 0.8) == 46
    assert erlang_c_service_level(45, 40, 240, 20) < 0.8 <= erlang_c_service_level(46, 40, 240, 20)


def test_no_calls_need_no_agents_and_an_unknown_volume_needs_an_unknown_number(warehouse: Any) -> None:
    """An interval the pool is on queue before the first call needs none (not NULL: its calls are seen, and
    there were none); a volume or AHT that is not observed gives NULL, never 0."""
    early = [
        row
        for row in _rows(warehouse)
        if row["interval_start"].hour == 7 and row["interval_start"].minute == 45
    ]
    assert early
    assert all((row["offered"] or 0) == 0 and row["required_agents"] == 0 for row in early)
    assert all(row["occupancy"] == 0 for row in early)
    reasons = warehouse.query(
        "select acd_required_agents(0, null, 900, 20, 0.8, null), acd_required_agents(null, 240, 900, 20, 0.8, null),"
        " acd_required_agents(150, 240, 900, 20, 0.8, null)"
    ).result_rows
    assert reasons == [(0, None, 46)]


def _erlang_a_agents(
    calls: float, aht_s: float, span_s: float, threshold_s: float, target: float, patience_s: float
) -> int:
    agents = 1
    while erlang_a(calls / span_s, aht_s, agents, patience_s).service_level(threshold_s) < target:
        agents += 1
    return agents


def _interval_figures(client: Any, tenant: str) -> list[tuple[Any, ...]]:
    query = (
        "select interval_start, offered, handle_ms / handled / 1000, mean_patience_s, required_model,"
        " required_agents, wait_answered_ms, wait_abandoned_ms, abandoned, occupancy"
        " from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},"
        " until = {until:DateTime64(3, 'UTC')}, tz = 'UTC') where grain = 'interval' and offered > 0"
        " order by interval_start"
    )
    parameters = {"tenant": tenant, "from": START, "until": START + timedelta(days=3)}
    return list(client.query(query, parameters=parameters).result_rows)


def test_patient_callers_are_staffed_by_erlang_c(warehouse: Any) -> None:
    """No caller hung up, so patience is not observed: NULL, and the model is Erlang C (never a made-up mean)."""
    rows = _interval_figures(warehouse, "pool")
    assert rows
    assert all(row[3] is None and row[4] == "Erlang C" for row in rows)


def test_impatient_callers_are_staffed_by_erlang_a_with_the_patience_they_showed(warehouse: Any) -> None:
    rows = _interval_figures(warehouse, "impatient")
    assert len(rows) == 2 * len(OPEN) * 4
    assert all(row[4] == "Erlang A" for row in rows)
    by_day: dict[Any, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_day.setdefault(row[0].date(), []).append(row)
    for day_rows in by_day.values():
        # The day's estimate, by a reader of the counters: every wait over the abandons.
        waits_s = sum(row[6] + row[7] for row in day_rows) / 1000
        patience = waits_s / sum(row[8] for row in day_rows)
        assert all(row[3] == pytest.approx(patience, rel=1e-9) for row in day_rows)
        # Some 150 abandons a day: the estimate is the simulator's mean within three standard errors.
        assert patience == pytest.approx(PATIENCE_S, rel=0.25)
    for _, offered, aht_s, patience_s, _, required, *_ in rows:
        assert required == _erlang_a_agents(offered, aht_s, 900, 20, 0.8, patience_s)
    # Abandons relieve the queue: at the mean load and patience, Erlang A needs fewer agents than Erlang C's 46.
    assert _erlang_a_agents(150, 240, 900, 20, 0.8, PATIENCE_S) < 46


def test_impatient_pools_occupancy_is_the_load_it_carried_per_agent(warehouse: Any) -> None:
    """Erlang A's occupancy is a (1 - P(abandon)) / c: callers who hang up bring no work."""
    rows = _interval_figures(warehouse, "impatient")
    measured = sum(row[9] for row in rows) / len(rows)
    model = erlang_a(CALLS_PER_HOUR / 3600, TALK_S, AGENTS - 4, PATIENCE_S)
    assert measured == pytest.approx(model.occupancy, rel=0.02)
    assert 0.75 < measured < 0.95


def test_the_sql_erlang_a_is_the_queueing_modules(warehouse: Any) -> None:
    """The SQL's service level (negative-binomial sums) against the engine's (uniformization), over loads from a
    single caller to a large center, short and long patience, under- and over-staffed; and its agents."""
    cases = [
        (10.0, 12, 180.0, 120.0, 20.0),
        (50.0, 45, 300.0, 120.0, 30.0),
        (100.0, 98, 200.0, 100.0, 20.0),
        (40.0, 40, 240.0, 3000.0, 20.0),
        (2.0, 1, 300.0, 90.0, 20.0),
        (0.3, 1, 300.0, 60.0, 60.0),
        (300.0, 310, 180.0, 30.0, 10.0),
    ]
    for load, agents, aht_s, patience_s, threshold_s in cases:
        sql = warehouse.query(
            "select acd_erlang_a_service_level({a:Float64}, {n:UInt32}, {r:Float64}, {t:Float64})",
            parameters={"a": load, "n": agents, "r": aht_s / patience_s, "t": threshold_s / aht_s},
        ).result_rows[0][0]
        model = erlang_a(load / aht_s, aht_s, agents, patience_s).service_level(threshold_s)
        assert sql == pytest.approx(model, abs=1e-9), (load, agents)
    for calls, aht_s, patience_s in [(150, 240, 120.0), (30, 300, 60.0), (400, 200, 90.0), (1, 300, 100.0)]:
        required = warehouse.query(
            "select acd_required_agents({calls:UInt32}, {aht:Float64}, 900, 20, 0.8, {patience:Float64})",
            parameters={"calls": calls, "aht": aht_s, "patience": patience_s},
        ).result_rows[0][0]
        assert required == _erlang_a_agents(calls, aht_s, 900, 20, 0.8, patience_s)
