"""Worker memory across a 30-day replay: state is O(agents + open contacts), not O(events).

The simulator writes 30 days of the default bank (virtualized, shared 30 s: every event visible) to a JSON
lines file; a fresh process pinned to one CPU replays it through the worker's pipeline (`EnginePipeline`, the
worker's garbage-collector policy, a sink whose writer discards) in batches of 5,000, and notes its resident
set size at the end of each simulated day, after a full collection. Faust's own footprint is constant and not
part of this figure; the state that could grow with the stream is.

The largest such state is the de-duplicators' ids, one per event of the 48 h correction horizon; their bytes
per id are measured at the end and projected to 48 h at the replay's event rate.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import tempfile
import tracemalloc
from collections.abc import Iterable
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
from streams.engine.dedup import FREEZE_AFTER_MS
from streams.engine.dedup import Deduplicator
from streams.engine.partition import AgentPartition
from streams.engine.partition import ContactPartition
from streams.events import decode_event
from streams.events import event_topic

TARGET_GROWTH = 0.10
DAY_MS = 86_400_000


def _rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _replay(path: str, tenant: str, setup: str) -> tuple[list[tuple[int, float]], dict[str, float]]:
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
    return samples, _dedup_memory(pipeline.engines.values())


def _dedup_memory(engines: Iterable[object]) -> dict[str, float]:
    """What the event partitions' de-duplicators hold at the end of the replay: the ids of the last
    `retention_hours` of event time, most of them in frozen hours. Bytes by `sys.getsizeof` over the structures
    (`Deduplicator.nbytes`), checked with tracemalloc over rebuilding them from their checkpoint as the worker
    does; the same ids all held as hourly Python sets (as before hours were frozen) for comparison."""
    partitions = [engine for engine in engines if isinstance(engine, ContactPartition | AgentPartition)]
    ids = sum(len(partition.dedup) for partition in partitions)
    held = traced = as_sets = checkpoint_chars = 0
    for partition in partitions:
        held += partition.dedup.nbytes()
        snapshot = partition.dedup.snapshot()
        checkpoint_chars += sum(map(len, snapshot.values()))
        line = partition.time.lowest_watermark() - FREEZE_AFTER_MS
        Deduplicator.restore(snapshot, line)  # once untraced: what it imports on first use is not its size
        tracemalloc.start()
        rebuilt = Deduplicator.restore(snapshot, line)
        traced += tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del rebuilt
        as_sets += Deduplicator.restore(snapshot).nbytes()
    per_id = max(ids, 1)
    return {
        "ids": ids,
        "frozen_ids": sum(partition.dedup.frozen_ids for partition in partitions),
        "bytes_per_id": round(held / per_id, 1),
        "traced_bytes_per_id": round(traced / per_id, 1),
        "as_sets_bytes_per_id": round(as_sets / per_id, 1),
        "checkpoint_chars_per_id": round(checkpoint_chars / per_id, 1),
    }


def run(days: int = 30) -> dict[str, Any]:
    scenario = variant(scenario_from_dict({**Scenario().model_dump(), "days": days}), "virtualized", "shared")
    with tempfile.TemporaryDirectory() as tmp:
        result = simulate_single(scenario, Path(tmp) / "run", formats=("jsonl",), caller_key=b"bench")
        path = result.directory / "events.jsonl"
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            samples, dedup = pool.apply(_replay, (str(path), scenario.tenant(), scenario.setup))
    by_day = [rss for _, rss in samples]
    day5, last = by_day[min(4, len(by_day) - 1)], by_day[-1]
    growth = (last - day5) / day5
    # The ids a 48 h horizon holds at this bank's event rate (one id per event), at the measured bytes per id.
    horizon_hours = EngineConfig().retention_hours
    horizon_ids = result.events / days / 24 * horizon_hours
    horizon_mib = horizon_ids * dedup["bytes_per_id"] / 2**20
    return {
        "name": "worker memory, 30-day replay",
        "figure": f"RSS {day5:,.0f} MiB after day 5, {last:,.0f} MiB after day {len(by_day)}: {growth:+.1%} "
        f"({result.events:,} events); de-duplication {dedup['bytes_per_id']:.0f} bytes an id "
        f"({dedup['as_sets_bytes_per_id']:.0f} as sets), {horizon_mib:.1f} MiB for {horizon_hours} h of ids",
        "method": (
            f"{result.events:,} events of {days} simulated days (default bank, virtualized, shared 30 s) replayed "
            "through EnginePipeline in one process pinned to one CPU; RSS from /proc after a full collection at "
            "the end of each simulated day; de-duplication memory by sys.getsizeof over its structures at the "
            "end (checked with tracemalloc over rebuilding them from their checkpoint), per remembered id and "
            f"for {horizon_hours} h of ids at the replay's mean event rate"
        ),
        "rss_mib_by_day": [round(rss, 1) for rss in by_day],
        "growth_day5_to_end": round(growth, 4),
        "dedup": dedup,
        "dedup_horizon_ids": round(horizon_ids),
        "dedup_horizon_mib": round(horizon_mib, 2),
        "target": f"growth < {TARGET_GROWTH:.0%} from day 5 to day {days}",
        "met": growth < TARGET_GROWTH,
    }


if __name__ == "__main__":
    print(run())
