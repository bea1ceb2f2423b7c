"""Per-source quality as raw counters per (tenant, source, call type, interval): every service-level variant,
ASA, abandonment, AHT, transfers, QA and CSAT are ratios of these, computed in SQL.

Pure: contact events and vendor reports in, rows out; no clock, no I/O. Definitions:
- a contact *leg* is offered to a source when it enters that source's queue (`contact.queued`); a call
  overflowed from the in-house queue to a vendor is offered to both queues, and counted once per customer
  call in the overflow table instead;
- a leg an internal transfer queued (`transferred_in`) is the same call again: counted as transferred in, and
  not in offered, answered, abandoned or their waits (it cannot abandon, so it would raise service level);
  its handle time, transfers and scores count like any handled leg's. Its answer may be read before its
  queue entry (out-of-order input): the leg remembers what it counted and takes it back;
- every figure of a leg is attributed to the interval in which it entered the queue (arrival attribution, as
  Genesys counts Offered), so an interval's service level never changes sign as answers trickle in;
- answered within T: queue wait <= T; short abandon: abandoned after < `short_abandon_s` in queue;
- handle time = talk + hold + after-contact work, counted for legs that ended (`handled`).
Where the setup hides a vendor's calls, its row comes from the vendor's interval report: the counts the
report carries (its agents' time on queue too, where it gives it), and NULL with `hidden_reason` for everything
it does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any
from typing import NamedTuple

from streams.engine.config import HIDDEN_VENDOR_CALLS
from streams.engine.config import EngineConfig
from streams.engine.intervals import Counts
from streams.engine.intervals import IntervalTable
from streams.engine.intervals import Leg
from streams.engine.intervals import Timeline
from streams.engine.intervals import answer_code
from streams.engine.timebase import floor
from streams.engine.timebase import from_ms
from streams.engine.timebase import to_ms
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactOverflowed
from streams.events import ContactQuality
from streams.events import ContactQueued
from streams.events import ContactRedirected
from streams.events import ContactTransferred
from streams.events import ContactWrapupEnded
from streams.events import Event
from streams.events import VendorIntervalReport


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
    transferred_in: int | None
    overflowed_out: int | None
    qa_sum: float | None
    qa_count: int | None
    csat_sum: int | None
    csat_count: int | None
    # Agents' time on queue as a vendor's report gives it (NULL on rows from events: agent states give it there).
    staffed_ms: int | None
    hidden_reason: str
    is_final: int
    version: int


QUALITY_KEY = ("tenant", "source", "call_type", "interval_start", "stream_partition", "observed_via")

Key = tuple[str, str, str, int]  # tenant, source, call type, interval start ms


@dataclass(slots=True)
class QualityCounts(Counts):
    """A key's counters from the events; a new counter is one line here (and one column of `QualityRow`)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    wait_answered_ms: int = 0
    wait_abandoned_ms: int = 0
    handled: int = 0
    talk_ms: int = 0
    hold_ms: int = 0
    acw_ms: int = 0
    transferred: int = 0
    overflowed_out: int = 0
    qa_sum: float = 0.0
    qa_count: int = 0
    csat_sum: int = 0
    csat_count: int = 0
    # Per service-level threshold (`EngineConfig.service_thresholds_s`): waits at or under it.
    answered_within: list[int] = field(default_factory=list)
    abandoned_within: list[int] = field(default_factory=list)
    # Counters added later go last: a checkpoint stores them by position and an older one lacks them.
    transferred_in: int = 0


def _never_empty() -> VendorIntervalReport:
    raise AssertionError("vendor reports are put whole, never counted into")


