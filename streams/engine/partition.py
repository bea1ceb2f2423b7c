"""Everything one stream partition's events go through: the gate (offsets already counted, the correction
horizon, de-duplication), the partition's `Timeline`, and the metric engines of that topic.

Pure: the edge hands in (offset, event) batches and takes out rows per table and rejected events; time
comes only from the events (and from `advance_idle`, which the edge calls with a quiet time of its own).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Generic
from typing import Protocol
from typing import Self
from typing import TypeVar

from streams.engine import format1
from streams.engine.adherence import AdherenceConfig
from streams.engine.adherence import AdherenceEngine
from streams.engine.alerts import AlertEngine
from streams.engine.alerts import AlertInput
from streams.engine.alerts import SevereSample
from streams.engine.config import EngineConfig
from streams.engine.dedup import FREEZE_AFTER_MS
from streams.engine.dedup import Deduplicator
from streams.engine.intervals import Move
from streams.engine.intervals import Timeline
from streams.engine.overflow import CallerContact
from streams.engine.overflow import OverflowEngine
from streams.engine.quality import QualityEngine
from streams.engine.queue import QueueSample
from streams.engine.queue import QueueTracker
from streams.engine.repeats import RepeatEngine
from streams.engine.timebase import EPOCH
from streams.engine.timebase import MS
from streams.engine.timebase import NEVER
from streams.engine.volume import VolumeCounter
from streams.events import Event

# How many leading columns of each table's rows form its key (the grain a newer version replaces).
KEY_LENGTH = {
    "quality_interval": 7,
    "overflow_interval": 6,
    "overflow_target_interval": 7,
    "adherence_interval": 6,
    "contact_volume_interval": 4,
}

In = TypeVar("In", contravariant=True)
Item = TypeVar("Item")


class Engine(Protocol[In]):
    """What every metric engine is: (offset, input) pairs in, state in tables of the partition's timeline,
    changed rows out, and a snapshot a new engine can `load`."""

    def apply(self, events: Iterable[tuple[int, In]]) -> None: ...

    def snapshot(self) -> Any: ...

    def load(self, snapshot: Any) -> None: ...


@dataclass(frozen=True)
class Rejected:
    """An event the engine cannot count; the edge sends it to the dead letters with `reason`."""

    offset: int
    event: Event
    reason: str


@dataclass
class EngineOutput:
    """What a batch came to besides rows (those are drained): refused events, duplicates, re-read offsets."""

    rejected: list[Rejected] = field(default_factory=list)
    # Events whose id was already counted: not counted again, and not stored again in the raw events table.
    duplicate_offsets: list[int] = field(default_factory=list)
    replayed: int = 0  # re-delivered after a restart, already in the restored state

    @property
    def duplicates(self) -> int:
        return len(self.duplicate_offsets)


class _Partition(Generic[Item]):
    """One stream partition: its gate, its timeline and its engines (`engines`, by snapshot name).

    After a restore, offsets at or below `last_offset` were counted before the checkpoint and are skipped."""

    engines: dict[str, Engine[Item]]

    def __init__(self, partition: int, config: EngineConfig) -> None:
        self.partition = partition
        self.config = config
        self.time = Timeline.of(config)
        # The last offset folded in: after a restore, anything at or below it was already counted.
        self.last_offset = -1

    @property
    def max_ts_ms(self) -> int:
        return self.time.latest_any

    def process(self, batch: Iterable[tuple[int, Item]]) -> EngineOutput:
        out = EngineOutput()
        admitted, tenants = self._admit(batch, out)
        for engine in self.engines.values():
            engine.apply(admitted)
        for tenant in tenants:
            self._moved(self.time.advance(tenant, self.time.watermark(tenant)))
        return out

    def advance_idle(self, quiet_ms: int) -> None:
        """Move every tenant's time on by `quiet_ms` without events (a quiet partition), so intervals close."""
        for move in self.time.idle(quiet_ms):
            self._moved(move)

    def _admit(
        self, batch: Iterable[tuple[int, Item]], out: EngineOutput
    ) -> tuple[list[tuple[int, Item]], set[str]]:
        raise NotImplementedError

    def _admit_whole(
        self, batch: Iterable[tuple[int, Item]], out: EngineOutput, time_of: Callable[[Item], tuple[str, int]]
    ) -> tuple[list[tuple[int, Item]], set[str]]:
        """The gate of an internal topic, whose message holds several items under one offset and is always
        processed whole: what was counted before a restore is the messages at or below the restored offset.
        `time_of` gives an item's tenant and event time (ms), which moves the tenant's time on."""
        counted_up_to = self.last_offset
        latest = self.time.latest
        admitted = []
        tenants = set()
        for offset, item in batch:
            if offset <= counted_up_to:
                out.replayed += 1
                continue
            if offset > self.last_offset:
                self.last_offset = offset
            tenant, ms = time_of(item)
            if ms > latest.get(tenant, NEVER):
                latest[tenant] = ms
            tenants.add(tenant)
            admitted.append((offset, item))
        return admitted, tenants

    def _moved(self, move: Move) -> None:
        """What an engine does beyond its tables when a tenant's watermark moves (the timeline closes those)."""

    def snapshot(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "last_offset": self.last_offset,
            "time": self.time.snapshot(),
            **{name: engine.snapshot() for name, engine in self.engines.items()},
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any], config: EngineConfig) -> Self:
        """`restore` of a `snapshot`, then the same input, gives the same rows as never stopping."""
        partition = cls(snapshot["partition"], config)
        partition._load(snapshot)
        return partition

    def _load(self, snapshot: dict[str, Any]) -> None:
        if format1.is_format1(snapshot):
            snapshot = format1.upgrade(snapshot)
        self.last_offset = snapshot["last_offset"]
        self.time.restore(snapshot["time"])
        for name, engine in self.engines.items():
            if name in snapshot:  # an engine added later starts empty from an older checkpoint
                engine.load(snapshot[name])

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        raise NotImplementedError


