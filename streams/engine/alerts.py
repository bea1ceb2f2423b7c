"""Alerts: a tenant's rules (`AlertRules`) judged on event time, each alert fired once and resolved once.

Contact events are spread over partitions by contact, so no partition sees a source's whole interval. Each
contact (and vendor-report) partition therefore hands on, as it drains, the partial counters of the rows it
wrote and its watermark per tenant (`AlertInput`, made by `alert_inputs` from the very rows the warehouse gets);
they are re-keyed by tenant to one alert stage (`AlertEngine`), which sums a source's partials as the
dashboards do and decides an interval once it is final in every partition that has carried that source: the
lowest of their watermarks has passed its end. What an interval held then is what it is judged on; a row
corrected after that (an event later than the allowed lateness) changes the dashboards, not the decision, and is
counted in `late_rows`.

Exact under restarts: a partial replaces the one before it only with a version at least as high (a partition
re-reading after a crash sends older versions again, which are ignored), watermarks only move forward, and the
stage's own state is checkpointed like every engine's, so a transition re-derived after a restart is the same
row (same id, same idempotency key, same version) and replaces itself downstream.

Pure: no clock, no I/O; the edge routes inputs in and transitions (`AlertRow`) out.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import NamedTuple

from streams.engine.config import HIDDEN_VENDOR_CALLS
from streams.engine.config import AlertRules
from streams.engine.config import EngineConfig
from streams.engine.config import RateRule
from streams.engine.overflow import OverflowRow
from streams.engine.quality import QualityRow
from streams.engine.queue import QueueSample
from streams.engine.timebase import NEVER
from streams.engine.timebase import floor
from streams.engine.timebase import from_ms
from streams.engine.timebase import to_ms

DAY_MS = 86_400_000
RULES = ("service_level", "chronic_intervals", "chronic_days", "abandonment", "overflow")


class QualityPart(NamedTuple):
    """One partition's cumulative counters of a `quality_interval` row, as far as the rules read them."""

    source: str
    call_type: str
    interval_ms: int
    observed_via: str
    version: int
    offered: int
    abandoned: int
    answered_in_sla: int | None  # answered within the source's SLA threshold; None: not observable


class OverflowPart(NamedTuple):
    """One partition's cumulative counters of an `overflow_interval` row (the primary source's queue)."""

    source: str
    call_type: str
    interval_ms: int
    version: int
    arrived: int
    # Calls that waited the overflow threshold in the queue and went to a vendor (not those a split, a call
    # type or a full engagement sends by design); None: the setup does not show the overflow.
    overflowed_timeout: int | None


class QueuePart(NamedTuple):
    """One partition's queue of a source at the end of the interval starting `interval_ms` (`QueueSample`)."""

    source: str
    interval_ms: int
    waiting: int
    oldest_queued_ms: int


class SevereSample(NamedTuple):
    """A source's agents severely out of adherence in one agent partition, at the end of the interval starting
    `interval_ms` (the board as of the watermark that crossed it)."""

    tenant: str
    source: str
    interval_ms: int
    agents: int


class SeverePart(NamedTuple):
    source: str
    interval_ms: int
    agents: int


class AlertInput(NamedTuple):
    """What one partition hands the alert stage about one tenant after a batch: the rows it drained and its
    watermark then (so the stage knows which intervals this partition will not change any more)."""

    # "<kind>:<partition>", with "/<partitions of the topic>" for a topic keyed by contact: "contact:3/4".
    upstream: str
    tenant: str
    watermark: int
    quality: list[QualityPart]
    overflow: list[OverflowPart]
    queue: list[QueuePart] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    severe: list[SeverePart] = []  # noqa: RUF012


