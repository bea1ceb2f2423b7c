"""Offered / answered / abandoned per source and interval: the walking skeleton's metric.

Pure and per Kafka partition; it keeps one counter row per (tenant, interval, source) and never reads a clock.
Offered counts customer calls (`contact.offered`), so answered and abandoned count only their outcomes: the
tier-2 leg an internal transfer queued is the same call, and its answer is not a second one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from typing import TypedDict

from streams.engine.intervals import Counts
from streams.engine.intervals import Leg
from streams.engine.intervals import Timeline
from streams.engine.intervals import answer_code
from streams.engine.timebase import floor
from streams.engine.timebase import from_ms
from streams.engine.timebase import to_ms
from streams.events import MAX_DURATION_MS
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactOffered
from streams.events import ContactQueued
from streams.events import Event


class VolumeRow(NamedTuple):
    """One partition's cumulative counts for an (interval, source); `version` is the last offset it includes.

    Rows are partial aggregates per stream partition, so several workers never overwrite each other; the
    dashboards sum partitions. A later version of the same key replaces the earlier one in ClickHouse.
    """

    tenant: str
    interval_start: datetime
    source: str
    stream_partition: int
    offered: int
    answered: int
    abandoned: int
    version: int


VOLUME_KEY = ("tenant", "interval_start", "source", "stream_partition")

Key = tuple[str, int, str]  # tenant, interval start ms, source


class VolumeSnapshot(TypedDict, total=False):
    partition: int
    interval_minutes: int
    version: int
    counts: list[tuple[str, str, str, int, int, int]]
    dirty: list[list[str | int]]
    final: list[list[str | int]]
    fresh: list[list[str | int]]
    legs: dict[str, object]


@dataclass(slots=True)
class VolumeCounts(Counts):
    offered: int = 0
    answered: int = 0
    abandoned: int = 0


class VolumeCounter:
    """Counts each contact in the interval it entered the queue (arrival attribution).

    An answer or abandon is dated back by its own `wait_ms`, so its interval never depends on which events
    arrived first: the counts are the same for any order of the same events. An interval's counters are
    dropped once no admissible answer (dated back by at most the longest wait the contract allows) can reach it.
    """

    def __init__(
        self,
        partition: int,
        interval_minutes: int = 15,
        time: Timeline | None = None,
        keep_ms: int = 6 * 3_600_000,
    ) -> None:
        self.partition = partition
        self.interval_minutes = interval_minutes
        self.time = time = time or Timeline(interval_minutes * 60_000)
        self._width = interval_minutes * 60_000
        self._counts = time.table(
            VolumeCounts, key_length=3, start_at=1, delay_ms=None, reach_ms=MAX_DURATION_MS
        )
        # Only later legs (contact id != initial) can be transfer-ins: the first leg of a call never is.
        self._legs = time.contacts(keep_ms)

    def apply(self, events: Iterable[tuple[int, Event]]) -> None:
        """Fold (offset, event) pairs in; offsets only move the version forward, and events other than offered,
        answered and abandoned only that."""
        last = -1
        width, counts_at = self._width, self._counts.at
        for offset, event in events:
            if offset > last:
                last = offset
            if isinstance(event, ContactOffered):
                counts_at((event.tenant, floor(to_ms(event.ts), width), event.source)).offered += 1
            elif isinstance(event, (ContactAnswered, ContactAbandoned)):
                ts_ms = to_ms(event.ts)
                key = (event.tenant, floor(ts_ms - event.wait_ms, width), event.source)
                answered = isinstance(event, ContactAnswered)
                if event.contact_id != event.initial_contact_id:
                    leg = self._legs.items.get(event.contact_id)
                    if leg is not None and leg.transfer_in:
                        continue
                    self._legs.items[event.contact_id] = Leg(key, ts_ms, False, answer_code(0, answered))
                counts = counts_at(key)
                if answered:
                    counts.answered += 1
                else:
                    counts.abandoned += 1
            elif isinstance(event, ContactQueued) and event.transferred_in:
                known = self._legs.items.get(event.contact_id)
                if (
                    known is not None and known.counted is not None
                ):  # its outcome was read first: take it back
                    counts = counts_at(known.key)
                    if known.counted >= 0:
                        counts.answered -= 1
                    else:
                        counts.abandoned -= 1
                ts_ms = to_ms(event.ts)
                key = (event.tenant, floor(ts_ms, width), event.source)
                self._legs.items[event.contact_id] = Leg(key, ts_ms, True)
        self.time.applied(last)

    def drain_rows(self) -> list[VolumeRow]:
        """Rows changed since the last drain, each carrying its full cumulative counts."""
        version = self.time.version()
        return [
            VolumeRow(
                tenant, from_ms(start), source, self.partition, c.offered, c.answered, c.abandoned, version
            )
            for (tenant, start, source), c, _ in self._counts.drain()
        ]

    def snapshot(self) -> VolumeSnapshot:
        """Plain data a Faust table or a checkpoint can hold, so a restart resumes the same counts."""
        table = self._counts.snapshot(VolumeCounts.dump)
        return {
            "partition": self.partition,
            "interval_minutes": self.interval_minutes,
            "version": self.time.applied_offset,
            "counts": [
                (tenant, from_ms(start).isoformat(), source, offered, answered, abandoned)
                for tenant, start, source, offered, answered, abandoned in table["rows"]
            ],
            "dirty": table["dirty"],
            "final": table["final"],
            "fresh": table["fresh"],
            "legs": self._legs.snapshot(Leg.dump),
        }

    @classmethod
    def restore(cls, snapshot: VolumeSnapshot) -> VolumeCounter:
        """A new counter, on a timeline of its own, from `snapshot`."""
        counter = cls(snapshot["partition"], snapshot["interval_minutes"])
        counter.time.applied(snapshot["version"])
        counter.load(snapshot)
        return counter

    def load(self, snapshot: VolumeSnapshot) -> None:
        """Fill this new counter from `snapshot`; its timeline is restored by the partition that owns it."""
        rows = [
            [tenant, to_ms(datetime.fromisoformat(start)), source, *counts]
            for tenant, start, source, *counts in snapshot["counts"]
        ]
        flags = {name: snapshot.get(name, []) for name in ("dirty", "final", "fresh")}
        self._counts.restore({"rows": rows, **flags}, VolumeCounts.load)
        if "legs" in snapshot:  # checkpoints from before transfer-ins were told apart have none
            self._legs.restore(snapshot["legs"], Leg.loader(3))
