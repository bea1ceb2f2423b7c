"""A live simulation: the scenario dated from now and published in event time at N x real time.

The streaming deployment is watched live (a supervisor's page, alerts on the current interval), so a demo of
it must behave like an ACD feed: events arrive when they happen, dated about now. A simulation of a past day
published flat out fills the warehouse with history and nothing is ever "now". Here the scenario's day is
moved so that the center opens `backfill` before now (`live_scenario`): the backfill is published at once,
so the page has whole intervals to show within seconds, and from then on each event is released when the
clock reaches its time, `speed` times faster than real time (`PacedSink`). Events keep their emission order
(the simulator emits in time order), so every key's events keep theirs.

At N > 1 the events run ahead of the clock, by (N - 1) x the time elapsed: the engine refuses events dated
more than its `max_lead_hours` after their record, so `lead_hours` says how far ahead a run will get and the
caller refuses a run that would be cut off.

The clock and the sleep are handed in, so the pacing is tested without waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from producers.simulator.output import RowSink
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict

HOUR_MS = 3_600_000
# The longest the publisher sleeps at once, so progress is reported and Ctrl-C is seen promptly.
MAX_SLEEP_S = 0.5


def opening_ms(scenario: Scenario) -> int:
    """Milliseconds from a simulated day's start to its first hour with calls."""
    first = next(hour for hour, weight in enumerate(scenario.intraday_profile) if weight > 0)
    return first * HOUR_MS


def live_scenario(scenario: Scenario, now_ms: int, backfill_minutes: int) -> Scenario:
    """`scenario` with its first day moved so that its center opens `backfill_minutes` before `now_ms`,
    rounded down to the interval grid (the engine's intervals and the vendors' report intervals stay
    aligned)."""
    grid_ms = max(scenario.interval_minutes, scenario.vendor_report_minutes) * 60_000
    opens_ms = (now_ms - backfill_minutes * 60_000) // grid_ms * grid_ms
    start = datetime.fromtimestamp((opens_ms - opening_ms(scenario)) / 1000, tz=UTC)
    return scenario_from_dict(
        {**scenario.model_dump(), "start_date": start.date(), "start_time": start.time()}
    )


def lead_hours(scenario: Scenario, now_ms: int, speed: float) -> float:
    """How far ahead of the clock the last event of a live run is when it is published (0 for real time).

    Flat out (speed 0) everything is published at once, so the last event's own distance from now counts."""
    start = datetime.combine(scenario.start_date, scenario.start_time, tzinfo=UTC)
    end_ms = int((start + timedelta(days=scenario.days)).timestamp() * 1000)
    ahead_ms = max(0, end_ms - now_ms)
    return ahead_ms / HOUR_MS if speed == 0 else ahead_ms * max(0.0, 1 - 1 / speed) / HOUR_MS


@dataclass
class Progress:
    """What a live run has done so far, for its progress line."""

    published: int = 0
    event_time_ms: int = 0


class PacedSink(RowSink):
    """Hands rows to `inner` (e.g. the Kafka sink) once the clock has reached their time at `speed` x.

    The event time `anchor_ms` is released at the wall time of the first row; an event at T waits until
    (T - anchor) / speed after that, so everything up to the anchor (the backfill) goes at once. Speed 0 never
    waits. The simulator drains a day at a time, so a day is simulated ahead and released as its time comes.
    """

    def __init__(
        self,
        inner: RowSink,
        anchor_ms: int,
        speed: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        super().__init__(0)
        self.inner = inner
        self.anchor_ms = anchor_ms
        self.speed = speed
        self._clock = clock
        self._sleep = sleep
        self._started: float | None = None
        self._on_progress = on_progress
        self.progress = Progress()

    def _released_by(self, now: float) -> float:
        """The latest event time released at wall time `now`."""
        assert self._started is not None
        return self.anchor_ms + (now - self._started) * 1000 * self.speed

    def write_batch(self, codes: list[int], by_code: list[list[tuple[int, tuple[Any, ...]]]]) -> None:
        if self._started is None:
            self._started = self._clock()
        positions = [0] * len(by_code)
        index, total = 0, len(codes)
        while index < total:
            released = float("inf") if self.speed == 0 else self._released_by(self._clock())
            chunk_codes: list[int] = []
            chunk: list[list[tuple[int, tuple[Any, ...]]]] = [[] for _ in by_code]
            ts_ms = 0
            while index < total:
                code = codes[index]
                row = by_code[code][positions[code]]
                ts_ms = row[0]
                if ts_ms > released:
                    break
                chunk_codes.append(code)
                chunk[code].append(row)
                positions[code] += 1
                index += 1
            if chunk_codes:
                self.inner.count += len(chunk_codes)
                self.inner.write_batch(chunk_codes, chunk)
                self.progress.published += len(chunk_codes)
                self.progress.event_time_ms = max(self.progress.event_time_ms, chunk[chunk_codes[-1]][-1][0])
                if self._on_progress is not None:
                    self._on_progress(self.progress)
            if index < total:
                wait_s = (ts_ms - released) / 1000 / self.speed
                self._sleep(min(max(wait_s, 0.001), MAX_SLEEP_S))

    def close(self) -> None:
        self.drain()
        self.inner.close()


def anchor_ms(scenario: Scenario, backfill_minutes: int) -> int:
    """The event time released at once: the live scenario's opening plus its backfill."""
    start = datetime.combine(scenario.start_date, scenario.start_time, tzinfo=UTC)
    return int(start.timestamp() * 1000) + opening_ms(scenario) + backfill_minutes * 60_000
