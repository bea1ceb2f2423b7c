"""How a scenario's staffing fits its demand, hour by hour and source by source, from the simulator's truth.

`hourly_figures` measures a run: the agents scheduled on queue, the agents really on queue (ready, busy or in
after-contact work), their occupancy and the service level of each hour. `staffing_requirement` is the rule
the default scenario is calibrated with: the agents Erlang C needs on queue for the service goal at each
hour's expected load. Both are for calibrating and checking scenarios; a run never calls them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from producers.simulator.scenario import Scenario
from producers.simulator.truth import TruthRecorder
from streams.engine.queueing import erlang_c_service_level

HOUR_MS = 3_600_000
# Calls an hour beyond the primary volume: transfers' second legs (3 % of calls) and repeat contacts (8 % of
# handled calls call again, hours later, so fewer in the morning): 8 % on average over the default bank's day.
LOAD_FACTOR = 1.08
_ON_QUEUE = ("ready", "busy", "acw")
_WORKING = ("busy", "acw")


@dataclass(frozen=True, slots=True)
class HourFigures:
    """One source in one hour of the day (UTC), summed over the run's days."""

    hour: int
    scheduled: float  # mean agents scheduled on queue (the published on_queue activities)
    on_queue: float  # mean agents really on queue: ready, busy or in after-contact work
    occupancy: float | None  # (busy + acw) / (ready + busy + acw) time; None with nobody on queue
    offered: int  # calls that entered the source's queue in the hour (legs queued by a transfer excluded)
    answered_within: int  # of those, answered within the scenario's service threshold
    service_level: float | None  # answered_within / offered; None with no calls

    def row(self) -> str:
        occupancy = "   -" if self.occupancy is None else f"{self.occupancy:4.0%}"
        sl = "   -" if self.service_level is None else f"{self.service_level:4.0%}"
        return (
            f"{self.hour:02d}h sched {self.scheduled:5.1f} on-q {self.on_queue:5.1f} occ {occupancy} "
            f"offered {self.offered:4d} SL {sl}"
        )


