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
from datetime import datetime
from heapq import heapify, heappop, heappush
from typing import Any, NamedTuple

from streams.engine.config import EngineConfig
from streams.engine.overflow import CallerContact
from streams.engine.timebase import floor, from_ms


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


class RepeatEngine:
    def __init__(self, partition: int, config: EngineConfig) -> None:
        self.partition = partition
        self.config = config
        self._width = config.interval_ms
        self._window = config.repeat_window_hours * 3_600_000
        # caller -> sorted [arrived_ms, initial_contact_id, key or None (not handled), repeated]
        self._callers: dict[tuple[str, str], list[list[Any]]] = {}
        # tenant -> heap of (arrived_ms, caller hash), one per call: expiry visits only callers with a call to
        # expire, not every caller kept (a replay crosses an interval boundary every few thousand events).
        self._expiry: dict[str, list[tuple[int, str]]] = {}
        self._seen: set[str] = set()
        self._counters: dict[Key, list[int]] = {}
        self._censored: set[Key] = set()
        self._dirty: set[Key] = set()
        self._watermarks: dict[str, int] = {}
        self._version = 0

    def apply(self, offset: int, contact: CallerContact) -> None:
        self._version = max(self._version, offset)
        if contact.initial_contact_id in self._seen:
            return  # re-published after a restart: already counted
        self._seen.add(contact.initial_contact_id)
        key: Key | None = None
        if contact.handled_by is not None:
            key = (
                contact.tenant,
                contact.handled_by,
                contact.call_type,
                floor(contact.arrived_ms, self._width),
            )
            counters = self._counters.setdefault(key, [0, 0])
            counters[0] += 1
            self._dirty.add(key)
            if key[3] + self._width + self._window > self._watermarks.get(contact.tenant, -(2**62)):
                self._censored.add(key)
        entry: list[Any] = [contact.arrived_ms, contact.initial_contact_id, key, False]
        calls = self._callers.setdefault((contact.tenant, contact.caller_hash), [])
        insort(calls, entry, key=lambda item: (item[0], item[1]))
        heappush(self._expiry.setdefault(contact.tenant, []), (contact.arrived_ms, contact.caller_hash))
        at = contact.arrived_ms
        for other in calls:
            if other is entry:
                continue
            # `other` came first and this call repeats it, or this call came first and `other` repeats it.
            first, then = (
                (other, entry)
                if other[0] < at or (other[0] == at and other[1] < entry[1])
                else (entry, other)
            )
            if (
                first[2] is not None
                and not first[3]
                and then[0] - first[0] <= self._window
                and then[0] > first[0]
            ):
                first[3] = True
                self._counters[first[2]][1] += 1
                self._dirty.add(first[2])

    def advance(self, watermark_ms: int, tenant: str) -> None:
        """Windows that end before the watermark are complete: their rows lose the censored flag.

        A window ends on an interval boundary shifted by the window length, so nothing can change unless the
        shifted watermark crosses one: between crossings this costs nothing, whatever the state."""
        previous = self._watermarks.get(tenant, -(2**62))
        if watermark_ms <= previous:
            return
        self._watermarks[tenant] = watermark_ms
        if (watermark_ms - self._window) // self._width == (previous - self._window) // self._width:
            return
        for key in [
            k for k in self._censored if k[0] == tenant and k[3] + self._width + self._window <= watermark_ms
        ]:
            self._censored.discard(key)
            self._dirty.add(key)
        horizon = watermark_ms - self._window - self.config.retention_ms
        expiry = self._expiry.get(tenant, [])
        while expiry and expiry[0][0] <= horizon:
            caller = (tenant, heappop(expiry)[1])
            calls = self._callers.get(caller)
            if calls is None:
                continue  # an earlier heap entry of this caller expired all its calls
            expired = 0
            while expired < len(calls) and calls[expired][0] <= horizon:  # sorted by arrival
                self._seen.discard(calls[expired][1])
                expired += 1
            if expired == len(calls):
                del self._callers[caller]
            elif expired:
                self._callers[caller] = calls[expired:]
        for key in [
            k
            for k in self._counters
            if k[0] == tenant
            and k[3] + self._width <= horizon
            and k not in self._dirty
            and k not in self._censored
        ]:
            del self._counters[key]

    def drain_rows(self) -> list[RepeatRow]:
        rows = []
        hours = self.config.repeat_window_hours
        for key in sorted(self._dirty):
            tenant, source, call_type, start = key
            handled, repeated = self._counters[key]
            rows.append(
                RepeatRow(
                    tenant, source, call_type, from_ms(start), self.config.interval_minutes, self.partition,
                    handled, repeated, hours, int(key in self._censored), self._version * 2 + int(key not in self._censored),
                )
            )  # fmt: skip
        self._dirty.clear()
        return rows

    def snapshot(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "version": self._version,
            "watermarks": dict(self._watermarks),
            "callers": [
                [*caller, [[a, i, list(k) if k else None, r] for a, i, k, r in calls]]
                for caller, calls in self._callers.items()
            ],
            "counters": [[*key, *values] for key, values in self._counters.items()],
            "censored": [list(key) for key in self._censored],
            "dirty": [list(key) for key in self._dirty],
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any], config: EngineConfig) -> RepeatEngine:
        engine = cls(snapshot["partition"], config)
        engine._version = snapshot["version"]
        engine._watermarks = dict(snapshot["watermarks"])
        for tenant, caller, calls in snapshot["callers"]:
            entries = [[a, i, tuple(k) if k else None, r] for a, i, k, r in calls]
            engine._callers[(tenant, caller)] = entries
            engine._seen.update(entry[1] for entry in entries)
            engine._expiry.setdefault(tenant, []).extend((entry[0], caller) for entry in entries)
        for heap in engine._expiry.values():
            heapify(heap)
        for tenant, source, call_type, start, handled, repeated in snapshot["counters"]:
            engine._counters[(tenant, source, call_type, start)] = [handled, repeated]
        engine._censored = {tuple(key) for key in snapshot["censored"]}
        engine._dirty = {tuple(key) for key in snapshot["dirty"]}
        return engine