class AlertRow(NamedTuple):
    """One transition of an alert: `fired`, then (at most once) `resolved`. `alert_id` names the alert (rule,
    source and the interval it fired on); `idempotency_key` names the transition, for the webhook receiver."""

    tenant: str
    alert_id: str
    transition: str
    rule: str
    source: str
    interval_start: datetime  # the interval (or day) whose figures made the transition
    decided_at: datetime  # its end: the event time the decision was made at
    value: float | None  # the figure judged (a service level, a rate)
    threshold: float
    streak: int  # intervals (days) in a row under target; 1 for a rate rule
    message: str
    idempotency_key: str
    version: int


ALERT_KEY = ("tenant", "alert_id", "transition")


def alert_inputs(
    upstream: str,
    rows: dict[str, list[Any]],
    marks: dict[str, int],
    config: EngineConfig,
    samples: Sequence[QueueSample] = (),
    severe_samples: Sequence[SevereSample] = (),
) -> list[AlertInput]:
    """The alert stage's input from one partition's drained rows (`quality_interval`, `overflow_interval`) and
    its watermarks, for every tenant that has alert rules and has rows or a watermark to tell."""
    quality: dict[str, list[QualityPart]] = {}
    overflow: dict[str, list[OverflowPart]] = {}
    row: Any
    for row in rows.get("quality_interval", ()):
        tenant_config = config.tenant(row.tenant)
        terms = tenant_config.sources.get(row.source)
        if terms is None or not tenant_config.alerts.any:
            continue
        quality.setdefault(row.tenant, []).append(_quality_part(row, terms.sla_threshold_s))
    for row in rows.get("overflow_interval", ()):
        if config.tenant(row.tenant).alerts.overflow is None:
            continue
        overflow.setdefault(row.tenant, []).append(_overflow_part(row))
    queue: dict[str, list[QueuePart]] = {}
    width = config.interval_ms
    for sample in samples:
        if sample.oldest_queued_ms is not None:
            part = QueuePart(sample.source, sample.at_ms - width, sample.waiting, sample.oldest_queued_ms)
            queue.setdefault(sample.tenant, []).append(part)
    severe: dict[str, list[SeverePart]] = {}
    for one in severe_samples:
        severe.setdefault(one.tenant, []).append(SeverePart(one.source, one.interval_ms, one.agents))
    return [
        AlertInput(upstream, tenant, mark, quality.get(tenant, []), overflow.get(tenant, []), queue.get(tenant, []),
                   severe.get(tenant, []))
        for tenant, mark in marks.items()
        if config.tenant(tenant).alerts.any
    ]  # fmt: skip


def _quality_part(row: QualityRow, threshold_s: int) -> QualityPart:
    in_sla = (
        row.answered_within[row.thresholds_s.index(threshold_s)] if threshold_s in row.thresholds_s else None
    )
    return QualityPart(
        row.source, row.call_type, to_ms(row.interval_start), row.observed_via, row.version, row.offered,
        row.abandoned, in_sla,
    )  # fmt: skip


def _overflow_part(row: OverflowRow) -> OverflowPart:
    return OverflowPart(
        row.primary_source, row.call_type, to_ms(row.interval_start), row.version, row.arrived,
        row.overflowed_timeout,
    )  # fmt: skip


@dataclass(slots=True)
class _Sums:
    """A source's interval (or day), summed over partitions as the dashboards sum them."""

    offered: int = 0
    abandoned: int = 0
    answered_in_sla: int | None = 0
    arrived: int = 0
    overflowed: int | None = 0
    has_quality: bool = False
    has_overflow: bool = False

    def add_quality(self, offered: int, abandoned: int, in_sla: int | None) -> None:
        self.has_quality = True
        self.offered += offered
        self.abandoned += abandoned
        self.answered_in_sla = (
            None if in_sla is None or self.answered_in_sla is None else self.answered_in_sla + in_sla
        )

    def add_overflow(self, arrived: int, overflowed: int | None) -> None:
        self.has_overflow = True
        self.arrived += arrived
        self.overflowed = (
            None if overflowed is None or self.overflowed is None else self.overflowed + overflowed
        )

    @property
    def service_level(self) -> float | None:
        """`acd_service_level`: answered within the threshold over offered; None with no traffic or unseen."""
        if not self.offered or self.answered_in_sla is None:
            return None
        return self.answered_in_sla / self.offered

    def dump(self) -> list[Any]:
        return [self.offered, self.abandoned, self.answered_in_sla, self.arrived, self.overflowed,
                self.has_quality, self.has_overflow]  # fmt: skip


