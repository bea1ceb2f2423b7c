"""The demand: every primary customer call of a run, with all its random draws made up front.

Drawn from the scenario's seed alone, never from the setup or engagement, so all nine variants of a scenario
face exactly the same callers, patience and handle-time draws (common random numbers for paired comparison).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import numpy as np

from producers.simulator.scenario import Scenario

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class TraceCall:
    """A real log's call with what it observed: the simulator uses these instead of drawing them.

    `patience_ms` None = this caller would not have hung up within the longest wait the log saw.
    """

    contact_id: str
    arrival_ms: int
    call_type: str
    customer: str
    patience_ms: int | None
    talk_ms: int
    acw_ms: int


@dataclass(slots=True)
class Call:
    """One customer call and its draws; unit-free draws are turned into seconds by the source that serves it."""

    n: int
    arrival_ms: int
    call_type: int
    customer: int
    patience_draw: float  # Exp(1) or N(0, 1), scaled by the patience distribution
    talk_z: float  # N(0, 1) for the log-normal talk time (or Exp(1) for exponential)
    talk2_z: float  # the same for the leg after a transfer
    acw_z: float
    hold_u: float
    hold_e: float
    route_u: float  # percentage split and vendor choice
    redirect_u: float  # hand-off failure
    transfer_u: float
    repeat_u: float
    repeat_e: float
    qa_u: float
    qa_z: float
    csat_u: float
    csat_z: float
    # The same for the second leg an agent handles (after an internal transfer): every handled leg can be
    # scored and surveyed, with its own draws.
    qa2_u: float
    qa2_z: float
    csat2_u: float
    csat2_z: float
    repeat_of: int | None = None
    trace: TraceCall | None = None  # a real log's call: its patience and handle times replace the draws


def day_start_ms(scenario: Scenario, day: int) -> int:
    start = datetime.combine(scenario.start_date, scenario.start_time, tzinfo=UTC) + timedelta(days=day)
    return int(start.timestamp() * 1000)


def _draws(
    rng: np.random.Generator, n: int, exponential_talk: bool, exponential_patience: bool
) -> np.ndarray:
    columns = [
        rng.exponential(size=n) if exponential_patience else rng.standard_normal(n),
        rng.exponential(size=n) if exponential_talk else rng.standard_normal(n),
        rng.exponential(size=n) if exponential_talk else rng.standard_normal(n),
        rng.standard_normal(n),
        rng.random(n),
        rng.exponential(size=n),
        rng.random(n),
        rng.random(n),
        rng.random(n),
        rng.random(n),
        rng.exponential(size=n),
        rng.random(n),
        rng.standard_normal(n),
        rng.random(n),
        rng.standard_normal(n),
        # Appended last: the columns before them are the same draws as before they existed.
        rng.random(n),
        rng.standard_normal(n),
        rng.random(n),
        rng.standard_normal(n),
    ]
    return np.column_stack(columns) if n else np.empty((0, len(columns)))


def daily_calls(scenario: Scenario, day: int, first_n: int) -> list[Call]:
    """Piecewise-constant Poisson arrivals per call type and hour: exact for a rate constant within each hour."""
    rng = np.random.default_rng([scenario.seed, 1, day])
    profile = np.asarray(scenario.intraday_profile, dtype=float)
    weights = profile / profile.sum()
    base = day_start_ms(scenario, day)
    times: list[np.ndarray] = []
    types: list[np.ndarray] = []
    for index, call_type in enumerate(scenario.call_types):
        counts = rng.poisson(call_type.daily_volume * weights)
        offsets = np.concatenate(
            [hour * HOUR_MS + rng.random(count) * HOUR_MS for hour, count in enumerate(counts)]
        )
        times.append(offsets)
        types.append(np.full(len(offsets), index, dtype=np.int64))
    all_times = np.concatenate(times) if times else np.empty(0)
    all_types = np.concatenate(types) if types else np.empty(0, dtype=np.int64)
    order = np.argsort(all_times, kind="stable")
    arrival = base + np.floor(all_times[order]).astype(np.int64)
    call_type_index = all_types[order]
    n = len(arrival)
    customers = rng.integers(0, scenario.customers, size=n)
    exponential_talk = all(ct.handle.distribution == "exponential" for ct in scenario.call_types)
    draws = _draws(rng, n, exponential_talk, scenario.patience.distribution != "lognormal")
    rows = draws.tolist()
    return [
        _call(first_n + i, int(arrival[i]), int(call_type_index[i]), int(customers[i]), rows[i], None)
        for i in range(n)
    ]


# Every primary call of one day: (scenario, day index, number of the first call) -> calls in arrival order.
Demand = Callable[[Scenario, int, int], list[Call]]


def _call(
    n: int, arrival_ms: int, call_type: int, customer: int, d: list[float], repeat_of: int | None
) -> Call:
    return Call(
        n, arrival_ms, call_type, customer,
        d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14],
        d[15], d[16], d[17], d[18], repeat_of,
    )  # fmt: skip


def repeat_call(scenario: Scenario, original: Call, n: int, arrival_ms: int) -> Call:
    """A repeat contact of the same customer; its draws depend only on the original call, not on the setup."""
    rng = np.random.default_rng([scenario.seed, 2, original.n])
    exponential_talk = all(ct.handle.distribution == "exponential" for ct in scenario.call_types)
    draws = _draws(rng, 1, exponential_talk, scenario.patience.distribution != "lognormal")[0].tolist()
    return _call(n, arrival_ms, original.call_type, original.customer, draws, original.n)
