"""The embedded default: the same demand through all 3 setups x 3 engagement models, the engine in-process,
the rows in an embedded chDB directory, and the comparison dashboard read back through the same SQL.

No server, no Kafka: the pipeline, sink, migrations and dashboards are the streaming deployment's own.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from clickhouse_connect.driver.client import Client

from acdscope.dashboards import DashboardResult
from acdscope.dashboards import run
from acdscope.settings import get_settings
from producers.simulator.demand import Demand
from producers.simulator.demand import daily_calls
from producers.simulator.forecast import scenario_forecast
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import ENGAGEMENTS
from producers.simulator.scenario import SETUPS
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import contracted_seats
from producers.simulator.scenario import scenario_from_tenant
from producers.simulator.scenario import variant
from streams.edge.gcpolicy import tune_for_streaming
from streams.edge.pipeline import EnginePipeline
from streams.edge.pipeline import Kind
from streams.edge.pipeline import build_pipeline
from streams.edge.records import Record
from streams.engine.config import EngineConfig
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig
from streams.engine.timebase import to_ms
from streams.events import Event
from streams.events import encode_event
from streams.events import event_topic
from streams.tenant import TenantFile
from streams.tenant import load_tenant_file
from streams.warehouse.client import connect
from streams.warehouse.forecast import load_forecast
from streams.warehouse.migrations import migrate
from streams.warehouse.sink import clickhouse_writer
from streams.warehouse.terms import load_terms

DEMO_TENANT = Path(__file__).resolve().parents[1] / "tenants" / "bank.toml"
BATCH = 5_000  # records per pipeline call, as a fetched Kafka batch
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
    # The intraday picture of the variant where every source is seen (virtualized, shared): service level per
    # interval and source against its target, with the staffing behind it (dashboard staffing_interval).
    intraday_tenant: str
    intraday: DashboardResult
    # Every tenant's contracts settled for the billing month to date (dashboard settlement).
    settlement: DashboardResult
    # Customer calls entering the in-house queue per scenario (not the tier-2 legs of transfers), from the
    # simulator's own truth (a cross-check).
    truth_in_house_offered: dict[str, int]


def demo_tenant() -> TenantFile:
    """The tenant the demo plays (`tenants/bank.toml`, the live deployment's too): its simulation is the demo's
    base scenario and its contracts price every variant."""
    return load_tenant_file(DEMO_TENANT)


def demo_config(scenarios: list[Scenario], contracts: TenantFile | None = None) -> EngineConfig:
    """Tenants = scenarios, each on the contracts of `contracts` (the demo tenant's by default: in-house at a
    loaded 38.00/h, vendors at 4.20 per handled contact). A vendor the contracts do not name gets their first
    vendor's. A variant moves positions, so each vendor's contracted seats are those its roster in that
    variant keeps on shift all the hours it is open (`contracted_seats`)."""
    contracts = contracts or demo_tenant()
    in_house_terms = contracts.sources[contracts.in_house]
    fallback = contracts.sources[contracts.vendors[0]] if contracts.vendors else SourceTerms()
    tenants = {}
    for scenario in scenarios:
        sources = {scenario.in_house.id: in_house_terms}
        for vendor in scenario.vendors:
            terms = contracts.sources.get(vendor.id, fallback)
            sources[vendor.id] = terms.model_copy(update={"contracted_seats": contracted_seats(vendor)})
        targeted = scenario.engagement.targeted
        call_types = {
            ct.name: ct.name + (f" (to {targeted[ct.name]})" if ct.name in targeted else "")
            for ct in scenario.call_types
        }
        tenants[scenario.name] = TenantConfig(
            setup=scenario.setup,
            engagement=scenario.engagement.label,
            in_house=scenario.in_house.id,
            sources=sources,
            call_types=call_types,
            alerts=contracts.alerts,
        )
    return EngineConfig(tenants=tenants)


@contextmanager
def embedded_warehouse(data_dir: Path) -> Iterator[Client]:
    """A fresh, migrated embedded ClickHouse (chDB) directory, so what a run prints depends only on its input."""
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    client = connect(f"chdb://{data_dir.resolve()}")
    try:
        migrate(client)
        yield client
    finally:
        client.close()


def pipeline_into(client: Client, config: EngineConfig) -> EnginePipeline:
    """The streaming deployment's pipeline, writing into `client`, its tenants' terms loaded first."""
    load_terms(client, config)
    return build_pipeline(get_settings(), config, clickhouse_writer(client), TOPICS)


def feed(pipeline: EnginePipeline, events: Iterable[Event], offsets: dict[str, int]) -> int:
    """Events through the pipeline as the worker gets them: records of their topics in batches, flushed when
    due; `offsets` carries each topic's next offset from one call to the next."""
    records = []
    for event in events:
        topic = event_topic(event)
        records.append(Record(topic, 0, offsets[topic], None, encode_event(event), to_ms(event.ts)))
        offsets[topic] += 1
    for start in range(0, len(records), BATCH):
        pipeline.process(records[start : start + BATCH])
        if pipeline.sink.due():
            pipeline.sink.flush()
    return len(records)


def run_demo(
    data_dir: Path,
    base: Scenario | None = None,
    on_scenario: Callable[[Scenario], None] | None = None,
) -> DemoOutcome:
    with embedded_warehouse(data_dir) as client:
        return load_scenarios(client, base or scenario_from_tenant(demo_tenant()), on_scenario)


def load_scenarios(
    client: Client,
    base: Scenario,
    on_scenario: Callable[[Scenario], None] | None = None,
    demand: Demand = daily_calls,
) -> DemoOutcome:
    """The nine variants of `base` through the engine into `client`'s (migrated) database, each with its
    scenario's forecast; any ClickHouse."""
    tune_for_streaming()
    scenarios = [variant(base, setup, engagement) for setup in SETUPS for engagement in ENGAGEMENTS]
    pipeline = pipeline_into(client, demo_config(scenarios))
    # Each variant's intended demand is its forecast (`producers.simulator.forecast`): the staffing dashboard
    # answers, for each breached interval, whether the source was short of it or was sent more than it.
    for scenario in scenarios:
        load_forecast(client, scenario_forecast(scenario))
    offsets = dict.fromkeys(TOPICS, 0)
    events = 0
    truth_offered = {}
    for scenario in scenarios:
        memory, truth = simulate_in_memory(scenario, caller_key=b"acdscope-demo", demand=demand)
        memory.close()
        events += feed(pipeline, memory.events(), offsets)
        truth_offered[scenario.name] = sum(
            1
            for leg in truth.legs
            if leg.source == scenario.in_house.id and leg.enqueued_ms is not None and leg.entry != "transfer"
        )
        if on_scenario is not None:
            on_scenario(scenario)
    pipeline.sink.flush()
    start_day = datetime.combine(base.start_date, datetime.min.time(), tzinfo=UTC)
    comparison = run(
        client,
        "setup_comparison",
        {"from": start_day, "until": start_day + timedelta(days=base.days + 1)},
    )
    intraday_tenant = variant(base, "virtualized", "shared").tenant()
    intraday = run(
        client,
        "staffing_interval",
        {"tenant": intraday_tenant, "from": start_day, "until": start_day + timedelta(days=base.days)},
    )
    settlement = run(
        client,
        "settlement",
        {"tenant": "", "from": start_day.replace(day=1), "until": start_day + timedelta(days=base.days)},
    )
    return DemoOutcome(
        scenarios, events, pipeline.sink.rows_written, comparison, intraday_tenant, intraday, settlement,
        truth_offered,
    )  # fmt: skip