@dataclass(slots=True)
class _Open:
    alert_id: str
    streak: int


SourceKey = tuple[str, str]  # tenant, source


@dataclass
class AlertCounts:
    """What the stage did, by name: decisions, transitions, and rows that came after their interval's decision."""

    intervals_decided: int = 0
    days_decided: int = 0
    fired: int = 0
    resolved: int = 0
    late_rows: int = 0  # partials for an interval already decided: in the dashboards, not in the decision
    stale_rows: int = 0  # partials older than one already held (re-sent after a restart): ignored


class AlertEngine:
    """The alert stage of one partition of the tenant-keyed alert-input topic (see the module docstring)."""

    def __init__(self, partition: int, config: EngineConfig) -> None:
        self.partition = partition
        self.config = config
        self._width = config.interval_ms
        # (tenant, source, interval) -> part key -> (version, counters): the latest partial of each row.
        self._quality: dict[tuple[str, str, int], dict[tuple[str, str, str], list[Any]]] = {}
        self._overflow: dict[tuple[str, str, int], dict[tuple[str, str], list[Any]]] = {}
        # (tenant, source, interval) -> upstream -> (legs waiting at its end, the earliest queued among them).
        self._queue: dict[tuple[str, str, int], dict[str, list[int]]] = {}
        # Agents severely out of adherence: (tenant, interval) -> upstream -> source -> agents, the agent
        # partitions that carried the tenant, and the last interval decided for it.
        self._severe: dict[tuple[str, int], dict[str, dict[str, int]]] = {}
        self._agent_carriers: dict[str, set[str]] = {}
        self._severe_decided: dict[str, int] = {}
        self._marks: dict[str, dict[str, int]] = {}  # tenant -> upstream -> watermark
        self._carriers: dict[SourceKey, set[str]] = {}  # the upstream partitions that carried the source
        # (tenant, source, upstream, interval) -> that partition's watermark with the interval's first report.
        self._report_seen: dict[tuple[str, str, str, int], int] = {}
        self._decided: dict[SourceKey, int] = {}  # the last interval start decided
        self._streak: dict[SourceKey, int] = {}  # intervals with traffic in a row under the SLA target
        self._days: dict[tuple[str, str, int], _Sums] = {}  # decided intervals summed per UTC day
        self._day_streak: dict[SourceKey, int] = {}
        self._open: dict[tuple[str, str, str], _Open] = {}  # (tenant, rule, source) -> the open alert
        self._out: list[AlertRow] = []
        self.version = -1
        self.counts = AlertCounts()

    # --- input ---------------------------------------------------------------------------------------------

    def apply(self, inputs: Iterable[tuple[int, AlertInput]]) -> None:
        for offset, item in inputs:
            if offset > self.version:
                self.version = offset
            if item.upstream.startswith("agent:"):
                self._agents(item)
                continue
            touched = self._fold(item)
            marks = self._marks.setdefault(item.tenant, {})
            if item.watermark > marks.get(item.upstream, NEVER):
                marks[item.upstream] = item.watermark
                touched.update(
                    key
                    for key, carriers in self._carriers.items()
                    if key[0] == item.tenant and item.upstream in carriers
                )
            for key in sorted(touched):
                self._decide(key)

    def _fold(self, item: AlertInput) -> set[SourceKey]:
        touched: set[SourceKey] = set()
        tenant, upstream = item.tenant, item.upstream
        # An interval's counts from this partition's events count up to the input that carries its watermark
        # past the interval's end (the partition cut its batch right there); what it sends later for it is late.
        # A vendor's interval report is a total, sent after its interval: it counts until the interval is decided.
        passed = self._marks.get(tenant, {}).get(upstream, NEVER) - self._width
        for q in item.quality:
            if q.observed_via == "events" and q.interval_ms <= passed:
                self.counts.late_rows += 1
                continue
            if self._accept(tenant, q.source, q.interval_ms, upstream, touched):
                if q.observed_via != "events":
                    self._report_seen.setdefault((tenant, q.source, upstream, q.interval_ms), item.watermark)
                parts = self._quality.setdefault((tenant, q.source, q.interval_ms), {})
                self._replace(parts, (q.call_type, q.observed_via, upstream), q.version,
                              [q.offered, q.abandoned, q.answered_in_sla])  # fmt: skip
        for w in item.queue:
            # Sampled as the partition's watermark crossed the interval's end, in this very input.
            if self._accept(tenant, w.source, w.interval_ms, upstream, touched):
                self._queue.setdefault((tenant, w.source, w.interval_ms), {})[upstream] = [
                    w.waiting,
                    w.oldest_queued_ms,
                ]
        for o in item.overflow:
            if o.interval_ms <= passed:
                self.counts.late_rows += 1
                continue
            if self._accept(tenant, o.source, o.interval_ms, upstream, touched):
                flows = self._overflow.setdefault((tenant, o.source, o.interval_ms), {})
                self._replace(flows, (o.call_type, upstream), o.version, [o.arrived, o.overflowed_timeout])
        return touched

    def _accept(
        self, tenant: str, source: str, interval_ms: int, upstream: str, touched: set[SourceKey]
    ) -> bool:
        key = (tenant, source)
        carriers = self._carriers.setdefault(key, set())
        if upstream not in carriers:
            carriers.add(upstream)
            # Contacts are spread over every partition of their topic by their id: each partition will carry
            # the source, so each is waited for from the first, not only those that happened to report first
            # (after a restart the partitions catch up at different speeds).
            kind, _, count = upstream.partition("/")
            if count:
                name = kind.split(":")[0]
                carriers.update(f"{name}:{p}/{count}" for p in range(int(count)))
        touched.add(key)
        if interval_ms <= self._decided.get(key, NEVER):
            self.counts.late_rows += 1
            return False
        return True

    def _replace(self, parts: dict[Any, list[Any]], key: Any, version: int, values: list[Any]) -> None:
        held = parts.get(key)
        if held is not None and held[0] > version:
            self.counts.stale_rows += 1
            return
        parts[key] = [version, *values]

    # --- decisions -----------------------------------------------------------------------------------------

    def _complete_until(self, key: SourceKey) -> int:
        """The lowest watermark of the partitions that carried the source: no interval ending at or before it
        will change in any of them (a late correction aside)."""
        marks = self._marks.get(key[0], {})
        return min((marks.get(upstream, NEVER) for upstream in self._carriers.get(key, ())), default=NEVER)

    def _reports_complete(self, key: SourceKey, start: int) -> bool:
        """A vendor reports an interval after it ends (half an hour later, say), one report per call type, sent
        together. The partition cuts its batches where its watermark crosses an interval boundary, and the
        first report of a batch can be the one that crosses: the others come in its next input. So an interval's
        reports from a partition are all in once that partition's watermark has crossed one more boundary after
        the input that brought the first of them."""
        tenant, source = key
        marks = self._marks.get(tenant, {})
        width = self._width
        for upstream in self._carriers.get(key, ()):
            seen = self._report_seen.get((tenant, source, upstream, start))
            if seen is not None and marks.get(upstream, NEVER) // width <= seen // width:
                return False
        return True

    def _decide(self, key: SourceKey) -> None:
        """The source's complete intervals, in order (a streak is a sequence): one that is not stops the later
        ones, and the days from it on."""
        tenant, source = key
        until = self._complete_until(key)
        last_final = until - self._width
        pending = sorted(
            {
                start
                for table in (self._quality, self._overflow, self._queue)
                for (t, s, start) in table
                if t == tenant and s == source and start <= last_final
            }
        )
        if pending and self.config.tenant(tenant).alerts.oldest_wait is not None and self._queue_seen(key):
            # An interval end with nobody waiting and no calls is a verdict too (the wait is over): every
            # interval from the first with data on is judged, a week of them at most after a gap.
            first = self._decided.get(key, pending[0] - self._width) + self._width
            first = max(first, last_final - 7 * DAY_MS // self._width * self._width)
            pending = sorted(set(pending) | set(range(first, last_final + 1, self._width)))
        for start in pending:
            if not self._reports_complete(key, start):
                until = start
                break
            self._decide_interval(key, start)
        for day in sorted(
            d for (t, s, d) in self._days if t == tenant and s == source and d + DAY_MS <= until
        ):
            self._decide_day(key, day)

    def _decide_interval(self, key: SourceKey, start: int) -> None:
        tenant, source = key
        sums = _Sums()
        for _, offered, abandoned, in_sla in self._quality.pop((tenant, source, start), {}).values():
            sums.add_quality(offered, abandoned, in_sla)
        for _, arrived, overflowed in self._overflow.pop((tenant, source, start), {}).values():
            sums.add_overflow(arrived, overflowed)
        queued = self._queue.pop((tenant, source, start), {})
        self._decided[key] = start
        for upstream in self._carriers.get(key, ()):
            self._report_seen.pop((tenant, source, upstream, start), None)
        self.counts.intervals_decided += 1
        rules = self.config.tenant(tenant).alerts
        end = start + self._width
        if sums.has_quality:
            day = self._days.setdefault((tenant, source, floor(start, DAY_MS)), _Sums())
            day.add_quality(sums.offered, sums.abandoned, sums.answered_in_sla)
            self._judge_service_level(key, rules, start, end, sums)
            if rules.abandonment is not None and sums.offered >= rules.abandonment.min_calls:
                rate = sums.abandoned / sums.offered
                self._judge_rate(key, "abandonment", rules.abandonment, start, end, rate, "abandonment")
        if rules.oldest_wait is not None and self._queue_seen(key):
            oldest = min((q[1] for q in queued.values()), default=None)
            wait_s = None if oldest is None else (end - oldest) / 1000
            self._judge_wait(
                key, rules.oldest_wait.above_s, start, end, wait_s, sum(q[0] for q in queued.values())
            )
        overflow = rules.overflow
        if (
            sums.has_overflow
            and overflow is not None
            and sums.overflowed is not None
            and sums.arrived >= overflow.min_calls
        ):
            rate = sums.overflowed / sums.arrived
            self._judge_rate(key, "overflow", overflow, start, end, rate, "overflow after a wait")

    def _judge_service_level(
        self, key: SourceKey, rules: AlertRules, start: int, end: int, sums: _Sums
    ) -> None:
        """Intervals without traffic, or whose service level is not observable, neither extend nor break the
        streak (as `source_metrics.streak`)."""
        level = sums.service_level
        if level is None:
            return
        tenant, source = key
        terms = self.config.tenant(tenant).sources[source]
        target = terms.sla_target
        streak = self._streak.get(key, 0) + 1 if level < target else 0
        previous = self._streak.get(key, 0)
        self._streak[key] = streak
        what = f"service level {level:.1%} (target {target:.0%} within {terms.sla_threshold_s} s)"
        if rules.service_level is not None:
            self._judge_streak(key, "service_level", rules.service_level.intervals, streak, previous, start, end,
                               level, target, what, "intervals")  # fmt: skip
        if rules.chronic is not None:
            self._judge_streak(key, "chronic_intervals", terms.chronic_after, streak, previous, start, end,
                               level, target, what, "intervals")  # fmt: skip

    def _decide_day(self, key: SourceKey, day: int) -> None:
        tenant, source = key
        sums = self._days.pop((tenant, source, day))
        self.counts.days_decided += 1
        rules = self.config.tenant(tenant).alerts
        level = sums.service_level
        if rules.chronic is None or not rules.chronic.days or level is None:
            return
        terms = self.config.tenant(tenant).sources[source]
        target = terms.sla_target
        previous = self._day_streak.get(key, 0)
        streak = previous + 1 if level < target else 0
        self._day_streak[key] = streak
        what = f"daily service level {level:.1%} (target {target:.0%} within {terms.sla_threshold_s} s)"
        self._judge_streak(key, "chronic_days", terms.chronic_after_days, streak, previous, day, day + DAY_MS,
                           level, target, what, "days")  # fmt: skip

    def _judge_streak(
        self, key: SourceKey, rule: str, after: int, streak: int, previous: int, start: int, end: int,
        level: float, target: float, what: str, unit: str,
    ) -> None:  # fmt: skip
        tenant, source = key
        opened = self._open.get((tenant, rule, source))
        if opened is None and streak >= after:
            self._fire(key, rule, start, end, level, target, streak,
                       f"{source}: {what} under target for {streak} {unit} in a row")  # fmt: skip
        elif opened is not None and streak == 0:
            self._resolve(key, rule, opened, start, end, level, target, previous,
                          f"{source}: {what} meets its target again, after {previous} {unit} under it")  # fmt: skip

    # --- agents severely out of adherence (from the agent partitions) ----------------------------------------

    def _agents(self, item: AlertInput) -> None:
        tenant, upstream = item.tenant, item.upstream
        carriers = self._agent_carriers.setdefault(tenant, set())
        if upstream not in carriers:
            count = upstream.partition("/")[2]
            carriers.add(upstream)
            if count:  # agents are spread over every partition by their id: each is waited for
                carriers.update(f"agent:{p}/{count}" for p in range(int(count)))
        decided = self._severe_decided.get(tenant, NEVER)
        for part in item.severe:
            if part.interval_ms <= decided:
                self.counts.late_rows += 1
                continue
            by_source = self._severe.setdefault((tenant, part.interval_ms), {}).setdefault(upstream, {})
            by_source[part.source] = part.agents
        marks = self._marks.setdefault(tenant, {})
        marks[upstream] = max(marks.get(upstream, NEVER), item.watermark)
        rule = self.config.tenant(tenant).alerts.severe_adherence
        if rule is None:
            return
        until = min((marks.get(u, NEVER) for u in carriers), default=NEVER)
        last_final = until - self._width
        pending = {start for (t, start) in self._severe if t == tenant and start <= last_final}
        if decided != NEVER:  # once judging began every interval end is a verdict: none severe resolves
            since = max(decided + self._width, last_final - 7 * DAY_MS // self._width * self._width)
            pending |= set(range(since, last_final + 1, self._width))
        for start in sorted(pending):
            counts: dict[str, int] = {}
            for by_source in self._severe.pop((tenant, start), {}).values():
                for source, agents in by_source.items():
                    counts[source] = counts.get(source, 0) + agents
            self._severe_decided[tenant] = start
            for source in self._agents_seen(tenant):
                self._judge_severe((tenant, source), rule.agents_above, start, counts.get(source, 0))

    def _agents_seen(self, tenant: str) -> list[str]:
        """The sources whose agents the setup shows: the in-house center, and vendors where virtualized."""
        return [s for s in self.config.tenant(tenant).sources if not self._vendor_hidden(tenant, s)]

    def _vendor_hidden(self, tenant: str, source: str) -> bool:
        """A vendor whose queue and agents the setup does not show (network-delivered, enterprise-routed)."""
        config = self.config.tenant(tenant)
        return source != config.in_house and config.setup in HIDDEN_VENDOR_CALLS

    def _queue_seen(self, key: SourceKey) -> bool:
        """The setup shows the source's queue: events of it come from the contact topic (not only reports)."""
        return not self._vendor_hidden(*key) and any(
            not u.startswith("vendor:") for u in self._carriers.get(key, ())
        )

    def _judge_severe(self, key: SourceKey, above: int, start: int, agents: int) -> None:
        end = start + self._width
        at = f"{agents} agents severely out of adherence at {from_ms(end):%H:%M} UTC"
        self._judge_over(key, "severe_adherence", start, end, agents, above, agents > above,
                         f"{key[1]}: {at} (over {above})", f"{key[1]}: {at} (within {above})")  # fmt: skip

    def _judge_wait(
        self, key: SourceKey, above_s: int, start: int, end: int, wait_s: float | None, waiting: int
    ) -> None:
        at = f"{from_ms(end):%H:%M} UTC"
        what = "nobody waiting" if wait_s is None else f"the oldest wait {wait_s:.0f} s"
        self._judge_over(key, "oldest_wait", start, end, wait_s, above_s, wait_s is not None and wait_s > above_s,
                         f"{key[1]}: a caller waiting {wait_s or 0:.0f} s at {at} (over {above_s} s; {waiting} waiting)",
                         f"{key[1]}: {what} at {at} (within {above_s} s)")  # fmt: skip

    def _judge_rate(
        self, key: SourceKey, rule: str, terms: RateRule, start: int, end: int, rate: float, what: str
    ) -> None:
        self._judge_over(key, rule, start, end, rate, terms.above, rate > terms.above,
                         f"{key[1]}: {what} {rate:.1%} over the {terms.above:.0%} limit",
                         f"{key[1]}: {what} {rate:.1%} back within the {terms.above:.0%} limit")  # fmt: skip

    def _judge_over(
        self, key: SourceKey, rule: str, start: int, end: int, value: float | None, limit: float, over: bool,
        fired: str, resolved: str,
    ) -> None:  # fmt: skip
        """The rules judged one interval at a time: fired when over the limit and not open, resolved at the
        first interval back within it; while it stays over, the open alert counts the intervals."""
        opened = self._open.get((key[0], rule, key[1]))
        if opened is None and over:
            self._fire(key, rule, start, end, value, limit, 1, fired)
        elif opened is not None and not over:
            self._resolve(key, rule, opened, start, end, value, limit, opened.streak, resolved)
        elif opened is not None:
            opened.streak += 1

    def _fire(
        self, key: SourceKey, rule: str, start: int, end: int, value: float | None, threshold: float, streak: int,
        message: str,
    ) -> None:  # fmt: skip
        tenant, source = key
        alert_id = f"{rule}/{source}/{from_ms(start).isoformat()}"
        self._open[(tenant, rule, source)] = _Open(alert_id, streak)
        self.counts.fired += 1
        self._emit(tenant, alert_id, "fired", rule, source, start, end, value, threshold, streak, message)

    def _resolve(
        self, key: SourceKey, rule: str, opened: _Open, start: int, end: int, value: float | None, threshold: float,
        streak: int, message: str,
    ) -> None:  # fmt: skip
        tenant, source = key
        del self._open[(tenant, rule, source)]
        self.counts.resolved += 1
        self._emit(
            tenant, opened.alert_id, "resolved", rule, source, start, end, value, threshold, streak, message
        )

    def _emit(
        self, tenant: str, alert_id: str, transition: str, rule: str, source: str, start: int, end: int,
        value: float | None, threshold: float, streak: int, message: str,
    ) -> None:  # fmt: skip
        self._out.append(
            AlertRow(
                tenant, alert_id, transition, rule, source, from_ms(start), from_ms(end), value, threshold,
                streak, message, f"{tenant}/{alert_id}/{transition}", self.version,
            )
        )  # fmt: skip

    # --- output and state ----------------------------------------------------------------------------------

    def drain_rows(self) -> list[AlertRow]:
        out, self._out = self._out, []
        return out

    def open_alerts(self) -> list[tuple[str, str, str, str]]:
        """(tenant, rule, source, alert id) of every open alert."""
        return sorted((t, r, s, o.alert_id) for (t, r, s), o in self._open.items())

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "quality": [[*key, [[*part, *values] for part, values in parts.items()]] for key, parts in self._quality.items()],
            "overflow": [[*key, [[*part, *values] for part, values in parts.items()]] for key, parts in self._overflow.items()],
            "queue": [[*key, [[u, *values] for u, values in parts.items()]] for key, parts in self._queue.items()],
            "severe": [[t, start, {u: dict(by) for u, by in parts.items()}] for (t, start), parts in self._severe.items()],
            "agent_carriers": {t: sorted(u) for t, u in self._agent_carriers.items()},
            "severe_decided": self._severe_decided,
            "marks": self._marks,
            "carriers": [[*key, sorted(upstreams)] for key, upstreams in self._carriers.items()],
            "report_seen": [[*key, mark] for key, mark in self._report_seen.items()],
            "decided": [[*key, start] for key, start in self._decided.items()],
            "streak": [[*key, n] for key, n in self._streak.items()],
            "days": [[*key, *sums.dump()] for key, sums in self._days.items()],
            "day_streak": [[*key, n] for key, n in self._day_streak.items()],
            "open": [[*key, o.alert_id, o.streak] for key, o in self._open.items()],
            "pending": [alert_row_json(row) for row in self._out],
        }  # fmt: skip

    def load(self, snapshot: dict[str, Any]) -> None:
        self.version = snapshot["version"]
        for tenant, source, start, parts in snapshot["quality"]:
            self._quality[(tenant, source, start)] = {tuple(p[:3]): p[3:] for p in parts}
        self._severe = {
            (t, start): {u: dict(by) for u, by in parts.items()}
            for t, start, parts in snapshot.get("severe", [])
        }
        self._agent_carriers = {t: set(u) for t, u in snapshot.get("agent_carriers", {}).items()}
        self._severe_decided = dict(snapshot.get("severe_decided", {}))
        for tenant, source, start, parts in snapshot.get("queue", []):
            self._queue[(tenant, source, start)] = {u: values for u, *values in parts}
        for tenant, source, start, parts in snapshot["overflow"]:
            self._overflow[(tenant, source, start)] = {tuple(p[:2]): p[2:] for p in parts}
        self._marks = {tenant: dict(marks) for tenant, marks in snapshot["marks"].items()}
        self._carriers = {(t, s): set(upstreams) for t, s, upstreams in snapshot["carriers"]}
        self._report_seen = {(t, s, u, i): mark for t, s, u, i, mark in snapshot["report_seen"]}
        self._decided = {(t, s): start for t, s, start in snapshot["decided"]}
        self._streak = {(t, s): n for t, s, n in snapshot["streak"]}
        self._days = {(t, s, d): _Sums(*values) for t, s, d, *values in snapshot["days"]}
        self._day_streak = {(t, s): n for t, s, n in snapshot["day_streak"]}
        self._open = {(t, r, s): _Open(alert_id, n) for t, r, s, alert_id, n in snapshot["open"]}
        self._out = [
            AlertRow(**{**row, "interval_start": datetime.fromisoformat(row["interval_start"]),
                        "decided_at": datetime.fromisoformat(row["decided_at"])})
            for row in snapshot["pending"]
        ]  # fmt: skip


def alert_row_json(row: AlertRow) -> dict[str, Any]:
    """The transition as the `acd.alerts` topic and the webhook carry it (times in ISO 8601)."""
    return row._asdict() | {
        "interval_start": row.interval_start.isoformat(),
        "decided_at": row.decided_at.isoformat(),
    }
