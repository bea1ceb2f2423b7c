"""The default bank is staffed like a real center: measured hour by hour from the simulator's truth.

The calibration is documented at the `Scenario` defaults; these runs hold the default to it (one simulated
day each, under a second).
"""

from __future__ import annotations

from functools import cache

import pytest

from producers.simulator.calibration import HourFigures
from producers.simulator.calibration import busiest_hour
from producers.simulator.calibration import hourly_figures
from producers.simulator.calibration import open_hours
from producers.simulator.calibration import staffing_requirement
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import EngagementModel
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import variant

# A source "takes volume" when it is offered at least this share of the calls.
TAKES_VOLUME = 0.1


@cache
def figures(engagement: EngagementModel) -> dict[str, list[HourFigures]]:
    """The open hours of the default bank, virtualized (every source visible), per source."""
    scenario = variant(Scenario(), "virtualized", engagement)
    _, truth = simulate_in_memory(scenario)
    hours = open_hours(scenario)
    return {
        source: [row for row in rows if row.hour in hours]
        for source, rows in hourly_figures(scenario, truth).items()
    }


def volume_share(engagement: EngagementModel) -> dict[str, float]:
    offered = {source: sum(row.offered for row in rows) for source, rows in figures(engagement).items()}
    return {source: calls / sum(offered.values()) for source, calls in offered.items()}


def test_the_roster_puts_the_erlang_c_need_on_queue_every_hour_with_no_hole() -> None:
    need = staffing_requirement(Scenario())
    for row in figures("shared")["in-house"]:
        assert row.scheduled >= 0.95 * need[row.hour], row.row()


def test_the_in_house_center_runs_at_80_to_90_percent_at_its_peak_and_serves_every_hour() -> None:
    rows = figures("shared")["in-house"]
    peak = busiest_hour(rows)
    assert peak.occupancy is not None
    assert 0.80 <= peak.occupancy <= 0.90, peak.row()
    for row in rows:
        assert row.occupancy is not None
        assert 0.6 <= row.occupancy <= 0.92, row.row()
        assert row.service_level is not None
        assert row.service_level >= 0.6, row.row()


def test_shared_overflow_sends_a_few_percent_to_a_small_vendor_team() -> None:
    base = Scenario()
    assert volume_share("shared")["vendor-a"] < 0.05
    assert base.vendors[0].agents <= 0.1 * base.in_house.agents


@pytest.mark.parametrize("engagement", ["shared", "full"])
def test_every_source_that_takes_volume_is_sized_for_it(engagement: EngagementModel) -> None:
    taking = [source for source, share in volume_share(engagement).items() if share >= TAKES_VOLUME]
    assert taking
    for source in taking:
        rows = figures(engagement)[source]
        peak = busiest_hour(rows)
        assert peak.occupancy is not None
        assert 0.6 <= peak.occupancy <= 0.92, (source, peak.row())
        for row in rows:
            assert row.service_level is not None
            assert row.service_level >= 0.6, (source, row.row())
    if engagement == "full":
        assert taking == ["vendor-a"]
