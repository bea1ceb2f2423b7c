"""`acdscope recommend`: which delivery setup, engagement model, threshold or split and staffing meets the service
targets at the lowest cost per contact, for a scenario's demand and the tenant's contracts.

1. **Enumerate** setup x engagement x parameters: in-house alone; targeted (each proper subset of the call types
   to each vendor); shared split (`IN_HOUSE_SHARES` kept in-house, the rest to one vendor); shared overflow
   (after each of `THRESHOLDS_S` to one vendor); full (each vendor, or all evenly); each at every `LEVELS`.
2. **Size** every source per block of the open day (`block_hours` long): in each quarter hour, the agents on
   queue Erlang A needs for the targets at the hour's expected calls (`agents_for_target`, `load_factor`)
   divided by the share of a seat on queue then (`availability`), the block's worst quarter hour, times the
   level. The in-house center never has more seats in a block than its agents (its capacity). An overflow
   vendor (`queue_limit` 0: handed a caller only when an agent is free) gets the fewest seats whose Erlang B
   blocking of the estimated overflow stream is at most `OVERFLOW_BLOCKING`.
3. **Estimate** each plan quarter hour by quarter hour with Erlang A per source (Poisson thinning for splits and
   targeted types). The overflow approximation: the in-house queue is Erlang A without the removal at T (so it
   is pessimistic about the in-house queue), the share still waiting at T overflows as a Poisson stream to the
   vendor's Erlang B loss system (optimistic: a real overflow stream is peakier), callers overflowed within the
   SL threshold are answered at once, and those the vendor takes do not abandon. Redirect failures (about 1 %)
   are left out.
4. **Prune** what the estimate rules out by more than `PRUNE_MARGIN` (SL) or `ABANDON_MARGIN`; keep the cheapest
   `confirm` plans and, per setup and engagement model, the cheapest plausible plan and the cheapest the
   estimate says meets the targets.
5. **Simulate** them on `seeds` seeds (common random numbers: every plan meets the same callers in a replicate),
   from the simulator's own truth, priced by the metric layer (`recommend_figures`), and report the mean and
   95 % confidence interval (Student t over the replicates). A plan meets the targets when the lower bound of
   its service level is at least the target, the upper bound of its abandonment at most the maximum, and its
   mean in-house share at least the minimum. Then each engagement model's best plan (or, where none meets, its
   closest) has its neighbours on every grid simulated, until none is left: the table shows what one step
   cheaper would give. The recommendation is the cheapest plan that meets the targets; at equal cost, the
   leanest.

The demand is the scenario's, or a real log's through the what-if trace (`log_events`): then each weekday is a
kind of day (`trace_days`) and one seat plan serves the week, each weekday with its share of the seats.

Costs are gross: what the contracts bill before SLA credits, penalties and bonuses, which depend on the month.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from acdscope.confidence import Interval
from acdscope.confidence import interval
from producers.simulator.core import FIXED_STAGGERS_MIN
from producers.simulator.core import shift_activities
from producers.simulator.demand import TraceCall
from producers.simulator.demand import daily_calls
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import SETUPS
from producers.simulator.scenario import WEEKDAYS
from producers.simulator.scenario import CallType
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import ShiftPattern
from producers.simulator.scenario import Source
from producers.simulator.scenario import Weekday
from producers.simulator.trace import call_type_name
from producers.simulator.trace import trace_demand
from producers.simulator.trace import trace_from_events
from producers.simulator.trace import trace_scenario
from producers.simulator.truth import TruthRecorder
from streams.engine.config import Setup
from streams.engine.config import SourceTerms
from streams.engine.queueing import ErlangA
from streams.engine.queueing import agents_for_target
from streams.engine.queueing import erlang_a
from streams.engine.queueing import erlang_b
from streams.events import Event
from streams.tenant import Engagement
from streams.tenant import TenantFile
from streams.warehouse.recommend import run_figures
from streams.warehouse.recommend import store_runs

HOUR_MS = 3_600_000
SLOTS = 4  # quarter hours per hour: seats are sized, and plans estimated, quarter hour by quarter hour
SLOT_MS = HOUR_MS // SLOTS
THRESHOLDS_S = (10, 20, 30, 45, 60, 90)  # overflow after T s in the in-house queue
IN_HOUSE_SHARES = (80, 60, 40, 20)  # percent of calls kept in-house by a shared split
# Staffing levels: a plan's seats as a share of what Erlang A needs for the targets in every quarter hour, which
# over a whole day is more than the targets ask (the day's service level pools the quarter hours).
LEVELS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)
OVERFLOW_BLOCKING = 0.2  # an overflow vendor's seats: at most this share of the overflow finds none free
PRUNE_MARGIN = 0.05  # the estimate may miss the SL target by this much and still be simulated
ABANDON_MARGIN = 0.02
FIGURES = ("cost_per_contact", "service_level", "abandon_rate", "in_house_share", "occupancy")
# What the enterprise's own systems see in each setup: the figures below are the simulation's truth, which a
# manager can check afterwards only as far as this.
OBSERVES: dict[Setup | None, str] = {
    None: "everything: one center",
    "virtualized": "everything: the vendors' agents log into the enterprise ACD",
    "enterprise_routed": "each redirect; not the vendors' agents nor the redirected calls' outcome (reports only)",
    "network_delivered": "the in-house calls only; not the vendors' calls nor agents (reports only)",
}


ENGAGEMENT_ORDER = ("in-house only", "targeted", "shared (split)", "shared (overflow)", "full")


class RecommendError(ValueError):
    """A recommendation that cannot be computed as asked; the message says what to change."""


@dataclass(frozen=True)
class Targets:
    """What every plan must meet: end-to-end service level (customers answered within `threshold_s` of arrival
    over customers offered, abandons against), abandonment, and optionally a minimum in-house share."""

    service_level: float = 0.8
    threshold_s: int = 20
    max_abandon: float = 0.05
    min_in_house_share: float = 0.0

    def describe(self) -> str:
        text = f"service level >= {self.service_level:.0%} within {self.threshold_s} s, abandonment <= {self.max_abandon:.0%}"
        if self.min_in_house_share:
            text += f", in-house share >= {self.min_in_house_share:.0%}"
        return text


@dataclass(frozen=True)
class Block:
    """A stretch of the open day staffed with one number of seats; hours count from the day's start."""

    start_hour: int
    hours: int

    @property
    def label(self) -> str:
        return f"{self.start_hour:02d}-{self.start_hour + self.hours:02d}"


