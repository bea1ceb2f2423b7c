"""The discrete-event core: queues, agents with shifts and deviations, routing, and what each setup emits.

It writes canonical events (only those the setup lets the enterprise observe) to an `EventSink` and the full
truth, hidden parts included, to a `TruthRecorder`. It never talks to Kafka or files itself.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import numpy as np

from producers.simulator import emit as E
from producers.simulator.demand import DAY_MS
from producers.simulator.demand import Call
from producers.simulator.demand import Demand
from producers.simulator.demand import daily_calls
from producers.simulator.demand import day_start_ms
from producers.simulator.demand import repeat_call
from producers.simulator.emit import EventSink
from producers.simulator.gcpause import paused_gc
from producers.simulator.scenario import WEEKDAYS
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import Source
from producers.simulator.truth import AgentSpan
from producers.simulator.truth import Leg
from producers.simulator.truth import TruthRecorder
from producers.simulator.truth import VendorReportTruth
from producers.simulator.truth import add_scores
from streams.events import CallerHasher

MINUTE_MS = 60_000
_new_tuple = tuple.__new__

# The counts of a simulated vendor interval report (`VendorReportTruth`'s fields after its key).
_REPORT_COUNTS = (
    "offered", "answered", "abandoned", "answered_within_target", "handle_ms", "handled", "transferred",
    "qa_count", "qa_sum", "csat_count", "csat_sum",
)  # fmt: skip

# Agent states that are time on queue (available, on a contact, in wrap-up): what a vendor reports as staffed.
_ON_QUEUE = frozenset(("ready", "busy", "acw"))

# Where a team's pauses fall around their nominal times (`shift_activities`' stagger), in minutes, by agent: a
# rotating roster uses five slots 15 minutes apart (agent number mod 5); a fixed one, planned seat by seat,
# spreads them over ten slots 12 minutes apart (the agent's place in its shift pattern mod 10), so that no
# quarter hour loses more than about a fifth of a block's agents to a break.
ROTATING_STAGGERS_MIN = (-30, -15, 0, 15, 30)
FIXED_STAGGERS_MIN = (-54, -42, -30, -18, -6, 6, 18, 30, 42, 54)

# Heap entry kinds. Ties at the same millisecond are broken by insertion order (the sequence number).
ARRIVAL, ABANDON, OVERFLOW, TALK_END, WRAP_END, EMIT, AGENT = range(7)


@dataclass(slots=True)
class ContactState:
    call: Call
    initial_contact_id: str
    caller_hash: str
    first_enqueue_ms: int
    abandon_at_ms: int | None
    legs: int = 0
    handled: int = 0  # legs an agent has answered so far
    done: bool = False


@dataclass(slots=True)
class LegState:
    contact: ContactState
    contact_id: str
    source: int
    call_type: str
    enqueue_ms: int
    leg_no: int
    handled_no: int = (
        0  # 1 for the first leg of the contact an agent answered, 2 for the next (after a transfer)
    )
    waiting: bool = True
    can_abandon: bool = True
    truth: Leg | None = None


@dataclass(slots=True)
class Agent:
    id: str
    source: int
    team: str
    skills: tuple[str, ...]
    logged_in: bool = False
    state: str = "off"  # off | ready | busy | acw | away
    away_reason: str = ""
    leg: LegState | None = None
    # Postponed while busy: (action, scheduled end, reason, length); run when the agent is next free.
    pending: deque[tuple[str, int, str, int]] = field(default_factory=deque)
    span_start: int = 0
    span_state: str = "off"
    span_reason: str = ""


@dataclass(slots=True)
class SourceState:
    spec: Source
    index: int
    queue: deque[LegState] = field(default_factory=deque)
    idle: deque[Agent] = field(default_factory=deque)
    waiting: int = 0
    on_queue_agents: int = 0
    working: int = 0  # agents on a contact or in after-contact work


def _scaled(mean: float, draw: float, sigma: float, lognormal: bool) -> float:
    """A log-normal with the given mean from a N(0,1) draw (mu = ln(mean) - sigma^2/2), or exponential from Exp(1)."""
    if lognormal:
        return mean * math.exp(sigma * draw - sigma * sigma / 2.0)
    return mean * draw


def shift_activities(
    start_ms: int, hours: float, breaks: bool, stagger_min: int = 0
) -> list[tuple[str, int, int]]:
    """Published activities of one shift: on-queue blocks around a 15-min break, a 30-min lunch and a 15-min break
    (8 h+), or one 15-min break (4-8 h); shorter shifts have none. `stagger_min` shifts the pauses so a team
    does not leave the queue all at once, as a WFM planner would stagger them."""
    end_ms = start_ms + int(hours * 3_600_000)
    pauses: list[tuple[str, int, int]] = []
    if breaks and hours >= 8:
        pauses = [
            ("break", 2 * 60 + stagger_min, 15),
            ("lunch", 4 * 60 + stagger_min, 30),
            ("break", 6 * 60 + stagger_min, 15),
        ]
    elif breaks and hours >= 4:
        pauses = [("break", int(hours * 30) + stagger_min // 2, 15)]
    activities: list[tuple[str, int, int]] = []
    cursor = start_ms
    for activity, offset_min, minutes in pauses:
        pause_start = start_ms + offset_min * MINUTE_MS
        if pause_start > cursor:
            activities.append(("on_queue", cursor, pause_start))
        activities.append((activity, pause_start, pause_start + minutes * MINUTE_MS))
        cursor = pause_start + minutes * MINUTE_MS
    if end_ms > cursor:
        activities.append(("on_queue", cursor, end_ms))
    return activities


class Simulation:
    """One scenario through one setup and engagement model. `run()` drives it to the end of the last day."""

    def __init__(
        self,
        scenario: Scenario,
        sink: EventSink,
        truth: TruthRecorder,
        caller_key: bytes,
        on_day: Callable[[int], None] | None = None,
        demand: Demand = daily_calls,
    ) -> None:
        self.s = scenario
        self._demand = demand
        self.sink = sink
        self._buckets = [bucket.append for bucket in sink.by_code]
        self._code = sink.codes.append
        self.truth = truth
        self.caller_key = caller_key
        self._hasher = CallerHasher(caller_key)
        self._spans_append = truth.spans.append
        self.on_day = on_day
        self.tenant = scenario.tenant()
        self.setup = scenario.setup
        self._all_visible = scenario.setup == "virtualized"
        self._ids = [scenario.in_house.id, *(vendor.id for vendor in scenario.vendors)]
        self.sources = [SourceState(spec, i) for i, spec in enumerate((scenario.in_house, *scenario.vendors))]
        self.source_index = {state.spec.id: state.index for state in self.sources}
        self.call_types = [ct.name for ct in scenario.call_types]
        self.heap: list[tuple[int, int, int, Any]] = []
        self.seq = 0
        self.now = 0
        self.end_ms = day_start_ms(scenario, scenario.days)
        self.behaviour_rng = np.random.default_rng([scenario.seed, 3])
        self.next_repeat_n = 1_000_000_000
        self.caller_cache: dict[int, str] = {}
        self.agents: list[Agent] = []
        for state in self.sources:
            spec = state.spec
            for i in range(spec.agents):
                self.agents.append(
                    Agent(
                        id=f"{spec.id}-{i:04d}",
                        source=state.index,
                        team=f"{spec.id}-team-{i % spec.teams:02d}",
                        skills=tuple(self.call_types),
                    )
                )
        self._fixed_positions = _fixed_positions(self.sources)
        # Each agent's place among its source's agents (its id's number): who works on a short-staffed weekday.
        self._source_position = [int(agent.id.rsplit("-", 1)[1]) for agent in self.agents]
        self.vendor_share = scenario.vendor_shares()
        self._overflow_ms = int(scenario.engagement.overflow_after_s * 1000)
        self._mean_handle_ms = (
            1000
            * sum(
                ct.handle.talk_mean_s + ct.handle.hold_prob * ct.handle.hold_mean_s + ct.handle.acw_mean_s
                for ct in scenario.call_types
            )
            / max(1, len(scenario.call_types))
        )
        self.vendor_legs: dict[tuple[int, int], list[Leg]] = {}
        self.all_legs: list[Leg] = []
        self._report_ms = scenario.vendor_report_minutes * MINUTE_MS
        self._reports = self.setup != "virtualized" and len(self.sources) > 1
        # A vendor's report gives its agents' time on queue in the interval, from their own states: closed state
        # spans add theirs per (source, interval) as they close, a report adds the spans still open, and time
        # before `_reported_until[source]` (the end of its last interval reported) is already in a report.
        self._on_queue_ms: dict[tuple[int, int], int] = {}
        self._reported_until = [0] * len(self.sources)
        self._agents_of = [[agent for agent in self.agents if agent.source == s.index] for s in self.sources]
        # An interval with agents on queue and no calls is reported under the first call type the vendor takes.
        targeted = scenario.engagement.targeted if scenario.engagement.model == "targeted" else {}
        self._quiet_call_type = [
            next((ct for ct in self.call_types if not targeted or targeted.get(ct) == s.spec.id), None)
            or next(iter(self.call_types), None)
            for s in self.sources
        ]

    # --- scheduling -----------------------------------------------------------------------------------

    def _push(self, at_ms: int, kind: int, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at_ms, self.seq, kind, payload))

    def _visible_contact(self, source: int) -> bool:
        """The visibility rule: the enterprise sees its own ACD, and a vendor's only when virtualized."""
        return source == 0 or self._all_visible

    def _contact(self, code: int, source: int, leg: LegState, *extra: Any) -> None:
        if source == 0 or self._all_visible:
            contact = (
                self.tenant,
                self._ids[source],
                leg.contact_id,
                leg.contact.initial_contact_id,
                leg.call_type,
            )
            self._buckets[code]((self.now, contact + extra))
            self._code(code)

    def _contact_later(self, at_ms: int, code: int, leg: LegState, *extra: Any) -> None:
        if leg.source == 0 or self._all_visible:
            values = (
                self.tenant,
                self._ids[leg.source],
                leg.contact_id,
                leg.contact.initial_contact_id,
                leg.call_type,
            )
            self._push(at_ms, EMIT, (code, (*values, *extra)))

    def _agent_event(self, agent: Agent, code: int, ts_ms: int, *extra: Any) -> None:
        if agent.source == 0 or self._all_visible:
            self._buckets[code]((ts_ms, (self.tenant, agent.id, self._ids[agent.source], agent.team, *extra)))
            self._code(code)

    # --- the run --------------------------------------------------------------------------------------

    def run(self) -> None:
        """Run every day, with the cyclic collector paused: it would rescan the millions of live truth and event
        tuples on each burst of allocations (it halved throughput, measured), and the run makes no cycles."""
        with paused_gc():
            self._run_days()

    def _run_days(self) -> None:
        n = 0
        for day in range(self.s.days):
            start = day_start_ms(self.s, day)
            self._plan_day(day, start)
            calls = self._demand(self.s, day, n)
            n += len(calls)
            for call in calls:
                self._push(call.arrival_ms, ARRIVAL, call)
            self._run_until(start + DAY_MS)
            self.sink.drain()
            if self.on_day is not None:
                self.on_day(day)
        self._run_until(self.end_ms + DAY_MS, drain=True)
        self.sink.drain()
        for agent in self.agents:
            self._close_span(agent, self.now)
        self.truth.finish(self)

    def _run_until(self, limit_ms: int, drain: bool = False) -> None:
        heap = self.heap
        pop = heapq.heappop
        handlers = (
            self._arrive,
            self._abandon,
            self._overflow_timeout,
            self._talk_end,
            self._wrap_end,
            self._emit_due,
            self._agent_action,
        )
        while heap and (drain or heap[0][0] < limit_ms):
            at, _, kind, payload = pop(heap)
            self.now = at
            handlers[kind](payload)

    def _emit_due(self, payload: tuple[int, tuple[Any, ...]]) -> None:
        self._buckets[payload[0]]((self.now, payload[1]))
        self._code(payload[0])

    def _agent_action(self, payload: tuple[Callable[[Any, Any], None], Any, Any]) -> None:
        action, agent, arg = payload
        action(agent, arg)

    # --- agents and schedules -------------------------------------------------------------------------

    def _plan_day(self, day: int, day_start: int) -> None:
        """Publish each agent's schedule at the start of the day and plan what the agent will really do; plan
        every vendor's report of each interval of the day (sent if it had calls or agents on queue)."""
        if self._reports:
            first = day_start - day_start % self._report_ms
            for source in range(1, len(self.sources)):
                for interval in range(first, day_start + DAY_MS, self._report_ms):
                    self._report_bucket(source, interval)
        rng = self.behaviour_rng
        weekday = WEEKDAYS[(self.s.start_date + timedelta(days=day)).weekday()]
        for agent_no, agent in enumerate(self.agents):
            spec = self.sources[agent.source].spec
            if not spec.shifts:
                continue
            fixed = self._fixed_positions.get(agent.id)
            if spec.weekday_share:
                # Off today: the weekday has that share of the agents on shift. A fixed roster keeps the share
                # in every shift pattern (its blocks stay in proportion); a rotating one, of the source.
                share = spec.weekday_share.get(weekday, 1.0)
                if fixed is not None and fixed[2] >= round(fixed[3] * share):
                    continue
                if fixed is None and self._source_position[agent_no] >= spec.agents_on(weekday):
                    continue
            pattern = spec.shifts[0]
            if fixed is not None:
                position, stagger = fixed[0], fixed[1]
            else:
                stagger = ROTATING_STAGGERS_MIN[agent_no % len(ROTATING_STAGGERS_MIN)]
                position = ((agent_no * 0.618034) + day * 0.1) % 1.0 if len(spec.shifts) > 1 else 0.0
            cumulative = 0.0
            for candidate in spec.shifts:
                cumulative += candidate.share
                if position < cumulative:
                    pattern = candidate
                    break
            start = day_start + (pattern.start.hour * 60 + pattern.start.minute) * MINUTE_MS
            activities = shift_activities(start, pattern.hours, pattern.breaks, stagger)
            spec = self.sources[agent.source].spec
            for activity, a_start, a_end in activities:
                self._agent_event(agent, E.SCHEDULE, day_start, activity, a_start, a_end, 1)
                self.truth.schedule(agent.id, spec.id, agent.team, activity, a_start, a_end)
            b = spec.behaviour
            late = (
                rng.exponential(b.late_login_mean_min * MINUTE_MS) if rng.random() < b.late_login_prob else 0
            )
            self._push(int(start + late), AGENT, (self._login, agent, 0))
            for activity, a_start, a_end in activities:
                if activity == "on_queue":
                    hours = (a_end - a_start) / 3_600_000
                    for _ in range(rng.poisson(b.unscheduled_not_ready_per_hour * hours)):
                        at = int(a_start + rng.random() * (a_end - a_start))
                        length = int(rng.exponential(b.unscheduled_not_ready_mean_min * MINUTE_MS)) + 1
                        self._push(at, AGENT, (self._away_due, agent, (at + length, "personal", length)))
                else:
                    extra = (
                        int(rng.exponential(b.long_break_mean_min * MINUTE_MS))
                        if rng.random() < b.long_break_prob
                        else 0
                    )
                    length = a_end - a_start + extra
                    self._push(a_start, AGENT, (self._away_due, agent, (a_end + extra, activity, length)))
            shift_end = activities[-1][2] if activities else start
            early = (
                int(rng.exponential(b.early_logout_mean_min * MINUTE_MS))
                if rng.random() < b.early_logout_prob
                else 0
            )
            self._push(max(int(start + late) + 1, shift_end - early), AGENT, (self._logout_due, agent, 0))

    def _set_state(self, agent: Agent, state: str, reason: str = "") -> None:
        if agent.span_state != state or agent.span_reason != reason:
            self._close_span(agent, self.now)
            agent.span_state, agent.span_reason, agent.span_start = state, reason, self.now
        agent.state = state

    def _close_span(self, agent: Agent, at_ms: int) -> None:
        if at_ms > agent.span_start and agent.span_state != "off":
            # tuple.__new__ builds the named tuple in C; AgentSpan(...) would run its Python __new__.
            self._spans_append(
                _new_tuple(AgentSpan, (agent.id, self._ids[agent.source], agent.team, agent.span_state,
                                       agent.span_reason, agent.span_start, at_ms))
            )  # fmt: skip
            if agent.source and self._reports and agent.span_state in _ON_QUEUE:
                self._count_on_queue(agent.source, agent.span_start, at_ms)
        agent.span_start = at_ms

    def _count_on_queue(self, source: int, start_ms: int, end_ms: int) -> None:
        """A vendor agent's time on queue from `start_ms` to `end_ms`, into the report intervals not yet reported."""
        width = self._report_ms
        start_ms = max(start_ms, self._reported_until[source])
        while start_ms < end_ms:
            interval = start_ms - start_ms % width
            stop = min(end_ms, interval + width)
            key = (source, interval)
            self._on_queue_ms[key] = self._on_queue_ms.get(key, 0) + stop - start_ms
            start_ms = stop

    def _staffed_ms(self, source: int, interval: int) -> int:
        """The vendor's agents' time on queue in the interval (now after its end): spans closed so far and those
        still open; later time of the open ones goes to later intervals when they close."""
        end = interval + self._report_ms
        on_queue = self._on_queue_ms.pop((source, interval), 0)
        for agent in self._agents_of[source]:
            if agent.span_state in _ON_QUEUE:
                on_queue += max(0, min(end, self.now) - max(interval, agent.span_start))
        self._reported_until[source] = end
        return on_queue

    def _login(self, agent: Agent, _: int) -> None:
        if agent.logged_in:
            # Still finishing yesterday's last call: the new shift starts, so yesterday's logout is off.
            agent.pending = deque(item for item in agent.pending if item[0] != "logout")
            return
        agent.logged_in = True
        self._agent_event(agent, E.LOGIN, self.now, list(agent.skills))
        self._make_ready(agent)

    def _make_ready(self, agent: Agent) -> None:
        """The agent is free: run what it postponed while busy, else take the next caller or wait idle."""
        while agent.pending:
            action, until, reason, length = agent.pending.popleft()
            if action == "logout":
                self._logout(agent)
                return
            # A pause taken late (the agent was on a call) still lasts its full length.
            self._go_away(agent, max(until, self.now + length), reason)
            return
        source = self.sources[agent.source]
        self._agent_event(agent, E.READY, self.now)
        self._set_state(agent, "ready")
        source.on_queue_agents += 1
        source.idle.append(agent)
        self._dispatch(source)

    def _leave_idle(self, agent: Agent) -> None:
        source = self.sources[agent.source]
        if agent.state == "ready":
            source.idle.remove(agent)
            source.on_queue_agents -= 1

    def _go_away(self, agent: Agent, until_ms: int, reason: str) -> None:
        self._leave_idle(agent)
        self._agent_event(agent, E.NOT_READY, self.now, reason)
        self._set_state(agent, "away", reason)
        agent.away_reason = reason
        self._push(until_ms, AGENT, (self._back, agent, until_ms))

    def _back(self, agent: Agent, until_ms: int) -> None:
        if agent.state == "away" and agent.logged_in:
            self._make_ready(agent)

    def _away_due(self, agent: Agent, arg: tuple[int, str, int]) -> None:
        until, reason, length = arg
        if not agent.logged_in:
            return
        if agent.state == "ready":
            self._go_away(agent, until, reason)
        else:
            agent.pending.append(("away", until, reason, length))

    def _logout_due(self, agent: Agent, _: int) -> None:
        if not agent.logged_in:
            return
        if agent.state in ("ready", "away"):
            self._logout(agent)
        else:
            agent.pending.clear()
            agent.pending.append(("logout", 0, "", 0))

    def _logout(self, agent: Agent) -> None:
        self._leave_idle(agent)
        agent.pending.clear()
        agent.logged_in = False
        self._agent_event(agent, E.LOGOUT, self.now)
        self._set_state(agent, "off")
        agent.span_start = self.now

    def _report_bucket(self, source: int, interval: int) -> list[Leg]:
        """The legs of a vendor's report interval, its report planned when the interval is first met."""
        bucket = self.vendor_legs.get((source, interval))
        if bucket is None:
            bucket = self.vendor_legs[(source, interval)] = []
            # Vendors report an interval half an hour after it ends, when its calls have settled.
            self._push(
                interval + self._report_ms + 30 * MINUTE_MS,
                AGENT,
                (self._vendor_report, None, (source, interval)),
            )
        return bucket

    def _vendor_report(self, _: None, key: tuple[int, int]) -> None:
        """What the vendor tells the enterprise about its own queue, per call type, by arrival interval: the calls
        (a leg its agents transferred on within the vendor is the same call: its work is in `handled` and the
        handle time, not in offered), and the QA evaluations and surveys made by the time it reports; and its
        agents' time on queue in the interval (staffed), from their own states. Its agents take every call type
        it is sent, so their time is divided among the reports in proportion to handle time (equally where none
        was handled): the reports add up to it exactly. An interval with agents on queue but no calls is reported
        with none, under the first call type the vendor takes; one with neither (closed) is not reported."""
        source, interval = key
        legs = self.vendor_legs.pop(key)
        staffed = self._staffed_ms(source, interval)
        threshold_ms = self.s.service_threshold_s * 1000
        per_type: dict[str, dict[str, float]] = {}
        for leg in legs:
            row = per_type.setdefault(leg.call_type, dict.fromkeys(_REPORT_COUNTS, 0))
            answered = leg.outcome == "answered"
            if leg.entry != "transfer":
                row["offered"] += 1
                row["answered"] += answered
                row["abandoned"] += leg.outcome == "abandoned"
                row["answered_within_target"] += answered and (leg.wait_ms or 0) <= threshold_ms
            if answered:
                row["handled"] += 1
                row["handle_ms"] += leg.talk_ms + leg.hold_ms + leg.acw_ms
            add_scores(row, leg)
        quiet = self._quiet_call_type[source]
        if not per_type and staffed and quiet is not None:
            per_type[quiet] = dict.fromkeys(_REPORT_COUNTS, 0)
        reports = sorted(per_type.items())
        shares = _divide(staffed, [int(row["handle_ms"]) for _, row in reports])
        for (call_type, row), staffed_ms in zip(reports, shares, strict=True):
            counts = {name: int(value) for name, value in row.items() if name != "qa_sum"}
            report = VendorReportTruth(
                self.sources[source].spec.id,
                call_type,
                interval,
                **counts,
                qa_sum=round(row["qa_sum"], 1),
                staffed_ms=staffed_ms,
            )
            self._code(E.VENDOR_REPORT)
            self._buckets[E.VENDOR_REPORT](
                (
                    self.now,
                    (
                        self.tenant,
                        report.source,
                        call_type,
                        interval,
                        self.s.vendor_report_minutes,
                        report.offered,
                        report.answered,
                        report.abandoned,
                        report.answered_within_target,
                        self.s.service_threshold_s,
                        report.handle_ms,
                        report.handled,
                        report.transferred,
                        report.qa_count,
                        report.qa_sum,
                        report.csat_count,
                        report.csat_sum,
                        report.staffed_ms,
                    ),
                )
            )
            self.truth.vendor_reports.append(report)

    # --- contacts -------------------------------------------------------------------------------------

    def _caller_hash(self, customer: int) -> str:
        cached = self.caller_cache.get(customer)
        if cached is None:
            cached = self.caller_cache[customer] = self._hasher.normalized(f"+1555{customer:07d}")
        return cached

    def _route(self, call: Call) -> tuple[str, int, str]:
        """(how, target source, trigger): how is 'in_house', 'network' (ND vendor) or 'redirect' (at arrival)."""
        engagement = self.s.engagement
        call_type = self.call_types[call.call_type]
        if engagement.model == "targeted":
            vendor = engagement.targeted.get(call_type)
            if vendor is None:
                return "in_house", 0, ""
            target, trigger = self.source_index[vendor], "call_type"
        elif engagement.model == "full" or (
            engagement.model == "shared" and engagement.shared_mode == "split"
        ):
            target, trigger = self._split_target(call.route_u), "split"
            if target == 0:
                return "in_house", 0, ""
        else:  # shared by overflow
            if self.setup == "network_delivered" and self._network_overflow():
                target = self._split_target(call.route_u, vendors_only=True)
                # The pre-route sees the vendor's queue as well (a network router's peripheral data): a vendor
                # on an overflow contract is sent a caller only when it has room.
                if self._has_room(self.sources[target]):
                    return "network", target, "timeout"
            return "in_house", 0, ""
        return ("network" if self.setup == "network_delivered" else "redirect"), target, trigger

    def _split_target(self, u: float, vendors_only: bool = False) -> int:
        engagement = self.s.engagement
        if engagement.split and not vendors_only:
            shares = [engagement.split.get(state.spec.id, 0.0) / 100.0 for state in self.sources]
        else:
            shares = [0.0] + [self.vendor_share.get(s.spec.id, 0.0) for s in self.sources[1:]]
            if sum(shares) == 0:
                shares = [0.0] + [1.0 / (len(self.sources) - 1)] * (len(self.sources) - 1)
            total = sum(shares)
            shares = [share / total for share in shares]
        cumulative = 0.0
        for index, share in enumerate(shares):
            cumulative += share
            if u < cumulative:
                return index
        return len(shares) - 1

    def _network_overflow(self) -> bool:
        """Network-delivered overflow happens at the carrier, before the enterprise ACD: the pre-route sends a
        call to the vendor when the in-house expected wait (callers ahead x mean handle time / agents on queue)
        exceeds the overflow threshold. The enterprise sees neither the decision nor the call."""
        in_house = self.sources[0]
        if in_house.idle:
            return False
        agents = max(1, in_house.on_queue_agents + in_house.working)
        return (in_house.waiting + 1) * self._mean_handle_ms / agents > self._overflow_ms

    def _arrive(self, call: Call) -> None:
        if self.now >= self.end_ms:
            return
        initial = f"{self.tenant}-{call.n}"
        contact = ContactState(call, initial, self._caller_hash(call.customer), self.now, None)
        patience = self.s.patience
        trace = call.trace
        if trace is not None:
            contact.abandon_at_ms = (
                None if trace.patience_ms is None else self.now + max(1, trace.patience_ms)
            )
        elif patience.distribution == "exponential":
            contact.abandon_at_ms = self.now + max(1, int(patience.mean_s * 1000 * call.patience_draw))
        elif patience.distribution == "lognormal":
            contact.abandon_at_ms = self.now + max(
                1, int(_scaled(patience.mean_s * 1000, call.patience_draw, patience.sigma, True))
            )
        how, target, trigger = self._route(call)
        call_type = self.call_types[call.call_type]
        offered_at = target if how == "network" else 0
        leg = self._new_leg(contact, offered_at, call_type)
        self._contact(
            E.OFFERED,
            offered_at,
            leg,
            "network" if how == "network" else "enterprise_acd",
            contact.caller_hash,
        )
        assert leg.truth is not None
        leg.truth.entry = "network" if how == "network" else "enterprise_acd"
        if how == "redirect":
            leg.waiting = False
            self._send_to_vendor(leg, target, trigger, waited_ms=0, queued=False)
            return
        self._enqueue(leg)
        if (
            (
                how == "in_house"
                and self.s.engagement.model == "shared"
                and self.s.engagement.shared_mode == "overflow"
            )
            and self.setup != "network_delivered"
            and len(self.sources) > 1
        ):
            self._push(self.now + self._overflow_ms, OVERFLOW, leg)

    def _new_leg(self, contact: ContactState, source: int, call_type: str) -> LegState:
        contact.legs += 1
        contact_id = (
            contact.initial_contact_id
            if contact.legs == 1
            else f"{contact.initial_contact_id}.{contact.legs}"
        )
        leg = LegState(contact, contact_id, source, call_type, self.now, contact.legs)
        leg.truth = Leg(
            tenant=self.tenant,
            initial_contact_id=contact.initial_contact_id,
            contact_id=contact_id,
            leg_no=contact.legs,
            source=self.sources[source].spec.id,
            call_type=call_type,
            caller_hash=contact.caller_hash,
            arrived_ms=self.now,
            first_enqueue_ms=contact.first_enqueue_ms,
            repeat_of=None if contact.call.repeat_of is None else f"{self.tenant}-{contact.call.repeat_of}",
        )
        self.all_legs.append(leg.truth)
        if source != 0 and self._reports:
            self._report_bucket(source, self.now - self.now % self._report_ms).append(leg.truth)
        return leg

    def _enqueue(self, leg: LegState) -> None:
        source = self.sources[leg.source]
        leg.enqueue_ms = self.now
        leg.waiting = True
        assert leg.truth is not None
        leg.truth.enqueued_ms = self.now
        self._contact(
            E.QUEUED, leg.source, leg, f"{source.spec.id}.{leg.call_type}", leg.truth.entry == "transfer"
        )
        source.queue.append(leg)
        source.waiting += 1
        deadline = leg.contact.abandon_at_ms
        if leg.can_abandon and deadline is not None:
            self._push(max(deadline, self.now), ABANDON, leg)
        self._dispatch(source)

    def _dispatch(self, source: SourceState) -> None:
        while source.idle and source.waiting:
            leg = source.queue.popleft()
            if not leg.waiting:
                continue
            agent = source.idle.popleft()
            source.on_queue_agents -= 1
            self._answer(leg, agent)

    def _take_out(self, leg: LegState) -> None:
        leg.waiting = False
        self.sources[leg.source].waiting -= 1

    def _answer(self, leg: LegState, agent: Agent) -> None:
        self._take_out(leg)
        source = self.sources[leg.source]
        call = leg.contact.call
        wait = self.now - leg.enqueue_ms
        total = self.now - leg.contact.first_enqueue_ms
        self._contact(E.ANSWERED, leg.source, leg, agent.id, wait, total)
        agent.leg = leg
        leg.contact.handled += 1
        leg.handled_no = leg.contact.handled
        source.working += 1
        self._agent_event(agent, E.ON_CONTACT, self.now, leg.contact_id)
        self._set_state(agent, "busy")
        talk, hold, acw = self._handle_times(call, leg, source)
        truth = leg.truth
        assert truth is not None
        truth.outcome, truth.outcome_ms, truth.agent_id = "answered", self.now, agent.id
        truth.wait_ms, truth.total_wait_ms = wait, total
        truth.talk_ms, truth.hold_ms, truth.acw_ms = talk, hold, acw
        if hold:
            held_at = self.now + talk // 2
            self._contact_later(held_at, E.HELD, leg, agent.id)
            self._contact_later(held_at + hold, E.RETRIEVED, leg, agent.id, hold)
        self._push(self.now + talk + hold, TALK_END, agent)

    def _handle_times(self, call: Call, leg: LegState, source: SourceState) -> tuple[int, int, int]:
        """Talk, hold and wrap-up of a leg: a real log's observed times (scaled like a draw), or the draws."""
        if call.trace is not None:
            scale = source.spec.aht_multiplier
            return int(call.trace.talk_ms * scale), 0, int(call.trace.acw_ms * scale)
        handle = self.s.call_types[call.call_type].handle
        lognormal = handle.distribution == "lognormal"
        z = call.talk_z if leg.handled_no == 1 else call.talk2_z
        talk = max(
            1000,
            int(
                _scaled(
                    handle.talk_mean_s * 1000 * source.spec.aht_multiplier, z, handle.talk_sigma, lognormal
                )
            ),
        )
        hold = int(handle.hold_mean_s * 1000 * call.hold_e) if call.hold_u < handle.hold_prob else 0
        acw = (
            int(
                _scaled(
                    handle.acw_mean_s * 1000 * source.spec.aht_multiplier, call.acw_z, handle.acw_sigma, True
                )
            )
            if handle.acw_mean_s > 0
            else 0
        )
        return talk, hold, acw

    def _abandon(self, leg: LegState) -> None:
        if not leg.waiting:
            return
        self._take_out(leg)
        wait = self.now - leg.enqueue_ms
        total = self.now - leg.contact.first_enqueue_ms
        self._contact(E.ABANDONED, leg.source, leg, wait, total)
        truth = leg.truth
        assert truth is not None
        truth.outcome, truth.outcome_ms, truth.wait_ms, truth.total_wait_ms = (
            "abandoned",
            self.now,
            wait,
            total,
        )
        self._contact_done(leg.contact, None)

    def _overflow_timeout(self, leg: LegState) -> None:
        if not leg.waiting or leg.source != 0:
            return
        target = self._split_target(leg.contact.call.route_u, vendors_only=True)
        if self._all_visible and not self._has_room(self.sources[target]):
            # Look-ahead: the vendor's queue is on the enterprise's own ACD, which keeps the caller rather than
            # overflow them into a full one (enterprise-routed, the vendor's ACD returns them instead).
            return
        self._take_out(leg)
        self._send_to_vendor(leg, target, "timeout", waited_ms=self.now - leg.enqueue_ms, queued=True)

    @staticmethod
    def _has_room(vendor: SourceState) -> bool:
        """The vendor takes one more caller: fewer waiting than its queue limit plus its idle agents (limit 0:
        only when an agent is free to answer at once)."""
        limit = vendor.spec.queue_limit
        return limit is None or vendor.waiting < limit + len(vendor.idle)

    def _send_to_vendor(self, leg: LegState, target: int, trigger: str, waited_ms: int, queued: bool) -> None:
        """Overflow from the in-house queue; in an enterprise-routed setup this is a redirect that can fail."""
        truth = leg.truth
        assert truth is not None
        vendor = self.sources[target]
        self._contact(E.OVERFLOWED, 0, leg, vendor.spec.id, trigger, waited_ms)
        handoff = "accepted"
        if self.setup == "enterprise_routed":
            if leg.contact.call.redirect_u < self.s.redirect_fail_prob:
                handoff = "failed"
            elif not self._has_room(vendor):
                handoff = "returned"
            self._contact(E.REDIRECTED, 0, leg, vendor.spec.id, handoff)
        truth.overflow_trigger, truth.overflow_to, truth.handoff = trigger, vendor.spec.id, handoff
        if handoff != "accepted":
            # The caller stays with the in-house center; a failed redirect is not tried again.
            if queued:
                leg.waiting = True
                self.sources[0].waiting += 1
                self.sources[0].queue.appendleft(leg)
                self._dispatch(self.sources[0])
            else:
                self._enqueue(leg)
            return
        truth.outcome, truth.outcome_ms, truth.wait_ms = "overflowed", self.now, waited_ms
        truth.total_wait_ms = self.now - leg.contact.first_enqueue_ms
        new_leg = self._new_leg(leg.contact, target, leg.call_type)
        assert new_leg.truth is not None
        new_leg.truth.entry = "overflow"
        self._contact(E.OFFERED, target, new_leg, "enterprise_acd", leg.contact.caller_hash)
        self._enqueue(new_leg)

    def _talk_end(self, agent: Agent) -> None:
        leg = agent.leg
        assert leg is not None
        assert leg.truth is not None
        truth = leg.truth
        call = leg.contact.call
        self._contact(E.ENDED, leg.source, leg, agent.id, truth.talk_ms, truth.hold_ms)
        # Whichever leg an agent answers first can be transferred (the vendor's, after an overflow, too); the
        # tier-2 leg a transfer creates is the last tier and is not passed on again.
        transfer = leg.handled_no == 1 and call.transfer_u < self.s.call_types[call.call_type].transfer_prob
        if transfer:
            to_queue = f"{leg.call_type}-tier2"
            self._contact(E.TRANSFERRED, leg.source, leg, agent.id, "internal", to_queue)
            truth.transferred = True
            follow = self._new_leg(leg.contact, leg.source, leg.call_type)
            follow.can_abandon = False  # callers rarely hang up once an agent has passed them on
            assert follow.truth is not None
            follow.truth.entry = "transfer"
            self._enqueue(follow)
        self._agent_event(agent, E.ACW, self.now, leg.contact_id)
        self._set_state(agent, "acw")
        self._push(self.now + truth.acw_ms, WRAP_END, agent)

    def _wrap_end(self, agent: Agent) -> None:
        leg = agent.leg
        assert leg is not None
        assert leg.truth is not None
        truth = leg.truth
        call = leg.contact.call
        source = self.sources[leg.source]
        self._contact(E.WRAPUP_ENDED, leg.source, leg, agent.id, truth.acw_ms)
        spec = source.spec
        # Every leg an agent handled can be scored and surveyed, at whichever source and whatever its number;
        # the first handled leg uses the call's draws, so a caller scores alike whoever answers (paired runs).
        first = leg.handled_no == 1
        qa_u, qa_z = (call.qa_u, call.qa_z) if first else (call.qa2_u, call.qa2_z)
        csat_u, csat_z = (call.csat_u, call.csat_z) if first else (call.csat2_u, call.csat2_z)
        if qa_u < self.s.qa_sample_rate:
            truth.qa_score = round(min(100.0, max(0.0, spec.qa_mean + spec.qa_sd * qa_z)), 1)
            self._contact_later(self.now + 10 * MINUTE_MS, E.QUALITY, leg, agent.id, truth.qa_score, None)
        if csat_u < self.s.csat_response_rate:
            truth.csat = int(min(5, max(1, round(spec.csat_mean + 0.9 * csat_z))))
            self._contact_later(self.now + 5 * MINUTE_MS, E.QUALITY, leg, agent.id, None, truth.csat)
        agent.leg = None
        source.working -= 1
        if not truth.transferred:
            self._contact_done(leg.contact, leg)
        self._make_ready(agent)

    def _open_hour(self, at_ms: int) -> int:
        """Customers call back while the center takes calls: a time in a closed hour moves to the next open one."""
        profile = self.s.intraday_profile
        # Hours of the simulated day, which begins at the scenario's start time (not necessarily midnight UTC).
        origin = day_start_ms(self.s, 0)
        since = at_ms - origin
        for _ in range(24 * 7):
            if profile[(since // 3_600_000) % 24] > 0:
                return origin + since
            since = (since // 3_600_000 + 1) * 3_600_000 + since % 3_600_000 % 600_000
        return origin + since

    def _contact_done(self, contact: ContactState, last: LegState | None) -> None:
        """A handled customer may call again (a repeat contact) with the handling source's repeat probability."""
        if contact.done:
            return
        contact.done = True
        if last is None:
            return
        call = contact.call
        if call.repeat_u < self.sources[last.source].spec.repeat_prob:
            at = self._open_hour(
                self.now + max(MINUTE_MS, int(call.repeat_e * self.s.repeat_mean_hours * 3_600_000))
            )
            if at < self.end_ms:
                self.next_repeat_n += 1
                self._push(at, ARRIVAL, repeat_call(self.s, call, self.next_repeat_n, at))


def _fixed_positions(sources: list[SourceState]) -> dict[str, tuple[float, int, int, int]]:
    """Per agent of a `fixed` roster, a point inside its pattern's share of [0, 1), the same every day, its
    break stagger, its place in the pattern and the pattern's agents: agents are dealt to the patterns in order,
    as many to each as its share of the agents (`_divide`), so every pattern has exactly the agents it was
    planned with, its pauses spread over `FIXED_STAGGERS_MIN`."""
    positions: dict[str, tuple[float, int, int, int]] = {}
    for state in sources:
        spec = state.spec
        if spec.roster != "fixed" or not spec.shifts:
            continue
        counts = _divide(spec.agents, [round(pattern.share * 1_000_000) for pattern in spec.shifts])
        agent_no, cumulative = 0, 0.0
        for pattern, count in zip(spec.shifts, counts, strict=True):
            for k in range(count):
                stagger = FIXED_STAGGERS_MIN[k % len(FIXED_STAGGERS_MIN)]
                positions[f"{spec.id}-{agent_no:04d}"] = (cumulative + pattern.share / 2, stagger, k, count)
                agent_no += 1
            cumulative += pattern.share
    return positions


def _divide(total: int, weights: list[int]) -> list[int]:
    """`total` in whole parts proportional to `weights` (equal where they are all 0) that add up to it exactly:
    each part rounded down, the rest one by one to the largest remainders (ties to the first)."""
    if not any(weights):
        weights = [1] * len(weights)
    whole = sum(weights)
    if not whole:
        return []
    parts = [total * weight // whole for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
