"""The Faust application: `faust -A streams.edge.app worker`.

The worker's composition root: the only module of `streams` that reads settings (`EdgeSettings`, from the
environment), and it hands them to what it builds. The batch handler decodes and counts through the pipeline,
sends dead letters and caller outcomes, and hands the messages to the commit step, which alone acks them.
Messages arrive a fetched batch at a time (`streams.edge.batching`), not one by one through agents.

ClickHouse is waited for, never a reason to exit: the clients are built when the worker starts, off the event
loop and with backoff (`clickhouse-connect` queries the server when a client is built), and the first batch
waits for them; a SIGTERM meanwhile stops the worker at once. Its stop is bounded (`streams.edge.shutdown`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
import orjson
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import OperationalError
from faust.types import Message
from mode import BaseSignalT

from streams.clock import SystemClock
from streams.edge.batching import BatchApp
from streams.edge.commit import CommitStep
from streams.edge.commit import in_daemon_thread
from streams.edge.commit import retry_transient
from streams.edge.engine_config import load_engine_config
from streams.edge.gcpolicy import tune_for_streaming
from streams.edge.pipeline import EnginePipeline
from streams.edge.pipeline import Kind
from streams.edge.pipeline import build_pipeline
from streams.edge.records import Record
from streams.edge.records import encode_alert_inputs
from streams.edge.records import encode_caller_contacts
from streams.edge.settings import EdgeSettings
from streams.edge.shutdown import bounded
from streams.engine.alerts import alert_row_json
from streams.warehouse import checkpoints
from streams.warehouse.client import connect
from streams.warehouse.client import describe
from streams.warehouse.sink import clickhouse_writer

log = logging.getLogger(__name__)
settings = EdgeSettings()

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


INPUTS: dict[str, Kind] = {
    settings.topic_contact_events: "contact",
    settings.topic_agent_events: "agent",
    settings.topic_vendor_reports: "vendor",
    settings.topic_caller_contacts: "caller",
    settings.topic_alert_inputs: "alerts",
}
topics = {name: _input_topic(name) for name in INPUTS}
caller_contacts = topics[settings.topic_caller_contacts]
alert_inputs = topics[settings.topic_alert_inputs]
alerts = app.topic(
    settings.topic_alerts, key_serializer="raw", value_serializer="raw", partitions=settings.topic_partitions
)
dead_letters = app.topic(
    settings.topic_dead_letter, key_serializer="raw", value_serializer="raw", partitions=1
)


class _Worker:
    """Built in the worker (`start_worker`), so importing the app (e.g. `faust --help`) needs no ClickHouse."""

    def __init__(self, writer: Client, reader: Client) -> None:
        """Two clients: the sink's writes run in a worker thread, checkpoint reads in another."""
        self.pipeline: EnginePipeline = build_pipeline(
            settings,
            load_engine_config(settings.engine_config, settings.tenant_paths()),
            clickhouse_writer(writer),
            INPUTS,
            loopback=False,
        )
        self.commit: CommitStep[Message] = CommitStep(
            self.pipeline,
            app.consumer.ack,
            SystemClock(),
            app_id=settings.faust_app_id,
            checkpoint_interval_s=settings.checkpoint_interval_s,
            max_buffered_rows=4 * settings.sink_max_rows,
            read_checkpoint=lambda topic, partition: checkpoints.load(
                reader, settings.faust_app_id, topic, partition
            ),
            transient=TRANSIENT,
        )


# What an unreachable (or restarting) ClickHouse raises through clickhouse-connect: waited out, never fatal.
TRANSIENT = (OperationalError,)
_worker: _Worker | None = None
_starting: asyncio.Task[_Worker] | None = None


async def _connect_when_reachable() -> Client:
    return await retry_transient(
        lambda: in_daemon_thread(lambda: connect(settings.clickhouse_dsn), name="clickhouse-connect"),
        SystemClock(),
        TRANSIENT,
        f"ClickHouse at {describe(settings.clickhouse_dsn)} to answer (the worker consumes nothing until then)",
    )


async def _build_worker() -> _Worker:
    global _worker
    # Output topics are created here if missing (brokers commonly refuse to create topics on first send); input
    # topics are declared by Faust as it subscribes.
    for topic in (alerts, dead_letters):
        await topic.maybe_declare()
    writer = await _connect_when_reachable()
    reader = await _connect_when_reachable()
    _worker = _Worker(writer, reader)
    tune_for_streaming()  # after start-up: what is alive now is never rescanned
    log.info("ClickHouse at %s answers: consuming", describe(settings.clickhouse_dsn))
    return _worker