class _EventPartition(_Partition[Event]):
    """A partition of canonical events: de-duplication and the correction horizon per tenant.

    Ids are remembered for as long as an event of their time is accepted (`retention_hours` behind the
    watermark), so an accepted event is counted once however late it is re-sent. The one exception comes from
    a checkpoint written before that (ids were kept for `dedup_hours`, 6 by default): for its tenants, an event
    older than the oldest hour of ids it kept cannot be checked, and is refused with that reason until the
    horizon has passed that hour (at most `retention_hours` after the upgrade).
    """

    def __init__(self, partition: int, config: EngineConfig) -> None:
        super().__init__(partition, config)
        self.dedup = Deduplicator()
        # tenant -> event time before which its ids may have been forgotten (see the class docstring).
        self.unchecked_before: dict[str, int] = {}

    def _admit(
        self, batch: Iterable[tuple[int, Event]], out: EngineOutput
    ) -> tuple[list[tuple[int, Event]], set[str]]:
        """The per-event gate of every engine: the hottest loop of the worker, so config and lookups are local."""
        admitted: list[tuple[int, Event]] = []
        append = admitted.append
        tenants: set[str] = set()
        first_time = self.dedup.first_time
        duplicate = out.duplicate_offsets.append
        latest = self.time.latest
        oldest_ok = self.config.lateness_ms + self.config.retention_ms
        unchecked = self.unchecked_before
        last_offset = self.last_offset
        for offset, event in batch:
            if offset <= last_offset:
                out.replayed += 1
                continue
            last_offset = offset
            ts_ms = (event.ts - EPOCH) // MS
            tenant_latest = latest.get(event.tenant, NEVER)
            if ts_ms < tenant_latest - oldest_ok:
                reason = f"event time older than the {self.config.retention_hours} h correction horizon"
                out.rejected.append(Rejected(offset, event, reason))
                continue
            if unchecked and ts_ms < unchecked.get(event.tenant, NEVER):
                out.rejected.append(Rejected(offset, event, self._unchecked_reason(event.tenant)))
                continue
            if not first_time(event.event_id.int, ts_ms):
                duplicate(offset)
                continue
            if ts_ms > tenant_latest:
                latest[event.tenant] = ts_ms
            tenants.add(event.tenant)
            append((offset, event))
        self.last_offset = last_offset
        return admitted, tenants

    def segments(self, batch: list[tuple[int, Event]]) -> list[list[tuple[int, Event]]]:
        """`batch` cut after each event that moves its tenant's watermark across an interval boundary, so an
        interval's final rows (and the queue and the adherence board read at the crossing) hold exactly the
        events up to that one, whatever the batching. Only where a tenant has alert rules (the alert stage
        judges what is read there); a cut where nothing crosses is harmless.

        Events may be refused or skipped by `_admit`; they are looked at here as if counted, which can only
        cut more often."""
        config = self.config
        if not any(config.tenant(t).alerts.any for t in {event.tenant for _, event in batch}):
            return [batch]
        width, lateness = config.interval_ms, config.lateness_ms
        latest = dict(self.time.latest)
        marks = dict(self.time.marks)
        cuts: list[list[tuple[int, Event]]] = []
        start = 0
        for i, (offset, event) in enumerate(batch):
            if offset <= self.last_offset:
                continue
            tenant = event.tenant
            ts_ms = (event.ts - EPOCH) // MS
            if ts_ms <= latest.get(tenant, NEVER):
                continue
            latest[tenant] = ts_ms
            mark = marks.get(tenant, NEVER)
            watermark = max(mark, ts_ms - lateness)
            marks[tenant] = watermark
            if watermark // width != mark // width:
                cuts.append(batch[start : i + 1])
                start = i + 1
        if start < len(batch):
            cuts.append(batch[start:])
        return cuts

    def _unchecked_reason(self, tenant: str) -> str:
        since = (EPOCH + self.unchecked_before[tenant] * MS).isoformat()
        return (
            f"event time before {since}, the oldest whose ids this partition remembers (restored from a "
            "checkpoint that kept fewer hours of ids than the correction horizon): a duplicate could not be "
            "recognised"
        )

    def process(self, batch: Iterable[tuple[int, Event]]) -> EngineOutput:
        out = super().process(batch)
        self._settle()
        return out

    def _settle(self) -> None:
        """Ids are forgotten behind the acceptance horizon of the tenant furthest behind, never sooner."""
        self.dedup.settle(self.time.lowest_watermark(), self.config.retention_ms)
        if self.unchecked_before:
            retention_ms = self.config.retention_ms
            self.unchecked_before = {
                tenant: since
                for tenant, since in self.unchecked_before.items()
                if self.time.watermark(tenant) - retention_ms < since
            }

    def snapshot(self) -> dict[str, Any]:
        return {
            **super().snapshot(),
            "dedup": self.dedup.snapshot(),
            "dedup_unchecked": self.unchecked_before,
        }

    def _load(self, snapshot: dict[str, Any]) -> None:
        super()._load(snapshot)
        lowest = self.time.lowest_watermark()
        self.dedup = Deduplicator.restore(snapshot["dedup"], freeze_before_ms=lowest - FREEZE_AFTER_MS)
        if "dedup_unchecked" in snapshot:
            self.unchecked_before = dict(snapshot["dedup_unchecked"])
        else:
            # Written when ids were remembered for fewer hours than events were accepted: what is older than
            # the oldest hour it kept may have been forgotten (or never seen; it cannot tell which).
            oldest = self.dedup.oldest_hour()
            if oldest is not None:
                self.unchecked_before = dict.fromkeys(self.time.latest, oldest)
        self._settle()


