"""The Faust application: `faust -A streams.edge.app worker`.

The batch handler here only decodes, dead-letters, flushes and acks; every count is made by `streams.engine`.
Messages arrive a fetched batch at a time (`streams.edge.batching`), not one by one through agents.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import faust
from clickhouse_connect.driver.exceptions import OperationalError
from faust.types import Message
from mode import BaseSignalT

from acdscope.settings import get_settings
from streams.edge.batching import BatchApp
from streams.edge.engine_config import load_engine_config
from streams.edge.gcpolicy import tune_for_streaming
from streams.edge.pipeline import EnginePipeline
from streams.edge.records import Record, encode_caller_contacts
from streams.warehouse import checkpoints
from streams.warehouse.client import connect
from streams.warehouse.sink import BatchSink, clickhouse_writer

log = logging.getLogger(__name__)
settings = get_settings()

app = BatchApp(
    settings.faust_app_id,
    broker=f"kafka://{settings.kafka_bootstrap}",
    broker_credentials=settings.faust_credentials(),
    topic_partitions=settings.topic_partitions,
    datadir=settings.faust_data_dir,
    store="memory://",
    # No HTTP endpoint: several workers on one host would fight over port 6066, and nothing reads it.
    web_enabled=False,
    # Do not wait at shutdown for every consumed event to be acked: events after the last checkpoint are
    # deliberately unacked, and are re-read (and skipped by offset) after the restart.
    stream_wait_empty=False,
    broker_session_timeout=settings.faust_session_timeout_s,
    broker_max_poll_records=settings.consume_batch_max,
    broker_heartbeat_interval=min(3.0, settings.faust_session_timeout_s / 4),
)


def _input_topic(name: str) -> faust.TopicT:
    """Raw bytes in (the pipeline decodes, so a bad message becomes a dead letter, not a crash), and the same
    partition count as the producers created, which Faust checks."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )


contact_events = _input_topic(settings.topic_contact_events)
agent_events = _input_topic(settings.topic_agent_events)
vendor_reports = _input_topic(settings.topic_vendor_reports)
caller_contacts = _input_topic(settings.topic_caller_contacts)
dead_letters = app.topic(
    settings.topic_dead_letter, key_serializer="raw", value_serializer="raw", partitions=1
)


class _Edge:
    """Built lazily in the worker, so importing the app (e.g. `faust --help`) needs no ClickHouse.

    Delivery contract: rows are flushed about every `sink_max_age_s`; engine checkpoints are written every
    `checkpoint_interval_s`, after the rows they cover and in the same flush; an event's offset is acked (so
    Faust may commit it) only once a written checkpoint covers it, or, for a dead letter, once its row is
    written. A crash at any point therefore re-reads from before the last checkpoint, and the restored engine
    skips the offsets it already counted: nothing lost, nothing counted twice, rows replaced by version.
    """

    def __init__(self) -> None:
        self.sink = BatchSink(
            clickhouse_writer(connect(settings.clickhouse_dsn)),
            max_rows=settings.sink_max_rows,
            max_age_s=settings.sink_max_age_s,
        )
        # A second client: the sink's writes the rows in a worker thread, this one reads checkpoints in the loop.
        self._reader = connect(settings.clickhouse_dsn)
        self.pipeline = EnginePipeline(
            self.sink,
            load_engine_config(settings.engine_config),
            {
                settings.topic_contact_events: "contact",
                settings.topic_agent_events: "agent",
                settings.topic_vendor_reports: "vendor",
                settings.topic_caller_contacts: "caller",
            },
            loopback_callers=False,
            load_checkpoint=self._load_checkpoint,
        )
        self.unacked: list[Message] = []
        self.dead: set[tuple[str, int, int]] = set()
        self.lock = asyncio.Lock()
        self._last_checkpoint = time.monotonic()
        self._flushing: asyncio.Task[None] | None = None
        self._failures = 0

    def _load_checkpoint(self, topic: str, partition: int) -> dict[str, Any] | None:
        """A partition's first batch needs its checkpoint, and nothing of that partition can be counted
        without it: while ClickHouse is unreachable this waits (backing off up to 30 s), it does not crash.
        Only connection failures are waited out; any other error is a real fault and stops the worker."""
        backoff = 0.5
        while True:
            try:
                return checkpoints.load(self._reader, settings.faust_app_id, topic, partition)
            except OperationalError as exc:
                log.warning(
                    "checkpoint of %s[%d] unreadable (%s); retrying in %.1f s",
                    topic,
                    partition,
                    str(exc).splitlines()[0][:200],
                    backoff,
                )
                time.sleep(backoff)  # consuming waits with it: the Kafka heartbeat runs in Faust's thread
                backoff = min(30.0, backoff * 2)

    async def flush_when_due(self) -> None:
        """Start a flush in the background when one is due, so consuming goes on while ClickHouse writes.

        One flush at a time. Rows keep arriving meanwhile; past `4 x sink_max_rows` buffered the handler waits
        for the flush in flight, and while writes fail it keeps retrying (backing off up to 30 s) without
        consuming: memory stays bounded and nothing is dropped while ClickHouse is away.
        """
        if not self.sink.due():
            return
        limit = 4 * settings.sink_max_rows
        backoff = 0.5
        while True:
            if self._flushing is None or self._flushing.done():
                self._flushing = asyncio.create_task(self.flush_then_ack())
                self._flushing.add_done_callback(_report_failure)
            if self.sink.pending_rows < limit:
                return
            await asyncio.shield(self._flushing)
            if self.sink.pending_rows < limit:
                return
            log.warning("sink behind (%d rows buffered): consuming paused, retrying in %.1f s",
                        self.sink.pending_rows, backoff)  # fmt: skip
            await asyncio.sleep(backoff)
            backoff = min(30.0, backoff * 2)

    async def flush_then_ack(self, force_checkpoint: bool = False) -> None:
        """Write what is buffered (rows, then checkpoints), then ack what a written checkpoint covers.

        The rows are detached in the event loop and written in a thread, so agents keep adding rows meanwhile;
        a failed write puts the rows back and acks nothing, to be retried on the next tick.
        """
        async with self.lock:
            rows = []
            if force_checkpoint or time.monotonic() - self._last_checkpoint >= settings.checkpoint_interval_s:
                rows = self.pipeline.checkpoint(settings.faust_app_id)
                if rows:
                    self.sink.add(checkpoints.CHECKPOINT_TABLE, rows)
                self._last_checkpoint = time.monotonic()
            batch = self.sink.detach()
            dead, self.dead = self.dead, set()
            if batch:
                began = time.monotonic()
                try:
                    written = await asyncio.to_thread(self.sink.write, batch)
                except Exception as exc:
                    # One line per failed attempt (an outage retries every few seconds); the first carries the
                    # traceback.
                    self._failures += 1
                    log.warning(
                        "sink write failed (%d in a row): %s: %s; rows kept and retried, offsets not committed",
                        self._failures,
                        type(exc).__name__,
                        str(exc).splitlines()[0][:300] if str(exc) else "",
                        exc_info=self._failures == 1,
                    )
                    self.sink.restore(batch)
                    self.dead |= dead
                    return
                self.sink.rows_written += written
                if self._failures:
                    log.info("sink writes succeed again after %d failures", self._failures)
                    self._failures = 0
                log.info(
                    "sink flushed %d rows (%d checkpoints) in %.3f s; accepted %d events, dead letters %d",
                    written,
                    len(rows),
                    time.monotonic() - began,
                    self.pipeline.accepted_events,
                    self.pipeline.rejected,
                )
            self.pipeline.mark_checkpointed(rows)
            keep = []
            ack = app.consumer.ack
            covered_up_to = self.pipeline.checkpointed_offset
            for message in self.unacked:
                if (
                    message.offset <= covered_up_to(message.topic, message.partition)
                    or (message.topic, message.partition, message.offset) in dead
                ):
                    ack(message)
                else:
                    keep.append(message)
            self.unacked = keep


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background flush failed", exc_info=task.exception())


