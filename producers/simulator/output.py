"""Where simulated events go: memory, JSON lines, Parquet (replay fixtures) or Kafka, plus the truth as Parquet.

Each sink stamps the event id, time and schema version and writes rows; none of them computes a metric.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from producers.simulator.emit import COLUMNS
from producers.simulator.emit import TYPE_NAMES
from producers.simulator.emit import as_dict
from producers.simulator.gcpause import paused_gc
from producers.simulator.truth import AgentSpan
from producers.simulator.truth import Leg
from producers.simulator.truth import ScheduledActivity
from producers.simulator.truth import TruthRecorder
from producers.simulator.truth import VendorReportTruth
from streams.events import EVENT_TYPES
from streams.events import SCHEMA_VERSION
from streams.events import Event
from streams.events import EventDecodeError
from streams.events import encode_event
from streams.events import event_from_dict

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
        ("transferred_in", pa.bool_()),
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
        ("handled", pa.int64()),
        ("transferred", pa.int64()),
        ("qa_count", pa.int64()),
        ("qa_sum", pa.float64()),
        ("csat_count", pa.int64()),
        ("csat_sum", pa.int64()),
        ("staffed_ms", pa.int64()),
    ]
)
TIME_FIELDS = ("ts", "start", "end", "interval_start")


def flat_columns_cover_the_contract() -> set[str]:
    """Fields of the event models missing from the flat schema (empty when the two agree)."""
    names = set(FLAT_SCHEMA.names)
    return {name for model in EVENT_TYPES.values() for name in model.model_fields if name not in names}


class EventIds:
    """Reproducible UUID4 strings for a run: the n-th event gets the same id whichever sink writes it.

    Drawn 16 bytes at a time from one seeded stream (the stream gives the same bytes in any chunking), with
    the version and variant bits of RFC 4122 set, and formatted in bulk.
    """

    def __init__(self, seed: int | str) -> None:
        digest = hashlib.sha256(str(seed).encode()).digest()
        self._rng = np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "little")))

    def take(self, n: int) -> list[str]:
        return self.take_array(n).to_pylist()

    def take_array(self, n: int) -> pa.Array:
        """The ids as an Arrow string array, formatted in numpy (no Python work per id)."""
        raw = np.frombuffer(self._rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        nibbles = np.empty((n, 32), dtype=np.uint8)
        nibbles[:, 0::2] = raw >> 4
        nibbles[:, 1::2] = raw & 0x0F
        hexed = _HEX[nibbles]
        text = np.full((n, 36), ord("-"), dtype=np.uint8)
        for start, stop, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
            text[:, at : at + stop - start] = hexed[:, start:stop]
        offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())]
        )


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


class RowSink:
    """Base of the sinks. The core appends `(ts_ms, values)` to `by_code[code]` and the code to `codes` (bare
    list appends are the cheapest thing it can do per event) and calls `drain()` now and then; subclasses
    write the drained rows, in emission order."""

    def __init__(self, seed: int | str) -> None:
        self.ids = EventIds(seed)
        self.by_code: list[list[tuple[int, tuple[Any, ...]]]] = [[] for _ in TYPE_NAMES]
        self.codes: list[int] = []
        self.count = 0

    def emit(self, code: int, ts_ms: int, values: tuple[Any, ...]) -> None:
        self.by_code[code].append((ts_ms, values))
        self.codes.append(code)

    def drain(self) -> None:
        if self.codes:
            self.count += len(self.codes)
            self.write_batch(self.codes, self.by_code)
            # Cleared in place: the core holds the lists' `append` methods.
            self.codes.clear()
            for bucket in self.by_code:
                bucket.clear()

    def write_batch(self, codes: list[int], by_code: list[list[tuple[int, tuple[Any, ...]]]]) -> None:
        """Default: rows one by one in emission order (the slow path for dict-based sinks)."""
        positions = [0] * len(by_code)
        rows: list[tuple[int, int, tuple[Any, ...]]] = []
        for code in codes:
            ts_ms, values = by_code[code][positions[code]]
            positions[code] += 1
            rows.append((code, ts_ms, values))
        self.write_rows(rows)

    def write_rows(self, rows: list[tuple[int, int, tuple[Any, ...]]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.drain()


def stamped_dict(code: int, ts_ms: int, values: tuple[Any, ...], event_id: str) -> dict[str, Any]:
    row = as_dict(code, ts_ms, values)
    row["event_id"] = event_id
    row["schema_version"] = SCHEMA_VERSION
    return row


def row_to_event(row: dict[str, Any]) -> Event:
    """Validate a flat row as a canonical event: the contract check every slow output path goes through."""
    data = {key: value for key, value in row.items() if value is not None}
    for name in TIME_FIELDS:
        value = data.get(name)
        if isinstance(value, int):
            data[name] = datetime.fromtimestamp(value / 1000, tz=UTC)
    return event_from_dict(data)


class MemorySink(RowSink):
    """Rows as dicts in memory, for tests and small runs."""

    def __init__(self, seed: int | str) -> None:
        super().__init__(seed)
        self.dicts: list[dict[str, Any]] = []

    def write_rows(self, rows: list[tuple[int, int, tuple[Any, ...]]]) -> None:
        ids = self.ids.take(len(rows))
        self.dicts.extend(
            stamped_dict(code, ts, values, id_) for (code, ts, values), id_ in zip(rows, ids, strict=True)
        )

    def events(self) -> Iterator[Event]:
        for row in self.dicts:
            yield row_to_event(row)


class JsonLinesSink(RowSink):
    """Each line is the event's wire JSON, validated through the pydantic model on the way out."""

    def __init__(self, path: Path, seed: int | str) -> None:
        super().__init__(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")

    def write_rows(self, rows: list[tuple[int, int, tuple[Any, ...]]]) -> None:
        ids = self.ids.take(len(rows))
        for (code, ts, values), event_id in zip(rows, ids, strict=True):
            row = stamped_dict(code, ts, values, event_id)
            self._file.write(encode_event(row_to_event(row)) + b"\n")

    def close(self) -> None:
        self.drain()
        self._file.close()


_FIELD_TYPES = {field.name: field.type for field in FLAT_SCHEMA}
_LOW_CARDINALITY = (
    "tenant", "type", "source", "call_type", "team", "entry", "queue", "trigger", "handoff", "kind",
    "to_queue", "reason", "activity", "to_source", "agent_id",
)  # fmt: skip


class ParquetSink(RowSink):
    """The flat schema, one row group per drain. Rows are grouped by event type with one stable sort, turned
    into Arrow columns in bulk, and put back in emission order with one `take`."""

    def __init__(self, path: Path, seed: int | str) -> None:
        super().__init__(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Dictionary pages only where values repeat; ids and hashes would just pay for a dictionary.
        self._writer = pq.ParquetWriter(
            path,
            FLAT_SCHEMA,
            compression="zstd",
            use_dictionary=list(_LOW_CARDINALITY),
            write_statistics=["ts"],
        )

    def write_batch(self, codes: list[int], by_code: list[list[tuple[int, tuple[Any, ...]]]]) -> None:
        n = len(codes)
        tables = []
        for code, bucket in enumerate(by_code):
            if not bucket:
                continue
            size = len(bucket)
            times, values = zip(*bucket, strict=True)
            columns: dict[str, pa.Array] = {
                "ts": pa.array(times, _TS),
                "schema_version": pa.repeat(pa.scalar(SCHEMA_VERSION, pa.int16()), size),
                "type": pa.repeat(pa.scalar(TYPE_NAMES[code], pa.string()), size),
            }
            for name, column in zip(COLUMNS[code], zip(*values, strict=True), strict=True):
                columns[name] = pa.array(column, _FIELD_TYPES[name])
            arrays = [columns.get(field.name) or pa.nulls(size, field.type) for field in FLAT_SCHEMA]
            tables.append(pa.Table.from_arrays(arrays, schema=FLAT_SCHEMA))
        # The tables are grouped by type, each in emission order; one stable argsort of the codes maps them
        # back to the order the events were emitted in.
        order = np.argsort(np.asarray(codes, dtype=np.int16), kind="stable")
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n, dtype=np.int64)
        table = pa.concat_tables(tables).take(pa.array(inverse))
        table = table.set_column(0, "event_id", self.ids.take_array(n))
        self._writer.write_table(table)

    def close(self) -> None:
        self.drain()
        self._writer.close()


def read_parquet_events(path: Path) -> Iterator[Event]:
    """Replay a Parquet fixture as validated events, in file order.

    A batch at a time, one event type at a time: only the columns that type fills become Python values, the UTC
    time columns as epoch milliseconds (what `row_to_event` takes). Converting every row into a dict of all the
    flat schema's columns, with time-zone-aware datetimes only to turn them back into milliseconds, cost more
    than validating the event (replay to Kafka, `bench/producer.py`). A row that fails validation raises when
    its turn comes, after the rows before it."""
    table = pq.read_table(path)
    names = table.schema.names
    if "type" not in names:  # no event type at all: each row fails validation as it is
        for batch in table.to_batches(max_chunksize=50_000):
            for row in batch.to_pylist():
                yield row_to_event(row)
        return
    for batch in table.to_batches(max_chunksize=50_000):
        yield from _batch_events(batch, names)


def _batch_events(batch: pa.RecordBatch, names: list[str]) -> Iterator[Event]:
    out: list[Any] = [None] * batch.num_rows
    types = batch.column(names.index("type"))
    for kind in pc.unique(types).to_pylist():
        mask = pc.is_null(types) if kind is None else pc.equal(types, kind)
        rows = batch.filter(mask)
        filled = [
            (name, column)
            for name, column in zip(names, rows.columns, strict=True)
            if column.null_count < len(column)
        ]
        keys = [name for name, _ in filled]
        columns = [_python_values(name, column) for name, column in filled]
        positions = pc.indices_nonzero(mask).to_pylist()
        for position, values in zip(positions, zip(*columns, strict=True), strict=True):
            try:
                out[position] = row_to_event(dict(zip(keys, values, strict=True)))
            except EventDecodeError as exc:
                out[position] = exc
    for item in out:
        if isinstance(item, EventDecodeError):
            raise item
        yield item


def _python_values(name: str, column: pa.Array) -> list[Any]:
    kind = column.type
    if name in TIME_FIELDS and pa.types.is_timestamp(kind) and kind.tz is not None:
        # Whole milliseconds, as `int(datetime.timestamp() * 1000)` gave them (finer units are truncated).
        as_ms = column.cast(pa.timestamp("ms", tz=kind.tz), safe=False) if kind.unit != "ms" else column
        return as_ms.cast(pa.int64()).to_pylist()
    values = column.to_pylist()
    if name in TIME_FIELDS:  # a time without a zone, or not a time at all: as before, value by value
        return [int(value.timestamp() * 1000) if isinstance(value, datetime) else value for value in values]
    return values


def write_truth(truth: TruthRecorder, directory: Path) -> dict[str, Path]:
    """The truth tables next to the events: legs, agent spans, schedules, vendor reports."""
    with paused_gc():
        return _write_truth(truth, directory)


def _write_truth(truth: TruthRecorder, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    tables: list[tuple[str, list[str], list[list[Any]]]] = [
        (
            "truth_legs",
            [f.name for f in fields(Leg)],
            [[getattr(leg, f.name) for leg in truth.legs] for f in fields(Leg)],
        ),
    ]
    for name, items, names in (
        ("truth_agent_spans", truth.spans, list(AgentSpan._fields)),
        ("truth_schedules", truth.schedules, list(ScheduledActivity._fields)),
        ("truth_vendor_reports", truth.vendor_reports, list(VendorReportTruth._fields)),
    ):
        columns = [list(column) for column in zip(*items, strict=True)] if items else [[] for _ in names]
        tables.append((name, names, columns))
    # The true per-source, per-call-type, per-interval figures, hidden parts included.
    scenario_interval = truth.interval_minutes
    figures = truth.per_interval(scenario_interval, truth.threshold_s)
    figure_names = ["offered", "answered", "abandoned", "overflowed", "answered_within_target", "wait_ms",
                    "talk_ms", "hold_ms", "acw_ms", "handled", "transferred", "transferred_in", "qa_count",
                    "qa_sum", "csat_count", "csat_sum"]  # fmt: skip
    keys = sorted(figures)
    interval_columns: list[list[Any]] = [
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        *([figures[k].get(name, 0) for k in keys] for name in figure_names),
    ]
    tables.append(
        ("truth_intervals", ["source", "call_type", "interval_start_ms", *figure_names], interval_columns)
    )
    for name, names, columns in tables:
        path = directory / f"{name}.parquet"
        if columns and columns[0]:
            table = pa.table(dict(zip(names, columns, strict=True)))
        else:
            table = pa.table({column: pa.array([], pa.string()) for column in names})
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
