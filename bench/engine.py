"""Core engine and in-process pipeline throughput on one core, over a realistic mix of simulator events.

Three figures from the same encoded events, each measured on a warm second pass (the first pass fills the
engines' state and imports; the figure is what a running worker sustains):
- decode: wire JSON -> contract events (`decode_event`);
- core: the pure engines over decoded events (quality, overflow, adherence, repeats), batches of 5,000 with
  their rows drained, as the edge drives them;
- pipeline: `EnginePipeline.process` over the wire records (decode + engines + sink buffering + the raw
  events table), the work the Faust agent does per batch, with a sink writer that discards; measured with
  the interpreter's default garbage-collector settings and with the worker's (`streams/edge/gcpolicy.py`).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant
from streams.edge.gcpolicy import tune_for_streaming
from streams.edge.pipeline import Kind
from streams.edge.pipeline import build_pipeline
from streams.edge.records import Record
from streams.edge.settings import EdgeSettings
from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.engine.partition import AgentPartition
from streams.engine.partition import ContactPartition
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.events import Event
from streams.events import decode_event
from streams.events import encode_event
from streams.events import event_topic

TARGET_CORE = 200_000
TOPICS: dict[str, Kind] = {
    TOPIC_CONTACT_EVENTS: "contact",
    TOPIC_AGENT_EVENTS: "agent",
    TOPIC_VENDOR_REPORTS: "vendor",
}
BATCH = 5_000


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def mix(days: int) -> tuple[list[Record], EngineConfig]:
    """The three setups of the default bank under a shared engagement: contact, agent and vendor events."""
    base = scenario_from_dict({**Scenario().model_dump(), "days": days})
    records: list[Record] = []
    tenants = {}
    offsets: dict[str, int] = {}
    streams = []
    for setup in ("network_delivered", "enterprise_routed", "virtualized"):
        scenario = variant(base, setup, "shared")
        tenants[scenario.name] = TenantConfig(setup=scenario.setup, in_house=scenario.in_house.id)
        memory, _ = simulate_in_memory(scenario, caller_key=b"bench")
        streams.append(list(memory.events()))
    for event in sorted((e for stream in streams for e in stream), key=lambda e: e.ts):
        topic = event_topic(event)
        offset = offsets.get(topic, 0)
        offsets[topic] = offset + 1
        records.append(Record(topic, 0, offset, None, encode_event(event), int(event.ts.timestamp() * 1000)))
    return records, EngineConfig(tenants=tenants)


def timed(work: Callable[[], Any]) -> float:
    gc.collect()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _engines(events: Sequence[tuple[str, int, Event]], config: EngineConfig) -> None:
    contact, agent = ContactPartition(0, config), AgentPartition(0, config)
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        contacts = [(offset, event) for topic, offset, event in chunk if topic != TOPIC_AGENT_EVENTS]
        agents = [(offset, event) for topic, offset, event in chunk if topic == TOPIC_AGENT_EVENTS]
        contact.process(contacts)
        contact.drain()
        contact.drain_caller_contacts()
        agent.process(agents)
        agent.drain()


def inprocess_pipeline(records: Sequence[Record], config: EngineConfig) -> None:
    pipeline = build_pipeline(EdgeSettings(), config, lambda table, columns, rows: None, TOPICS)
    sink = pipeline.sink
    for start in range(0, len(records), BATCH):
        pipeline.process(records[start : start + BATCH])
        if sink.due():
            for _spec, _rows in sink.detach():
                pass
    assert pipeline.rejected == 0, pipeline.rejected


def run(days: int = 3) -> dict[str, Any]:
    pin_one_core()
    records, config = mix(days)
    n = len(records)
    defaults = gc.get_threshold()
    tune_for_streaming()  # the worker's policy (streams/edge/gcpolicy.py); the input is frozen with it
    decoded = [(r.topic, r.offset, decode_event(r.value or b"")) for r in records]
    decode_s = min(timed(lambda: [decode_event(r.value or b"") for r in records]) for _ in range(2))
    _engines(decoded, config)  # warm-up pass
    core_s = min(timed(lambda: _engines(decoded, config)) for _ in range(2))
    inprocess_pipeline(records, config)
    pipeline_s = min(timed(lambda: inprocess_pipeline(records, config)) for _ in range(2))
    decoded.clear()
    gc.unfreeze()
    gc.set_threshold(*defaults)
    default_gc_s = timed(lambda: inprocess_pipeline(records, config))
    core = n / core_s
    figure = (
        f"core {core:,.0f} events/s; decode {n / decode_s:,.0f}/s; in-process pipeline {n / pipeline_s:,.0f}/s "
        f"(default GC: {n / default_gc_s:,.0f}/s)"
    )
    return {
        "figure": figure,
        "name": "core engine (one core)",
        "method": (
            f"{n:,} simulator events ({days} days x 3 setups of the default bank, shared 30 s: contact, agent, "
            f"vendor-report); one process pinned to one CPU; warm pass; batches of {BATCH:,}"
        ),
        "events": n,
        "core_events_per_s": round(core),
        "decode_events_per_s": round(n / decode_s),
        "pipeline_events_per_s": round(n / pipeline_s),
        "pipeline_default_gc_events_per_s": round(n / default_gc_s),
        "target": f"core >= {TARGET_CORE:,} events/s",
        "met": core >= TARGET_CORE,
    }


if __name__ == "__main__":
    print(run(1))
