"""Sink: rows/s into ClickHouse through `clickhouse-connect` with the worker's batch size, on the local endpoint.

The rows are the worker's own: one simulated day (3 setups) through the in-process pipeline, every row its
sink would write (raw events, interval rows of every table, dead letters none), captured per table; then
written to a fresh database in batches of `sink_max_rows` (10,000) per table, one insert each, as the worker's
flush does. Timed from the first insert to the last acknowledgement.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bench.engine import BATCH
from bench.engine import TOPICS
from bench.engine import mix
from bench.stack import Run
from bench.stack import local_stack
from streams.edge.pipeline import build_pipeline
from streams.edge.settings import EdgeSettings
from streams.warehouse.client import connect
from streams.warehouse.sink import clickhouse_writer


def run(days: int = 1) -> dict[str, Any]:
    records, config = mix(days)
    captured: list[tuple[str, Sequence[str], list[Sequence[Any]]]] = []
    settings = EdgeSettings()  # the worker's sink sizes: about 1 s or 10k rows per table
    pipeline = build_pipeline(settings, config, lambda t, c, r: captured.append((t, c, r)), TOPICS)
    sink = pipeline.sink
    for start in range(0, len(records), BATCH):
        pipeline.process(records[start : start + BATCH])
        if sink.due():
            sink.flush()
    sink.flush()
    rows = sum(len(r) for _, _, r in captured)
    with local_stack() as stack:
        run_ = Run.create(stack, "sink")
        try:
            write = clickhouse_writer(connect(run_.dsn))
            began = time.perf_counter()
            for table, columns, batch in captured:
                for start in range(0, len(batch), settings.sink_max_rows):
                    write(table, columns, batch[start : start + settings.sink_max_rows])
            seconds = time.perf_counter() - began
        finally:
            run_.drop()
    rate = rows / seconds
    tables = len({table for table, _, _ in captured})
    return {
        "name": "sink into ClickHouse",
        "figure": f"{rate:,.0f} rows/s ({rows:,} rows of {tables} tables in {seconds:.1f} s, "
        f"{len(captured)} inserts)",
        "method": (
            f"the worker's own rows for {len(records):,} events, written with clickhouse_writer (Native format) "
            f"in inserts of <= {settings.sink_max_rows:,} rows per table to the local chDB endpoint"
        ),
        "rows_per_s": round(rate),
        "target": "none set (reported)",
        "met": None,
    }


if __name__ == "__main__":
    print(run())