def start_worker() -> asyncio.Task[_Worker]:
    """Build the worker's ClickHouse side once, in the background: started with the app, awaited by the
    first batch."""
    global _starting
    if _starting is None:
        _starting = asyncio.ensure_future(_build_worker())
    return _starting


async def worker() -> _Worker:
    if _worker is not None:
        return _worker
    # Shielded: a stop cancels the batch waiting here, and the build task is the app's to cancel.
    return await asyncio.shield(start_worker())


@app.task
async def _start_clickhouse() -> None:
    """Connect as soon as the worker starts, not at the first event: a quiet stream still says what it waits
    for; and a fault other than an unreachable server (a wrong database, a refused password) shows at once."""
    await start_worker()


async def _on_batch(messages: list[Message]) -> None:
    """Count a fetched batch, send its dead letters and caller outcomes, and hand it to the commit step."""
    state = await worker()
    assigned = app.consumer.assignment()
    # A partition revoked while its messages were in flight is another worker's now: its state was dropped
    # and lives on in the checkpoint, so none of its messages may rebuild it here.
    mine = [m for m in messages if m.tp in assigned]
    records = [
        Record(m.topic, m.partition, m.offset, m.key, m.value, int((m.timestamp or 0) * 1000)) for m in mine
    ]
    await state.commit.prepare(records)
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
    await _publish_alerts(state.pipeline)
    state.commit.submit(mine, ((r.record.topic, r.record.partition, r.record.offset) for r in dead))
    await state.commit.poll()


_background: set[asyncio.Future[None]] = set()


async def _publish_alerts(pipeline: EnginePipeline) -> None:
    """The alert stage's inputs (re-keyed by tenant) and its transitions (keyed by alert id), delivered before
    the messages that made them can be acked, as the caller outcomes are. A transition re-derived after a
    restart is the same message again: the webhook delivery skips an idempotency key it has delivered."""
    inputs = pipeline.take_alert_inputs()
    futures = [
        await alert_inputs.send(value=value, partition=partition, force=True)
        for partition, value in encode_alert_inputs(inputs, settings.topic_partitions).items()
    ]
    for row in pipeline.take_alerts():
        log.warning("alert %s: %s (%s)", row.transition, row.message, row.tenant)
        futures.append(
            await alerts.send(key=row.alert_id.encode(), value=orjson.dumps(alert_row_json(row)), force=True)
        )
    if futures:
        await asyncio.gather(*futures)


app.batch_handler = _on_batch
app.fetch_max_wait_ms = settings.consume_fetch_max_wait_ms
app.subscribe(*topics.values())


@app.timer(interval=max(0.1, settings.sink_max_age_s / 2))
async def flush_on_age() -> None:
    """The batch handler only runs when events arrive; this closes quiet partitions' intervals and flushes the
    tail of a quiet stream."""
    if _worker is None:
        return
    _worker.pipeline.tick()
    if _worker.pipeline.alert_inputs or _worker.pipeline.alerts:
        # What a quiet partition's moving watermark tells the alert stage is tied to no input offset (a restart
        # moves it again), so it is sent in the background: the timer never waits on a broker that is gone,
        # and a stop never waits on the timer.
        task = asyncio.ensure_future(_publish_alerts(_worker.pipeline))
        _background.add(task)
        task.add_done_callback(_background.discard)
    if _worker.commit.due():
        await _worker.commit.flush()


@app.on_partitions_revoked.connect
async def _forget_revoked(sender: Any, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any) -> None:
    """A rebalance took partitions away: their state lives on in the last checkpoint, not in this worker.

    Faust sends the revoked set as the first positional argument after the app."""
    revoked = args[0] if args else kwargs.get("revoked", set())
    if _worker is not None:
        for tp in revoked:
            _worker.pipeline.forget(tp.topic, tp.partition)


@app.on_before_shutdown.connect
async def _final_checkpoint(sender: Any, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any) -> None:
    """A clean stop writes what is buffered and a last checkpoint, so the next start replays nothing."""
    if _worker is not None and not await bounded("final checkpoint", _worker.commit.close()):
        log.warning("no final checkpoint; the next start re-reads from the last one")
