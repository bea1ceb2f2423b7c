"""Overflow per customer call, per (tenant, primary source, call type, arrival interval): what share of the
calls arriving at the enterprise ACD left the in-house queue for a vendor, why, after how long, whether the
hand-off worked, and the end-to-end service level measured from the first enqueue.

Pure. Each customer call (`initial_contact_id`) is counted once, however many legs it has; its figures go
to the interval it arrived in. Where the setup hides something (network-delivered routing, a redirected
call's outcome), the figure is NULL with `hidden_reason`, never 0. End-to-end counts cover the outcomes the
setup shows and `e2e_hidden` counts those it hides; since a stream partition sees only part of an interval's
calls, the interval's end-to-end service level is NULL (in SQL) as soon as any partition hid one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from streams.engine.config import HIDDEN_ROUTING, HIDDEN_VENDOR_OUTCOME, EngineConfig
from streams.engine.timebase import floor, from_ms
from streams.events import (
    ContactAbandoned,
    ContactAnswered,
    ContactOffered,
    ContactOverflowed,
    ContactRedirected,
    Event,
)

# Counter positions.
ARRIVED, OVERFLOWED, BY_TIMEOUT, BY_SPLIT, BY_CALL_TYPE, OVERFLOW_WAIT = range(6)
ACCEPTED, FAILED, RETURNED, E2E_ANSWERED, E2E_ABANDONED, E2E_HIDDEN, E2E_WAIT = range(6, 13)
_WIDTH = 13


class OverflowRow(NamedTuple):
    tenant: str
    primary_source: str
    call_type: str
    interval_start: datetime
    interval_minutes: int
    stream_partition: int
    arrived: int
    overflowed: int | None
    overflowed_timeout: int | None
    overflowed_split: int | None
    overflowed_call_type: int | None
    overflow_wait_ms: int | None
    redirect_accepted: int | None
    redirect_failed: int | None
    redirect_returned: int | None
    thresholds_s: list[int]
    e2e_answered: int
    e2e_answered_within: list[int]
    e2e_abandoned: int
    e2e_wait_answered_ms: int
    e2e_hidden: int
    hidden_reason: str
    is_final: int
    version: int


class OverflowTargetRow(NamedTuple):
    """Calls sent to each vendor, by trigger: the actual split, compared with the contracted share in SQL."""

    tenant: str
    primary_source: str
    to_source: str
    interval_start: datetime
    interval_minutes: int
    stream_partition: int
    trigger: str
    overflowed: int
    is_final: int
    version: int


OVERFLOW_KEY = ("tenant", "primary_source", "call_type", "interval_start", "stream_partition")
TARGET_KEY = ("tenant", "primary_source", "to_source", "interval_start", "stream_partition", "trigger")

Key = tuple[str, str, str, int]
TargetKey = tuple[str, str, str, int, str]


@dataclass
class _Call:
    key: Key
    last_ms: int
    outcome_counted: bool = False
    caller_hash: str | None = None
    arrived_ms: int = 0


class CallerContact(NamedTuple):
    """A customer call's outcome, re-keyed by caller for the repeat-contact (FCR proxy) engine.

    `handled_by` is the source that answered it, or the vendor it was redirected to (whose outcome the setup
    hides); None when the caller abandoned."""

    tenant: str
    caller_hash: str
    initial_contact_id: str
    arrived_ms: int
    call_type: str
    handled_by: str | None


class OverflowEngine:
    """One per partition of the contact-events topic; keyed by `initial_contact_id`, a call's legs are all here."""

    def __init__(self, partition: int, config: EngineConfig) -> None:
        self.partition = partition
        self.config = config
        self._width = config.interval_ms
        self._thresholds_ms = [t * 1000 for t in config.service_thresholds_s]
        self._counters: dict[Key, list[int]] = {}
        self._within: dict[Key, list[int]] = {}
        self._targets: dict[TargetKey, int] = {}
        self._calls: dict[str, _Call] = {}
        self._callers: list[CallerContact] = []
        self._dirty: set[Key] = set()
        self._dirty_targets: set[TargetKey] = set()
        self._final: set[Key | TargetKey] = set()
        self._unscanned: set[Key | TargetKey] = set()  # keys created since the last advance of their tenant
        self._version = 0
        self._watermarks: dict[str, int] = {}
        self._next_sweep: dict[str, int] = {}  # per tenant: when contact state is next swept

    def apply(self, offset: int, event: Event, ts_ms: int) -> None:
        self._version = max(self._version, offset * 2)
        if isinstance(event, ContactOffered):
            if event.entry != "enterprise_acd" or event.contact_id != event.initial_contact_id:
                return  # arrivals at the network, and the vendor leg of an overflow, are not arrivals here
            key = (event.tenant, event.source, event.call_type, floor(ts_ms, self._width))
            self._calls[event.initial_contact_id] = _Call(key, ts_ms, False, event.caller_hash, ts_ms)
            self._add(key)[ARRIVED] += 1
            return
        call = self._calls.get(getattr(event, "initial_contact_id", ""))
        if call is None:
            return  # a call that did not arrive at the enterprise ACD (network-delivered to a vendor)
        call.last_ms = ts_ms
        if isinstance(event, ContactOverflowed):
            values = self._add(call.key)
            values[OVERFLOWED] += 1
            values[{"timeout": BY_TIMEOUT, "split": BY_SPLIT, "call_type": BY_CALL_TYPE}[event.trigger]] += 1
            values[OVERFLOW_WAIT] += event.wait_ms
            target = (event.tenant, event.source, event.to_source, call.key[3], event.trigger)
            if target not in self._targets:
                self._unscanned.add(target)
            self._targets[target] = self._targets.get(target, 0) + 1
            self._dirty_targets.add(target)
        elif isinstance(event, ContactRedirected):
            values = self._add(call.key)
            values[{"accepted": ACCEPTED, "failed": FAILED, "returned": RETURNED}[event.handoff]] += 1
            if event.handoff == "accepted" and not call.outcome_counted:
                call.outcome_counted = True
                values[E2E_HIDDEN] += 1
                self._outcome(event.initial_contact_id, call, event.to_source)
        elif isinstance(event, (ContactAnswered, ContactAbandoned)) and not call.outcome_counted:
            call.outcome_counted = True
            self._outcome(
                event.initial_contact_id, call, event.source if isinstance(event, ContactAnswered) else None
            )
            total = event.total_wait_ms if event.total_wait_ms is not None else event.wait_ms
            values = self._add(call.key)
            if isinstance(event, ContactAnswered):
                values[E2E_ANSWERED] += 1
                values[E2E_WAIT] += total
                within = self._within[call.key]
                for i, threshold in enumerate(self._thresholds_ms):
                    if total <= threshold:
                        within[i] += 1
            else:
                values[E2E_ABANDONED] += 1

    def _outcome(self, initial_contact_id: str, call: _Call, handled_by: str | None) -> None:
        if call.caller_hash is not None:
            tenant, _, call_type, _ = call.key
            self._callers.append(
                CallerContact(
                    tenant, call.caller_hash, initial_contact_id, call.arrived_ms, call_type, handled_by
                )
            )

    def drain_caller_contacts(self) -> list[CallerContact]:
        """Outcomes decided since the last drain, for the caller-keyed repeat engine."""
        out, self._callers = self._callers, []
        return out

    def _add(self, key: Key) -> list[int]:
        values = self._counters.get(key)
        if values is None:
            values = self._counters[key] = [0] * _WIDTH
            self._within[key] = [0] * len(self._thresholds_ms)
            self._unscanned.add(key)
        self._dirty.add(key)
        return values

    def advance(self, watermark_ms: int, tenant: str) -> None:
        """As `QualityEngine.advance`: per tenant, final flags (a full scan only when the watermark crosses an
        interval boundary, else just the new keys), then the retention horizon."""
        previous = self._watermarks.get(tenant, -(2**62))
        # Keys new since the last advance are looked at even when the watermark stands still: a late event's
        # interval may be behind it already, and must be flagged final now, not at the next move (a checkpoint
        # taken meanwhile would forget it was pending).
        watermark_ms = max(watermark_ms, previous)
        self._watermarks[tenant] = watermark_ms
        crossed = watermark_ms // self._width != previous // self._width
        fresh = [key for key in self._unscanned if key[0] == tenant]
        self._unscanned.difference_update(fresh)
        for key in (list(self._counters) + list(self._targets)) if crossed else fresh:
            if key[0] == tenant and key[3] + self._width <= watermark_ms and key not in self._final:
                self._final.add(key)
                if len(key) == 4:
                    self._dirty.add(key)
                else:
                    self._dirty_targets.add(key)
        if not crossed:
            return
        horizon = watermark_ms - self.config.retention_ms
        # Rows still waiting to be drained are kept until the next advance, so no final row is lost.
        for key in [
            k
            for k in self._counters
            if k[0] == tenant and k[3] + self._width <= horizon and k not in self._dirty
        ]:
            del self._counters[key]
            del self._within[key]
            self._final.discard(key)
        for target in [
            t
            for t in self._targets
            if t[0] == tenant and t[3] + self._width <= horizon and t not in self._dirty_targets
        ]:
            del self._targets[target]
            self._final.discard(target)
        if watermark_ms < self._next_sweep.get(tenant, -(2**62)):
            return  # swept four times per contact-state span, as in QualityEngine
        self._next_sweep[tenant] = watermark_ms + self.config.contact_state_ms // 4
        contacts_horizon = watermark_ms - self.config.contact_state_ms
        for initial in [
            i for i, call in self._calls.items() if call.key[0] == tenant and call.last_ms <= contacts_horizon
        ]:
            del self._calls[initial]

    def drain_rows(self) -> tuple[list[OverflowRow], list[OverflowTargetRow]]:
        thresholds = list(self.config.service_thresholds_s)
        minutes = self.config.interval_minutes
        rows = []
        for key in sorted(self._dirty):
            v = self._counters[key]
            final = int(key in self._final)
            tenant, source, call_type, start = key
            setup = self.config.tenant(tenant).setup
            routing_seen = setup != "network_delivered"
            outcome_seen = v[E2E_HIDDEN] == 0
            reasons = []
            if not routing_seen:
                reasons.append(HIDDEN_ROUTING)
            if not outcome_seen:
                reasons.append(HIDDEN_VENDOR_OUTCOME)
            redirects_seen = setup == "enterprise_routed"

            def seen(value: int, flag: bool) -> int | None:
                return value if flag else None

            rows.append(
                OverflowRow(
                    tenant, source, call_type, from_ms(start), minutes, self.partition, v[ARRIVED],
                    seen(v[OVERFLOWED], routing_seen), seen(v[BY_TIMEOUT], routing_seen),
                    seen(v[BY_SPLIT], routing_seen), seen(v[BY_CALL_TYPE], routing_seen),
                    seen(v[OVERFLOW_WAIT], routing_seen),
                    seen(v[ACCEPTED], redirects_seen), seen(v[FAILED], redirects_seen),
                    seen(v[RETURNED], redirects_seen),
                    thresholds,
                    v[E2E_ANSWERED], list(self._within[key]), v[E2E_ABANDONED], v[E2E_WAIT],
                    v[E2E_HIDDEN], "; ".join(reasons), final, self._version + final,
                )
            )  # fmt: skip
        targets = []
        for target in sorted(self._dirty_targets):
            final = int(target in self._final)
            tenant, source, to_source, start, trigger = target
            targets.append(
                OverflowTargetRow(
                    tenant, source, to_source, from_ms(start), minutes, self.partition, trigger,
                    self._targets[target], final, self._version + final,
                )
            )  # fmt: skip
        self._dirty.clear()
        self._dirty_targets.clear()
        return rows, targets

    # --- checkpoint ---------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-able data; `restore` of it, then the same input, gives the same rows as never stopping."""
        return {
            "partition": self.partition,
            "version": self._version,
            "watermarks": dict(self._watermarks),
            "counters": [[*key, values, self._within[key]] for key, values in self._counters.items()],
            "targets": [[*key, count] for key, count in self._targets.items()],
            "calls": [
                [initial, *call.key, call.last_ms, call.outcome_counted, call.caller_hash, call.arrived_ms]
                for initial, call in self._calls.items()
            ],
            "callers": [list(contact) for contact in self._callers],
            "final": [list(key) for key in self._final],
            "dirty": [list(key) for key in self._dirty],
            "dirty_targets": [list(key) for key in self._dirty_targets],
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any], config: EngineConfig) -> OverflowEngine:
        engine = cls(snapshot["partition"], config)
        engine._version = snapshot["version"]
        engine._watermarks = dict(snapshot["watermarks"])
        for tenant, source, call_type, start, values, within in snapshot["counters"]:
            key = (tenant, source, call_type, start)
            engine._counters[key] = list(values)
            engine._within[key] = list(within)
        for tenant, source, to_source, start, trigger, count in snapshot["targets"]:
            engine._targets[(tenant, source, to_source, start, trigger)] = count
        for initial, tenant, source, call_type, start, last_ms, counted, caller, arrived in snapshot["calls"]:
            engine._calls[initial] = _Call(
                (tenant, source, call_type, start), last_ms, counted, caller, arrived
            )
        engine._callers = [CallerContact(*contact) for contact in snapshot["callers"]]
        engine._final = {tuple(key) for key in snapshot["final"]}
        engine._dirty = {tuple(key) for key in snapshot["dirty"]}
        engine._dirty_targets = {tuple(key) for key in snapshot["dirty_targets"]}
        return engine
