"""Worker memory across a 30-day replay: state is O(agents + open contacts), not O(events).

The simulator writes 30 days of the default bank (virtualized, shared 30 s: every event visible) to a JSON
lines file; a fresh process pinned to one CPU replays it through the worker's pipeline (`EnginePipeline`, the
worker's garbage-collector policy, a sink whose writer discards) in batches of 5,000, and notes its resident
set size at the end of each simulated day, after a full collection. Faust's own footprint is constant and not
part of this figure; the state that could grow with the stream is.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.engine import TOPICS
from bench.engine import pin_one_core
from producers.simulator.run import simulate_single
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant
from streams.edge.gcpolicy import tune_for_streaming
from streams.edge.pipeline import build_pipeline
from streams.edge.records import Record
from streams.edge.settings import EdgeSettings
from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.events import decode_event
from streams.events import event_topic

TARGET_GROWTH = 0.10
DAY_MS = 86_400_000


def _rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _replay(path: str, tenant: str, setup: str) -> list[tuple[int, float]]:
    pin_one_core()
    tune_for_streaming()
    config = EngineConfig(tenants={tenant: TenantConfig(setup=setup)})
    pipeline = build_pipeline(EdgeSettings(), config, lambda table, columns, rows: None, TOPICS)
    sink = pipeline.sink
    offsets: dict[str, int] = {}
    samples: list[tuple[int, float]] = []
    batch: list[Record] = []
    day = None
    with open(path, "rb") as lines:
        for line in lines:
            event = decode_event(line.rstrip(b"\n"))
            ts_ms = int(event.ts.timestamp() * 1000)
            if day is None:
                day = ts_ms // DAY_MS
            topic = event_topic(event)
            offset = offsets.get(topic, 0)
            offsets[topic] = offset + 1
            batch.append(Record(topic, 0, offset, None, line.rstrip(b"\n"), ts_ms))
            if len(batch) == 5_000:
                pipeline.process(batch)
                batch = []
                if sink.due():
                    sink.detach()
            if ts_ms // DAY_MS > day:
                pipeline.process(batch)
                batch = []
                sink.detach()
                gc.collect()
                samples.append((day, _rss_mib()))
                day = ts_ms // DAY_MS
    pipeline.process(batch)
    pipeline.tick()
    sink.detach()
    gc.collect()
    samples.append((day or 0, _rss_mib()))
    return samples


def run(days: int = 30) -> dict[str, Any]:
    scenario = variant(scenario_from_dict({**Scenario().model_dump(), "days": days}), "virtualized", "shared")
    with tempfile.TemporaryDirectory() as tmp:
        result = simulate_single(scenario, Path(tmp) / "run", formats=("jsonl",), caller_key=b"bench")
        path = result.directory / "events.jsonl"
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            samples = pool.apply(_replay, (str(path), scenario.tenant(), scenario.setup))
    by_day = [rss for _, rss in samples]
    day5, last = by_day[min(4, len(by_day) - 1)], by_day[-1]
    growth = (last - day5) / day5
    return {
        "name": "worker memory, 30-day replay",
        "figure": f"RSS {day5:,.0f} MiB after day 5, {last:,.0f} MiB after day {len(by_day)}: {growth:+.1%} "
        f"({result.events:,} events)",
        "method": (
            f"{result.events:,} events of {days} simulated days (default bank, virtualized, shared 30 s) replayed "
            "through EnginePipeline in one process pinned to one CPU; RSS from /proc after a full collection at "
            "the end of each simulated day"
        ),
        "rss_mib_by_day": [round(rss, 1) for rss in by_day],
        "growth_day5_to_end": round(growth, 4),
        "target": f"growth < {TARGET_GROWTH:.0%} from day 5 to day {days}",
        "met": growth < TARGET_GROWTH,
    }


if __name__ == "__main__":
    print(run())
