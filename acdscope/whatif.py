"""What-if from a real log: its calls through all 3 setups x 3 engagement models of the simulator, beside the
log itself as recorded, in one embedded ClickHouse, compared by the same dashboard as the demo.

Wiring only: the trace is `producers.simulator.trace`, the engine and SQL are the streaming deployment's own.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from acdscope.dashboards import DashboardResult, run
from acdscope.demo import TOPICS, load_scenarios
from producers.simulator.scenario import Scenario
from producers.simulator.trace import TraceReport, trace_demand, trace_from_events, trace_scenario
from streams.edge.pipeline import EnginePipeline
from streams.edge.records import Record
from streams.engine.config import EngineConfig, SourceTerms, TenantConfig
from streams.events import ContactEvent, Event, encode_event, event_topic
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from streams.warehouse.sink import BatchSink, clickhouse_writer
from streams.warehouse.terms import load_terms


@dataclass(frozen=True)
class WhatIfOutcome:
    trace: TraceReport
    scenario: Scenario  # the base scenario over the log's days and call types
    recorded_tenant: str
    comparison: DashboardResult
    events: int


def run_what_if(
    log_events: Sequence[Event],
    base: Scenario,
    data_dir: Path,
    seed: int = 1999,
    days: int | None = None,
    on_scenario: Callable[[Scenario], None] | None = None,
) -> WhatIfOutcome:
    """A fresh data directory each run: the figures depend only on the log, the scenario and the seed."""
    calls, report = trace_from_events(log_events, seed, days)
    scenario = trace_scenario(base, calls)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    client = connect(f"chdb://{data_dir.resolve()}")
    try:
        migrate(client)
        simulated = load_scenarios(client, scenario, on_scenario, demand=trace_demand(calls, scenario, seed))
        # The log as it was, restricted to the calls the trace holds, so every row counts the same callers.
        kept = {call.contact_id for call in calls}
        recorded = [e for e in log_events if isinstance(e, ContactEvent) and e.initial_contact_id in kept]
        tenant = recorded[0].tenant if recorded else "recorded"
        sources = sorted({e.source for e in recorded})
        in_house = (
            base.in_house.id if base.in_house.id in sources else (sources[0] if sources else "in-house")
        )
        config = EngineConfig(
            tenants={
                tenant: TenantConfig(
                    setup="virtualized",
                    engagement="as recorded",
                    in_house=in_house,
                    sources={s: SourceTerms(cost_model="loaded_hourly", rate=38.0) for s in sources},
                )
            }
        )
        load_terms(client, config)
        sink = BatchSink(clickhouse_writer(client), max_rows=50_000, max_age_s=60.0)
        pipeline = EnginePipeline(sink, config, TOPICS)
        records = []
        for offset, event in enumerate(sorted(recorded, key=lambda e: e.ts)):
            records.append(Record(event_topic(event), 0, offset, None, encode_event(event), 0))
        for start in range(0, len(records), 5_000):
            pipeline.process(records[start : start + 5_000])
        sink.flush()
        first = datetime.combine(scenario.start_date, datetime.min.time(), tzinfo=UTC)
        comparison = run(
            client, "setup_comparison", {"from": first, "until": first + timedelta(days=scenario.days + 1)}
        )
        return WhatIfOutcome(report, scenario, tenant, comparison, simulated.events + len(records))
    finally:
        client.close()
