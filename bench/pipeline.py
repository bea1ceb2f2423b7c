"""Kafka -> Faust worker -> ClickHouse throughput, side by side with a raw `aiokafka` consume + JSON decode loop
over the same events, in the same run, on the local stack (a real broker and the chDB endpoint); and the same
worker as 1 and as 2 processes of one consumer group (scale-out).

Both consumers read the same simulator events; each is pinned to one CPU. Start-up and group joins are
excluded from both figures:
- raw loop: the events are in the topics first; from its first fetched batch to the last message, counted and
  `orjson`-decoded;
- workers: the events are in the topics first, as for the raw loop; from the first sink flush holding events
  to the flush holding all of them, read from the workers' logs (each flush logs the events accepted so far);
  flushes and checkpoints every second. Two workers start together: their figure includes the group forming
  (a worker that joins second takes partitions over from the checkpoints of the first).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import time
import uuid
from typing import Any

import orjson

from bench.engine import inprocess_pipeline
from bench.engine import mix
from bench.engine import pin_one_core
from bench.engine import timed
from bench.stack import PARTITIONS
from bench.stack import Run
from bench.stack import Stack
from bench.stack import Workers
from bench.stack import local_stack
from bench.stack import produce
from streams.edge.records import Record

TARGET_RATIO = 0.5


async def _raw_loop(bootstrap: str, topics: list[str], expected: int) -> float:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        count = 0
        first = None
        while count < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for messages in batches.values():
                if first is None:
                    first = time.perf_counter()
                for message in messages:
                    orjson.loads(message.value)
                count += len(messages)
        assert first is not None
        return expected / (time.perf_counter() - first)
    finally:
        await consumer.stop()


def _raw_pinned(bootstrap: str, topics: list[str], expected: int) -> float:
    pin_one_core()
    return asyncio.run(_raw_loop(bootstrap, topics, expected))


def raw_rate(stack: Stack, records: list[Record]) -> float:
    run = Run.create(stack, "raw")
    try:
        produce(stack.bootstrap, run.topics, records)
        # In a child process: pinning it must not pin the workers started after it.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            return float(pool.apply(_raw_pinned, (stack.bootstrap, list(run.topics.values()), len(records))))
    finally:
        run.drop()


def _inprocess_pinned(days: int) -> float:
    from streams.edge.gcpolicy import tune_for_streaming

    pin_one_core()
    records, config = mix(days)
    tune_for_streaming()
    inprocess_pipeline(records, config)  # warm-up pass
    return len(records) / min(timed(lambda: inprocess_pipeline(records, config)) for _ in range(2))


def inprocess_rate(days: int) -> float:
    """Decode + engines + rows, no I/O, in a pinned child: what the worker's own code costs per event."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return float(pool.apply(_inprocess_pinned, (days,)))


def worker_rate(stack: Stack, records: list[Record], count: int) -> float:
    run = Run.create(stack, f"w{count}")
    produce(stack.bootstrap, run.topics, records)
    workers = Workers(run, count, run.env())  # production defaults: flush every 1 s, checkpoint every 5 s
    try:
        workers.wait_counted(len(records))
    finally:
        workers.stop()
        run.drop()
    flushes = [f for f in workers.flushes() if f]
    start = min(next(at for at, accepted, _ in f if accepted > 0) for f in flushes)
    first = sum(next((a for at, a, _ in f if at == start), 0) for f in flushes)
    end = max(next(at for at, a, d in f if a + d >= f[-1][1] + f[-1][2]) for f in flushes)
    return (len(records) - first) / (end - start)


def run(days: int = 3) -> dict[str, Any]:
    records, _ = mix(days)
    two = None
    inprocess = inprocess_rate(days)
    with local_stack() as stack:
        raw = raw_rate(stack, records)
        one = worker_rate(stack, records, 1)
        if len(os.sched_getaffinity(0)) >= 2:
            two = worker_rate(stack, records, 2)
    ratio = one / raw
    # The raw loop's work (fetch, decode) and the pipeline's (decode, engines, rows) done one after the other
    # in one process, with nothing else: the most any one-process worker could reach on this input.
    ceiling = 1 / (1 / raw + 1 / inprocess)
    scale = f"; 2 workers {two:,.0f}/s ({two / one:.2f}x of 1)" if two else ""
    return {
        "name": "pipeline vs raw consumer",
        "figure": (
            f"worker {one:,.0f} events/s, raw aiokafka+orjson loop {raw:,.0f}/s: ratio {ratio:.2f}{scale}; "
            f"one-process ceiling {ceiling:,.0f}/s = ratio {ceiling / raw:.2f} (in-process pipeline "
            f"{inprocess:,.0f}/s), worker at {one / ceiling:.0%} of it"
        ),
        "method": (
            f"{len(records):,} simulator events ({days} days x 3 setups) in 3 topics x {PARTITIONS} partitions of "
            "the local broker; each consumer pinned to one CPU (2 workers: one each, sharing them with the "
            "broker and ClickHouse); start-up and group joins excluded; the workers write every row and "
            "checkpoint to the local ClickHouse endpoint (production defaults: flush every 1 s, checkpoint "
            "every 5 s). Ceiling: 1 / (1/raw + 1/in-process pipeline), the raw loop's and the pipeline's work "
            "one after the other with no Faust, sink or checkpoint cost"
        ),
        "events": len(records),
        "worker_events_per_s": round(one),
        "two_workers_events_per_s": round(two) if two else None,
        "raw_events_per_s": round(raw),
        "inprocess_pipeline_events_per_s": round(inprocess),
        "one_process_ceiling_events_per_s": round(ceiling),
        "ratio": round(ratio, 3),
        "target": f"worker >= {TARGET_RATIO} x raw loop",
        "met": ratio >= TARGET_RATIO,
    }


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
