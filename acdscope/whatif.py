"""What-if from a real log: its calls through all 3 setups x 3 engagement models of the simulator, beside the
log itself as recorded, in one embedded ClickHouse, compared by the same dashboard as the demo.

Wiring only: the trace is `producers.simulator.trace`, the engine and SQL are the streaming deployment's own.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from acdscope.dashboards import DashboardResult
from acdscope.dashboards import run
from acdscope.demo import TOPICS
from acdscope.demo import embedded_warehouse
from acdscope.demo import feed
from acdscope.demo import load_scenarios
from acdscope.demo import pipeline_into
from producers.simulator.scenario import Scenario
from producers.simulator.trace import TraceReport
from producers.simulator.trace import trace_demand
from producers.simulator.trace import trace_from_events
from producers.simulator.trace import trace_scenario
from streams.engine.config import EngineConfig
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig
from streams.events import ContactEvent
from streams.events import Event


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
    with embedded_warehouse(data_dir) as client:
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
        pipeline = pipeline_into(client, config)
        fed = feed(pipeline, sorted(recorded, key=lambda e: e.ts), dict.fromkeys(TOPICS, 0))
        pipeline.sink.flush()
        first = datetime.combine(scenario.start_date, datetime.min.time(), tzinfo=UTC)
        comparison = run(
            client, "setup_comparison", {"from": first, "until": first + timedelta(days=scenario.days + 1)}
        )
        return WhatIfOutcome(report, scenario, tenant, comparison, simulated.events + fed)
