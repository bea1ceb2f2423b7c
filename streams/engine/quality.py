"""Per-source quality as raw counters per (tenant, source, call type, interval): every service-level variant,
ASA, abandonment, AHT, transfers, QA and CSAT are ratios of these, computed in SQL.

Pure: contact events and vendor reports in, rows out; no clock, no I/O. Definitions:
- a contact *leg* is offered to a source when it enters that source's queue (`contact.queued`); a call
  overflowed from the in-house queue to a vendor is offered to both queues, and counted once per customer
  call in the overflow table instead;
- every figure of a leg is attributed to the interval in which it entered the queue (arrival attribution, as
  Genesys counts Offered), so an interval's service level never changes sign as answers trickle in;
- answered within T: queue wait <= T; short abandon: abandoned after < `short_abandon_s` in queue;
- handle time = talk + hold + after-contact work, counted for legs that ended (`handled`).
Where the setup hides a vendor's calls, its row comes from the vendor's interval report: the counts the
report carries, and NULL with `hidden_reason` for everything it does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from streams.engine.config import HIDDEN_VENDOR_CALLS, EngineConfig
from streams.engine.timebase import floor, from_ms, to_ms
from streams.events import (
    ContactAbandoned,
    ContactAnswered,
    ContactEnded,
    ContactOverflowed,
    ContactQuality,
    ContactQueued,
    ContactRedirected,
    ContactTransferred,
    ContactWrapupEnded,
    Event,
    VendorIntervalReport,
)

# Positions in a key's counter list.
OFFERED, ANSWERED, ABANDONED, SHORT, WAIT_ANS, WAIT_AB, HANDLED, TALK, HOLD, ACW, TRANSFERRED, OVERFLOWED = (
    range(12)
)
QA_SUM, QA_N, CSAT_SUM, CSAT_N = range(12, 16)
_WIDTH = 16


class QualityRow(NamedTuple):
    tenant: str
    source: str
    call_type: str
    interval_start: datetime
    interval_minutes: int
    stream_partition: int
    observed_via: str  # events | vendor_report
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int | None
    thresholds_s: list[int]
    answered_within: list[int | None]
    abandoned_within: list[int | None]
    wait_answered_ms: int | None
    wait_abandoned_ms: int | None
    handled: int
    handle_ms: int
    talk_ms: int | None
    hold_ms: int | None
    acw_ms: int | None
    transferred: int | None
    overflowed_out: int | None
    qa_sum: float | None
    qa_count: int | None
    csat_sum: int | None
    csat_count: int | None
    hidden_reason: str
    is_final: int
    version: int


QUALITY_KEY = ("tenant", "source", "call_type", "interval_start", "stream_partition", "observed_via")

Key = tuple[str, str, str, int]  # tenant, source, call type, interval start ms


@dataclass
class _Leg:
    key: Key
    last_ms: int


@dataclass
class _Counters:
    values: list[float] = field(default_factory=lambda: [0] * _WIDTH)
    answered_within: list[int] = field(default_factory=list)
    abandoned_within: list[int] = field(default_factory=list)


@dataclass
class _Report:
    report: VendorIntervalReport
    interval_ms: int


class QualityEngine:
    """One per partition of the contact-events topic (or of the vendor-reports topic)."""

    def __init__(self, partition: int, config: EngineConfig) -> None:
        self.partition = partition
        self.config = config
        self._width = config.interval_ms
        self._thresholds_ms = [t * 1000 for t in config.service_thresholds_s]
        self._short_ms = config.short_abandon_s * 1000
        self._counters: dict[Key, _Counters] = {}
        self._reports: dict[Key, _Report] = {}
        self._legs: dict[str, _Leg] = {}
        self._dirty: set[Key] = set()
        self._final: set[Key] = set()
        self._unscanned: set[Key] = set()  # keys created since the last advance of their tenant
        self._version = 0
        self._watermarks: dict[str, int] = {}
        self._next_sweep: dict[str, int] = {}  # per tenant: when contact state is next swept

    # --- input ------------------------------------------------------------------------------------------

    def apply(self, offset: int, event: Event, ts_ms: int) -> None:
        self._version = max(self._version, offset * 2)
        if isinstance(event, ContactQueued):
            key = (event.tenant, event.source, event.call_type, floor(ts_ms, self._width))
            self._legs[event.contact_id] = _Leg(key, ts_ms)
            self._add(key)[OFFERED] += 1
        elif isinstance(event, ContactAnswered):
            key = self._leg_key(
                event.contact_id, event.tenant, event.source, event.call_type, ts_ms - event.wait_ms, ts_ms
            )
            counters = self._counters_of(key)
            counters.values[ANSWERED] += 1
            counters.values[WAIT_ANS] += event.wait_ms
            for i, threshold in enumerate(self._thresholds_ms):
                if event.wait_ms <= threshold:
                    counters.answered_within[i] += 1
        elif isinstance(event, ContactAbandoned):
            key = self._leg_key(
                event.contact_id, event.tenant, event.source, event.call_type, ts_ms - event.wait_ms, ts_ms
            )
            counters = self._counters_of(key)
            counters.values[ABANDONED] += 1
            counters.values[WAIT_AB] += event.wait_ms
            if event.wait_ms < self._short_ms:
                counters.values[SHORT] += 1
            for i, threshold in enumerate(self._thresholds_ms):
                if event.wait_ms <= threshold:
                    counters.abandoned_within[i] += 1
        elif isinstance(event, ContactOverflowed):
            leg = self._legs.get(event.contact_id)
            if leg is not None:  # overflow out of a queue the leg really entered (not a redirect at arrival)
                self._add(leg.key)[OVERFLOWED] += 1
                leg.last_ms = ts_ms
        elif isinstance(event, ContactRedirected):
            leg = self._legs.get(event.contact_id)
            if leg is not None and event.handoff != "accepted":
                # The hand-off failed or bounced: the caller never left this queue after all.
                self._add(leg.key)[OVERFLOWED] -= 1
        elif isinstance(event, ContactEnded):
            key = self._leg_key(event.contact_id, event.tenant, event.source, event.call_type, ts_ms, ts_ms)
            values = self._add(key)
            values[HANDLED] += 1
            values[TALK] += event.talk_ms
            values[HOLD] += event.hold_ms
        elif isinstance(event, ContactWrapupEnded):
            key = self._leg_key(event.contact_id, event.tenant, event.source, event.call_type, ts_ms, ts_ms)
            self._add(key)[ACW] += event.acw_ms
        elif isinstance(event, ContactTransferred):
            key = self._leg_key(event.contact_id, event.tenant, event.source, event.call_type, ts_ms, ts_ms)
            self._add(key)[TRANSFERRED] += 1
        elif isinstance(event, ContactQuality):
            key = self._leg_key(event.contact_id, event.tenant, event.source, event.call_type, ts_ms, ts_ms)
            values = self._add(key)
            if event.qa_score is not None:
                values[QA_SUM] += event.qa_score
                values[QA_N] += 1
            if event.csat is not None:
                values[CSAT_SUM] += event.csat
                values[CSAT_N] += 1
        elif isinstance(event, VendorIntervalReport):
            start = to_ms(event.interval_start)
            key = (event.tenant, event.source, event.call_type, start)
            # A re-sent report for the same interval replaces the earlier one: reports are totals, not deltas.
            self._reports[key] = _Report(event, start)
            self._dirty.add(key)
            self._unscanned.add(key)

    def _leg_key(
        self, contact_id: str, tenant: str, source: str, call_type: str, enqueued_ms: int, ts_ms: int
    ) -> Key:
        leg = self._legs.get(contact_id)
        if leg is None or leg.key[1] != source:
            # No queued event seen (or it was at another source): the wait dates the queue entry.
            leg = self._legs[contact_id] = _Leg(
                (tenant, source, call_type, floor(enqueued_ms, self._width)), ts_ms
            )
        leg.last_ms = ts_ms
        return leg.key

    def _counters_of(self, key: Key) -> _Counters:
        counters = self._counters.get(key)
        if counters is None:
            n = len(self._thresholds_ms)
            counters = self._counters[key] = _Counters(answered_within=[0] * n, abandoned_within=[0] * n)
            self._unscanned.add(key)
        self._dirty.add(key)
        return counters

    def _add(self, key: Key) -> list[float]:
        return self._counters_of(key).values

    # --- time ---------------------------------------------------------------------------------------------

    def advance(self, watermark_ms: int, tenant: str) -> None:
        """A tenant's intervals ending at or before its watermark are final: their rows go out once more,
        flagged final. State older than the retention horizon is dropped (its rows were written long ago).

        Called after every batch, so it must not cost O(state): an interval can only become final when the
        watermark crosses an interval boundary, or when its key is new; everything else waits for a crossing.
        """
        previous = self._watermarks.get(tenant, -(2**62))
        # Keys new since the last advance are looked at even when the watermark stands still: a late event's
        # interval may be behind it already, and must be flagged final now, not at the next move (a checkpoint
        # taken meanwhile would forget it was pending).
        watermark_ms = max(watermark_ms, previous)
        self._watermarks[tenant] = watermark_ms
        crossed = watermark_ms // self._width != previous // self._width
        fresh = [key for key in self._unscanned if key[0] == tenant]
        self._unscanned.difference_update(fresh)
        for key in (list(self._counters) + list(self._reports)) if crossed else fresh:
            if key[0] == tenant and key[3] + self._width <= watermark_ms and key not in self._final:
                self._final.add(key)
                self._dirty.add(key)
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
            self._final.discard(key)
        for key in [
            k
            for k in self._reports
            if k[0] == tenant and k[3] + self._width <= horizon and k not in self._dirty
        ]:
            del self._reports[key]
            self._final.discard(key)
        # A contact's own state lives `contact_state_hours` after its last event (later events, a QA score days
        # later, are dated by their own time). Swept four times per that span, so each contact is looked at a
        # handful of times in its life, not once per interval.
        if watermark_ms < self._next_sweep.get(tenant, -(2**62)):
            return
        self._next_sweep[tenant] = watermark_ms + self.config.contact_state_ms // 4
        contacts_horizon = watermark_ms - self.config.contact_state_ms
        for contact_id in [
            c for c, leg in self._legs.items() if leg.key[0] == tenant and leg.last_ms <= contacts_horizon
        ]:
            del self._legs[contact_id]

    # --- output -------------------------------------------------------------------------------------------

    def drain_rows(self) -> list[QualityRow]:
        rows = []
        thresholds = list(self.config.service_thresholds_s)
        for key in sorted(self._dirty):
            final = int(key in self._final)
            version = self._version + final
            counters = self._counters.get(key)
            if counters is not None:
                rows.append(self._event_row(key, counters, thresholds, final, version))
            report = self._reports.get(key)
            if report is not None:
                rows.append(self._report_row(key, report.report, thresholds, final, version))
        self._dirty.clear()
        return rows

    def _event_row(
        self, key: Key, c: _Counters, thresholds: list[int], final: int, version: int
    ) -> QualityRow:
        v = c.values
        tenant, source, call_type, start = key
        return QualityRow(
            tenant, source, call_type, from_ms(start), self.config.interval_minutes, self.partition, "events",
            int(v[OFFERED]), int(v[ANSWERED]), int(v[ABANDONED]), int(v[SHORT]),
            thresholds, list(c.answered_within), list(c.abandoned_within),
            int(v[WAIT_ANS]), int(v[WAIT_AB]), int(v[HANDLED]), int(v[TALK] + v[HOLD] + v[ACW]),
            int(v[TALK]), int(v[HOLD]), int(v[ACW]), int(v[TRANSFERRED]), int(v[OVERFLOWED]),
            float(v[QA_SUM]), int(v[QA_N]), int(v[CSAT_SUM]), int(v[CSAT_N]),
            "", final, version,
        )  # fmt: skip

    def _report_row(
        self, key: Key, report: VendorIntervalReport, thresholds: list[int], final: int, version: int
    ) -> QualityRow:
        tenant, source, call_type, start = key
        setup = self.config.tenant(tenant).setup
        reason = HIDDEN_VENDOR_CALLS.get(setup, "vendor interval report")
        within: list[int | None] = [
            report.answered_within_target if threshold == report.target_s else None
            for threshold in thresholds
        ]
        return QualityRow(
            tenant, source, call_type, from_ms(start), report.interval_minutes, self.partition, "vendor_report",
            report.offered, report.answered, report.abandoned, None,
            thresholds, within, [None] * len(thresholds),
            None, None, report.answered, report.handle_ms, None, None, None, None, None,
            None, None, None, None,
            reason, final, version,
        )  # fmt: skip

    # --- checkpoint ---------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-able data; `restore` of it, then the same input, gives the same rows as never stopping."""
        return {
            "partition": self.partition,
            "version": self._version,
            "watermarks": dict(self._watermarks),
            "counters": [
                [*key, c.values, c.answered_within, c.abandoned_within] for key, c in self._counters.items()
            ],
            "reports": [[*key, r.report.model_dump(mode="json")] for key, r in self._reports.items()],
            "legs": [[contact, *leg.key, leg.last_ms] for contact, leg in self._legs.items()],
            "final": [list(key) for key in self._final],
            "dirty": [list(key) for key in self._dirty],
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any], config: EngineConfig) -> QualityEngine:
        engine = cls(snapshot["partition"], config)
        engine._version = snapshot["version"]
        engine._watermarks = dict(snapshot["watermarks"])
        for tenant, source, call_type, start, values, answered, abandoned in snapshot["counters"]:
            engine._counters[(tenant, source, call_type, start)] = _Counters(
                list(values), list(answered), list(abandoned)
            )
        for tenant, source, call_type, start, report in snapshot["reports"]:
            engine._reports[(tenant, source, call_type, start)] = _Report(
                VendorIntervalReport.model_validate(report), start
            )
        for contact, tenant, source, call_type, start, last_ms in snapshot["legs"]:
            engine._legs[contact] = _Leg((tenant, source, call_type, start), last_ms)
        engine._final = {tuple(key) for key in snapshot["final"]}
        engine._dirty = {tuple(key) for key in snapshot["dirty"]}
        return engine
