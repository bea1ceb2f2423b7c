"""Offered / answered / abandoned per source and interval: the walking skeleton's metric.

Pure and per Kafka partition; it keeps only one counter row per (interval, source) and never reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, TypedDict

from streams.engine.intervals import interval_start
from streams.engine.timebase import FIRST_MS, from_ms
from streams.events import ContactAbandoned, ContactAnswered, ContactOffered, Event


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


class VolumeSnapshot(TypedDict):
    partition: int
    interval_minutes: int
    version: int
    counts: list[tuple[str, str, str, int, int, int]]


@dataclass
class VolumeCounter:
    """Counts each contact in the interval it entered the queue (arrival attribution).

    An answer or abandon is dated back by its own `wait_ms`, so its interval never depends on which events
    arrived first: the counts are the same for any order of the same events.
    """

    partition: int
    interval_minutes: int = 15
    _counts: dict[tuple[str, datetime, str], list[int]] = field(default_factory=dict)
    _dirty: set[tuple[str, datetime, str]] = field(default_factory=set)
    _version: int = -1
    _forgotten_iv: int = FIRST_MS  # the interval number `forget_before` last looked at the counters for

    def apply(self, events: Iterable[tuple[int, Event]]) -> None:
        """Fold (offset, event) pairs in; offsets only move the version forward, and events other than offered,
        answered and abandoned only that."""
        minutes = self.interval_minutes
        for offset, event in events:
            if isinstance(event, ContactOffered):
                key, column = (event.tenant, interval_start(event.ts, minutes), event.source), 0
            elif isinstance(event, ContactAnswered):
                enqueued = event.ts - timedelta(milliseconds=event.wait_ms)
                key, column = (event.tenant, interval_start(enqueued, minutes), event.source), 1
            elif isinstance(event, ContactAbandoned):
                enqueued = event.ts - timedelta(milliseconds=event.wait_ms)
                key, column = (event.tenant, interval_start(enqueued, minutes), event.source), 2
            else:
                self._version = max(self._version, offset)
                continue
            counts = self._counts.get(key)
            if counts is None:
                counts = self._counts[key] = [0, 0, 0]
            counts[column] += 1
            self._dirty.add(key)
            self._version = max(self._version, offset)

    def forget_before(self, ms: int) -> None:
        """Counters of intervals that ended by `ms` and changed nothing since the last drain are dropped: the
        caller passes a time no admitted event can be dated back to, so they can never change again."""
        width = self.interval_minutes * 60_000
        cutoff_ms = ms - width
        # Called after every batch: the counters are looked at only when the cutoff reaches a new interval.
        if cutoff_ms <= FIRST_MS or cutoff_ms // width <= self._forgotten_iv:
            return
        self._forgotten_iv = cutoff_ms // width
        cutoff = from_ms(cutoff_ms)
        for key in [key for key in self._counts if key[1] <= cutoff and key not in self._dirty]:
            del self._counts[key]

    def drain_rows(self) -> list[VolumeRow]:
        """Rows changed since the last drain, each carrying its full cumulative counts."""
        rows = []
        for tenant, start, source in sorted(self._dirty):
            offered, answered, abandoned = self._counts[(tenant, start, source)]
            rows.append(
                VolumeRow(tenant, start, source, self.partition, offered, answered, abandoned, self._version)
            )
        self._dirty.clear()
        return rows

    def snapshot(self) -> VolumeSnapshot:
        """Plain data a Faust table or a checkpoint can hold, so a restart resumes the same counts."""
        return {
            "partition": self.partition,
            "interval_minutes": self.interval_minutes,
            "version": self._version,
            "counts": [
                (tenant, start.isoformat(), source, counts[0], counts[1], counts[2])
                for (tenant, start, source), counts in self._counts.items()
            ],
        }

    @classmethod
    def restore(cls, snapshot: VolumeSnapshot) -> VolumeCounter:
        counter = cls(partition=snapshot["partition"], interval_minutes=snapshot["interval_minutes"])
        counter._version = snapshot["version"]
        for tenant, start, source, offered, answered, abandoned in snapshot["counts"]:
            counter._counts[(tenant, datetime.fromisoformat(start), source)] = [offered, answered, abandoned]
        return counter