@dataclass(frozen=True)
class Candidate:
    """One plan: who takes which calls, and each source's seats per block (agents rostered on it)."""

    number: int
    setup: Setup | None  # None: the in-house center alone, where the setup does not matter
    engagement: Engagement
    parameters: str
    seats: dict[str, tuple[int, ...]]
    overflow_vendor: str | None = None  # a shared-overflow plan's vendor (on an overflow contract)
    level: float = 1.0  # the seats as a share of what Erlang A needs in every quarter hour (`LEVELS`)
    route: str = ""  # who takes which calls, apart from the grid's values
    # Its place on the search's grids (level, after_s, in_house_percent), and the hours of each block.
    grid: tuple[tuple[str, float], ...] = ()
    block_hours: tuple[int, ...] = ()

    @property
    def engagement_label(self) -> str:
        return "in-house only" if self.setup is None else self.engagement.label

    @property
    def observes(self) -> str:
        return OBSERVES[self.setup]

    @property
    def seat_hours(self) -> int:
        """Seats x block hours, every source: the agent hours a day of the plan rosters."""
        return sum(
            n * hours
            for seats in self.seats.values()
            for n, hours in zip(seats, self.block_hours, strict=True)
        )

    @property
    def family(self) -> tuple[Setup | None, str, str]:
        """The plan apart from its staffing level: which setup sends which calls where."""
        grid = tuple((k, v) for k, v in self.grid if k != "level")
        return (self.setup, self.engagement_label, f"{self.route} {grid}")


@dataclass
class Evaluated:
    candidate: Candidate
    estimate: dict[str, float | None]
    simulated: dict[str, Interval] | None = None
    cost_hidden_reason: str = ""
    misses: list[str] = field(default_factory=list)  # the targets it misses, with the figure

    @property
    def short_misses(self) -> str:
        """The targets missed, in a word each: `SL, abandon`."""
        words = {"service": "SL", "abandonment": "abandon", "in-house": "share", "cost": "cost"}
        return ", ".join(words[miss.split(" ", 1)[0]] for miss in self.misses)

    @property
    def meets(self) -> bool | None:
        return None if self.simulated is None else not self.misses


@dataclass(frozen=True)
class Recommendation:
    targets: Targets
    blocks: tuple[Block, ...]
    ranked: list[Evaluated]  # simulated plans first (meeting, by cost; then the rest), then estimate-only
    considered: int
    pruned: int  # ruled out by the estimate
    seeds: tuple[int, ...]
    days: int
    best: Evaluated | None
    reason: str

    @property
    def leaders(self) -> list[Evaluated]:
        """The first-ranked simulated plan of each engagement model: the cheapest that meets the targets, or the
        best of those that miss when none does."""
        seen: dict[str, Evaluated] = {}
        for e in self.ranked:
            if e.simulated is not None:
                seen.setdefault(e.candidate.engagement_label, e)
        return sorted(seen.values(), key=lambda e: ENGAGEMENT_ORDER.index(e.candidate.engagement_label))


def open_blocks(scenario: Scenario, block_hours: int) -> tuple[Block, ...]:
    """The open hours (intraday weight > 0) in runs, each cut into blocks of `block_hours` (the last shorter)."""
    blocks: list[Block] = []
    hour = 0
    while hour < 24:
        if scenario.intraday_profile[hour] <= 0:
            hour += 1
            continue
        end = hour
        while end < 24 and scenario.intraday_profile[end] > 0:
            end += 1
        blocks.extend(Block(start, min(block_hours, end - start)) for start in range(hour, end, block_hours))
        hour = end
    return tuple(blocks)


def availability(source: Source, hours: int, breaks: bool) -> tuple[float, ...]:
    """Per quarter hour of a seat's shift, the expected share of it on queue: the scheduled on-queue time of the
    shift (its breaks staggered over the team as the simulator places them, so the quarter hours of a block's
    breaks count as the dip they are), less the expected minutes of the source's behaviour (late log-in, long breaks, early
    log-out, unscheduled not-ready), spread evenly over the on-queue time."""
    on_queue = [0.0] * (hours * SLOTS)
    pauses = 0
    for stagger in FIXED_STAGGERS_MIN:
        for activity, start, end in shift_activities(0, hours, breaks, stagger):
            if activity != "on_queue":
                pauses += 1
                continue
            for slot in range(len(on_queue)):
                lo, hi = max(start, slot * SLOT_MS), min(end, (slot + 1) * SLOT_MS)
                on_queue[slot] += max(0, hi - lo) / SLOT_MS / len(FIXED_STAGGERS_MIN)
    minutes = sum(on_queue) * 60 / SLOTS
    b = source.behaviour
    lost = (
        b.late_login_prob * b.late_login_mean_min
        + b.early_logout_prob * b.early_logout_mean_min
        + pauses / len(FIXED_STAGGERS_MIN) * b.long_break_prob * b.long_break_mean_min
        + minutes / 60 * b.unscheduled_not_ready_per_hour * b.unscheduled_not_ready_mean_min
    )
    kept = max(0.0, 1.0 - lost / minutes) if minutes else 0.0
    return tuple(share * kept for share in on_queue)


def load_factor(base: Scenario, call_type: CallType) -> float:
    """Calls per primary call of the type: 1, its transfers' second legs, and the repeat calls of customers the
    in-house center served that come back the same day (repeats arrive Exp(repeat_mean_hours) later: from
    the middle of the open day on average, exp(-open/2 / mean) of them fall after closing). For the default
    bank this is 1.087, beside the 1.08 measured (`producers.simulator.calibration.LOAD_FACTOR`)."""
    open_hours = sum(1 for weight in base.intraday_profile if weight > 0)
    same_day = 1.0 - math.exp(-open_hours / 2 / base.repeat_mean_hours)
    return 1.0 + call_type.transfer_prob + base.in_house.repeat_prob * same_day


@dataclass(frozen=True)
class DayType:
    """A kind of day of the demand: its weekday (None: every day alike), its share of the days, its calls per
    second per call type and hour, and the share of the busiest day's seats on shift on it."""

    weekday: Weekday | None
    weight: float
    rates: dict[str, list[float]]
    share: float


