"""Turns consumed records into engine input and engine rows into sink rows, one engine set per topic partition.

Synchronous and transport-free: the Faust agents, the embedded demo and the tests all call `process`. The only
clock it reads is the injected one, to close the intervals of a partition that has gone quiet.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Literal

from streams.clock import Clock
from streams.clock import SystemClock
from streams.edge.records import DeadLetter
from streams.edge.records import Record
from streams.edge.records import decode_alert_inputs
from streams.edge.records import decode_caller_contacts
from streams.edge.settings import EdgeSettings
from streams.engine.alerts import AlertInput
from streams.engine.alerts import AlertRow
from streams.engine.alerts import alert_inputs
from streams.engine.config import EngineConfig
from streams.engine.overflow import CallerContact
from streams.engine.partition import AgentPartition
from streams.engine.partition import AlertPartition
from streams.engine.partition import CallerPartition
from streams.engine.partition import ContactPartition
from streams.engine.timebase import NEVER
from streams.engine.timebase import from_ms
from streams.events import EventDecodeError
from streams.events import decode_event
from streams.warehouse.checkpoints import encode
from streams.warehouse.sink import BatchSink
from streams.warehouse.sink import Writer
from streams.warehouse.tables import DEAD_LETTER
from streams.warehouse.tables import TABLES
from streams.warehouse.tables import CheckpointRow
from streams.warehouse.tables import LiveRow
from streams.warehouse.tables import QueueLiveRow

log = logging.getLogger(__name__)
Kind = Literal["contact", "agent", "vendor", "caller", "alerts"]
LOOPBACK = "(in-process caller contacts)"
LOOPBACK_ALERTS = "(in-process alert inputs)"
_FAMILY: dict[Kind, tuple[str, ...]] = {
    "contact": ("contact.",),
    "agent": ("agent.", "schedule."),
    "vendor": ("vendor.",),
    "caller": (),
    "alerts": (),
}
AnyPartition = ContactPartition | AgentPartition | CallerPartition | AlertPartition


def build_pipeline(
    settings: EdgeSettings,
    config: EngineConfig,
    writer: Writer,
    topics: dict[str, Kind],
    *,
    clock: Clock | None = None,
    loopback: bool = True,
    keep_raw: bool = True,
) -> EnginePipeline:
    """The one way a pipeline is put together, for the worker, the embedded demo, the what-if and the
    benchmarks: the engines of `config`, over a sink of the settings' sizes that writes through `writer`."""
    clock = clock or SystemClock()
    sink = BatchSink(writer, settings.sink_max_rows, settings.sink_max_age_s, clock)
    return EnginePipeline(
        sink, config, topics, clock, loopback=loopback, keep_raw=keep_raw,
        partitions=1 if loopback else settings.topic_partitions,
    )  # fmt: skip


