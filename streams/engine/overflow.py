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

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any
from typing import NamedTuple

from streams.engine.config import HIDDEN_ROUTING
from streams.engine.config import HIDDEN_VENDOR_OUTCOME
from streams.engine.config import EngineConfig
from streams.engine.intervals import Counts
from streams.engine.intervals import Timeline
from streams.engine.timebase import floor
from streams.engine.timebase import from_ms
from streams.engine.timebase import to_ms
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactOffered
from streams.events import ContactOverflowed
from streams.events import ContactRedirected
from streams.events import Event


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


@dataclass(slots=True)
class OverflowCounts(Counts):
    """A key's counters, named as the columns of `OverflowRow`."""

    arrived: int = 0
    overflowed: int = 0
    overflowed_timeout: int = 0
    overflowed_split: int = 0
    overflowed_call_type: int = 0
    overflow_wait_ms: int = 0
    redirect_accepted: int = 0
    redirect_failed: int = 0
    redirect_returned: int = 0
    e2e_answered: int = 0
    e2e_abandoned: int = 0
    e2e_hidden: int = 0
    e2e_wait_answered_ms: int = 0
    # Per service-level threshold: answered within it, from the first enqueue.
    e2e_answered_within: list[int] = field(default_factory=list)


@dataclass(slots=True)
class TargetCounts(Counts):
    overflowed: int = 0


@dataclass(slots=True)
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


def _shown(value: int, visible: bool) -> int | None:
    return value if visible else None


class OverflowEngine:
    """One per partition of the contact-events topic; keyed by `initial_contact_id`, a call's legs are all here."""

    def __init__(self, partition: int, config: EngineConfig, time: Timeline | None = None) -> None:
        self.partition = partition
        self.config = config
        self.time = time = time or Timeline.of(config)
        self._width = config.interval_ms
        self._thresholds_ms = [t * 1000 for t in config.service_thresholds_s]
        n = len(self._thresholds_ms)
        self._counts = time.table(lambda: OverflowCounts(e2e_answered_within=[0] * n))
        self._targets = time.table(TargetCounts, key_length=5)
        self._calls = time.contacts(config.contact_state_ms)
        self._callers: list[CallerContact] = []

    def apply(self, events: Iterable[tuple[int, Event]]) -> None:
        last = -1
        calls = self._calls.items
        counts_at = self._counts.at
        for offset, event in events:
            if offset > last:
                last = offset
            if isinstance(event, ContactOffered):
                if event.entry != "enterprise_acd" or event.contact_id != event.initial_contact_id:
                    continue  # arrivals at the network, and the vendor leg of an overflow, are not arrivals here
                ts_ms = to_ms(event.ts)
                key = (event.tenant, event.source, event.call_type, floor(ts_ms, self._width))
                calls[event.initial_contact_id] = _Call(key, ts_ms, False, event.caller_hash, ts_ms)
                counts_at(key).arrived += 1
                continue
            call = calls.get(getattr(event, "initial_contact_id", ""))
            if call is None:
                continue  # a call that did not arrive at the enterprise ACD (network-delivered to a vendor)
            call.last_ms = to_ms(event.ts)
            if isinstance(event, ContactOverflowed):
                counts = counts_at(call.key)
                counts.overflowed += 1
                if event.trigger == "timeout":
                    counts.overflowed_timeout += 1
                elif event.trigger == "split":
                    counts.overflowed_split += 1
                else:
                    counts.overflowed_call_type += 1
                counts.overflow_wait_ms += event.wait_ms
                self._targets.at(
                    (event.tenant, event.source, event.to_source, call.key[3], event.trigger)
                ).overflowed += 1
            elif isinstance(event, ContactRedirected):
                counts = counts_at(call.key)
                if event.handoff == "accepted":
                    counts.redirect_accepted += 1
                    if not call.outcome_counted:
                        call.outcome_counted = True
                        counts.e2e_hidden += 1
                        self._outcome(event.initial_contact_id, call, event.to_source)
                elif event.handoff == "failed":
                    counts.redirect_failed += 1
                else:
                    counts.redirect_returned += 1
            elif isinstance(event, (ContactAnswered, ContactAbandoned)) and not call.outcome_counted:
                call.outcome_counted = True
                answered = isinstance(event, ContactAnswered)
                self._outcome(event.initial_contact_id, call, event.source if answered else None)
                total = event.total_wait_ms if event.total_wait_ms is not None else event.wait_ms
                counts = counts_at(call.key)
                if answered:
                    counts.e2e_answered += 1
                    counts.e2e_wait_answered_ms += total
                    within = counts.e2e_answered_within
                    for i, threshold in enumerate(self._thresholds_ms):
                        if total <= threshold:
                            within[i] += 1
                else:
                    counts.e2e_abandoned += 1
        self.time.applied(last)

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

    def drain_rows(self) -> tuple[list[OverflowRow], list[OverflowTargetRow]]:
        thresholds = list(self.config.service_thresholds_s)
        minutes = self.config.interval_minutes
        version = self.time.version
        rows = []
        for key, c, final in self._counts.drain():
            tenant, source, call_type, start = key
            setup = self.config.tenant(tenant).setup
            routing_seen = setup != "network_delivered"
            redirects_seen = setup == "enterprise_routed"
            reasons = []
            if not routing_seen:
                reasons.append(HIDDEN_ROUTING)
            if c.e2e_hidden:
                reasons.append(HIDDEN_VENDOR_OUTCOME)
            rows.append(
                OverflowRow(
                    tenant, source, call_type, from_ms(start), minutes, self.partition, c.arrived,
                    _shown(c.overflowed, routing_seen), _shown(c.overflowed_timeout, routing_seen),
                    _shown(c.overflowed_split, routing_seen), _shown(c.overflowed_call_type, routing_seen),
                    _shown(c.overflow_wait_ms, routing_seen), _shown(c.redirect_accepted, redirects_seen),
                    _shown(c.redirect_failed, redirects_seen), _shown(c.redirect_returned, redirects_seen),
                    thresholds,
                    c.e2e_answered, list(c.e2e_answered_within), c.e2e_abandoned, c.e2e_wait_answered_ms,
                    c.e2e_hidden, "; ".join(reasons), int(final), version(final),
                )
            )  # fmt: skip
        targets = [
            OverflowTargetRow(
                tenant,
                source,
                to_source,
                from_ms(start),
                minutes,
                self.partition,
                trigger,
                target.overflowed,
                int(final),
                version(final),
            )
            for (tenant, source, to_source, start, trigger), target, final in self._targets.drain()
        ]
        return rows, targets

    # --- checkpoint ---------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-able data; `restore` of it, then the same input, gives the same rows as never stopping."""
        return {
            "counts": self._counts.snapshot(OverflowCounts.dump),
            "targets": self._targets.snapshot(TargetCounts.dump),
            "calls": self._calls.snapshot(
                lambda call: [
                    *call.key,
                    call.last_ms,
                    call.outcome_counted,
                    call.caller_hash,
                    call.arrived_ms,
                ]
            ),
            "callers": [list(contact) for contact in self._callers],
        }

    def load(self, snapshot: dict[str, Any]) -> None:
        """Fill this new engine from `snapshot`; its timeline is restored by the partition that owns it."""
        self._counts.restore(snapshot["counts"], OverflowCounts.load)
        self._targets.restore(snapshot["targets"], TargetCounts.load)
        self._calls.restore(
            snapshot["calls"], lambda v: _Call((v[0], v[1], v[2], v[3]), v[4], v[5], v[6], v[7])
        )
        self._callers = [CallerContact(*contact) for contact in snapshot["callers"]]