def trace_days(calls: Sequence[TraceCall], scenario: Scenario, targets: Targets) -> list[DayType]:
    """A log's weekdays as kinds of day: each weekday's calls per second per call type and hour, averaged over
    its dates in the trace (its own repeats and transfers are in it: no load factor); its share of the days;
    and its staffing share, the agents Erlang A needs at its peak hour (all calls, the in-house handle times)
    over those the busiest weekday needs: staffing follows the weekday pattern of the demand."""
    origin = datetime.combine(scenario.start_date, scenario.start_time, tzinfo=UTC)
    counts: dict[Weekday, dict[str, list[int]]] = {}
    dates: dict[Weekday, set[int]] = {}
    for call in calls:
        day = (call.arrival_ms - int(origin.timestamp() * 1000)) // (24 * HOUR_MS)
        weekday = WEEKDAYS[(scenario.start_date + timedelta(days=day)).weekday()]
        per = counts.setdefault(weekday, {ct.name: [0] * 24 for ct in scenario.call_types})
        per[call_type_name(call.call_type)][(call.arrival_ms // HOUR_MS) % 24] += 1
        dates.setdefault(weekday, set()).add(day)
    # Every date the trace spans counts, a quiet one too.
    for day in range(scenario.days):
        dates.setdefault(WEEKDAYS[(scenario.start_date + timedelta(days=day)).weekday()], set()).add(day)
    total = sum(len(found) for found in dates.values())
    handle = {ct.name: ct.handle.mean_handle_s for ct in scenario.call_types}
    peaks: dict[Weekday, int] = {}
    rates: dict[Weekday, dict[str, list[float]]] = {}
    for weekday, found in dates.items():
        per = counts.get(weekday, {ct.name: [0] * 24 for ct in scenario.call_types})
        rates[weekday] = {name: [n / len(found) / 3600.0 for n in hours] for name, hours in per.items()}
        need = 0
        for hour in range(24):
            rate = sum(r[hour] for r in rates[weekday].values())
            if rate:
                aht = sum(r[hour] * handle[name] for name, r in rates[weekday].items()) / rate
                need = max(need, agents_for_target(rate, aht, _patience_s(scenario), targets.threshold_s,
                                                   targets.service_level, targets.max_abandon))  # fmt: skip
        peaks[weekday] = need
    top = max(peaks.values(), default=0) or 1
    return [
        DayType(weekday, len(dates[weekday]) / total, rates[weekday], peaks[weekday] / top)
        for weekday in WEEKDAYS
        if weekday in dates
    ]


def _patience_s(scenario: Scenario) -> float:
    return math.inf if scenario.patience.distribution == "none" else scenario.patience.mean_s


class _Planner:
    """The demand and queueing model of one scenario: expected calls per hour and call type, handle times per
    source, patience, and Erlang A sizing (cached: many plans ask for the same hour's load)."""

    def __init__(
        self,
        base: Scenario,
        targets: Targets,
        block_hours: int,
        days: list[DayType] | None = None,
    ) -> None:
        self.base = base
        self.targets = targets
        self.blocks = open_blocks(base, block_hours)
        total = sum(base.intraday_profile)
        # Calls per second per call type and hour of the day: the scenario's, one kind of day; or a log's
        # (`trace_days`), one per weekday. Seats are sized on the busiest (share 1), and on each other weekday
        # its share of them is on shift; `use` switches the day the estimate works on.
        self.day_types = days or [
            DayType(None, 1.0, {
                ct.name: [ct.daily_volume * load_factor(base, ct) * w / total / 3600.0 for w in base.intraday_profile]
                for ct in base.call_types
            }, 1.0)
        ]  # fmt: skip
        self.busiest = max(self.day_types, key=lambda day: day.share)
        self.use(self.busiest)
        self.handle = {ct.name: ct.handle.mean_handle_s for ct in base.call_types}
        self.patience_s = _patience_s(base)
        self.breaks = any(pattern.breaks for pattern in base.in_house.shifts) or not base.in_house.shifts
        self._need: dict[tuple[float, float], int] = {}
        self._queues: dict[tuple[float, float, int], ErlangA] = {}
        self.estimates: dict[tuple[Any, ...], dict[str, dict[str, float]]] = {}

    def use(self, day: DayType) -> None:
        self.rates, self.share, self.weight = day.rates, day.share, day.weight

    @property
    def weekday_share(self) -> dict[Weekday, float]:
        """The share of every source's seats on shift on each weekday but the busiest (`Source.weekday_share`)."""
        return {day.weekday: day.share for day in self.day_types if day.weekday is not None and day.share < 1}

    def aht(self, source: Source, call_type: str) -> float:
        return self.handle[call_type] * source.aht_multiplier

    def load(self, source: Source, shares: dict[str, float], hour: int) -> tuple[float, float]:
        """(arrival rate per s, mean handle s) of the calls `shares` (per call type) send `source` in `hour`."""
        rate = sum(self.rates[ct][hour] * share for ct, share in shares.items())
        if rate == 0:
            return 0.0, 1.0
        work = sum(self.rates[ct][hour] * share * self.aht(source, ct) for ct, share in shares.items())
        return rate, work / rate

    def need(self, rate: float, aht: float) -> int:
        key = (round(rate, 12), round(aht, 9))
        if key not in self._need:
            t = self.targets
            self._need[key] = agents_for_target(
                rate, aht, self.patience_s, t.threshold_s, t.service_level, t.max_abandon
            )
        return self._need[key]

    def queue(self, rate: float, aht: float, agents: int) -> ErlangA:
        key = (round(rate, 12), round(aht, 9), agents)
        if key not in self._queues:
            self._queues[key] = erlang_a(rate, aht, agents, self.patience_s)
        return self._queues[key]

    def slots(self, block: Block) -> range:
        return range(block.start_hour * SLOTS, (block.start_hour + block.hours) * SLOTS)

    def seats(
        self, source: Source, shares: dict[str, float], level: float = 1.0, cap: int | None = None
    ) -> tuple[int, ...]:
        """Seats per block: enough that every quarter hour of it, on every kind of day (with its share of the
        seats on shift), has the agents on queue its hour needs (x level), capped."""
        seats = []
        for block in self.blocks:
            available = availability(source, block.hours, self.breaks)
            n = 0
            for day in self.day_types:
                # On every kind of day the block's share of the seats on shift covers what that day needs.
                self.use(day)
                n = max(n, *(
                    math.ceil(self.need(*self.load(source, shares, slot // SLOTS)) * level / (share * day.share) - 1e-9)
                    for slot, share in zip(self.slots(block), available, strict=True)
                ))  # fmt: skip
            self.use(self.busiest)
            seats.append(n if cap is None else min(n, cap))
        return tuple(seats)

    def on_queue(self, source: Source, seats: tuple[int, ...]) -> list[float]:
        """The expected agents on queue in each quarter hour of the day in use, from the seats per block (the
        day's share of them on shift)."""
        agents = [0.0] * (24 * SLOTS)
        for block, n in zip(self.blocks, seats, strict=True):
            for slot, share in zip(
                self.slots(block), availability(source, block.hours, self.breaks), strict=True
            ):
                agents[slot] = round(n * self.share) * share
        return agents

    def rostered_hours(self, seats: tuple[int, ...]) -> float:
        """Seat-hours rostered on the day in use."""
        return sum(round(n * self.share) * block.hours for block, n in zip(self.blocks, seats, strict=True))

    def overflow_seats(self, vendor: Source, overflow_rates: list[float], aht: float) -> tuple[int, ...]:
        """Seats per block of an overflow vendor: its Erlang B loss system blocking at most OVERFLOW_BLOCKING
        of each quarter hour's overflow (at least one seat on every block: someone on queue from open to close)."""
        seats = []
        for block in self.blocks:
            available = availability(vendor, block.hours, self.breaks)
            n = 1
            for slot, share in zip(self.slots(block), available, strict=True):
                agents = 1
                while erlang_b(agents, overflow_rates[slot] * aht) > OVERFLOW_BLOCKING:
                    agents += 1
                n = max(n, math.ceil(agents / share - 1e-9))
            seats.append(n)
        return tuple(seats)


@dataclass
class _Expected:
    """Expected counters of one source over a day, as `recommend_runs` holds them."""

    answered: float = 0.0
    handle_s: float = 0.0
    customers: float = 0.0
    within: float = 0.0
    abandoned: float = 0.0


def _pool(planner: _Planner, rate: float, aht: float, agents: float, into: _Expected) -> None:
    """A quarter hour of an Erlang A pool with `agents` on queue (fractional agents: the lower whole number)."""
    if rate == 0:
        return
    calls = rate * SLOT_MS / 1000 * planner.weight
    into.customers += calls
    c = math.floor(agents + 1e-9)
    if c == 0:
        into.abandoned += calls
        return
    queue = planner.queue(rate, aht, c)
    answered = calls * (1.0 - queue.abandon_probability)
    into.answered += answered
    into.handle_s += answered * aht
    into.abandoned += calls * queue.abandon_probability
    into.within += calls * queue.service_level(planner.targets.threshold_s)


def _routing(base: Scenario, candidate: Candidate) -> dict[str, dict[str, float]]:
    """Per source, the share of each call type's calls it is sent first (overflow plans: all in-house)."""
    names = [ct.name for ct in base.call_types]
    engagement = candidate.engagement
    shares: dict[str, dict[str, float]] = {source: {} for source in candidate.seats}
    in_house = base.in_house.id
    if candidate.setup is None or (engagement.model == "shared" and engagement.shared_mode == "overflow"):
        shares[in_house] = dict.fromkeys(names, 1.0)
    elif engagement.model == "targeted":
        for name in names:
            shares[engagement.targeted.get(name, in_house)][name] = 1.0
    else:
        for source, percent in engagement.split.items():
            shares[source] = dict.fromkeys(names, percent / 100.0)
    return shares


def estimate(planner: _Planner, candidate: Candidate) -> dict[str, _Expected]:
    """Expected counters per source over an average day (of each kind of day, its weight; see the module's
    approximations)."""
    base = planner.base
    routing = _routing(base, candidate)
    expected = {source: _Expected() for source in candidate.seats}
    vendor_id = candidate.overflow_vendor
    for day in planner.day_types:
        planner.use(day)
        for source_id, seats in candidate.seats.items():
            if source_id == vendor_id:
                continue
            source = base.source(source_id)
            agents = planner.on_queue(source, seats)
            for slot in range(24 * SLOTS):
                rate, aht = planner.load(source, routing[source_id], slot // SLOTS)
                if vendor_id is None:
                    _pool(planner, rate, aht, agents[slot], expected[source_id])
                else:
                    _overflow_slot(planner, candidate, slot, rate, aht, agents[slot], expected)
    planner.use(planner.busiest)
    return expected


def _overflow_slot(
    planner: _Planner,
    candidate: Candidate,
    slot: int,
    rate: float,
    aht: float,
    agents: float,
    expected: dict[str, _Expected],
) -> None:
    """A quarter hour of the in-house queue overflowing after T to an Erlang B vendor (the module's
    approximation)."""
    if rate == 0:
        return
    base, targets = planner.base, planner.targets
    assert candidate.overflow_vendor is not None
    vendor = base.source(candidate.overflow_vendor)
    after = candidate.engagement.overflow_after_s
    calls = rate * SLOT_MS / 1000 * planner.weight
    c = math.floor(agents + 1e-9)
    if c == 0:
        patient = math.exp(-after / planner.patience_s) if math.isfinite(planner.patience_s) else 1.0
        answered_by_t, abandon_by_t, abandon_all, within = 0.0, 1.0 - patient, 1.0, 0.0
    else:
        queue = planner.queue(rate, aht, c)
        answered_by_t = queue.service_level(after)
        abandon_by_t = queue.service_level(after, "in_favour") - answered_by_t
        abandon_all = queue.abandon_probability
        within = queue.service_level(min(after, targets.threshold_s))
    waiting_at_t = max(0.0, 1.0 - answered_by_t - abandon_by_t)
    all_types = dict.fromkeys(planner.rates, 1.0)
    vendor_aht = planner.load(vendor, all_types, slot // SLOTS)[1]
    vendor_agents = math.floor(planner.on_queue(vendor, candidate.seats[vendor.id])[slot] + 1e-9)
    taken = waiting_at_t * (1.0 - erlang_b(vendor_agents, rate * waiting_at_t * vendor_aht))
    left = 1.0 - taken / waiting_at_t if waiting_at_t > 0 else 0.0
    abandoned = abandon_by_t + max(0.0, abandon_all - abandon_by_t) * left
    answered_here = max(0.0, 1.0 - abandoned - taken)
    if after <= targets.threshold_s:
        within += taken
    here, there = expected[base.in_house.id], expected[vendor.id]
    here.customers += calls
    here.answered += calls * answered_here
    here.handle_s += calls * answered_here * aht
    here.within += calls * min(within, 1.0 - abandoned)
    here.abandoned += calls * abandoned
    there.answered += calls * taken
    there.handle_s += calls * taken * vendor_aht


def enumerate_candidates(planner: _Planner, setups: tuple[Setup, ...] = SETUPS) -> list[Candidate]:
    """Every plan of the search (module docstring, step 1), each sized (step 2) at every staffing level; a plan
    whose seats equal another's of the same routing is kept once."""
    base = planner.base
    in_house = base.in_house
    cap = in_house.agents
    names = [ct.name for ct in base.call_types]
    vendors = [vendor.id for vendor in base.vendors]
    everything = dict.fromkeys(names, 1.0)
    found: list[Candidate] = []
    seen: set[tuple[Any, ...]] = set()

    def add(
        setup: Setup | None,
        engagement: Engagement,
        route: str,
        parameters: str,
        grid: dict[str, float],
        shares: dict[str, dict[str, float]] | None = None,
        overflow_vendor: str | None = None,
    ) -> None:
        for level in LEVELS:
            if shares is not None:
                seats = {
                    source: planner.seats(
                        base.source(source), share, level, cap if source == in_house.id else None
                    )
                    for source, share in shares.items()
                }
            else:
                assert overflow_vendor is not None
                seats = _overflow_plan(planner, engagement, overflow_vendor, level)
            key = (setup, engagement.model_dump_json(), tuple(sorted(seats.items())))
            if key in seen:
                continue
            seen.add(key)
            text = parameters + (f"; seats at {level:.0%}" if level != 1.0 else "")
            found.append(
                Candidate(
                    len(found) + 1,
                    setup,
                    engagement,
                    text,
                    seats,
                    overflow_vendor,
                    level,
                    route,
                    tuple({**grid, "level": level}.items()),
                    tuple(block.hours for block in planner.blocks),
                )
            )

    add(None, Engagement(), "", "all calls in-house", {}, {in_house.id: everything})
    for setup in setups:
        for size in range(1, len(names)):
            for chosen in combinations(names, size):
                for vendor in vendors:
                    shares = {
                        in_house.id: {n: 1.0 for n in names if n not in chosen},
                        vendor: dict.fromkeys(chosen, 1.0),
                    }
                    engagement = Engagement(model="targeted", targeted=dict.fromkeys(chosen, vendor))
                    text = f"{', '.join(chosen)} to {vendor}"
                    add(setup, engagement, text, text, {}, shares)
        for kept in IN_HOUSE_SHARES:
            for vendor in vendors:
                split = {in_house.id: float(kept), vendor: float(100 - kept)}
                shares = {source: dict.fromkeys(names, percent / 100.0) for source, percent in split.items()}
                engagement = Engagement(model="shared", shared_mode="split", split=split)
                text = f"{kept} % in-house, {100 - kept} % to {vendor}"
                add(setup, engagement, vendor, text, {"in_house_percent": kept}, shares)
        for after in THRESHOLDS_S:
            for vendor in vendors:
                engagement = Engagement(overflow_after_s=after)
                text = f"after {after} s to {vendor}"
                add(setup, engagement, vendor, text, {"after_s": after}, overflow_vendor=vendor)
        fulls = [{vendor: 100.0} for vendor in vendors]
        if len(vendors) > 1:
            fulls.append({vendor: 100.0 / len(vendors) for vendor in vendors})
        for split in fulls:
            shares = {in_house.id: {}, **{v: dict.fromkeys(names, p / 100.0) for v, p in split.items()}}
            text = ", ".join(f"{p:.0f} % to {v}" for v, p in split.items())
            add(setup, Engagement(model="full", split=split), text, text, {}, shares)
    return found


def _overflow_plan(
    planner: _Planner, engagement: Engagement, vendor: str, level: float
) -> dict[str, tuple[int, ...]]:
    """An overflow plan's seats: the in-house center at `level` of what it needs alone (capped), the vendor's
    overflow team sized to the overflow that leaves it (`_Planner.overflow_seats`)."""
    base = planner.base
    everything = dict.fromkeys(planner.rates, 1.0)
    own = planner.seats(base.in_house, everything, level, base.in_house.agents)
    overflow = _overflow_rates(planner, own, engagement.overflow_after_s)
    vendor_aht = planner.load(base.source(vendor), everything, _busiest(planner))[1]
    return {base.in_house.id: own, vendor: planner.overflow_seats(base.source(vendor), overflow, vendor_aht)}


def _busiest(planner: _Planner) -> int:
    return max(range(24), key=lambda h: sum(rates[h] for rates in planner.rates.values()))


def _overflow_rates(planner: _Planner, in_house_seats: tuple[int, ...], after_s: float) -> list[float]:
    """Per quarter hour, the rate (per s) of in-house callers still waiting at T: what an overflow vendor would be
    sent."""
    base = planner.base
    agents = planner.on_queue(base.in_house, in_house_seats)
    everything = dict.fromkeys(planner.rates, 1.0)
    rates = []
    for slot in range(24 * SLOTS):
        rate, aht = planner.load(base.in_house, everything, slot // SLOTS)
        c = math.floor(agents[slot] + 1e-9)
        if rate == 0:
            rates.append(0.0)
        elif c == 0:
            rates.append(rate)
        else:
            queue = planner.queue(rate, aht, c)
            rates.append(rate * max(0.0, 1.0 - queue.service_level(after_s, "in_favour")))
    return rates


def plan_scenario(planner: _Planner, candidate: Candidate, seed: int, days: int) -> Scenario:
    """The simulation of a plan: the base's demand and behaviour, the plan's routing, and each source on a
    fixed roster of its seats per block (only the vendors the plan uses)."""
    base = planner.base
    data = base.model_dump()
    sources = {
        source_id: _rostered(planner, base.source(source_id), seats, candidate.overflow_vendor == source_id)
        for source_id, seats in candidate.seats.items()
    }
    data.update(
        name=f"plan-{candidate.number}",
        seed=seed,
        days=days,
        setup=candidate.setup or "virtualized",
        engagement=candidate.engagement.model_dump(),
        in_house=sources.pop(base.in_house.id),
        vendors=list(sources.values()),
    )
    return Scenario.model_validate(data)


def _rostered(planner: _Planner, source: Source, seats: tuple[int, ...], overflow: bool) -> dict[str, Any]:
    total = sum(seats)
    shifts = [
        ShiftPattern(start=time(block.start_hour), hours=block.hours, share=n / total, breaks=planner.breaks)
        for block, n in zip(planner.blocks, seats, strict=True)
        if n
    ]
    return {
        **source.model_dump(),
        "weekday_share": planner.weekday_share,
        "agents": total,
        "teams": max(1, round(total / 10)),
        "shifts": [shift.model_dump() for shift in shifts],
        "roster": "fixed",
        # An overflow contract: a caller is handed over only when an agent is free; work sent by contract queues.
        "queue_limit": 0 if overflow else None,
    }


_ON_QUEUE = frozenset(("ready", "busy", "acw"))


def truth_counters(scenario: Scenario, truth: TruthRecorder, threshold_s: int) -> dict[str, dict[str, float]]:
    """Per source, what it bills on and how its customers fared, from the simulator's own records: legs
    answered (not the second leg of a transfer) and the handle time of every leg it handled, rostered and on
    queue time, and each customer once (`recommend_runs`' comment)."""
    counters: dict[str, dict[str, float]] = {s: defaultdict(float) for s in scenario.source_ids}
    for activity in truth.schedules:
        counters[activity.source]["scheduled_ms"] += activity.end_ms - activity.start_ms
    for span in truth.spans:
        if span.state in _ON_QUEUE:
            counters[span.source]["on_queue_ms"] += span.end_ms - span.start_ms
    contacts: dict[str, list[Any]] = defaultdict(list)
    for leg in truth.legs:
        contacts[leg.initial_contact_id].append(leg)
        if leg.outcome == "answered":
            row = counters[leg.source]
            row["handle_ms"] += leg.talk_ms + leg.hold_ms + leg.acw_ms
            row["answered"] += int(leg.entry != "transfer")
    threshold_ms = threshold_s * 1000
    for legs in contacts.values():
        first = legs[0]
        counters[first.source]["customers"] += 1
        answered = next((leg for leg in legs if leg.outcome == "answered"), None)
        if answered is not None:
            assert answered.outcome_ms is not None
            row = counters[answered.source]
            row["customers_answered"] += 1
            row["customers_within"] += int(answered.outcome_ms - first.first_enqueue_ms <= threshold_ms)
        elif legs[-1].outcome == "abandoned":
            counters[legs[-1].source]["customers_abandoned"] += 1
    return counters


_COUNTERS = ("answered", "handle_ms", "scheduled_ms", "on_queue_ms")
_CUSTOMERS = ("customers", "customers_answered", "customers_within", "customers_abandoned")


def _row(
    run: str, candidate: Candidate, replicate: int, source: str, kind: str, terms: SourceTerms,
    counters: dict[str, float], planner: _Planner, days: int,
) -> tuple[Any, ...]:  # fmt: skip
    """A `recommend_runs` row; seat-hour billing takes the plan's seats over the hours they are open."""
    seats = candidate.seats[source]
    open_hours = sum(block.hours for block, n in zip(planner.blocks, seats, strict=True) if n) * days
    seat_hours = sum(block.hours * n for block, n in zip(planner.blocks, seats, strict=True)) * days
    return (
        run, candidate.number, replicate, source, kind, terms.cost_model, terms.rate,
        seat_hours / open_hours if open_hours else None,
        *(float(counters.get(name, 0.0)) for name in _COUNTERS),
        float(open_hours * HOUR_MS),
        *(float(counters.get(name, 0.0)) for name in _CUSTOMERS),
    )  # fmt: skip


def _estimate_counters(planner: _Planner, candidate: Candidate) -> dict[str, dict[str, float]]:
    """The estimate's counters per source (the setup does not enter it: one estimate for the three)."""
    key = (
        candidate.engagement.model_dump_json(),
        tuple(sorted(candidate.seats.items())),
        candidate.overflow_vendor,
    )
    if key not in planner.estimates:
        planner.estimates[key] = _expected_counters(planner, candidate)
    return planner.estimates[key]


def _expected_counters(planner: _Planner, candidate: Candidate) -> dict[str, dict[str, float]]:
    out = {}
    for source_id, e in estimate(planner, candidate).items():
        source = planner.base.source(source_id)
        seats = candidate.seats[source_id]
        rostered = on_queue = 0.0
        for day in planner.day_types:
            planner.use(day)
            rostered += day.weight * planner.rostered_hours(seats)
            on_queue += day.weight * sum(planner.on_queue(source, seats)) / SLOTS
        planner.use(planner.busiest)
        out[source_id] = {
            "answered": e.answered, "handle_ms": e.handle_s * 1000, "scheduled_ms": rostered * HOUR_MS,
            "on_queue_ms": on_queue * HOUR_MS, "customers": e.customers, "customers_answered": e.answered,
            "customers_within": e.within, "customers_abandoned": e.abandoned,
        }  # fmt: skip
    return out


Progress = Callable[[str, int, int], None]


@dataclass
class _Search:
    planner: _Planner
    terms: dict[str, SourceTerms]
    client: Any
    run: str
    seeds: tuple[int, ...]
    days: int
    progress: Progress
    evaluated: dict[int, Evaluated] = field(default_factory=dict)
    # A real log's calls per replicate seed (the draws it cannot supply differ by seed); empty: the scenario's.
    traces: dict[int, list[TraceCall]] = field(default_factory=dict)

    def rows(
        self, candidate: Candidate, replicate: int, counters: dict[str, dict[str, float]], days: int
    ) -> Iterator[tuple[Any, ...]]:
        in_house = self.planner.base.in_house.id
        for source in candidate.seats:
            kind = "in_house" if source == in_house else "vendor"
            yield _row(
                self.run,
                candidate,
                replicate,
                source,
                kind,
                self.terms[source],
                counters.get(source, {}),
                self.planner,
                days,
            )

    def estimate_all(self, candidates: list[Candidate]) -> None:
        rows: list[tuple[Any, ...]] = []
        for done, candidate in enumerate(candidates, 1):
            rows.extend(self.rows(candidate, 0, _estimate_counters(self.planner, candidate), 1))
            self.progress("estimate (Erlang A)", done, len(candidates))
        store_runs(self.client, rows)
        figures = run_figures(self.client, self.run)
        for candidate in candidates:
            found = figures[(candidate.number, 0)]
            self.evaluated[candidate.number] = Evaluated(
                candidate,
                {name: found[name] for name in FIGURES},
                cost_hidden_reason=found["cost_hidden_reason"],
            )

    def simulate(self, candidates: list[Candidate]) -> None:
        todo = [c for c in candidates if self.evaluated[c.number].simulated is None]
        total, done = len(todo) * len(self.seeds), 0
        rows: list[tuple[Any, ...]] = []
        for candidate in todo:
            for replicate, seed in enumerate(self.seeds, 1):
                scenario = plan_scenario(self.planner, candidate, seed, self.days)
                demand = trace_demand(self.traces[seed], scenario, seed) if self.traces else daily_calls
                memory, truth = simulate_in_memory(scenario, caller_key=b"acdscope-recommend", demand=demand)
                memory.close()
                counters = truth_counters(scenario, truth, self.planner.targets.threshold_s)
                rows.extend(self.rows(candidate, replicate, counters, self.days))
                done += 1
                self.progress("simulate", done, total)
        store_runs(self.client, rows)
        figures = run_figures(self.client, self.run)
        targets = self.planner.targets
        for candidate in todo:
            evaluated = self.evaluated[candidate.number]
            per = [figures[(candidate.number, r)] for r in range(1, len(self.seeds) + 1)]
            evaluated.simulated = {name: interval([row[name] for row in per]) for name in FIGURES}
            evaluated.misses = misses(evaluated.simulated, targets, evaluated.cost_hidden_reason)

    def leaders(self) -> list[Evaluated]:
        """Per engagement model, its cheapest simulated plan that meets the targets; where none does yet, the
        one that comes closest (the highest lower bound of its service level), so the walk goes on from it."""
        found: dict[str, Evaluated] = {}
        for e in sorted((e for e in self.evaluated.values() if e.meets), key=_order):
            found.setdefault(e.candidate.engagement_label, e)
        misses = [e for e in self.evaluated.values() if e.meets is False]
        for e in sorted(misses, key=lambda e: -(e.simulated["service_level"].low or 0.0)):  # type: ignore[index]
            found.setdefault(e.candidate.engagement_label, e)
        return list(found.values())

    def best(self) -> Evaluated | None:
        meeting = [e for e in self.evaluated.values() if e.meets]
        return min(meeting, key=_order, default=None)


def _order(e: Evaluated) -> tuple[float, int, int]:
    """Cheapest first; at equal cost (vendors paid per contact, whatever they staff), the leanest plan: the
    fewest seat-hours, which is how a vendor paid per contact staffs to a target, not beyond it."""
    if e.simulated is None:
        return (math.inf, 0, e.candidate.number)
    cost = e.simulated["cost_per_contact"].mean
    return (math.inf if cost is None else round(cost, 2), e.candidate.seat_hours, e.candidate.number)


def misses(figures: dict[str, Interval], targets: Targets, cost_hidden_reason: str = "") -> list[str]:
    """The targets a simulated plan does not meet with 95 % confidence, each with the bound that fails; an
    unpriced plan says why (`recommend_figures`' cost_hidden_reason)."""
    out = []
    sl, abandon, share = figures["service_level"], figures["abandon_rate"], figures["in_house_share"]
    if sl.low is None or sl.low < targets.service_level:
        out.append(f"service level {_pct(sl.low)} at the lower 95 % bound < {targets.service_level:.0%}")
    if abandon.high is None or abandon.high > targets.max_abandon:
        out.append(f"abandonment {_pct(abandon.high)} at the upper 95 % bound > {targets.max_abandon:.0%}")
    if targets.min_in_house_share and (share.mean is None or share.mean < targets.min_in_house_share):
        out.append(f"in-house share {_pct(share.mean)} < {targets.min_in_house_share:.0%}")
    if figures["cost_per_contact"].mean is None:
        out.append(f"cost not priced: {cost_hidden_reason or 'no cost'}")
    return out


def _pct(value: float | None) -> str:
    return "n/o" if value is None else f"{value:.1%}"


def neighbours(candidate: Candidate, pool: list[Candidate]) -> list[Candidate]:
    """The plans one step either side of `candidate` on each of its grids (staffing level, overflow threshold,
    in-house share of a split), everything else equal: what one step cheaper, or dearer, would give."""
    out = []
    mine = dict(candidate.grid)
    for dimension, at in mine.items():
        others = {k: v for k, v in mine.items() if k != dimension}
        line = [
            c
            for c in pool
            if c.setup == candidate.setup
            and c.engagement_label == candidate.engagement_label
            and c.route == candidate.route
            and {k: v for k, v in c.grid if k != dimension} == others
        ]
        below = [c for c in line if dict(c.grid)[dimension] < at]
        above = [c for c in line if dict(c.grid)[dimension] > at]
        if below:
            out.append(max(below, key=lambda c: dict(c.grid)[dimension]))
        if above:
            out.append(min(above, key=lambda c: dict(c.grid)[dimension]))
    return out


def recommend(
    base: Scenario,
    contracts: TenantFile,
    targets: Targets,
    data_dir: Path,
    *,
    seeds: int = 5,
    seed: int | None = None,
    days: int = 1,
    block_hours: int = 2,
    confirm: int = 8,
    setups: tuple[Setup, ...] = SETUPS,
    engagements: tuple[str, ...] | None = None,
    progress: Progress | None = None,
    log_events: Sequence[Event] | None = None,
    log_days: int | None = None,
) -> Recommendation:
    """The search of the module docstring over `base`'s demand, priced on `contracts` (a vendor they do not name
    takes their first vendor's terms, as in the demo). Replicate i simulates seed `seed + i` (base.seed by
    default): the same arguments give the same table."""
    from acdscope.demo import demo_config
    from acdscope.demo import embedded_warehouse

    if seeds < 2:
        raise RecommendError("seeds: at least 2, for a confidence interval")
    if not base.vendors:
        raise RecommendError("vendors: the scenario names no vendor to weigh against the in-house center")
    first = base.seed if seed is None else seed
    replicate_seeds = tuple(first + i for i in range(seeds))
    traces: dict[int, list[TraceCall]] = {}
    day_types = None
    if log_events is not None:
        # A real log as the demand (the what-if trace): its arrivals, call types, handle times and patience;
        # each replicate draws what the log cannot supply with its own seed, over all the log's days.
        for replicate_seed in replicate_seeds:
            traces[replicate_seed] = trace_from_events(log_events, replicate_seed, log_days)[0]
        base = trace_scenario(base, traces[first])
        days = base.days
        day_types = trace_days(traces[first], base, targets)
    planner = _Planner(base, targets, block_hours, day_types)
    terms = dict(demo_config([base], contracts).tenants[base.name].sources)
    candidates = enumerate_candidates(planner, setups)
    if engagements is not None:
        unknown = sorted(set(engagements) - set(ENGAGEMENT_ORDER))
        if unknown:
            raise RecommendError(f"engagements: {unknown} are not among {list(ENGAGEMENT_ORDER)}")
        candidates = [c for c in candidates if c.engagement_label in engagements]
        if not candidates:
            raise RecommendError(f"engagements: none of {list(engagements)} is a plan the search makes")
    report = progress or (lambda stage, done, total: None)
    with embedded_warehouse(data_dir) as client:
        search = _Search(planner, terms, client, base.name, replicate_seeds, days, report, traces=traces)
        search.estimate_all(candidates)
        kept = _kept(search, candidates, targets, confirm)
        search.simulate(kept)
        # Walk each engagement model's best plan along its grids until no neighbour of it is left unsimulated:
        # the table then shows, for every model, the step cheaper that misses.
        for _ in range(len(LEVELS) + len(THRESHOLDS_S)):
            extra: dict[int, Candidate] = {}
            for leader in search.leaders():
                for c in neighbours(leader.candidate, candidates):
                    if search.evaluated[c.number].simulated is None:
                        extra[c.number] = c
            if not extra:
                break
            search.simulate(list(extra.values()))
        best = search.best()
    ranked = _ranked(list(search.evaluated.values()))
    pruned = sum(1 for e in search.evaluated.values() if not _plausible(e, targets))
    return Recommendation(
        targets,
        planner.blocks,
        ranked,
        len(candidates),
        pruned,
        replicate_seeds,
        days,
        best,
        _reason(best, ranked, targets),
    )


def _plausible(evaluated: Evaluated, targets: Targets, margin: bool = True) -> bool:
    """Whether the estimate leaves the plan a chance (`margin`: within PRUNE_MARGIN / ABANDON_MARGIN of the
    targets), or says it meets them outright."""
    e = evaluated.estimate
    sl_margin, abandon_margin = (PRUNE_MARGIN, ABANDON_MARGIN) if margin else (0.0, 0.0)
    return (
        e["cost_per_contact"] is not None
        and e["service_level"] is not None
        and e["service_level"] >= targets.service_level - sl_margin
        and e["abandon_rate"] is not None
        and e["abandon_rate"] <= targets.max_abandon + abandon_margin
        and (e["in_house_share"] or 0.0) >= targets.min_in_house_share - sl_margin
    )


def _kept(search: _Search, candidates: list[Candidate], targets: Targets, confirm: int) -> list[Candidate]:
    """The cheapest `confirm` plausible plans, and for each setup and engagement model its cheapest plausible
    plan and its cheapest plan the estimate says meets the targets outright."""
    plausible = [c for c in candidates if _plausible(search.evaluated[c.number], targets)]
    by_cost = sorted(
        plausible, key=lambda c: (search.evaluated[c.number].estimate["cost_per_contact"], c.number)
    )
    kept = by_cost[:confirm]
    for margin in (True, False):
        groups: set[tuple[Any, str]] = set()
        for candidate in by_cost:
            group = (candidate.setup, candidate.engagement_label)
            if group in groups or not _plausible(search.evaluated[candidate.number], targets, margin):
                continue
            groups.add(group)
            if candidate not in kept:
                kept.append(candidate)
    return kept


def _ranked(evaluated: list[Evaluated]) -> list[Evaluated]:
    """Simulated plans that meet the targets, then those that miss, each by `_order`; then the rest, by estimate."""
    simulated = [e for e in evaluated if e.simulated is not None]
    rest = [e for e in evaluated if e.simulated is None]
    by_estimate = sorted(
        rest,
        key=lambda e: (
            e.estimate["cost_per_contact"] is None,
            e.estimate["cost_per_contact"] or 0.0,
            e.candidate.number,
        ),
    )
    return (
        sorted((e for e in simulated if e.meets), key=_order)
        + sorted((e for e in simulated if not e.meets), key=_order)
        + by_estimate
    )


def describe(candidate: Candidate) -> str:
    setup = "any setup" if candidate.setup is None else candidate.setup.replace("_", "-")
    return f"{setup}, {candidate.engagement_label}, {candidate.parameters}"


def _reason(best: Evaluated | None, ranked: list[Evaluated], targets: Targets) -> str:
    simulated = [e for e in ranked if e.simulated is not None]
    if best is None:
        return f"No simulated plan meets {targets.describe()} with 95 % confidence; the closest are listed first among those that miss."
    assert best.simulated is not None
    cost = best.simulated["cost_per_contact"]
    meeting = [e for e in simulated if e.meets]
    text = (
        f"{describe(best.candidate)} is the cheapest of the {len(meeting)} simulated plans (of {len(simulated)}) "
        f"that meet {targets.describe()} with 95 % confidence: {cost.mean:.2f} per contact."
    )
    # The best alternative: the cheapest plan that meets the targets and routes differently (not the same plan
    # at another staffing level, nor on another setup).
    runner = next((e for e in meeting if e.candidate.family[1:] != best.candidate.family[1:]), None)
    if runner is not None and runner.simulated is not None:
        gap = (runner.simulated["cost_per_contact"].mean or 0.0) - (cost.mean or 0.0)
        text += f" The best alternative, {describe(runner.candidate)}, costs {gap:.2f} more per contact."
    same = [
        e
        for e in meeting
        if e is not best and e.candidate.family[1:] == best.candidate.family[1:] and e.candidate.level == best.candidate.level
        and e.simulated is not None and e.simulated["cost_per_contact"].mean is not None
        and abs(e.simulated["cost_per_contact"].mean - (cost.mean or 0.0)) <= (cost.half_width or 0.0)
    ]  # fmt: skip
    if same:
        others = ", ".join(
            f"{(e.candidate.setup or '').replace('_', '-')} {e.simulated['cost_per_contact'].mean:.2f}"  # type: ignore[index]
            for e in same
        )
        text += (
            f" The same plan on another setup ({others}) costs the same within the interval: the setup is a"
            " choice of what the enterprise must see (virtualized sees everything)."
        )
    cheaper = [
        e
        for e in simulated
        if not e.meets
        and e.simulated
        and (e.simulated["cost_per_contact"].mean or math.inf) < (cost.mean or 0.0) - 0.005
    ]
    if cheaper:
        first = max(cheaper, key=lambda e: e.simulated["cost_per_contact"].mean or 0.0)  # type: ignore[index]
        plans = "plan misses" if len(cheaper) == 1 else "plans miss; the nearest"
        text += f" {len(cheaper)} cheaper {plans}: {describe(first.candidate)} ({'; '.join(first.misses)})."
    return text


def seats_text(candidate: Candidate) -> str:
    """Each source's seats per block, e.g. `in-house 47/45/36/17, vendor-a 6/6/6/3` (a source with none: left out)."""
    return ", ".join(
        f"{source} {'/'.join(str(n) for n in seats)}"
        for source, seats in candidate.seats.items()
        if any(seats)
    )


def figure_text(value: Interval, percent: bool) -> str:
    """`mean±half width` (95 %), `n/o` for a figure with no value."""
    return value.text(percent)
