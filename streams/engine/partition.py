"""Everything one stream partition's events go through: de-duplication, the event-time watermark, the
retention horizon, and the metric engines of that topic.

Pure: the edge hands in (offset, event) batches and takes out rows per table and rejected events; time
comes only from the events (and from `advance_idle`, which the edge calls with a watermark of its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streams.engine.adherence import AdherenceConfig, AdherenceEngine
from streams.engine.config import EngineConfig
from streams.engine.dedup import Deduplicator
from streams.engine.overflow import CallerContact, OverflowEngine
from streams.engine.quality import QualityEngine
from streams.engine.repeats import RepeatEngine
from streams.engine.timebase import EPOCH, MS
from streams.engine.volume import VolumeCounter
from streams.events import MAX_DURATION_MS, Event

# How many leading columns of each table's rows form its key (the grain a newer version replaces).
KEY_LENGTH = {
    "quality_interval": 7,
    "overflow_interval": 6,
    "overflow_target_interval": 7,
    "adherence_interval": 6,
    "contact_volume_interval": 4,
}


@dataclass(frozen=True)
class Rejected:
    """An event the engine cannot count; the edge sends it to the dead letters with `reason`."""

    offset: int
    event: Event
    reason: str


@dataclass
class EngineOutput:
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    replayed: int = 0  # re-delivered after a restart, already in the restored state


class _Partition:
    """Shared by both topics: de-duplication, the correction horizon and event-time watermarks per tenant.

    Watermarks are per tenant, not per partition: tenants are separate operations (or simulated scenarios)
    whose feeds may run hours apart on the same partition, and one must not close another's intervals.
    """

    def __init__(self, partition: int, config: EngineConfig) -> None:
        self.partition = partition
        self.config = config
        self.dedup = Deduplicator()
        self.max_ts_by_tenant: dict[str, int] = {}
        # The last offset folded in: after a restore, anything at or below it was already counted.
        self.last_offset = -1

    @property
    def max_ts_ms(self) -> int:
        return max(self.max_ts_by_tenant.values(), default=-(2**62))

    def watermark_ms(self, tenant: str) -> int:
        """Max event time seen for the tenant minus the allowed lateness: intervals ending before it are final."""
        return self.max_ts_by_tenant.get(tenant, -(2**62)) - self.config.lateness_ms

    def _admit(self, batch: Iterable[tuple[int, Event]], out: EngineOutput) -> list[tuple[int, Event, int]]:
        """The per-event gate of every engine: the hottest loop of the worker, so config and lookups are local."""
        admitted: list[tuple[int, Event, int]] = []
        append = admitted.append
        first_time = self.dedup.first_time
        max_ts = self.max_ts_by_tenant
        oldest_ok = self.config.lateness_ms + self.config.retention_ms
        last_offset = self.last_offset
        for offset, event in batch:
            if offset <= last_offset:
                out.replayed += 1
                continue
            last_offset = offset
            ts_ms = (event.ts - EPOCH) // MS
            tenant_max = max_ts.get(event.tenant, -(2**62))
            if ts_ms < tenant_max - oldest_ok:
                out.rejected.append(
                    Rejected(
                        offset,
                        event,
                        f"event time older than the {self.config.retention_hours} h correction horizon",
                    )
                )
                continue
            if not first_time(event.event_id.int, ts_ms):
                out.duplicates += 1
                continue
            if ts_ms > tenant_max:
                max_ts[event.tenant] = ts_ms
            append((offset, event, ts_ms))
        self.last_offset = last_offset
        return admitted

    def advance_idle(self, quiet_ms: int) -> None:
        """Move every tenant's time on by `quiet_ms` without events (a quiet partition), so intervals close."""
        for tenant, max_ts in self.max_ts_by_tenant.items():
            self._advance(tenant, max_ts + quiet_ms - self.config.lateness_ms)

    def _advance(self, tenant: str, watermark_ms: int) -> None:
        raise NotImplementedError

    def _forget(self) -> None:
        """Ids older than `dedup_hours` are forgotten: a duplicate that late (rare: producers retry within
        seconds) would count twice; replays after a restart are caught by offsets, not ids."""
        low = min((self.watermark_ms(t) for t in self.max_ts_by_tenant), default=-(2**62))
        self.dedup.forget_before(low - self.config.dedup_ms)

    def _base_snapshot(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "last_offset": self.last_offset,
            "max_ts_by_tenant": dict(self.max_ts_by_tenant),
            "dedup": self.dedup.snapshot(),
        }

    def _restore_base(self, snapshot: dict[str, Any]) -> None:
        self.last_offset = snapshot["last_offset"]
        self.max_ts_by_tenant = dict(snapshot["max_ts_by_tenant"])
        self.dedup = Deduplicator.restore(snapshot["dedup"])