class EnginePipeline:
    """`topics` maps topic name -> kind. A partition that sends nothing for `idle_after_s` of processing time has
    its watermark moved on by the time that passed, so its last intervals still close (faust issue 250)."""

    def __init__(
        self,
        sink: BatchSink,
        config: EngineConfig,
        topics: dict[str, Kind],
        clock: Clock | None = None,
        idle_after_s: float = 5.0,
        load_checkpoint: Callable[[str, int], dict[str, Any] | None] | None = None,
        loopback: bool = True,
        keep_raw: bool = True,
        partitions: int = 1,
    ) -> None:
        """`loopback`: without the internal topics (the embedded demo, tests), customer-call outcomes go
        straight to one in-process repeat engine and alert inputs to one in-process alert stage; the Faust edge
        turns it off and publishes them instead (re-keyed by caller, and by tenant)."""
        self.sink = sink
        self.config = config
        self.topics = topics
        self.clock = clock or SystemClock()
        self.idle_after_s = idle_after_s
        self.load_checkpoint = load_checkpoint
        self.engines: dict[tuple[Kind, int], AnyPartition] = {}
        self.loopback = loopback
        self.keep_raw = keep_raw
        self.partitions = partitions  # of the contact topic: the alert stage waits for each of them
        self.caller_contacts: list[CallerContact] = []
        self.alert_inputs: list[AlertInput] = []  # to publish to the tenant-keyed alert-input topic
        self.alerts: list[AlertRow] = []  # transitions to publish to the alerts topic
        self._loopback_offset = -1
        self._loopback_alerts_offset = -1
        self._sent_marks: dict[tuple[Kind, int], dict[str, int]] = {}
        self._topic_of: dict[tuple[Kind, int], str] = {}
        self._checkpointed: dict[tuple[str, int], int] = {}
        self._out_now: dict[int, set[tuple[str, str]]] = {}
        self._waiting: dict[
            int, set[tuple[str, str]]
        ] = {}  # per contact partition: sources with legs waiting
        self._last_seen: dict[tuple[Kind, int], float] = {}
        self.accepted = 0  # every record counted, including the internal caller contacts
        self.accepted_events = 0  # canonical events from the input topics only
        self.rejected = 0
        self.duplicates = 0

    def _engine(self, kind: Kind, topic: str, partition: int) -> AnyPartition:
        """The partition's engines; the first time the partition is seen, restored from its last checkpoint."""
        engine = self.engines.get((kind, partition))
        if engine is None:
            snapshot = self.load_checkpoint(topic, partition) if self.load_checkpoint else None
            engine = self._start(kind, topic, partition, snapshot)
        return engine

    def unstarted(self, records: Sequence[Record]) -> list[tuple[str, int]]:
        """The input partitions of `records` whose engines are not built yet (see `start`)."""
        wanted = {(r.topic, r.partition) for r in records if r.topic in self.topics}
        return sorted((t, p) for t, p in wanted if (self.topics[t], p) not in self.engines)

    def start(self, topic: str, partition: int, snapshot: dict[str, Any] | None) -> None:
        """Build an input partition's engines, from its checkpoint when it has one: the Faust edge loads
        checkpoints itself, off the event loop, before the partition's first batch."""
        self._start(self.topics[topic], topic, partition, snapshot)

    def _start(self, kind: Kind, topic: str, partition: int, snapshot: dict[str, Any] | None) -> AnyPartition:
        factory: type[AnyPartition] = {
            "agent": AgentPartition,
            "caller": CallerPartition,
            "alerts": AlertPartition,
        }.get(kind, ContactPartition)  # type: ignore[assignment]
        if snapshot is not None:
            engine = factory.restore(snapshot, self.config)
            self._checkpointed[(topic, partition)] = engine.last_offset
            log.info("restored %s[%d] from its checkpoint at offset %d", topic, partition, engine.last_offset)
        else:
            engine = factory(partition, self.config)
        self.engines[(kind, partition)] = engine
        self._topic_of[(kind, partition)] = topic
        return engine

    def forget(self, topic: str, partition: int) -> None:
        """The partition moved to another worker (rebalance): drop its state; it lives on in the checkpoint."""
        kind = self.topics.get(topic)
        if kind is not None:
            self.engines.pop((kind, partition), None)
            self._checkpointed.pop((topic, partition), None)

    def checkpoint(self, app_id: str) -> list[CheckpointRow]:
        """Snapshots of every partition that moved since its last checkpoint, to be written after its rows."""
        rows = []
        for (kind, partition), engine in self.engines.items():
            topic = self._topic_of[(kind, partition)]
            if engine.last_offset > self._checkpointed.get((topic, partition), -1):
                rows.append(
                    CheckpointRow(
                        app_id,
                        topic,
                        partition,
                        engine.last_offset,
                        encode(engine.snapshot()),
                        engine.last_offset,
                    )
                )
        return rows

    def mark_checkpointed(self, rows: list[CheckpointRow]) -> None:
        for row in rows:
            self._checkpointed[(row.topic, row.stream_partition)] = row.last_offset

    def checkpointed_offset(self, topic: str, partition: int) -> int:
        """Events at or below this offset are in a written checkpoint: their offsets may be committed."""
        return self._checkpointed.get((topic, partition), -1)

    def process(self, records: Sequence[Record]) -> list[DeadLetter]:
        """Decode, fold into the engines, buffer the changed rows; what cannot be counted comes back as dead letters."""
        groups: dict[tuple[Kind, int], list[tuple[int, Any]]] = defaultdict(list)
        by_offset: dict[tuple[Kind, int, int], Record] = {}
        dead: list[DeadLetter] = []
        raw: list[tuple[Any, ...]] = []
        max_lead_ms = self.config.max_lead_ms
        for record in records:
            kind = self.topics.get(record.topic)
            if kind is None:
                dead.append(DeadLetter(record, f"topic {record.topic!r} is not an input of this pipeline"))
                continue
            if record.value is None:
                dead.append(DeadLetter(record, "empty message value"))
                continue
            if kind in ("caller", "alerts"):
                try:
                    items = (decode_caller_contacts if kind == "caller" else decode_alert_inputs)(
                        record.value
                    )
                    groups[(kind, record.partition)].extend((record.offset, item) for item in items)
                    by_offset[(kind, record.partition, record.offset)] = record
                except ValueError as exc:
                    dead.append(DeadLetter(record, str(exc)))
                continue
            try:
                event = decode_event(record.value)
            except EventDecodeError as exc:
                dead.append(DeadLetter(record, exc.reason))
                continue
            if not event.type.startswith(_FAMILY[kind]):
                dead.append(DeadLetter(record, f"{event.type} does not belong on the {kind} topic"))
                continue
            # See EngineConfig.max_lead_hours; a record without a timestamp (0, or -1 from Kafka) is not judged.
            if record.timestamp_ms > 0 and event.ts.timestamp() * 1000 - record.timestamp_ms > max_lead_ms:
                lead = self.config.max_lead_hours
                reason = (
                    f"event time {event.ts.isoformat()} is more than {lead} h after the record was produced"
                )
                dead.append(DeadLetter(record, reason))
                continue
            groups[(kind, record.partition)].append((record.offset, event))
            by_offset[(kind, record.partition, record.offset)] = record
            raw.append(
                (event.ts, event.tenant, event.type, event.event_id, record.topic, record.partition, record.offset,
                 record.value)
            )  # fmt: skip
        now = self.clock.monotonic()
        counted_before: dict[tuple[str, int], int] = {}
        duplicates: set[tuple[str, int, int]] = set()
        replayed = 0
        for (kind, partition), batch in groups.items():
            self._last_seen[(kind, partition)] = now
            topic = by_offset[(kind, partition, batch[0][0])].topic
            engine = self._engine(kind, topic, partition)
            counted_before[(topic, partition)] = engine.last_offset
            # A contact partition's batch is cut where a tenant's watermark crosses an interval boundary
            # (`ContactPartition.segments`): what the alert stage is told an interval held when it became final
            # is then the same however the stream was batched (a restart batches it differently).
            segments: list[list[tuple[int, Any]]] = (
                engine.segments(batch) if isinstance(engine, ContactPartition | AgentPartition) else [batch]
            )
            for segment in segments:
                output = engine.process(segment)
                self.duplicates += output.duplicates
                duplicates.update((topic, partition, offset) for offset in output.duplicate_offsets)
                for rejected in output.rejected:
                    dead.append(DeadLetter(by_offset[(kind, partition, rejected.offset)], rejected.reason))
                if isinstance(engine, ContactPartition):
                    self._route_callers(engine.drain_caller_contacts())
                self._drain(kind, engine)
                # Counted anew: neither refused nor re-read after a restart (already in the restored state).
                counted = len(segment) - len(output.rejected) - output.replayed
                replayed += output.replayed
                self.accepted += counted
                if kind not in ("caller", "alerts"):
                    self.accepted_events += counted
        if raw and self.keep_raw:
            if dead or replayed or duplicates:
                raw = self._stored_anew(raw, dead, counted_before, duplicates)
            self.sink.add(TABLES["acd_events"], raw)
        if dead:
            self.sink.add(DEAD_LETTER, [letter.row() for letter in dead])
            self.rejected += len(dead)
        return dead

    @staticmethod
    def _stored_anew(
        raw: list[tuple[Any, ...]],
        dead: list[DeadLetter],
        counted_before: dict[tuple[str, int], int],
        duplicates: set[tuple[str, int, int]],
    ) -> list[tuple[Any, ...]]:
        """Not stored: an event the engines refused (older than the horizon: a dead letter, not accepted), one
        re-read after a restart at or below its partition's checkpoint, which was stored then if it was
        accepted then, and a duplicate (its id was counted, and stored, when first delivered: the table holds
        one row per event id, not one per delivery). Only batches with any of them pay for this."""
        refused = {(letter.record.topic, letter.record.partition, letter.record.offset) for letter in dead}
        refused |= duplicates
        return [
            row
            for row in raw
            if row[6] > counted_before.get((row[4], row[5]), -1) and (row[4], row[5], row[6]) not in refused
        ]

    def _route_callers(self, contacts: list[CallerContact]) -> None:
        if not contacts:
            return
        if not self.loopback:
            self.caller_contacts.extend(contacts)  # the edge publishes them to the caller-keyed topic
            return
        engine = self._engine("caller", LOOPBACK, 0)
        assert isinstance(engine, CallerPartition)
        numbered = []
        for contact in contacts:
            self._loopback_offset += 1
            numbered.append((self._loopback_offset, contact))
        engine.process(numbered)
        self._drain("caller", engine)

    def take_caller_contacts(self) -> list[CallerContact]:
        out, self.caller_contacts = self.caller_contacts, []
        return out

    def take_alert_inputs(self) -> list[AlertInput]:
        out, self.alert_inputs = self.alert_inputs, []
        return out

    def take_alerts(self) -> list[AlertRow]:
        out, self.alerts = self.alerts, []
        return out

    def _drain(self, kind: Kind, engine: AnyPartition) -> None:
        drained = engine.drain()
        for table, rows in drained.items():
            if rows:
                self.sink.add(TABLES[table], rows)
        if isinstance(engine, ContactPartition | AgentPartition):
            self._route_alert_inputs(kind, engine, drained)
        elif isinstance(engine, AlertPartition) and not self.loopback:
            self.alerts.extend(drained["alerts"])  # type: ignore[arg-type]

    def _route_alert_inputs(
        self, kind: Kind, engine: ContactPartition | AgentPartition, drained: dict[str, list[Any]]
    ) -> None:
        """The partition's drained rows, queue or adherence samples and the watermarks that moved, to the alert
        stage (`alert_inputs`). An agent partition tells only tenants with the severe-adherence rule."""
        sent = self._sent_marks.setdefault((kind, engine.partition), {})
        marks = engine.time.marks
        tenants = {
            row.tenant
            for table in ("quality_interval", "overflow_interval")
            for row in drained.get(table, ())
        }
        # The stage reads a watermark only against interval boundaries: a move within an interval (a quiet
        # partition's, every tick) tells it nothing, and is not sent.
        width = self.config.interval_ms
        moved = {
            t: mark
            for t, mark in marks.items()
            if t in tenants or sent.get(t, NEVER) // width != mark // width
        }
        if isinstance(engine, AgentPartition):
            moved = {t: mark for t, mark in moved.items() if self.config.tenant(t).alerts.severe_adherence}
        if not moved:
            return
        # Contacts and agents are keyed by their ids over every partition: the stage waits for each of them.
        upstream = f"{kind}:{engine.partition}" + (
            f"/{self.partitions}" if kind in ("contact", "agent") else ""
        )
        if isinstance(engine, ContactPartition):
            inputs = alert_inputs(upstream, drained, moved, self.config, engine.drain_queue_samples())
        else:
            inputs = alert_inputs(
                upstream, drained, moved, self.config, severe_samples=engine.drain_severe_samples()
            )
        sent.update(moved)
        if not inputs:
            return
        if not self.loopback:
            self.alert_inputs.extend(inputs)
            return
        stage = self._engine("alerts", LOOPBACK_ALERTS, 0)
        assert isinstance(stage, AlertPartition)
        self._loopback_alerts_offset += 1
        stage.process([(self._loopback_alerts_offset, item) for item in inputs])
        self._drain("alerts", stage)

    def tick(self) -> None:
        """Close the intervals of partitions that went quiet (their watermark moves with processing time), and
        refresh the live adherence board as of each agent partition's "now"."""
        now = self.clock.monotonic()
        for key, engine in self.engines.items():
            if engine.max_ts_ms <= -(2**61):
                continue
            quiet_s = now - self._last_seen.get(key, now)
            if quiet_s >= self.idle_after_s:
                engine.advance_idle(int(quiet_s * 1000))
                self._drain(key[0], engine)
            if isinstance(engine, AgentPartition):
                self._live(engine, engine.max_ts_ms + int(quiet_s * 1000))
            elif isinstance(engine, ContactPartition) and key[0] == "contact":
                self._queue_now(engine, engine.max_ts_ms + int(quiet_s * 1000))

    def _queue_now(self, engine: ContactPartition, now_ms: int) -> None:
        """A row per source with legs waiting in this partition now, a clearing row (0) for each source that had
        some at the last tick and has none now, and per tenant a row of no source saying as of when the queue
        is known (nobody waiting is a figure, 0, not the absence of one)."""
        now = engine.queue.now()
        as_of = from_ms(now_ms)
        rows = [
            QueueLiveRow(tenant, source, engine.partition, waiting, from_ms(oldest), as_of, now_ms)
            for (tenant, source), (waiting, oldest) in sorted(now.items())
        ]
        rows += [
            QueueLiveRow(tenant, "", engine.partition, 0, None, as_of, now_ms)
            for tenant in engine.time.latest
        ]
        for tenant, source in self._waiting.get(engine.partition, set()) - set(now):
            rows.append(QueueLiveRow(tenant, source, engine.partition, 0, None, as_of, now_ms))
        self._waiting[engine.partition] = set(now)  # contact partitions only: one per partition number
        if rows:
            self.sink.add(TABLES["queue_live"], rows)

    def _live(self, engine: AgentPartition, now_ms: int) -> None:
        """Lines for agents out of adherence now, and a clearing line for each agent that no longer is."""
        board = engine.adherence.live(now_ms)
        as_of = from_ms(now_ms)
        rows = [
            LiveRow(
                line.tenant, line.agent_id, line.source, line.team, 1, from_ms(line.since_ms), line.duration_ms,
                int(line.severe), line.activity, line.state, line.impact, as_of, now_ms,
            )
            for line in board
        ]  # fmt: skip
        out_now = {(line.tenant, line.agent_id) for line in board}
        for tenant, agent_id in self._out_now.get(engine.partition, set()) - out_now:
            rows.append(LiveRow(tenant, agent_id, "", "", 0, None, 0, 0, "", "", "", as_of, now_ms))
        self._out_now[engine.partition] = out_now
        if rows:
            self.sink.add(TABLES["adherence_live"], rows)
