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
from streams.edge.records import decode_caller_contacts
from streams.edge.settings import EdgeSettings
from streams.engine.config import EngineConfig
from streams.engine.overflow import CallerContact
from streams.engine.partition import AgentPartition
from streams.engine.partition import CallerPartition
from streams.engine.partition import ContactPartition
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

log = logging.getLogger(__name__)
Kind = Literal["contact", "agent", "vendor", "caller"]
LOOPBACK = "(in-process caller contacts)"
_FAMILY: dict[Kind, tuple[str, ...]] = {
    "contact": ("contact.",),
    "agent": ("agent.", "schedule."),
    "vendor": ("vendor.",),
    "caller": (),
}


def build_pipeline(
    settings: EdgeSettings,
    config: EngineConfig,
    writer: Writer,
    topics: dict[str, Kind],
    *,
    clock: Clock | None = None,
    loopback_callers: bool = True,
    keep_raw: bool = True,
) -> EnginePipeline:
    """The one way a pipeline is put together, for the worker, the embedded demo, the what-if and the
    benchmarks: the engines of `config`, over a sink of the settings' sizes that writes through `writer`."""
    clock = clock or SystemClock()
    sink = BatchSink(writer, settings.sink_max_rows, settings.sink_max_age_s, clock)
    return EnginePipeline(sink, config, topics, clock, loopback_callers=loopback_callers, keep_raw=keep_raw)


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
        loopback_callers: bool = True,
        keep_raw: bool = True,
    ) -> None:
        """`loopback_callers`: without a caller-keyed topic (the embedded demo, tests), customer-call outcomes go
        straight to one in-process repeat engine; the Faust edge turns it off and publishes them instead."""
        self.sink = sink
        self.config = config
        self.topics = topics
        self.clock = clock or SystemClock()
        self.idle_after_s = idle_after_s
        self.load_checkpoint = load_checkpoint
        self.engines: dict[tuple[Kind, int], ContactPartition | AgentPartition | CallerPartition] = {}
        self.loopback_callers = loopback_callers
        self.keep_raw = keep_raw
        self.caller_contacts: list[CallerContact] = []
        self._loopback_offset = -1
        self._topic_of: dict[tuple[Kind, int], str] = {}
        self._checkpointed: dict[tuple[str, int], int] = {}
        self._out_now: dict[int, set[tuple[str, str]]] = {}
        self._last_seen: dict[tuple[Kind, int], float] = {}
        self.accepted = 0  # every record counted, including the internal caller contacts
        self.accepted_events = 0  # canonical events from the input topics only
        self.rejected = 0
        self.duplicates = 0

    def _engine(
        self, kind: Kind, topic: str, partition: int
    ) -> ContactPartition | AgentPartition | CallerPartition:
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

    def _start(
        self, kind: Kind, topic: str, partition: int, snapshot: dict[str, Any] | None
    ) -> ContactPartition | AgentPartition | CallerPartition:
        factory: type[ContactPartition | AgentPartition | CallerPartition] = {
            "agent": AgentPartition,
            "caller": CallerPartition,
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
            if kind == "caller":
                try:
                    contacts = decode_caller_contacts(record.value)
                    groups[(kind, record.partition)].extend((record.offset, c) for c in contacts)
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
            output = engine.process(batch)
            self.duplicates += output.duplicates
            duplicates.update((topic, partition, offset) for offset in output.duplicate_offsets)
            for rejected in output.rejected:
                dead.append(DeadLetter(by_offset[(kind, partition, rejected.offset)], rejected.reason))
            if isinstance(engine, ContactPartition):
                self._route_callers(engine.drain_caller_contacts())
            self._drain(engine)
            # Counted anew: neither refused nor re-read after a restart (already in the restored state).
            counted = len(batch) - len(output.rejected) - output.replayed
            replayed += output.replayed
            self.accepted += counted
            if kind != "caller":
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
        if not self.loopback_callers:
            self.caller_contacts.extend(contacts)  # the edge publishes them to the caller-keyed topic
            return
        engine = self._engine("caller", LOOPBACK, 0)
        assert isinstance(engine, CallerPartition)
        numbered = []
        for contact in contacts:
            self._loopback_offset += 1
            numbered.append((self._loopback_offset, contact))
        engine.process(numbered)
        self._drain(engine)

    def take_caller_contacts(self) -> list[CallerContact]:
        out, self.caller_contacts = self.caller_contacts, []
        return out

    def _drain(self, engine: ContactPartition | AgentPartition | CallerPartition) -> None:
        for table, rows in engine.drain().items():
            if rows:
                self.sink.add(TABLES[table], rows)

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
                self._drain(engine)
            if isinstance(engine, AgentPartition):
                self._live(engine, engine.max_ts_ms + int(quiet_s * 1000))

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