_edge: _Edge | None = None


def edge() -> _Edge:
    global _edge
    if _edge is None:
        _edge = _Edge()
        tune_for_streaming()  # after start-up: what is alive now is never rescanned
    return _edge


async def _on_batch(messages: list[Message]) -> None:
    """Decode, run the engines, dead-letter what cannot be counted, flush when due; acks follow the flush."""
    state = edge()
    assigned = app.consumer.assignment()
    # A partition revoked while its messages were in flight is another worker's now: its state was dropped
    # and lives on in the checkpoint, so none of its messages may rebuild it here.
    mine = [m for m in messages if m.tp in assigned]
    records = [
        Record(m.topic, m.partition, m.offset, m.key, m.value, int((m.timestamp or 0) * 1000)) for m in mine
    ]
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
    outcomes = state.pipeline.take_caller_contacts()
    if outcomes:
        # Delivered before these messages can be acked: a checkpoint never covers an unpublished outcome.
        futures = [
            await caller_contacts.send(value=value, partition=partition, force=True)
            for partition, value in encode_caller_contacts(outcomes, settings.topic_partitions).items()
        ]
        await asyncio.gather(*futures)
    state.dead.update((r.record.topic, r.record.partition, r.record.offset) for r in dead)
    state.unacked.extend(mine)
    await state.flush_when_due()


app.batch_handler = _on_batch
app.fetch_max_wait_ms = settings.consume_fetch_max_wait_ms
app.subscribe(contact_events, agent_events, vendor_reports, caller_contacts)


@app.timer(interval=max(0.1, settings.sink_max_age_s / 2))
async def flush_on_age() -> None:
    """The take loop only wakes when events arrive; this flushes the tail of a quiet stream."""
    if _edge is None:
        return
    _edge.pipeline.tick()
    if _edge.sink.due() or _edge.unacked:
        await _edge.flush_then_ack()


@app.on_partitions_revoked.connect
async def _forget_revoked(sender: Any, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any) -> None:
    """A rebalance took partitions away: their state lives on in the last checkpoint, not in this worker.

    Faust sends the revoked set as the first positional argument after the app."""
    revoked = args[0] if args else kwargs.get("revoked", set())
    if _edge is not None:
        for tp in revoked:
            _edge.pipeline.forget(tp.topic, tp.partition)


@app.on_before_shutdown.connect
async def _final_checkpoint(sender: Any, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any) -> None:
    """A clean stop writes what is buffered and a last checkpoint, so the next start replays nothing."""
    if _edge is not None:
        try:
            await asyncio.wait_for(_edge.flush_then_ack(force_checkpoint=True), timeout=10)
        except Exception:
            log.exception("final checkpoint failed; the next start re-reads from the last one")
