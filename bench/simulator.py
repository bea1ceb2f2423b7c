"""Simulator throughput: the 30-day, 500-agent, 3-source scenario written to Parquet, on one core.

Reports events/s for the events file alone and for the whole run including the ground-truth tables.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from producers.simulator.core import Simulation
from producers.simulator.output import ParquetSink
from producers.simulator.output import write_truth
from producers.simulator.scenario import load_scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.truth import TruthRecorder

SCENARIO = Path(__file__).with_name("scenario_30d_500agents.toml")
TARGET_EVENTS_PER_S = 150_000


def run(days: int | None = None) -> dict[str, Any]:
    """One core: the process is pinned to a single CPU so the figure cannot borrow the second one."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import pyarrow.compute  # noqa: F401  (one-time import cost, not part of the measured loop)

    scenario = load_scenario(SCENARIO)
    if days is not None:
        scenario = scenario_from_dict({**scenario.model_dump(), "days": days})
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sink = ParquetSink(directory / "events.parquet", scenario.seed)
        truth = TruthRecorder()
        started = time.perf_counter()
        Simulation(scenario, sink, truth, b"bench").run()
        sink.close()
        events_done = time.perf_counter()
        write_truth(truth, directory)
        finished = time.perf_counter()
        size = (directory / "events.parquet").stat().st_size
    events = sink.count
    figure = (
        f"{round(events / (events_done - started)):,} events/s "
        f"({round(events / (finished - started)):,} with truth); {events:,} events in "
        f"{finished - started:.1f} s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB"
    )
    return {
        "figure": figure,
        "name": "simulator to Parquet",
        "method": (
            f"{scenario.days} days, {scenario.in_house.agents + sum(v.agents for v in scenario.vendors)} agents, "
            f"{len(scenario.source_ids)} sources, virtualized (every event visible); one process pinned to one "
            "CPU; wall time of Simulation.run + Parquet writes (events/s), and with the truth tables"
        ),
        "events": events,
        "events_per_s": round(events / (events_done - started)),
        "events_per_s_with_truth": round(events / (finished - started)),
        "seconds": round(finished - started, 2),
        "parquet_mib": round(size / 2**20, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "target": f">= {TARGET_EVENTS_PER_S:,} events/s",
        "met": events / (events_done - started) >= TARGET_EVENTS_PER_S,
    }
