"""The batched sink: flushes on size or age, keeps the newest row per key, keeps rows when a write fails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from streams.clock import ManualClock
from streams.warehouse.sink import BatchSink
from streams.warehouse.sink import TableSpec

SPEC = TableSpec("t", ("k", "value", "version"), key=("k",))
LOG = TableSpec("log", ("line",))


class ListWriter:
    """A real in-memory destination (not a mock): it stores what a table would."""

    def __init__(self, fail_times: int = 0) -> None:
        self.tables: dict[str, list[Sequence[Any]]] = {}
        self.fail_times = fail_times

    def __call__(self, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("ClickHouse unavailable")
        self.tables.setdefault(table, []).extend(rows)


def test_due_on_row_count() -> None:
    sink = BatchSink(ListWriter(), max_rows=3, max_age_s=60, clock=ManualClock())
    sink.add(SPEC, [("a", 1, 1), ("b", 1, 1)])
    assert not sink.due()
    sink.add(SPEC, [("c", 1, 1)])
    assert sink.due()


def test_due_on_age_of_the_oldest_row() -> None:
    clock = ManualClock()
    sink = BatchSink(ListWriter(), max_rows=1000, max_age_s=1.0, clock=clock)
    assert not sink.due()
    sink.add(SPEC, [("a", 1, 1)])
    clock.advance(0.6)
    sink.add(SPEC, [("b", 1, 1)])
    clock.advance(0.5)
    assert sink.due()


def test_newer_row_for_the_same_key_replaces_the_buffered_one() -> None:
    writer = ListWriter()
    sink = BatchSink(writer, max_rows=10, max_age_s=1, clock=ManualClock())
    sink.add(SPEC, [("a", 1, 1), ("b", 5, 1)])
    sink.add(SPEC, [("a", 2, 2)])
    assert sink.pending_rows == 2
    assert sink.flush() == 2
    assert sorted(writer.tables["t"]) == [("a", 2, 2), ("b", 5, 1)]


def test_keyless_tables_keep_every_row() -> None:
    writer = ListWriter()
    sink = BatchSink(writer, max_rows=10, max_age_s=1, clock=ManualClock())
    sink.add(LOG, [("x",), ("x",)])
    sink.flush()
    assert writer.tables["log"] == [("x",), ("x",)]


def test_failed_write_keeps_rows_for_the_retry() -> None:
    writer = ListWriter(fail_times=1)
    clock = ManualClock()
    sink = BatchSink(writer, max_rows=10, max_age_s=1, clock=clock)
    sink.add(SPEC, [("a", 1, 1)])
    with pytest.raises(ConnectionError):
        sink.flush()
    assert sink.pending_rows == 1
    assert sink.flush() == 1
    assert writer.tables["t"] == [("a", 1, 1)]
    assert sink.pending_rows == 0
    assert not sink.due()
