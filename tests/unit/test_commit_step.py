"""The commit step on its own: a real pipeline, a fake writer and a manual clock, no server. What is checked is
its commit rule: rows before checkpoints, an ack only for what a written checkpoint (or a written dead-letter
row) covers, nothing acked while writes fail, a checkpoint waited for without blocking the event loop."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest

from streams.clock import ManualClock
from streams.edge.commit import CommitStep
from streams.edge.pipeline import build_pipeline
from streams.edge.records import Record
from streams.edge.settings import EdgeSettings
from streams.engine.config import EngineConfig
from streams.events import ContactOffered
from streams.events import ContactQueued
from streams.events import encode_event
from streams.events import new_event_id

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOPIC = "acd.contact-events"


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int


class Writer:
    """Keeps what was written, in order; `failing` makes every write raise, as an unreachable ClickHouse does."""

    def __init__(self) -> None:
        self.tables: list[str] = []
        self.rows: dict[str, list[Any]] = {}
        self.failing = False

    def __call__(self, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        if self.failing:
            raise ConnectionError("warehouse unreachable")
        self.tables.append(table)
        self.rows.setdefault(table, []).extend(rows)


def records(start: int, n: int, partition: int = 0) -> list[Record]:
    out = []
    for offset in range(start, start + n):
        common = {"contact_id": f"c{offset}", "initial_contact_id": f"c{offset}", "source": "in-house",
                  "call_type": "billing", "ts": T0 + timedelta(seconds=offset)}  # fmt: skip
        event = (ContactOffered if offset % 2 else ContactQueued)(
            event_id=new_event_id(offset + 1), **common, **({} if offset % 2 else {"queue": "q"})
        )
        out.append(Record(TOPIC, partition, offset, None, encode_event(event), 0))
    return out


def step(
    writer: Writer, clock: ManualClock, read: Any = None, transient: tuple[type[Exception], ...] = ()
) -> tuple[CommitStep[Message], list[Message]]:
    settings = EdgeSettings(sink_max_rows=1_000, sink_max_age_s=1.0)
    pipeline = build_pipeline(settings, EngineConfig(), writer, {TOPIC: "contact"}, clock=clock)
    acked: list[Message] = []
    commit: CommitStep[Message] = CommitStep(
        pipeline,
        acked.append,
        clock,
        app_id="test",
        checkpoint_interval_s=5.0,
        max_buffered_rows=4_000,
        read_checkpoint=read or (lambda topic, partition: None),
        transient=transient,
    )
    return commit, acked


async def consume(commit: CommitStep[Message], batch: list[Record]) -> None:
    """What the Faust batch handler does with a batch."""
    await commit.prepare(batch)
    dead = commit.pipeline.process(batch)
    commit.submit(
        [Message(r.topic, r.partition, r.offset) for r in batch],
        [(d.record.topic, d.record.partition, d.record.offset) for d in dead],
    )
    await commit.poll()


def test_nothing_is_acked_before_a_checkpoint_covers_it_and_checkpoints_follow_their_rows() -> None:
    async def run() -> None:
        writer, clock = Writer(), ManualClock()
        commit, acked = step(writer, clock)
        await consume(commit, records(0, 10))
        clock.advance(1.5)  # the rows are due, a checkpoint is not (every 5 s)
        await commit.flush()
        assert "quality_interval" in writer.tables
        assert "engine_checkpoint" not in writer.tables
        assert acked == []
        clock.advance(4.0)
        await commit.flush()
        assert writer.tables[-1] == "engine_checkpoint"  # after every row of its flush
        assert [m.offset for m in acked] == list(range(10))
        (checkpoint,) = writer.rows["engine_checkpoint"]
        assert (checkpoint.topic, checkpoint.stream_partition, checkpoint.last_offset) == (TOPIC, 0, 9)

    asyncio.run(run())


def test_while_writes_fail_rows_are_kept_and_nothing_is_acked_then_all_of_it_is() -> None:
    async def run() -> None:
        writer, clock = Writer(), ManualClock()
        commit, acked = step(writer, clock)
        await consume(commit, records(0, 6))
        writer.failing = True
        clock.advance(10.0)
        await commit.flush()
        await commit.flush(force_checkpoint=True)
        assert acked == []
        assert writer.rows == {}
        assert commit.sink.pending_rows > 0
        writer.failing = False
        await commit.flush()
        assert [m.offset for m in acked] == list(range(6))
        assert sum(row.offered for row in writer.rows["quality_interval"]) == 3  # the queued half, once

    asyncio.run(run())


def test_a_dead_letter_is_acked_once_its_row_is_written_without_waiting_for_a_checkpoint() -> None:
    async def run() -> None:
        writer, clock = Writer(), ManualClock()
        commit, acked = step(writer, clock)
        bad = Record(TOPIC, 0, 0, None, b"{not json", 0)
        await consume(commit, [bad, *records(1, 2)])
        clock.advance(1.5)
        await commit.flush()
        assert [m.offset for m in acked] == [0]
        assert [row[3] for row in writer.rows["dead_letter"]] == [0]

    asyncio.run(run())


def test_a_checkpoint_that_cannot_be_read_yet_is_waited_for_and_the_loop_runs_on() -> None:
    async def run() -> None:
        writer, clock = Writer(), ManualClock()
        attempts = []

        def read(topic: str, partition: int) -> dict[str, Any] | None:
            attempts.append(clock.monotonic())
            if len(attempts) < 4:
                raise ConnectionError("warehouse unreachable")
            return None

        commit, _ = step(writer, clock, read, transient=(ConnectionError,))
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        beating = asyncio.create_task(heartbeat())
        await commit.prepare(records(0, 2))
        beating.cancel()
        assert [round(b - a, 1) for a, b in itertools.pairwise(attempts)] == [0.5, 1.0, 2.0]
        assert ticks >= 3  # the event loop kept running while the checkpoint was waited for
        assert commit.pipeline.unstarted(records(0, 2)) == []

    asyncio.run(run())


def test_an_error_other_than_an_unreachable_warehouse_stops_the_worker() -> None:
    async def run() -> None:
        def read(topic: str, partition: int) -> dict[str, Any] | None:
            raise KeyError("a corrupt checkpoint")

        commit, _ = step(Writer(), ManualClock(), read, transient=(ConnectionError,))
        with pytest.raises(KeyError):
            await commit.prepare(records(0, 1))

    asyncio.run(run())


def test_past_the_buffer_limit_poll_waits_for_writes_to_succeed_again() -> None:
    async def run() -> None:
        writer, clock = Writer(), ManualClock()
        commit, acked = step(writer, clock)
        writer.failing = True
        batch = records(0, 4_500)  # a raw-event row per record, and the interval rows
        commit.pipeline.process(batch)
        commit.submit([Message(r.topic, r.partition, r.offset) for r in batch])
        assert commit.sink.pending_rows >= 4_000
        polling = asyncio.create_task(commit.poll())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not polling.done()  # consuming paused: the handler does not return
        writer.failing = False
        await asyncio.wait_for(polling, timeout=5)
        await commit.join()
        assert commit.sink.pending_rows < 4_000
        await commit.close()
        assert [m.offset for m in acked] == list(range(4_500))  # the last checkpoint covers them all
        assert writer.tables[-1] == "engine_checkpoint"

    asyncio.run(run())