class ContactPartition(_Partition):
    """Contact events and vendor reports of one partition: quality, overflow and the contact volume.

    The volume counter lives here, behind the same gate and in the same checkpoint as the other engines:
    counted at the edge, it counted duplicates and refused events, and started from zero after a restart."""

    def __init__(self, partition: int, config: EngineConfig) -> None:
        super().__init__(partition, config)
        self.quality = QualityEngine(partition, config)
        self.overflow = OverflowEngine(partition, config)
        self.volume = VolumeCounter(partition, config.interval_minutes)

    def process(self, batch: Iterable[tuple[int, Event]]) -> EngineOutput:
        out = EngineOutput()
        tenants = set()
        admitted = self._admit(batch, out)
        for offset, event, ts_ms in admitted:
            self.quality.apply(offset, event, ts_ms)
            self.overflow.apply(offset, event, ts_ms)
            tenants.add(event.tenant)
        self.volume.apply([(offset, event) for offset, event, _ in admitted])
        for tenant in tenants:
            self._advance(tenant, self.watermark_ms(tenant))
        self._forget()
        if tenants:
            # An admitted event is within the horizon of the lowest watermark, and an answer or abandon dates
            # its arrival back by at most the longest wait the contract allows.
            low = min(self.watermark_ms(t) for t in self.max_ts_by_tenant)
            self.volume.forget_before(low - self.config.retention_ms - MAX_DURATION_MS)
        return out

    def _advance(self, tenant: str, watermark_ms: int) -> None:
        self.quality.advance(watermark_ms, tenant)
        self.overflow.advance(watermark_ms, tenant)

    def snapshot(self) -> dict[str, Any]:
        return {
            **self._base_snapshot(),
            "quality": self.quality.snapshot(),
            "overflow": self.overflow.snapshot(),
            "volume": self.volume.snapshot(),
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any], config: EngineConfig) -> ContactPartition:
        partition = cls(snapshot["partition"], config)
        partition._restore_base(snapshot)
        partition.quality = QualityEngine.restore(snapshot["quality"], config)
        partition.overflow = OverflowEngine.restore(snapshot["overflow"], config)
        if "volume" in snapshot:  # checkpoints of older workers have none: counting starts again here
            partition.volume = VolumeCounter.restore(snapshot["volume"])
        return partition

    def drain_caller_contacts(self) -> list[CallerContact]:
        return self.overflow.drain_caller_contacts()

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        overflow, targets = self.overflow.drain_rows()
        volume: list[tuple[Any, ...]] = list(self.volume.drain_rows())
        return {
            "quality_interval": list(self.quality.drain_rows()),
            "overflow_interval": list(overflow),
            "overflow_target_interval": list(targets),
            "contact_volume_interval": volume,
        }


class AgentPartition(_Partition):
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
        )

    def process(self, batch: Iterable[tuple[int, Event]]) -> EngineOutput:
        out = EngineOutput()
        admitted = self._admit(batch, out)
        self.adherence.apply((offset, event) for offset, event, _ in admitted)
        for tenant in {event.tenant for _, event, _ in admitted}:
            self._advance(tenant, self.watermark_ms(tenant))
        self._forget()
        return out

    def _advance(self, tenant: str, watermark_ms: int) -> None:
        self.adherence.advance(watermark_ms, tenant)

    def snapshot(self) -> dict[str, Any]:
        return {**self._base_snapshot(), "adherence": self.adherence.snapshot()}

    @classmethod
    def restore(cls, snapshot: dict[str, Any], config: EngineConfig) -> AgentPartition:
        partition = cls(snapshot["partition"], config)
        partition._restore_base(snapshot)
        partition.adherence = AdherenceEngine.restore(snapshot["adherence"])
        return partition

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        return {"adherence_interval": list(self.adherence.drain_rows())}


class CallerPartition:
    """Customer-call outcomes of one partition of the caller-keyed topic: repeat contacts.

    Offsets are skipped after a restore as in the other partitions; a call published twice (the contact
    partition re-read after a crash) is recognised by its `initial_contact_id`.
    """

    def __init__(self, partition: int, config: EngineConfig) -> None:
        self.partition = partition
        self.config = config
        self.repeats = RepeatEngine(partition, config)
        self.max_ts_by_tenant: dict[str, int] = {}
        self.last_offset = -1

    @property
    def max_ts_ms(self) -> int:
        return max(self.max_ts_by_tenant.values(), default=-(2**62))

    def process(self, batch: Iterable[tuple[int, CallerContact]]) -> EngineOutput:
        out = EngineOutput()
        tenants = set()
        # A message holds several outcomes under one offset, and is always processed whole: what was counted
        # before a restore is the messages at or below the restored offset.
        counted_up_to = self.last_offset
        for offset, contact in batch:
            if offset <= counted_up_to:
                out.replayed += 1
                continue
            self.last_offset = max(self.last_offset, offset)
            self.repeats.apply(offset, contact)
            if contact.arrived_ms > self.max_ts_by_tenant.get(contact.tenant, -(2**62)):
                self.max_ts_by_tenant[contact.tenant] = contact.arrived_ms
            tenants.add(contact.tenant)
        for tenant in tenants:
            self.repeats.advance(self.max_ts_by_tenant[tenant] - self.config.lateness_ms, tenant)
        return out

    def advance_idle(self, quiet_ms: int) -> None:
        for tenant, max_ts in self.max_ts_by_tenant.items():
            self.repeats.advance(max_ts + quiet_ms - self.config.lateness_ms, tenant)

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        return {"repeat_interval": list(self.repeats.drain_rows())}

    def snapshot(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "last_offset": self.last_offset,
            "max_ts_by_tenant": dict(self.max_ts_by_tenant),
            "repeats": self.repeats.snapshot(),
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any], config: EngineConfig) -> CallerPartition:
        partition = cls(snapshot["partition"], config)
        partition.last_offset = snapshot["last_offset"]
        partition.max_ts_by_tenant = dict(snapshot["max_ts_by_tenant"])
        partition.repeats = RepeatEngine.restore(snapshot["repeats"], config)
        return partition