class ContactPartition(_EventPartition):
    """Contact events and vendor reports of one partition: quality, overflow and the contact volume.

    The volume counter lives here, behind the same gate and in the same checkpoint as the other engines:
    counted at the edge, it counted duplicates and refused events, and started from zero after a restart."""

    def __init__(self, partition: int, config: EngineConfig) -> None:
        super().__init__(partition, config)
        self.quality = QualityEngine(partition, config, self.time)
        self.overflow = OverflowEngine(partition, config, self.time)
        self.volume = VolumeCounter(partition, config.interval_minutes, self.time, config.contact_state_ms)
        # Legs that left are remembered for the lateness and two intervals: `at` a boundary the watermark crosses.
        self.queue = QueueTracker(config.contact_state_ms, config.lateness_ms + 2 * config.interval_ms)
        self.engines = {
            "quality": self.quality,
            "overflow": self.overflow,
            "volume": self.volume,
            "queue": self.queue,
        }
        self._queue_samples: list[QueueSample] = []

    def _moved(self, move: Move) -> None:
        """At each interval boundary the tenant's watermark crosses, the queue as it was there, for the alert
        stage's oldest-wait rule (the batch was cut at the crossing event, so this is the same however it was
        batched); the last 8 boundaries of a jump at most."""
        width = self.config.interval_ms
        if not move.crossed(width):
            return
        self.queue.settle(self.time.lowest_watermark())
        if self.config.tenant(move.tenant).alerts.oldest_wait is None:
            return
        last = move.watermark // width * width
        first = max(last - 7 * width, (move.previous // width + 1) * width)
        for boundary in range(first, last + 1, width):
            self._queue_samples.extend(self.queue.at(move.tenant, boundary))

    def drain_queue_samples(self) -> list[QueueSample]:
        out, self._queue_samples = self._queue_samples, []
        return out

    def drain_caller_contacts(self) -> list[CallerContact]:
        return self.overflow.drain_caller_contacts()

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        overflow, targets = self.overflow.drain_rows()
        return {
            "quality_interval": list(self.quality.drain_rows()),
            "overflow_interval": list(overflow),
            "overflow_target_interval": list(targets),
            "contact_volume_interval": list(self.volume.drain_rows()),
        }


class AgentPartition(_EventPartition):
    """Agent state and schedule events of one partition: adherence and conformance, and the live board."""

    def __init__(self, partition: int, config: EngineConfig) -> None:
        super().__init__(partition, config)
        self.adherence = AdherenceEngine(
            partition,
            AdherenceConfig(
                interval_minutes=config.interval_minutes,
                grace_s=config.adherence_grace_s,
                severe_s=config.adherence_severe_s,
                out_of_shift_is_exception=config.out_of_shift_is_exception,
                # Rows older than the correction horizon can no longer be corrected: none are made for them.
                max_account_back_hours=config.retention_hours + 1,
            ),
            self.time,
        )
        self.engines = {"adherence": self.adherence}
        self._severe_samples: list[SevereSample] = []

    def _moved(self, move: Move) -> None:
        # Every agent's current state is accounted up to the watermark, so an agent who sends nothing (a
        # two-hour break) still fills its intervals.
        self.adherence.advance(move.watermark, move.tenant)
        width = self.config.interval_ms
        if move.crossed(width) and self.config.tenant(move.tenant).alerts.severe_adherence is not None:
            # The board as of the watermark, where the batch was cut: agents severely out per source, for the
            # interval that ends at the last boundary crossed.
            severe: dict[str, int] = {}
            for line in self.adherence.live(move.watermark):
                if line.tenant == move.tenant and line.severe:
                    severe[line.source] = severe.get(line.source, 0) + 1
            start = move.watermark // width * width - width
            self._severe_samples.extend(
                SevereSample(move.tenant, source, start, n) for source, n in sorted(severe.items())
            )

    def drain_severe_samples(self) -> list[SevereSample]:
        out, self._severe_samples = self._severe_samples, []
        return out

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        return {"adherence_interval": list(self.adherence.drain_rows())}


class CallerPartition(_Partition[CallerContact]):
    """Customer-call outcomes of one partition of the caller-keyed topic: repeat contacts.

    Offsets are skipped after a restore as in the other partitions; a call published twice (the contact
    partition re-read after a crash) is recognised by its `initial_contact_id`.
    """

    def __init__(self, partition: int, config: EngineConfig) -> None:
        super().__init__(partition, config)
        self.repeats = RepeatEngine(partition, config, self.time)
        self.engines = {"repeats": self.repeats}

    def _admit(
        self, batch: Iterable[tuple[int, CallerContact]], out: EngineOutput
    ) -> tuple[list[tuple[int, CallerContact]], set[str]]:
        return self._admit_whole(batch, out, lambda contact: (contact.tenant, contact.arrived_ms))

    def _moved(self, move: Move) -> None:
        self.repeats.expire(move)

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        return {"repeat_interval": list(self.repeats.drain_rows())}


class AlertPartition(_Partition[AlertInput]):
    """One partition of the tenant-keyed alert-input topic: the alert stage of its tenants.

    Offsets are skipped after a restore as in the other partitions; a message holds several inputs under one
    offset and is always processed whole. Its timeline only follows the inputs' watermarks (what the stage
    decides on is the lowest watermark of the partitions that carried a source: `AlertEngine`)."""

    def __init__(self, partition: int, config: EngineConfig) -> None:
        super().__init__(partition, config)
        self.alerts = AlertEngine(partition, config)
        self.engines = {"alerts": self.alerts}

    def _admit(
        self, batch: Iterable[tuple[int, AlertInput]], out: EngineOutput
    ) -> tuple[list[tuple[int, AlertInput]], set[str]]:
        return self._admit_whole(batch, out, lambda item: (item.tenant, item.watermark))

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        return {"alerts": list(self.alerts.drain_rows())}
