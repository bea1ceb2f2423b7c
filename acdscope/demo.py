"""The embedded default: simulate, run the engine in-process, land rows in an embedded chDB directory, report.

No server, no Kafka: the same pipeline, sink, migrations and dashboard SQL as the streaming deployment.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from acdscope.dashboards import DashboardResult, run
from producers.tiny_sim import GroundTruth, TinyScenario, simulate
from streams.edge.pipeline import EnginePipeline
from streams.edge.records import Record
from streams.engine.config import EngineConfig
from streams.events import encode_event
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from streams.warehouse.sink import BatchSink, clickhouse_writer


@dataclass(frozen=True)
class DemoOutcome:
    events: int
    rows_written: int
    totals: DashboardResult
    truth: GroundTruth


def run_demo(data_dir: Path, scenario: TinyScenario | None = None) -> DemoOutcome:
    """Fresh data directory each run, so the printed figures depend only on the scenario's seed."""
    scenario = scenario or TinyScenario()
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    client = connect(f"chdb://{data_dir.resolve()}")
    try:
        migrate(client)
        events, truth = simulate(scenario)
        sink = BatchSink(clickhouse_writer(client), max_rows=10_000, max_age_s=1.0)
        pipeline = EnginePipeline(
            sink, EngineConfig(interval_minutes=scenario.interval_minutes), {"embedded": "contact"}
        )
        # The embedded run is one "partition"; offsets are positions in the simulated stream.
        records = [
            Record("embedded", 0, offset, None, encode_event(event), int(event.ts.timestamp() * 1000))
            for offset, event in enumerate(events)
        ]
        for start in range(0, len(records), 5_000):
            pipeline.process(records[start : start + 5_000])
            if sink.due():
                sink.flush()
        sink.flush()
        totals = run(
            client,
            "source_totals",
            {"from": scenario.start, "until": scenario.start + timedelta(hours=scenario.hours)},
        )
        return DemoOutcome(len(events), sink.rows_written, totals, truth)
    finally:
        client.close()