class QualityEngine:
    """One per partition of the contact-events topic (or of the vendor-reports topic)."""

    def __init__(self, partition: int, config: EngineConfig, time: Timeline | None = None) -> None:
        self.partition = partition
        self.config = config
        self.time = time = time or Timeline.of(config)
        self._width = config.interval_ms
        self._thresholds_ms = [t * 1000 for t in config.service_thresholds_s]
        self._short_ms = config.short_abandon_s * 1000
        n = len(self._thresholds_ms)
        self._counts = time.table(lambda: QualityCounts(answered_within=[0] * n, abandoned_within=[0] * n))
        # The latest vendor report per key; a report is never created empty, only `put`.
        self._reports: IntervalTable[Key, VendorIntervalReport] = time.table(_never_empty)
        self._legs = time.contacts(config.contact_state_ms)

    # --- input ------------------------------------------------------------------------------------------

    def apply(self, events: Iterable[tuple[int, Event]]) -> None:
        last = -1
        counts_at = self._counts.at
        for offset, event in events:
            if offset > last:
                last = offset
            if isinstance(event, VendorIntervalReport):
                # A re-sent report for the same interval replaces the earlier one: reports are totals, not deltas.
                start = to_ms(event.interval_start)
                self._reports.put((event.tenant, event.source, event.call_type, start), event)
                continue
            ts_ms = to_ms(event.ts)
            if isinstance(event, ContactQueued):
                key = (event.tenant, event.source, event.call_type, floor(ts_ms, self._width))
                known = self._legs.items.get(event.contact_id)
                self._legs.items[event.contact_id] = Leg(key, ts_ms, event.transferred_in)
                counts = counts_at(key)
                if not event.transferred_in:
                    counts.offered += 1
                    continue
                counts.transferred_in += 1
                if known is not None and known.counted is not None:
                    self._outcome(counts_at(known.key), known.counted, -1)
            elif isinstance(event, (ContactAnswered, ContactAbandoned)):
                outcome_leg = self._leg(event, ts_ms - event.wait_ms, ts_ms)
                if outcome_leg.transfer_in:
                    continue
                outcome_leg.counted = answer_code(event.wait_ms, isinstance(event, ContactAnswered))
                self._outcome(counts_at(outcome_leg.key), outcome_leg.counted, 1)
            elif isinstance(event, ContactOverflowed):
                # Overflow out of a queue the leg really entered (not a redirect at arrival).
                entered = self._legs.items.get(event.contact_id)
                if entered is not None:
                    counts_at(entered.key).overflowed_out += 1
                    entered.last_ms = ts_ms
            elif isinstance(event, ContactRedirected):
                entered = self._legs.items.get(event.contact_id)
                if entered is not None and event.handoff != "accepted":
                    # The hand-off failed or bounced: the caller never left this queue after all.
                    counts_at(entered.key).overflowed_out -= 1
            elif isinstance(event, ContactEnded):
                counts = counts_at(self._leg_key(event, ts_ms, ts_ms))
                counts.handled += 1
                counts.talk_ms += event.talk_ms
                counts.hold_ms += event.hold_ms
            elif isinstance(event, ContactWrapupEnded):
                counts_at(self._leg_key(event, ts_ms, ts_ms)).acw_ms += event.acw_ms
            elif isinstance(event, ContactTransferred):
                counts_at(self._leg_key(event, ts_ms, ts_ms)).transferred += 1
            elif isinstance(event, ContactQuality):
                counts = counts_at(self._leg_key(event, ts_ms, ts_ms))
                if event.qa_score is not None:
                    counts.qa_sum += event.qa_score
                    counts.qa_count += 1
                if event.csat is not None:
                    counts.csat_sum += event.csat
                    counts.csat_count += 1
        self.time.applied(last)

    def _outcome(self, counts: QualityCounts, code: int, sign: int) -> None:
        """Count (sign 1) or take back (-1) an outcome coded by `answer_code`."""
        if code >= 0:
            wait, within = code, counts.answered_within
            counts.answered += sign
            counts.wait_answered_ms += sign * wait
        else:
            wait, within = -1 - code, counts.abandoned_within
            counts.abandoned += sign
            counts.wait_abandoned_ms += sign * wait
            if wait < self._short_ms:
                counts.short_abandoned += sign
        for i, threshold in enumerate(self._thresholds_ms):
            if wait <= threshold:
                within[i] += sign

    def _leg(self, event: Any, enqueued_ms: int, ts_ms: int) -> Leg:
        """The leg an event belongs to, keyed by the interval its queue entry was counted in."""
        leg = self._legs.items.get(event.contact_id)
        if leg is None or leg.key[1] != event.source:
            # No queued event seen (or it was at another source): the wait dates the queue entry.
            key = (event.tenant, event.source, event.call_type, floor(enqueued_ms, self._width))
            leg = self._legs.items[event.contact_id] = Leg(key, ts_ms)
        leg.last_ms = ts_ms
        return leg

    def _leg_key(self, event: Any, enqueued_ms: int, ts_ms: int) -> Key:
        return self._leg(event, enqueued_ms, ts_ms).key

    # --- output -------------------------------------------------------------------------------------------

    def drain_rows(self) -> list[QualityRow]:
        thresholds = list(self.config.service_thresholds_s)
        version = self.time.version
        rows = [
            self._event_row(key, counts, thresholds, final, version(final))
            for key, counts, final in self._counts.drain()
        ]
        rows += [
            self._report_row(key, report, thresholds, final, version(final))
            for key, report, final in self._reports.drain()
        ]
        return rows

    def _event_row(
        self, key: Key, c: QualityCounts, thresholds: list[int], final: bool, version: int
    ) -> QualityRow:
        tenant, source, call_type, start = key
        return QualityRow(
            tenant, source, call_type, from_ms(start), self.config.interval_minutes, self.partition, "events",
            c.offered, c.answered, c.abandoned, c.short_abandoned,
            thresholds, list(c.answered_within), list(c.abandoned_within),
            c.wait_answered_ms, c.wait_abandoned_ms, c.handled, c.talk_ms + c.hold_ms + c.acw_ms,
            c.talk_ms, c.hold_ms, c.acw_ms, c.transferred, c.transferred_in, c.overflowed_out,
            float(c.qa_sum), c.qa_count, c.csat_sum, c.csat_count, None,
            "", int(final), version,
        )  # fmt: skip

    def _report_row(
        self, key: Key, report: VendorIntervalReport, thresholds: list[int], final: bool, version: int
    ) -> QualityRow:
        tenant, source, call_type, start = key
        setup = self.config.tenant(tenant).setup
        reason = HIDDEN_VENDOR_CALLS.get(setup, "vendor interval report")
        handled = report.answered if report.handled is None else report.handled
        within: list[int | None] = [
            report.answered_within_target if threshold == report.target_s else None
            for threshold in thresholds
        ]
        return QualityRow(
            tenant, source, call_type, from_ms(start), report.interval_minutes, self.partition, "vendor_report",
            report.offered, report.answered, report.abandoned, None,
            thresholds, within, [None] * len(thresholds),
            None, None, handled, report.handle_ms, None, None, None, report.transferred, None, None,
            report.qa_sum, report.qa_count, report.csat_sum, report.csat_count, report.staffed_ms,
            reason, int(final), version,
        )  # fmt: skip

    # --- checkpoint ---------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-able data; `restore` of it, then the same input, gives the same rows as never stopping."""
        return {
            "counts": self._counts.snapshot(QualityCounts.dump),
            "reports": self._reports.snapshot(lambda report: [report.model_dump(mode="json")]),
            "legs": self._legs.snapshot(Leg.dump),
        }

    def load(self, snapshot: dict[str, Any]) -> None:
        """Fill this new engine from `snapshot`; its timeline is restored by the partition that owns it."""
        self._counts.restore(snapshot["counts"], QualityCounts.load)
        self._reports.restore(
            snapshot["reports"], lambda values: VendorIntervalReport.model_validate(values[0])
        )
        self._legs.restore(snapshot["legs"], Leg.loader(4))
