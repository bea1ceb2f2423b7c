"""Repeat contacts (the FCR proxy) per (tenant, handling source, call type, interval of the first call).

Pure, per partition of the caller-keyed topic: a handled customer call is *repeated* when the same caller
(keyed hash) calls again within `repeat_window_hours` of its arrival; the repeat is charged to the source that
handled the first call (Capturi's trigger / repeat definition; callcentrehelper's "same customer again within
N days"). FCR proxy = 1 - repeated / handled, in SQL. An interval whose window reaches past the watermark is
*censored*: its repeats can still grow, and the row says so (right-censoring, the last window of any period).
Order-independent: a call arriving late still marks the earlier call it repeats, and a late earlier call is
marked by the later one already seen.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from heapq import heapify
from heapq import heappop
from heapq import heappush
from typing import Any
from typing import NamedTuple

from streams.engine.config import EngineConfig
from streams.engine.intervals import Counts
from streams.engine.intervals import Move
from streams.engine.intervals import Timeline
from streams.engine.overflow import CallerContact
from streams.engine.timebase import floor
from streams.engine.timebase import from_ms


class RepeatRow(NamedTuple):
    tenant: str
    source: str
    call_type: str
    interval_start: datetime
    interval_minutes: int
    stream_partition: int
    handled: int
    repeated: int
    window_hours: int
    censored: int
    version: int


REPEAT_KEY = ("tenant", "source", "call_type", "interval_start", "stream_partition")

Key = tuple[str, str, str, int]


@dataclass(slots=True)
class RepeatCounts(Counts):
    handled: int = 0
    repeated: int = 0


@dataclass(slots=True)
class _Call:
    """One customer call of a caller; `key` is where it counts as handled (None: it was not handled)."""

    arrived_ms: int
    initial_contact_id: str
    key: Key | None
    repeated: bool = False

    def order(self) -> tuple[int, str]:
        return self.arrived_ms, self.initial_contact_id


class RepeatEngine:
    """Repeat contacts of one partition of the caller-keyed topic. An interval is final (no longer censored)
    once its repeat window has passed the watermark: its table closes a window late."""

    def __init__(self, partition: int, config: EngineConfig, time: Timeline | None = None) -> None:
        self.partition = partition
        self.config = config
        self.time = time = time or Timeline.of(config)
        self._width = config.interval_ms
        self._window = config.repeat_window_hours * 3_600_000
        # A call can mark the call it repeats up to a window earlier: that is how far back an input reaches.
        self._counts = time.table(RepeatCounts, delay_ms=self._window, reach_ms=self._window)
        # caller -> its calls, sorted by arrival
        self._callers: dict[tuple[str, str], list[_Call]] = {}
        # tenant -> heap of (arrived_ms, caller hash), one per call: expiry visits only callers with a call to
        # expire, not every caller kept (a replay crosses an interval boundary every few thousand events).
        self._expiry: dict[str, list[tuple[int, str]]] = {}
        self._seen: set[str] = set()

    def apply(self, contacts: Iterable[tuple[int, CallerContact]]) -> None:
        last = -1
        for offset, contact in contacts:
            if offset > last:
                last = offset
            if contact.initial_contact_id in self._seen:
                continue  # re-published after a restart: already counted
            self._seen.add(contact.initial_contact_id)
            self._count(contact)
        self.time.applied(last)

    def _count(self, contact: CallerContact) -> None:
        key: Key | None = None
        if contact.handled_by is not None:
            key = (
                contact.tenant,
                contact.handled_by,
                contact.call_type,
                floor(contact.arrived_ms, self._width),
            )
            self._counts.at(key).handled += 1
        entry = _Call(contact.arrived_ms, contact.initial_contact_id, key)
        calls = self._callers.setdefault((contact.tenant, contact.caller_hash), [])
        insort(calls, entry, key=_Call.order)
        heappush(self._expiry.setdefault(contact.tenant, []), (contact.arrived_ms, contact.caller_hash))
        for other in calls:
            if other is entry:
                continue
            # `other` came first and this call repeats it, or this call came first and `other` repeats it.
            first, then = (other, entry) if other.order() < entry.order() else (entry, other)
            if (
                first.key is not None
                and not first.repeated
                and then.arrived_ms - first.arrived_ms <= self._window
                and then.arrived_ms > first.arrived_ms
            ):
                first.repeated = True
                self._counts.at(first.key).repeated += 1

    def expire(self, move: Move) -> None:
        """Calls a window before the correction horizon can neither repeat nor be repeated by an admissible call
        any more: forgotten, with their de-duplication ids, when the shifted watermark crosses a boundary."""
        if not move.crossed(self._width, self._window):
            return
        horizon = move.admissible_from - self._window
        expiry = self._expiry.get(move.tenant, [])
        while expiry and expiry[0][0] <= horizon:
            caller = (move.tenant, heappop(expiry)[1])
            calls = self._callers.get(caller)
            if calls is None:
                continue  # an earlier heap entry of this caller expired all its calls
            expired = 0
            while expired < len(calls) and calls[expired].arrived_ms <= horizon:  # sorted by arrival
                self._seen.discard(calls[expired].initial_contact_id)
                expired += 1
            if expired == len(calls):
                del self._callers[caller]
            elif expired:
                self._callers[caller] = calls[expired:]

    def drain_rows(self) -> list[RepeatRow]:
        hours = self.config.repeat_window_hours
        version = self.time.version
        return [
            RepeatRow(
                tenant,
                source,
                call_type,
                from_ms(start),
                self.config.interval_minutes,
                self.partition,
                counts.handled,
                counts.repeated,
                hours,
                int(not final),
                version(final),
            )
            for (tenant, source, call_type, start), counts, final in self._counts.drain()
        ]

    def snapshot(self) -> dict[str, Any]:
        """The callers' calls, and the counters as rows of key and (handled, repeated), with their flags."""
        counts = self._counts.snapshot(RepeatCounts.dump)
        return {
            "counters": counts.pop("rows"),
            "callers": [
                [
                    *caller,
                    [
                        [c.arrived_ms, c.initial_contact_id, list(c.key) if c.key else None, c.repeated]
                        for c in calls
                    ],
                ]
                for caller, calls in self._callers.items()
            ],
            **counts,
        }

    def load(self, snapshot: dict[str, Any]) -> None:
        """Fill this new engine from `snapshot`; its timeline is restored by the partition that owns it."""
        for tenant, caller, calls in snapshot["callers"]:
            entries = [_Call(a, i, tuple(k) if k else None, r) for a, i, k, r in calls]
            self._callers[(tenant, caller)] = entries
            self._seen.update(entry.initial_contact_id for entry in entries)
            self._expiry.setdefault(tenant, []).extend((entry.arrived_ms, caller) for entry in entries)
        for heap in self._expiry.values():
            heapify(heap)
        self._counts.restore({**snapshot, "rows": snapshot["counters"]}, RepeatCounts.load)
