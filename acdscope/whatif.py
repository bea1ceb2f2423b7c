"""What-if from a real log: its calls through all 3 setups x 3 engagement models of the simulator, beside the
log itself as recorded, in one embedded ClickHouse, compared by the same dashboard as the demo; with several
seeds, every simulated figure is the mean over them with its 95 % confidence interval.

Wiring only: the trace is `producers.simulator.trace`, the engine and SQL are the streaming deployment's own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from acdscope.confidence import Interval
from acdscope.confidence import interval
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
from producers.simulator.trace import weekday_roster
from producers.simulator.trace import weekday_staffing as weekday_pattern
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
    comparison: DashboardResult  # the first seed's
    events: int
    seeds: tuple[int, ...] = ()
    # (scenario, column) -> the figure's mean over the seeds and its 95 % interval, every numeric column of
    # every simulated row; the log as recorded depends on no seed and has none.
    intervals: dict[tuple[str, str], Interval] = field(default_factory=dict)


def replicate_intervals(replicates: Sequence[DashboardResult]) -> dict[tuple[str, str], Interval]:
    """Per (row's first column, numeric column), the replicates' values' mean and 95 % interval; a row some
    replicate lacks (the log as recorded, fed once) is left out."""
    values: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for result in replicates:
        for row in result.rows:
            for column, value in zip(result.columns[1:], row[1:], strict=True):
                if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
                    values[(str(row[0]), column)].append(value)
    return {key: interval(found) for key, found in values.items() if len(found) == len(replicates)}


def run_what_if(
    log_events: Sequence[Event],
    base: Scenario,
    data_dir: Path,
    seed: int = 1999,
    days: int | None = None,
    on_scenario: Callable[[Scenario], None] | None = None,
    seeds: int = 1,
    weekday_staffing: bool = False,
) -> WhatIfOutcome:
    """A fresh data directory each run: the figures depend only on the log, the scenario and the seeds. Seed
    `seed + i` draws what the log cannot supply in replicate i (served callers' patience, abandoned callers'
    handle times, the routing and the agents' deviations), each replicate in its own directory under
    `data_dir` when there are several; the first holds the log as recorded too."""
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if weekday_staffing:
        # Every source on the log's weekday pattern: the demand's Fridays are the vendors' Fridays too.
        pattern = weekday_pattern(log_events)
        base = base.model_copy(
            update={
                "in_house": weekday_roster(base.in_house, pattern),
                "vendors": tuple(weekday_roster(vendor, pattern) for vendor in base.vendors),
            }
        )
    first = _replicate(
        log_events, base, data_dir if seeds == 1 else data_dir / f"seed-{seed}", seed, days, on_scenario, True
    )
    comparisons = [first.comparison]
    events = first.events
    for i in range(1, seeds):
        other = _replicate(
            log_events, base, data_dir / f"seed-{seed + i}", seed + i, days, on_scenario, False
        )
        comparisons.append(other.comparison)
        events += other.events
    intervals = replicate_intervals(comparisons) if seeds > 1 else {}
    return WhatIfOutcome(
        first.trace, first.scenario, first.recorded_tenant, first.comparison, events,
        tuple(seed + i for i in range(seeds)), intervals,
    )  # fmt: skip


def _replicate(
    log_events: Sequence[Event],
    base: Scenario,
    data_dir: Path,
    seed: int,
    days: int | None,
    on_scenario: Callable[[Scenario], None] | None,
    with_log: bool,
) -> WhatIfOutcome:
    calls, report = trace_from_events(log_events, seed, days)
    scenario = trace_scenario(base.model_copy(update={"seed": seed}), calls)
    first = datetime.combine(scenario.start_date, datetime.min.time(), tzinfo=UTC)
    window = {"from": first, "until": first + timedelta(days=scenario.days + 1)}
    with embedded_warehouse(data_dir) as client:
        simulated = load_scenarios(client, scenario, on_scenario, demand=trace_demand(calls, scenario, seed))
        if not with_log:
            return WhatIfOutcome(
                report, scenario, "", run(client, "setup_comparison", window), simulated.events
            )
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
        comparison = run(client, "setup_comparison", window)
        return WhatIfOutcome(report, scenario, tenant, comparison, simulated.events + fed)
