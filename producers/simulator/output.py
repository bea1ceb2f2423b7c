"""Where simulated events go: memory, JSON lines, Parquet (replay fixtures) or Kafka, plus the truth as Parquet.

Each sink stamps the event id, time and schema version and writes rows; none of them computes a metric.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from producers.simulator.truth import AgentSpan, Leg, ScheduledActivity, TruthRecorder, VendorReportTruth
from streams.events import EVENT_TYPES, SCHEMA_VERSION, Event, encode_event, event_from_dict

_TS = pa.timestamp("ms", tz="UTC")
# The flat replay schema: one column per field of any event type, null where a type lacks the field.
FLAT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("ts", _TS),
        ("schema_version", pa.int16()),
        ("tenant", pa.string()),
        ("type", pa.string()),
        ("contact_id", pa.string()),
        ("initial_contact_id", pa.string()),
        ("source", pa.string()),
        ("call_type", pa.string()),
        ("entry", pa.string()),
        ("caller_hash", pa.string()),
        ("queue", pa.string()),
        ("priority", pa.int16()),
        ("to_source", pa.string()),
        ("trigger", pa.string()),
        ("handoff", pa.string()),
        ("agent_id", pa.string()),
        ("wait_ms", pa.int64()),
        ("total_wait_ms", pa.int64()),
        ("kind", pa.string()),
        ("to_queue", pa.string()),
        ("hold_ms", pa.int64()),
        ("talk_ms", pa.int64()),
        ("acw_ms", pa.int64()),
        ("qa_score", pa.float64()),
        ("csat", pa.int16()),
        ("team", pa.string()),
        ("skills", pa.list_(pa.string())),
        ("reason", pa.string()),
        ("activity", pa.string()),
        ("start", _TS),
        ("end", _TS),
        ("schedule_version", pa.int32()),
        ("interval_start", _TS),
        ("interval_minutes", pa.int32()),
        ("offered", pa.int64()),
        ("answered", pa.int64()),
        ("abandoned", pa.int64()),
        ("answered_within_target", pa.int64()),
        ("target_s", pa.int32()),
        ("handle_ms", pa.int64()),
    ]
)
TIME_FIELDS = ("ts", "start", "end", "interval_start")


def flat_columns_cover_the_contract() -> set[str]:
    """Fields of the event models missing from the flat schema (empty when the two agree)."""
    names = set(FLAT_SCHEMA.names)
    return {name for model in EVENT_TYPES.values() for name in model.model_fields if name not in names}


class StampingSink:
    """Gives every event a reproducible UUID4 (seeded per run) and the schema version, then `write_row`."""

    def __init__(self, seed: int | str) -> None:
        self._ids = random.Random(str(seed))
        self.count = 0

    def add(self, event_type: str, ts_ms: int, fields: dict[str, Any]) -> None:
        row = dict(fields)
        row["event_id"] = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        row["ts"] = ts_ms
        row["schema_version"] = SCHEMA_VERSION
        row["type"] = event_type
        self.count += 1
        self.write_row(row)

    def write_row(self, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush what is buffered; a sink that buffers nothing has nothing to do."""


def row_to_event(row: dict[str, Any]) -> Event:
    """Validate a flat row as a canonical event: the contract check every output path goes through."""
    data = {key: value for key, value in row.items() if value is not None}
    for name in TIME_FIELDS:
        value = data.get(name)
        if isinstance(value, int):
            data[name] = datetime.fromtimestamp(value / 1000, tz=UTC)
    return event_from_dict(data)


class MemorySink(StampingSink):
    def __init__(self, seed: int | str) -> None:
        super().__init__(seed)
        self.rows: list[dict[str, Any]] = []

    def write_row(self, row: dict[str, Any]) -> None:
        self.rows.append(row)

    def events(self) -> Iterator[Event]:
        for row in self.rows:
            yield row_to_event(row)


class JsonLinesSink(StampingSink):
    """Each line is the event's wire JSON, validated through the pydantic model on the way out."""

    def __init__(self, path: Path, seed: int | str) -> None:
        super().__init__(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")

    def write_row(self, row: dict[str, Any]) -> None:
        self._file.write(encode_event(row_to_event(row)) + b"\n")

    def close(self) -> None:
        self._file.close()


class ParquetSink(StampingSink):
    """The flat schema in row groups of `batch_rows`; written as it goes, so memory stays bounded."""

    def __init__(self, path: Path, seed: int | str, batch_rows: int = 200_000) -> None:
        super().__init__(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, FLAT_SCHEMA, compression="zstd")
        self._rows: list[dict[str, Any]] = []
        self._batch_rows = batch_rows

    def write_row(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=FLAT_SCHEMA))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


def read_parquet_events(path: Path) -> Iterator[Event]:
    """Replay a Parquet fixture as validated events, in file order."""
    table = pq.read_table(path)
    for batch in table.to_batches(max_chunksize=50_000):
        for row in batch.to_pylist():
            for name in TIME_FIELDS:
                if isinstance(row.get(name), datetime):
                    row[name] = int(row[name].timestamp() * 1000)
            yield row_to_event(row)


def write_truth(truth: TruthRecorder, directory: Path) -> dict[str, Path]:
    """The truth tables next to the events: legs, agent spans, schedules, vendor reports."""
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, items, cls in (
        ("truth_legs", truth.legs, Leg),
        ("truth_agent_spans", truth.spans, AgentSpan),
        ("truth_schedules", truth.schedules, ScheduledActivity),
        ("truth_vendor_reports", truth.vendor_reports, VendorReportTruth),
    ):
        path = directory / f"{name}.parquet"
        if items:
            table = pa.Table.from_pylist([asdict(item) for item in items])
        else:
            table = pa.table({f.name: pa.array([], pa.string()) for f in fields(cls)})
        pq.write_table(table, path, compression="zstd")
        written[name] = path
    summary = directory / "truth_summary.json"
    summary.write_text(
        json.dumps(
            {"tenant": truth.tenant, "legs": len(truth.legs), "agent_spans": len(truth.spans)}, indent=2
        )
    )
    written["summary"] = summary
    return written
