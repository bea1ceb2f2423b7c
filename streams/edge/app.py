"""The Faust application: `faust -A streams.edge.app worker`.

Agents here only decode, batch, dead-letter and commit; every count is made by `streams.engine`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import faust
from faust.types import EventT, StreamT

from acdscope.settings import get_settings
from streams.edge.engine_config import load_engine_config
from streams.edge.pipeline import EnginePipeline
from streams.edge.records import Record
from streams.warehouse.client import connect
from streams.warehouse.sink import BatchSink, clickhouse_writer

log = logging.getLogger(__name__)
settings = get_settings()

app = faust.App(
    settings.faust_app_id,
    broker=f"kafka://{settings.kafka_bootstrap}",
    topic_partitions=settings.topic_partitions,
    datadir=settings.faust_data_dir,
    store="memory://",
    # No HTTP endpoint: several workers on one host would fight over port 6066, and nothing reads it.
    web_enabled=False,
)

contact_events = app.topic(
    settings.topic_contact_events,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    partitions=settings.topic_partitions,
)
agent_events = app.topic(
    settings.topic_agent_events,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    partitions=settings.topic_partitions,
)
vendor_reports = app.topic(
    settings.topic_vendor_reports,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    partitions=settings.topic_partitions,
)
dead_letters = app.topic(
    settings.topic_dead_letter, key_serializer="raw", value_serializer="raw", partitions=1
)


class _Edge:
    """Built lazily in the worker, so importing the app (e.g. `faust --help`) needs no ClickHouse."""

    def __init__(self) -> None:
        self.sink = BatchSink(
            clickhouse_writer(connect(settings.clickhouse_dsn)),
            max_rows=settings.sink_max_rows,
            max_age_s=settings.sink_max_age_s,
        )
        self.pipeline = EnginePipeline(
            self.sink,
            load_engine_config(settings.engine_config),
            {
                settings.topic_contact_events: "contact",
                settings.topic_agent_events: "agent",
                settings.topic_vendor_reports: "vendor",
            },
        )
        self.unacked: list[tuple[StreamT[Any], EventT[Any]]] = []
        self.lock = asyncio.Lock()

    async def flush_then_ack(self) -> None:
        """Offsets move only after the rows that include them are in ClickHouse (at-least-once, idempotent rows).

        The rows are detached in the event loop and written in a thread, so agents keep adding rows meanwhile;
        a failed write puts the rows back and keeps the events unacknowledged, to be retried on the next tick.
        """
        async with self.lock:
            batch = self.sink.detach()
            pending, self.unacked = self.unacked, []
            if batch:
                try:
                    written = await asyncio.to_thread(self.sink.write, batch)
                except Exception:
                    log.exception("sink write failed; rows kept and retried, offsets not committed")
                    self.sink.restore(batch)
                    self.unacked = pending + self.unacked
                    return
                self.sink.rows_written += written
                log.info("sink flushed %d rows", written)
            for stream, event in pending:
                await stream.ack(event)


_edge: _Edge | None = None


def edge() -> _Edge:
    global _edge
    if _edge is None:
        _edge = _Edge()
    return _edge


def _record(event: EventT[Any]) -> Record:
    message = event.message
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        timestamp_ms=int(message.timestamp * 1000),
    )


async def _consume(stream: StreamT[bytes]) -> None:
    """Decode, run the engines, dead-letter what cannot be counted, flush when due; acks follow the flush."""
    state = edge()
    # noack_take yields events (not values) and leaves acking to us: we ack after the sink flush.
    batches = cast(faust.Stream[Any], stream).noack_take(
        settings.consume_batch_max, within=settings.consume_batch_within_s
    )
    async for batch in batches:
        events = cast(list[EventT[Any]], batch)
        records = [_record(event) for event in events]
        dead = state.pipeline.process(records)
        if dead:
            sent = [
                await dead_letters.send(
                    key=letter.record.key, value=letter.record.value, headers=letter.headers(), force=True
                )
                for letter in dead
            ]
            await asyncio.gather(*sent)
            for letter in dead:
                log.warning(
                    "dead letter %s[%d]@%d: %s",
                    letter.record.topic,
                    letter.record.partition,
                    letter.record.offset,
                    letter.reason,
                )
        state.unacked.extend((stream, event) for event in events)
        if state.sink.due():
            await state.flush_then_ack()


# One agent per input topic; concurrency=1 each: with more, Faust can commit past a message still in flight
# (faust issue 606).
@app.agent(contact_events, concurrency=1)
async def contact_metrics(stream: StreamT[bytes]) -> None:
    await _consume(stream)


@app.agent(agent_events, concurrency=1)
async def adherence_metrics(stream: StreamT[bytes]) -> None:
    await _consume(stream)


@app.agent(vendor_reports, concurrency=1)
async def vendor_report_metrics(stream: StreamT[bytes]) -> None:
    await _consume(stream)


@app.timer(interval=max(0.1, settings.sink_max_age_s / 2))
async def flush_on_age() -> None:
    """The take loop only wakes when events arrive; this flushes the tail of a quiet stream."""
    if _edge is None:
        return
    _edge.pipeline.tick()
    if _edge.sink.due() or (_edge.unacked and not _edge.sink.pending_rows):
        await _edge.flush_then_ack()