def _spread(totals: dict[int, float], start_ms: int, end_ms: int) -> None:
    """Add the milliseconds of [start, end) to the hours of the day they fall in."""
    at = start_ms
    while at < end_ms:
        next_hour = (at // HOUR_MS + 1) * HOUR_MS
        upto = min(end_ms, next_hour)
        totals[(at // HOUR_MS) % 24] += upto - at
        at = upto


def hourly_figures(scenario: Scenario, truth: TruthRecorder) -> dict[str, list[HourFigures]]:
    """Per source id, the 24 hours of the day of one run (every day of it pooled)."""
    threshold_ms = scenario.service_threshold_s * 1000
    days = scenario.days
    scheduled: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    on_queue: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    working: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    offered: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    within: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for activity in truth.schedules:
        if activity.activity == "on_queue":
            _spread(scheduled[activity.source], activity.start_ms, activity.end_ms)
    for span in truth.spans:
        if span.state in _ON_QUEUE:
            _spread(on_queue[span.source], span.start_ms, span.end_ms)
            if span.state in _WORKING:
                _spread(working[span.source], span.start_ms, span.end_ms)
    for leg in truth.legs:
        if leg.enqueued_ms is None or leg.entry == "transfer":
            continue
        hour = (leg.enqueued_ms // HOUR_MS) % 24
        offered[leg.source][hour] += 1
        answered = leg.outcome == "answered" and (leg.wait_ms or 0) <= threshold_ms
        within[leg.source][hour] += int(answered)
    figures = {}
    for source in scenario.source_ids:
        rows = []
        for hour in range(24):
            queue_ms = on_queue[source][hour]
            n = offered[source][hour]
            rows.append(
                HourFigures(
                    hour=hour,
                    scheduled=scheduled[source][hour] / HOUR_MS / days,
                    on_queue=queue_ms / HOUR_MS / days,
                    occupancy=working[source][hour] / queue_ms if queue_ms else None,
                    offered=n,
                    answered_within=within[source][hour],
                    service_level=within[source][hour] / n if n else None,
                )
            )
        figures[source] = rows
    return figures


def open_hours(scenario: Scenario) -> list[int]:
    """The hours of the day calls arrive in."""
    return [hour for hour, weight in enumerate(scenario.intraday_profile) if weight > 0]


def busiest_hour(rows: list[HourFigures]) -> HourFigures:
    """The hour a source was offered the most calls in (the first of equals)."""
    return max(rows, key=lambda row: (row.offered, -row.hour))


def mean_handle_s(scenario: Scenario, call_types: tuple[str, ...] | None = None) -> float:
    """The volume-weighted mean handle time (talk, hold, after-contact work) of the named call types (all)."""
    chosen = [ct for ct in scenario.call_types if call_types is None or ct.name in call_types]
    volume = sum(ct.daily_volume for ct in chosen)
    return sum(ct.daily_volume * ct.handle.mean_handle_s for ct in chosen) / volume if volume else 0.0


def erlang_c_agents(calls_per_hour: float, aht_s: float, target_s: float, goal: float) -> int:
    """The fewest agents with which Erlang C answers `goal` of the calls within `target_s`."""
    load = calls_per_hour * aht_s / 3600.0
    if load <= 0:
        return 0
    agents = math.floor(load) + 1
    while erlang_c_service_level(agents, load, aht_s, target_s) < goal:
        agents += 1
    return agents


def staffing_requirement(
    scenario: Scenario,
    call_types: tuple[str, ...] | None = None,
    *,
    aht_multiplier: float = 1.0,
    goal: float = 0.8,
    load_factor: float = LOAD_FACTOR,
) -> list[int]:
    """Agents needed on queue in each hour of the day: Erlang C for `goal` answered within the scenario's
    threshold, at the hour's expected calls of the named call types (all) and their mean handle time.

    The expected calls are the daily volume times the hour's profile weight times `load_factor`, which adds
    the work the daily volume leaves out: transfers' second legs and repeat calls. Scheduled breaks and lunch
    are not in it: the roster has to put this many agents on queue after them.
    """
    chosen = [ct for ct in scenario.call_types if call_types is None or ct.name in call_types]
    volume = sum(ct.daily_volume for ct in chosen) * load_factor
    aht = mean_handle_s(scenario, call_types) * aht_multiplier
    total = sum(scenario.intraday_profile)
    return [
        erlang_c_agents(volume * weight / total, aht, scenario.service_threshold_s, goal)
        for weight in scenario.intraday_profile
    ]


def table(scenario: Scenario, rows: list[HourFigures], need: list[int] | None = None) -> str:
    """The open hours of one source as the rows of the calibration comment at `Scenario`."""
    hours = open_hours(scenario)
    lines = {
        "hour": [f"{hour:02d}" for hour in hours],
        "needed on queue": [str(need[hour]) for hour in hours] if need is not None else [],
        "scheduled": [f"{rows[hour].scheduled:.0f}" for hour in hours],
        "calls offered": [str(rows[hour].offered) for hour in hours],
        "occupancy %": [_percent(rows[hour].occupancy) for hour in hours],
        "service level %": [_percent(rows[hour].service_level) for hour in hours],
    }
    return "\n".join(
        f"{name:<16}" + "".join(f"{cell:>4}" for cell in cells) for name, cells in lines.items() if cells
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}"


if __name__ == "__main__":
    # The figures of the calibration comment: python -m producers.simulator.calibration
    from producers.simulator.run import simulate_in_memory
    from producers.simulator.scenario import ENGAGEMENTS
    from producers.simulator.scenario import variant

    for engagement in ENGAGEMENTS:
        scenario = variant(Scenario(), "virtualized", engagement)
        _, truth = simulate_in_memory(scenario)
        for source, rows in hourly_figures(scenario, truth).items():
            if scenario.source(source).agents:
                print(f"{scenario.name} {source}: {scenario.source(source).agents} agents")
                need = staffing_requirement(scenario) if source == scenario.in_house.id else None
                print(table(scenario, rows, need if engagement == "shared" else None))
