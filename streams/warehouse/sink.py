"""A batched ClickHouse sink: rows are buffered per table and written in one insert per table.

It holds rows, never offsets; the caller commits offsets only after `flush()` returned.

What happens to a batch when the worker dies:
- before a flush: the rows were only in memory and their offsets were not committed, so the events are
  consumed again after the restart and the rows are rebuilt;
- during a flush: some tables may have been written and others not; the events are consumed again and every
  row is written again with the same key and version, which the ReplacingMergeTree tables collapse;
- after a flush but before the commit: the same as during a flush: rows are written twice, collapse to one.
Rows therefore must be idempotent: cumulative values keyed by their grain and versioned, never increments.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.insert import InsertContext

from streams.clock import Clock
from streams.clock import SystemClock
from streams.warehouse.tables import TableSpec
from streams.warehouse.tables import key_getter

Writer = Callable[[str, Sequence[str], list[Sequence[Any]]], None]


def clickhouse_writer(client: Client) -> Writer:
    """The production writer: one `clickhouse-connect` insert (Native format) per table and flush.

    A plain `client.insert` asks the server for the table's column types (a DESCRIBE round trip) before every
    insert, which was half the writer's CPU; the insert context holding them is built once per table and
    reused. A failed insert drops it, so a table changed meanwhile is described afresh on the retry.
    """
    contexts: dict[tuple[str, tuple[str, ...]], InsertContext] = {}

    def write(table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        key = (table, tuple(columns))
        context = contexts.get(key)
        if context is None:
            context = contexts[key] = client.create_insert_context(table, list(columns))
        context.data = rows
        try:
            client.insert(context=context)
        except BaseException:
            del contexts[key]
            raise
        finally:
            context.data = None  # the rows are not kept alive until the next flush

    return write


class BatchSink:
    """Flush when `max_rows` rows are buffered or the oldest buffered row is `max_age_s` old."""

    def __init__(self, writer: Writer, max_rows: int, max_age_s: float, clock: Clock | None = None) -> None:
        self._write = writer
        self._max_rows = max_rows
        self._max_age_s = max_age_s
        self._clock = clock or SystemClock()
        self._buffers: dict[TableSpec, dict[Any, Sequence[Any]]] = {}
        self._pending = 0
        self._oldest: float | None = None
        self.rows_written = 0

    @property
    def pending_rows(self) -> int:
        return self._pending

    def add(self, spec: TableSpec, rows: Iterable[Sequence[Any]]) -> None:
        buffer = self._buffers.setdefault(spec, {})
        before = len(buffer)
        if spec.key is None:
            for row in rows:
                buffer[("#", len(buffer))] = row
        else:
            key_of = key_getter(spec)
            for row in rows:
                buffer[key_of(row)] = row
        self._pending += len(buffer) - before
        if self._pending and self._oldest is None:
            self._oldest = self._clock.monotonic()

    def due(self) -> bool:
        if self._pending >= self._max_rows:
            return True
        return self._oldest is not None and self._clock.monotonic() - self._oldest >= self._max_age_s

    def detach(self) -> list[tuple[TableSpec, list[Sequence[Any]]]]:
        """Take the buffered rows out, so a write can run in another thread while new rows keep arriving."""
        batch = [(spec, list(buffer.values())) for spec, buffer in self._buffers.items() if buffer]
        batch.sort(key=lambda item: item[0].last)  # stable: `last` tables go at the end
        self._buffers = {}
        self._pending = 0
        self._oldest = None
        return batch

    def write(self, batch: list[tuple[TableSpec, list[Sequence[Any]]]]) -> int:
        """Write a detached batch; touches no buffer, so it is safe off the event loop."""
        written = 0
        for spec, rows in batch:
            self._write(spec.table, spec.columns, rows)
            written += len(rows)
        return written

    def restore(self, batch: list[tuple[TableSpec, list[Sequence[Any]]]]) -> None:
        """Put a batch whose write failed back; a row buffered since (same key) is newer and wins."""
        for spec, rows in batch:
            buffer = self._buffers.setdefault(spec, {})
            merged: dict[Any, Sequence[Any]] = {}
            for index, row in enumerate(rows):
                key = spec.key_of(row)
                merged[key if key is not None else ("#restored", index)] = row
            merged.update(buffer)
            self._buffers[spec] = merged
        self._pending = sum(len(buffer) for buffer in self._buffers.values())
        if self._pending and self._oldest is None:
            self._oldest = self._clock.monotonic()

    def flush(self) -> int:
        """Write every buffered table; on an error the rows are kept, so a retry writes the same rows again."""
        batch = self.detach()
        try:
            written = self.write(batch)
        except BaseException:
            self.restore(batch)
            raise
        self.rows_written += written
        return written
