"""A real log as the simulator's demand: what would that month have looked like under another setup?

The log's calls arrive when they really entered the queue, with the call type, caller and handle time they
really had; only the staffing, the delivery setup and the engagement model are the scenario's. Built from
canonical contact events, so any feed adapter's output will do (the Anonymous Bank log, Asterisk, Connect...).

Patience is observed only for callers who hung up (their wait). A served caller's patience is *censored*: it
was longer than the wait they had. Following Brown et al. (2005) it is estimated with the Kaplan-Meier
product-limit estimator over all queued calls, and each served caller gets a draw from it conditional on
exceeding the wait they had. Beyond the longest observed abandon the estimate says nothing: those callers are
given no patience limit (counted in `TraceReport.unbounded_patience`). Callers who never reached the queue and
hung up (in the IVR) are not queue demand: left out and counted.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from typing import Any

import numpy as np

from producers.simulator.demand import DAY_MS
from producers.simulator.demand import Call
from producers.simulator.demand import Demand
from producers.simulator.demand import TraceCall
from producers.simulator.demand import day_start_ms
from producers.simulator.scenario import WEEKDAYS
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import Source
from producers.simulator.scenario import Weekday
from producers.simulator.scenario import scenario_from_dict
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactOffered
from streams.events import ContactOverflowed
from streams.events import ContactQueued
from streams.events import ContactWrapupEnded
from streams.events import Event


@dataclass
class TraceReport:
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    overflowed: int = 0  # left the log's queue for another site: patience censored at that wait
    left_before_queue: int = 0
    incomplete: int = 0  # no outcome in the log
    patience_drawn: int = 0
    unbounded_patience: int = 0
    handle_resampled: int = 0  # abandoned callers get a served call's handle time of their type
    call_types: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class KaplanMeier:
    """Survival S(t) = P(patience > t) at each distinct abandon time (ms), from right-censored waits."""

    times: tuple[int, ...]
    survival: tuple[float, ...]

    @classmethod
    def fit(cls, waits: Sequence[int], abandoned: Sequence[bool]) -> KaplanMeier:
        order = sorted(zip(waits, abandoned, strict=True))
        at_risk = len(order)
        surviving = 1.0
        times: list[int] = []
        survival: list[float] = []
        i = 0
        while i < len(order):
            t = order[i][0]
            deaths = removed = 0
            while i < len(order) and order[i][0] == t:
                deaths += order[i][1]
                removed += 1
                i += 1
            if deaths:
                surviving *= 1.0 - deaths / at_risk
                times.append(t)
                survival.append(surviving)
            at_risk -= removed
        return cls(tuple(times), tuple(survival))

    def at(self, t: int) -> float:
        index = bisect.bisect_right(self.times, t)
        return 1.0 if index == 0 else self.survival[index - 1]

    def draw_above(self, wait: int, u: float) -> int | None:
        """Inverse of P(T <= t | T > wait) at u: the first abandon time t > wait with S(t) <= (1-u) S(wait)."""
        level = (1.0 - u) * self.at(wait)
        start = bisect.bisect_right(self.times, wait)
        for index in range(start, len(self.times)):
            if self.survival[index] <= level:
                return self.times[index]
        return None


@dataclass
class _Leg:
    call_type: str = ""
    customer: str = ""
    offered_ms: int = 0
    entered_ms: int | None = None
    outcome: str = ""
    wait_ms: int = 0
    talk_ms: int | None = None
    acw_ms: int = 0


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def trace_from_events(
    events: Iterable[Event], seed: int = 1999, days: int | None = None
) -> tuple[list[TraceCall], TraceReport]:
    """Each customer call's first leg, in arrival order, with observed (or estimated) patience and handling;
    `days` keeps the calls of the first N (UTC) days (the estimate still uses the whole log)."""
    legs: dict[str, _Leg] = {}
    for event in events:
        contact_id = getattr(event, "contact_id", None)
        if contact_id is None or contact_id != getattr(event, "initial_contact_id", None):
            continue
        leg = legs.setdefault(contact_id, _Leg())
        if isinstance(event, ContactOffered):
            leg.call_type = event.call_type
            leg.customer = event.caller_hash or contact_id
            leg.offered_ms = _ms(event.ts)
        elif isinstance(event, ContactQueued) and leg.entered_ms is None:
            leg.entered_ms = _ms(event.ts)
        elif isinstance(event, ContactAnswered) and not leg.outcome:
            leg.outcome, leg.wait_ms = "answered", event.wait_ms  # the first leg: its wait is the total
            if leg.entered_ms is None:
                leg.entered_ms = _ms(event.ts) - event.wait_ms
        elif isinstance(event, ContactAbandoned) and not leg.outcome:
            leg.outcome, leg.wait_ms = "abandoned", event.wait_ms
        elif isinstance(event, ContactOverflowed) and not leg.outcome:
            leg.outcome, leg.wait_ms = "overflowed", event.wait_ms
        elif isinstance(event, ContactEnded):
            leg.talk_ms = event.talk_ms + event.hold_ms
        elif isinstance(event, ContactWrapupEnded):
            leg.acw_ms = event.acw_ms
    report = TraceReport()
    end_ms: int | None = None
    if days is not None and legs:
        first = datetime.fromtimestamp(min(leg.offered_ms for leg in legs.values()) / 1000, tz=UTC).date()
        end_ms = int(datetime.combine(first, time(), tzinfo=UTC).timestamp() * 1000) + days * DAY_MS
    queued: list[tuple[str, _Leg]] = []
    everyone: list[_Leg] = []  # the estimate uses the whole log, whatever the window
    for contact_id, leg in legs.items():
        in_window = end_ms is None or leg.offered_ms < end_ms
        if leg.outcome and leg.entered_ms is not None:
            everyone.append(leg)
            if in_window:
                queued.append((contact_id, leg))
        elif in_window and not leg.outcome:
            report.incomplete += 1
        elif in_window:
            report.left_before_queue += 1
    queued.sort(key=lambda item: (item[1].entered_ms or 0, item[0]))
    estimate = KaplanMeier.fit(
        [leg.wait_ms for leg in everyone], [leg.outcome == "abandoned" for leg in everyone]
    )
    served: dict[str, list[tuple[int, int]]] = {}
    for leg in everyone:
        if leg.outcome == "answered" and leg.talk_ms is not None:
            served.setdefault(leg.call_type, []).append((leg.talk_ms, leg.acw_ms))
    every_served = [times for group in served.values() for times in group]
    rng = np.random.default_rng([seed, 7])
    calls: list[TraceCall] = []
    for contact_id, leg in queued:
        report.calls += 1
        report.call_types[leg.call_type] += 1
        patience: int | None
        if leg.outcome == "abandoned":
            report.abandoned += 1
            patience = leg.wait_ms
        else:
            report.answered += leg.outcome == "answered"
            report.overflowed += leg.outcome == "overflowed"
            report.patience_drawn += 1
            patience = estimate.draw_above(leg.wait_ms, float(rng.random()))
            report.unbounded_patience += patience is None
        if leg.outcome == "answered" and leg.talk_ms is not None:
            talk, acw = leg.talk_ms, leg.acw_ms
        else:
            pool = served.get(leg.call_type) or every_served
            if not pool:
                raise ValueError("the log has no served call to take a handle time from")
            talk, acw = pool[int(rng.integers(len(pool)))]
            report.handle_resampled += 1
        assert leg.entered_ms is not None
        calls.append(TraceCall(contact_id, leg.entered_ms, leg.call_type, leg.customer, patience, talk, acw))
    return calls, report


def call_type_name(call_type: str) -> str:
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in call_type.lower())
    return name[:64] or "default"


def trace_scenario(base: Scenario, calls: Sequence[TraceCall]) -> Scenario:
    """`base`'s sources, setup and engagement over the trace's days, hours and call types (with their mean
    handle times, which the network-delivered pre-route uses to estimate the in-house wait)."""
    if not calls:
        raise ValueError("the trace has no queued calls")
    first = datetime.fromtimestamp(calls[0].arrival_ms / 1000, tz=UTC).date()
    start_ms = int(datetime.combine(first, time(), tzinfo=UTC).timestamp() * 1000)
    days = (calls[-1].arrival_ms - start_ms) // DAY_MS + 1
    hours = [0.0] * 24
    talk: dict[str, list[int]] = {}
    acw: dict[str, list[int]] = {}
    for call in calls:
        hours[(call.arrival_ms // 3_600_000) % 24] += 1
        talk.setdefault(call_type_name(call.call_type), []).append(call.talk_ms)
        acw.setdefault(call_type_name(call.call_type), []).append(call.acw_ms)
    data: dict[str, Any] = base.model_dump()
    call_types = [
        {"name": name, "daily_volume": 0.0, "transfer_prob": 0.0,
         "handle": {"talk_mean_s": max(1.0, sum(values) / len(values) / 1000), "hold_prob": 0.0,
                    "acw_mean_s": sum(acw[name]) / len(acw[name]) / 1000}}
        for name, values in sorted(talk.items())
    ]  # fmt: skip
    data.update(start_date=first, days=int(days), intraday_profile=hours, call_types=call_types)
    return scenario_from_dict(data)


def trace_demand(calls: Sequence[TraceCall], scenario: Scenario, seed: int = 1999) -> Demand:
    """The trace as the simulator's demand: each day's calls, with seeded draws only for what a log cannot
    say (the routing split, redirect failures, QA and CSAT samples); no transfers, holds or extra repeats
    (the log's own repeat callers are in it)."""
    index = {call_type.name: i for i, call_type in enumerate(scenario.call_types)}
    customers: dict[str, int] = {}
    by_day: dict[int, list[TraceCall]] = {}
    origin = day_start_ms(scenario, 0)
    for call in calls:
        by_day.setdefault((call.arrival_ms - origin) // DAY_MS, []).append(call)

    def demand(_: Scenario, day: int, first_n: int) -> list[Call]:
        todays = by_day.get(day, [])
        rng = np.random.default_rng([seed, 8, day])
        uniform = rng.random((len(todays), 4)).tolist()
        normal = rng.standard_normal((len(todays), 2)).tolist()
        out = []
        for i, call in enumerate(todays):
            route_u, redirect_u, qa_u, csat_u = uniform[i]
            customer = customers.setdefault(call.customer, len(customers))
            out.append(
                Call(
                    n=first_n + i, arrival_ms=call.arrival_ms, call_type=index[call_type_name(call.call_type)],
                    customer=customer, patience_draw=0.0, talk_z=0.0, talk2_z=0.0, acw_z=0.0,
                    hold_u=1.0, hold_e=0.0,  # no hold beyond the log's own talk time
                    route_u=route_u, redirect_u=redirect_u,
                    transfer_u=1.0, repeat_u=1.0, repeat_e=0.0,  # never: the log's repeats are in it
                    qa_u=qa_u, qa_z=normal[i][0], csat_u=csat_u, csat_z=normal[i][1],
                    qa2_u=1.0, qa2_z=0.0, csat2_u=1.0, csat2_z=0.0,  # no transfers: no second handled leg
                    trace=call,
                )
            )  # fmt: skip
        return out

    return demand


@dataclass(frozen=True)
class WeekdayPattern:
    """How a log's staffing varied by weekday (`weekday_staffing`): each weekday's share of the best-staffed
    weekday's agents, and the mean share over the log's dates (each date counted once)."""

    shares: dict[Weekday, float]
    mean_share: float


def weekday_staffing(events: Iterable[Event]) -> WeekdayPattern:
    """How a log's staffing varied by weekday: per weekday, the distinct agents who answered a call on each of
    its dates (UTC), averaged over those dates, as a share of the best-staffed weekday's; a weekday the log
    does not hold is left out. Agents seen answering are a lower bound on agents staffed, the same way every
    day, so the shares are the pattern (the Anonymous Bank's January 1999: Fridays about half a Sunday's
    agents, Saturdays a third)."""
    agents: dict[date, set[str]] = {}
    for event in events:
        if isinstance(event, ContactAnswered):
            agents.setdefault(event.ts.astimezone(UTC).date(), set()).add(event.agent_id)
    per_weekday: dict[Weekday, list[int]] = {}
    for day, seen in agents.items():
        per_weekday.setdefault(WEEKDAYS[day.weekday()], []).append(len(seen))
    means = {weekday: sum(counts) / len(counts) for weekday, counts in per_weekday.items()}
    top = max(means.values(), default=0.0)
    if not top:
        return WeekdayPattern({}, 1.0)
    shares = {weekday: mean / top for weekday, mean in means.items()}
    dates = sum(len(counts) for counts in per_weekday.values())
    mean_share = sum(shares[weekday] * len(counts) for weekday, counts in per_weekday.items()) / dates
    return WeekdayPattern(shares, mean_share)


def weekday_roster(source: Source, pattern: WeekdayPattern) -> Source:
    """`source` on the log's weekday pattern, with as many agents on an average day of the log as it had every
    day: round(agents / mean share) employed, each weekday's share of them on shift (`Source.weekday_share`).
    The Anonymous Bank's 16 (calibrated on its month) become 21: 21 on Sundays, 10 on Fridays, 6 on
    Saturdays, as the log's own agents (20, 10, 6)."""
    employed = round(source.agents / pattern.mean_share) if source.agents else 0
    shares = {day: share for day, share in pattern.shares.items() if share < 1.0}
    return source.model_copy(update={"agents": employed, "weekday_share": shares})
