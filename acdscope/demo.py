"""The embedded default: the same demand through all 3 setups x 3 engagement models, the engine in-process,
the rows in an embedded chDB directory, and the comparison dashboard read back through the same SQL.

No server, no Kafka: the pipeline, sink, migrations and dashboards are the streaming deployment's own.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clickhouse_connect.driver.client import Client

from acdscope.dashboards import DashboardResult, run
from producers.simulator.demand import Demand, daily_calls
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import ENGAGEMENTS, SETUPS, Scenario, variant
from streams.edge.gcpolicy import tune_for_streaming
from streams.edge.pipeline import EnginePipeline, Kind
from streams.edge.records import Record
from streams.engine.config import EngineConfig, SourceTerms, TenantConfig
from streams.events import encode_event, event_topic
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from streams.warehouse.sink import BatchSink, clickhouse_writer
from streams.warehouse.terms import load_terms

TOPICS: dict[str, Kind] = {
    "acd.contact-events": "contact",
    "acd.agent-events": "agent",
    "acd.vendor-reports": "vendor",
}


@dataclass(frozen=True)
class DemoOutcome:
    scenarios: list[Scenario]
    events: int
    rows_written: int
    comparison: DashboardResult
    # Queue entries at the in-house center per scenario, from the simulator's own truth (a cross-check).
    truth_in_house_offered: dict[str, int]


def demo_config(scenarios: list[Scenario]) -> EngineConfig:
    """Tenants = scenarios; default terms: in-house at a loaded 38.00/h, vendors at 4.20 per handled contact."""
    tenants = {}
    for scenario in scenarios:
        sources = {scenario.in_house.id: SourceTerms(cost_model="loaded_hourly", rate=38.0)}
        for vendor in scenario.vendors:
            sources[vendor.id] = SourceTerms(cost_model="per_contact", rate=4.2, sla_credit=0.05)
        engagement: str = scenario.engagement.model
        if engagement == "shared":
            engagement = f"shared ({scenario.engagement.shared_mode})"
        targeted = scenario.engagement.targeted
        call_types = {
            ct.name: ct.name + (f" (to {targeted[ct.name]})" if ct.name in targeted else "")
            for ct in scenario.call_types
        }
        tenants[scenario.name] = TenantConfig(
            setup=scenario.setup,
            engagement=engagement,
            in_house=scenario.in_house.id,
            sources=sources,
            call_types=call_types,
        )
    return EngineConfig(tenants=tenants)


def run_demo(
    data_dir: Path,
    base: Scenario | None = None,
    on_scenario: Callable[[Scenario], None] | None = None,
) -> DemoOutcome:
    """A fresh data directory each run, so the printed figures depend only on the scenario's seed."""
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    client = connect(f"chdb://{data_dir.resolve()}")
    try:
        migrate(client)
        return load_scenarios(client, base or Scenario(), on_scenario)
    finally:
        client.close()


def load_scenarios(
    client: Client,
    base: Scenario,
    on_scenario: Callable[[Scenario], None] | None = None,
    demand: Demand = daily_calls,
) -> DemoOutcome:
    """The nine variants of `base` through the engine into `client`'s (migrated) database; any ClickHouse."""
    tune_for_streaming()
    scenarios = [variant(base, setup, engagement) for setup in SETUPS for engagement in ENGAGEMENTS]
    config = demo_config(scenarios)
    load_terms(client, config)
    sink = BatchSink(clickhouse_writer(client), max_rows=50_000, max_age_s=60.0)
    pipeline = EnginePipeline(sink, config, TOPICS)
    offsets = dict.fromkeys(TOPICS, 0)
    events = 0
    truth_offered = {}
    for scenario in scenarios:
        memory, truth = simulate_in_memory(scenario, caller_key=b"acdscope-demo", demand=demand)
        memory.close()
        records = []
        for event in memory.events():
            topic = event_topic(event)
            ts_ms = int(event.ts.timestamp() * 1000)
            records.append(Record(topic, 0, offsets[topic], None, encode_event(event), ts_ms))
            offsets[topic] += 1
        for start in range(0, len(records), 5_000):
            pipeline.process(records[start : start + 5_000])
            if sink.due():
                sink.flush()
        events += len(records)
        truth_offered[scenario.name] = sum(
            1 for leg in truth.legs if leg.source == scenario.in_house.id and leg.enqueued_ms is not None
        )
        if on_scenario is not None:
            on_scenario(scenario)
    sink.flush()
    start_day = datetime.combine(base.start_date, datetime.min.time(), tzinfo=UTC)
    comparison = run(
        client,
        "setup_comparison",
        {"from": start_day, "until": start_day + timedelta(days=base.days + 1)},
    )
    return DemoOutcome(scenarios, events, sink.rows_written, comparison, truth_offered)
