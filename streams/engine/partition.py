"""Everything one stream partition's events go through: de-duplication, the event-time watermark, the
retention horizon, and the metric engines of that topic.

Pure: the edge hands in (offset, event) batches and takes out rows per table and rejected events; time
comes only from the events (and from `advance_idle`, which the edge calls with a watermark of its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streams.engine.config import EngineConfig
from streams.engine.dedup import Deduplicator
from streams.engine.overflow import OverflowEngine
from streams.engine.quality import QualityEngine
from streams.engine.timebase import to_ms
from streams.events import Event

# How many leading columns of each table's rows form its key (the grain a newer version replaces).
KEY_LENGTH = {"quality_interval": 7, "overflow_interval": 6, "overflow_target_interval": 7}


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


class ContactPartition:
    """Contact events and vendor reports of one partition: quality and overflow."""

    def __init__(self, partition: int, config: EngineConfig) -> None:
        self.partition = partition
        self.config = config
        self.dedup = Deduplicator()
        self.quality = QualityEngine(partition, config)
        self.overflow = OverflowEngine(partition, config)
        self.max_ts_ms = -(2**62)

    @property
    def watermark_ms(self) -> int:
        """Max event time seen minus the allowed lateness: intervals ending before it are final."""
        return self.max_ts_ms - self.config.lateness_ms

    def process(self, batch: Iterable[tuple[int, Event]]) -> EngineOutput:
        out = EngineOutput()
        horizon = self.watermark_ms - self.config.retention_ms
        for offset, event in batch:
            ts_ms = to_ms(event.ts)
            if ts_ms < horizon:
                out.rejected.append(
                    Rejected(
                        offset,
                        event,
                        f"event time older than the {self.config.retention_hours} h correction horizon",
                    )
                )
                continue
            if not self.dedup.first_time(event.event_id, ts_ms):
                out.duplicates += 1
                continue
            if ts_ms > self.max_ts_ms:
                self.max_ts_ms = ts_ms
            self.quality.apply(offset, event, ts_ms)
            self.overflow.apply(offset, event, ts_ms)
        self._advance(self.watermark_ms)
        return out

    def advance_idle(self, watermark_ms: int) -> None:
        """Move time on without events (a quiet partition), so its intervals still close."""
        self._advance(watermark_ms)

    def _advance(self, watermark_ms: int) -> None:
        self.quality.advance(watermark_ms)
        self.overflow.advance(watermark_ms)
        self.dedup.forget_before(watermark_ms - self.config.retention_ms)

    def drain(self) -> dict[str, list[tuple[Any, ...]]]:
        overflow, targets = self.overflow.drain_rows()
        return {
            "quality_interval": list(self.quality.drain_rows()),
            "overflow_interval": list(overflow),
            "overflow_target_interval": list(targets),
        }
