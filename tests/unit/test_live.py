"""A live run is the scenario's own simulation, moved in time and released as its time comes.

Checked against an independent statement of each property: the moved run equals the original run event for
event with every time shifted by the same whole number of intervals; each event is released no earlier than
its time allows at the given speed, and no later than one pacing step after; the lead over the clock is the
arithmetic in the docstring."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import time
from typing import Any

import pytest

from producers.simulator.live import MAX_SLEEP_S
from producers.simulator.live import PacedSink
from producers.simulator.live import anchor_ms
from producers.simulator.live import lead_hours
from producers.simulator.live import live_scenario
from producers.simulator.output import TIME_FIELDS
from producers.simulator.output import RowSink
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import ScenarioError
from producers.simulator.scenario import scenario_from_dict

NOW = int(datetime(2026, 12, 2, 3, 52, 17, tzinfo=UTC).timestamp() * 1000)
BASE = Scenario().model_copy(update={"setup": "virtualized", "days": 2})


def test_the_day_opens_the_backfill_before_now_on_the_interval_grid() -> None:
    live = live_scenario(BASE, NOW, backfill_minutes=60)
    # 03:52 - 60 min = 02:52, down to the 15-minute grid: 02:45; the default center opens 07:00 into its day.
    assert (live.start_date.isoformat(), live.start_time) == ("2026-12-01", time(19, 45))
    assert datetime.fromtimestamp(anchor_ms(live, 60) / 1000, tz=UTC) == datetime(
        2026, 12, 2, 3, 45, tzinfo=UTC
    )


def test_a_start_off_the_interval_grid_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"start_time: 10:05:00 is not on the 15-minute interval grid"):
        scenario_from_dict({**BASE.model_dump(), "start_time": time(10, 5)})


def test_the_moved_run_is_the_same_run_shifted() -> None:
    """Everything the simulator does is timed from the day's start (arrivals, shifts, breaks, repeat calls
    moved out of closed hours, vendor report intervals), so moving the start moves every event by the same
    amount and changes nothing else: over two days, every field of every event but its times is equal."""
    original, _ = simulate_in_memory(BASE)
    moved, _ = simulate_in_memory(live_scenario(BASE, NOW, 60))
    shift = moved.dicts[0]["ts"] - original.dicts[0]["ts"]
    assert shift % (15 * 60_000) == 0
    assert shift != 0
    assert len(moved.dicts) == len(original.dicts) > 70_000
    for before, after in zip(original.dicts, moved.dicts, strict=True):
        expected = {
            key: value + shift if key in TIME_FIELDS and isinstance(value, int) else value
            for key, value in before.items()
        }
        assert after == expected


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Recorder(RowSink):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(0)
        self.clock = clock
        self.released: list[tuple[float, int, int]] = []  # (wall time, event ts, emission index)

    def write_rows(self, rows: list[tuple[int, int, tuple[Any, ...]]]) -> None:
        for _code, ts_ms, values in rows:
            self.released.append((self.clock.now, ts_ms, values[0]))


def _rows(times_ms: list[int]) -> tuple[list[int], list[list[tuple[int, tuple[Any, ...]]]]]:
    """Rows of two codes, interleaved, in emission order; each row's value is its emission index."""
    codes, by_code = [], [[], []]
    for index, ts in enumerate(times_ms):
        code = index % 2
        codes.append(code)
        by_code[code].append((ts, (index,)))
    return codes, by_code


@pytest.mark.parametrize("speed", [1.0, 4.0, 60.0])
def test_each_event_is_released_when_its_time_comes_at_the_speed(speed: float) -> None:
    anchor = 5_000_000
    times = [anchor - 3_600_000, anchor - 1, anchor, anchor + 1, anchor + 60_000, anchor + 60_000,
             anchor + 300_000, anchor + 3_600_000]  # fmt: skip
    clock = FakeClock()
    recorder = Recorder(clock)
    sink = PacedSink(recorder, anchor, speed, clock, clock.sleep)
    codes, by_code = _rows(times)
    sink.write_batch(codes, by_code)
    started = 1000.0
    assert [index for _, _, index in recorder.released] == list(range(len(times)))  # emission order kept
    for wall, ts, _ in recorder.released:
        due = started + max(0, ts - anchor) / 1000 / speed
        assert due - 1e-9 <= wall <= due + MAX_SLEEP_S + 1e-9, (ts, wall, due)
    # The backfill (everything up to the anchor) goes at once, without a sleep before it.
    assert [wall for wall, ts, _ in recorder.released if ts <= anchor] == [started] * 3
    assert max(clock.slept) <= MAX_SLEEP_S
    assert recorder.count == len(times)
    assert sink.progress.published == len(times)
    assert sink.progress.event_time_ms == anchor + 3_600_000


def test_flat_out_never_sleeps() -> None:
    clock = FakeClock()
    recorder = Recorder(clock)
    sink = PacedSink(recorder, 0, 0.0, clock, clock.sleep)
    sink.write_batch(*_rows([0, 10**9, 2 * 10**9]))
    assert clock.slept == []
    assert len(recorder.released) == 3


def test_the_lead_over_the_clock() -> None:
    live = live_scenario(BASE.model_copy(update={"days": 1}), NOW, 60)
    day_end = datetime.combine(live.start_date, live.start_time, tzinfo=UTC).timestamp() * 1000 + 86_400_000
    ahead_h = (day_end - NOW) / 3_600_000  # 19:45 + 24 h = 19:45 on the 2nd, 15.9 h after 03:52
    assert ahead_h == pytest.approx(15.88, abs=0.01)
    assert lead_hours(live, NOW, 4.0) == pytest.approx(ahead_h * 3 / 4)
    assert lead_hours(live, NOW, 1.0) == 0
    assert lead_hours(live, NOW, 0.0) == pytest.approx(ahead_h)
