"""What-if from a real log: the January 1999 Anonymous Bank calls as the simulator's demand. Checked against the
log itself (counts, observed patience and service times), a hand-worked Kaplan-Meier estimate, and two
staffings whose outcome follows from the callers' patience alone."""

from __future__ import annotations

from datetime import UTC
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from acdscope.confidence import Interval
from acdscope.dashboards import DashboardResult
from acdscope.whatif import replicate_intervals
from acdscope.whatif import run_what_if
from producers.feeds.anonymous_bank import BankCall
from producers.feeds.anonymous_bank import parse
from producers.feeds.anonymous_bank import to_events
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant
from producers.simulator.trace import KaplanMeier
from producers.simulator.trace import trace_demand
from producers.simulator.trace import trace_from_events
from producers.simulator.trace import trace_scenario
from producers.simulator.trace import weekday_roster
from producers.simulator.trace import weekday_staffing
from streams.events import CallerHasher
from streams.events import Event

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "anonymous_bank" / "january.txt"
ALWAYS_ON = {  # one 24-hour shift, no breaks, agents who keep to it: capacity is exactly `agents`
    "shifts": [{"start": "00:00:00", "hours": 24, "share": 1.0, "breaks": False}],
    "behaviour": {"late_login_prob": 0, "long_break_prob": 0, "early_logout_prob": 0,
                  "unscheduled_not_ready_per_hour": 0},
}  # fmt: skip


@cache
def january() -> tuple[list[BankCall], list[Event]]:
    with DATA.open(encoding="latin-1") as lines:
        calls = [item for item in parse(lines) if isinstance(item, BankCall)]
    hasher = CallerHasher(b"what-if")
    events = sorted((e for call in calls for e in to_events(call, hasher)), key=lambda e: e.ts)
    return calls, events


def _base(in_house_agents: int, vendor_agents: int, **extra: object) -> Scenario:
    return scenario_from_dict(
        {
            "name": "w", "redirect_fail_prob": 0.0,
            "engagement": {"model": "shared", "overflow_after_s": 30, "split": {"vendor-a": 100}},
            "in_house": {"id": "in-house", "agents": in_house_agents, "repeat_prob": 0, **ALWAYS_ON},
            "vendors": [{"id": "vendor-a", "agents": vendor_agents, "aht_multiplier": 1.0, "repeat_prob": 0,
                         **ALWAYS_ON}],
            **extra,
        }
    )  # fmt: skip


def test_kaplan_meier_by_hand() -> None:
    # waits 10 (hung up), 20 (served), 20 (hung up), 30 (hung up), 40 (served)
    km = KaplanMeier.fit([10, 20, 20, 30, 40], [True, False, True, True, False])
    assert km.times == (10, 20, 30)
    assert km.survival == pytest.approx((0.8, 0.8 * 3 / 4, 0.8 * 3 / 4 * 1 / 2))
    assert km.at(5) == 1.0
    assert km.at(25) == pytest.approx(0.6)
    # A caller served after 20 s: P(T <= 30 | T > 20) = 1 - 0.3/0.6 = 0.5; beyond that the log says nothing.
    assert km.draw_above(20, 0.3) == 30
    assert km.draw_above(20, 0.5) == 30
    assert km.draw_above(20, 0.51) is None
    assert km.draw_above(0, 0.1) == 10


def test_the_trace_keeps_what_the_log_observed() -> None:
    calls, events = january()
    trace, report = trace_from_events(events)
    queued_hang = [c for c in calls if c.outcome == "HANG" and c.queued]
    served = [c for c in calls if c.outcome == "AGENT"]
    assert (report.calls, report.answered, report.abandoned) == (30_161, 27_060, 3_101)
    assert report.left_before_queue == 1_198  # hung up in the VRU: not queue demand
    assert len(queued_hang) == 3_101
    by_id = {t.contact_id: t for t in trace}
    contact = {f"ab-{c.day:%y%m%d}-{c.vru_line}-{c.call_id}": c for c in calls}
    # Callers who hung up: patience is their wait, as recorded; served callers: at least their wait.
    for cid, t in by_id.items():
        call = contact[cid]
        if call.outcome == "HANG":
            assert t.patience_ms == call.q_time * 1000
        else:
            assert t.patience_ms is None or t.patience_ms > call.q_time * 1000
            assert t.talk_ms == call.ser_time * 1000
    assert sum(t.talk_ms for t in trace if contact[t.contact_id].outcome == "AGENT") == 1000 * sum(
        c.ser_time for c in served
    )
    assert [t.arrival_ms for t in trace] == sorted(t.arrival_ms for t in trace)
    # Served callers beyond the longest recorded abandon have no estimable patience limit.
    longest = max(c.q_time for c in queued_hang) * 1000
    assert report.unbounded_patience == sum(1 for t in trace if t.patience_ms is None) > 0
    assert all(t.patience_ms is None or t.patience_ms <= longest for t in trace)


def test_ample_staff_answers_every_call_at_once_with_its_own_service_time() -> None:
    _, events = january()
    trace, _ = trace_from_events(events, days=2)
    scenario = variant(trace_scenario(_base(300, 1), trace), "virtualized", "shared")
    _, truth = simulate_in_memory(scenario, demand=trace_demand(trace, scenario))
    first = [leg for leg in truth.legs if leg.leg_no == 1]
    assert len(first) == len(trace) > 500  # New Year's Day 1999 was a Friday: a quiet day at an Israeli bank
    assert all(leg.outcome == "answered" and leg.wait_ms == 0 for leg in first)
    assert sorted(leg.talk_ms for leg in first) == sorted(t.talk_ms for t in trace)


def test_no_in_house_staff_sends_the_patient_callers_to_the_vendor_after_30_s(tmp_path: Path) -> None:
    calls, events = january()
    trace, _ = trace_from_events(events, days=2)
    # Who overflows follows from patience alone: a caller still waiting at 30 s (patience > 30 s) goes.
    goes = sum(1 for t in trace if t.patience_ms is None or max(1, t.patience_ms) > 30_000)
    outcome = run_what_if(events, _base(0, 300), tmp_path / "chdb", days=2)
    rows = {
        row[0]: dict(zip(outcome.comparison.columns, row, strict=True)) for row in outcome.comparison.rows
    }
    assert len(rows) == 10
    for name in ("enterprise-routed-shared", "virtualized-shared"):
        row = rows[name]
        assert row["arrived_at_acd"] == len(trace)
        assert row["vendor_offered"] == goes
        assert row["overflow_rate"] == round(goes / len(trace), 4)
    # The vendor answers every caller it gets at once: within 20 s, end to end, are exactly those.
    assert rows["virtualized-shared"]["vendor_sl_20s"] == 1.0
    assert rows["virtualized-shared"]["e2e_sl_20s"] == 0.0  # waited 30 s in-house first
    # The log as recorded, on the same calls: its service level is the log's own, computed from the calls.
    kept = {t.contact_id for t in trace}
    mine = [c for c in calls if f"ab-{c.day:%y%m%d}-{c.vru_line}-{c.call_id}" in kept]
    within = sum(1 for c in mine if c.outcome == "AGENT" and c.q_time <= 20)
    recorded = rows[outcome.recorded_tenant]
    assert recorded["arrived_at_acd"] == len(trace)
    assert recorded["in_house_sl_20s"] == round(within / len(mine), 4)
    assert recorded["overflow_rate"] == 0.0


def test_what_if_command_and_the_daily_summary_on_local_days(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from acdscope.cli import app
    from acdscope.settings import get_settings

    data = tmp_path / "chdb"
    result = CliRunner().invoke(app, ["what-if", str(DATA), "--days", "2", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "(the log)" in result.output
    assert "as recorded" in result.output
    assert "1,198 left in the IVR" not in result.output  # the IVR count is the window's, not the month's

    calls, _ = january()
    monkeypatch.setenv("ACDSCOPE_CLICKHOUSE_DSN", f"chdb://{data}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["query", "daily_summary", "--from", "1999-01-01", "--until",
                                          "1999-01-02", "--param", "tenant=anonymous-bank",
                                          "--param", "tz=Asia/Jerusalem"])  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    # New Year's Day at the bank (its own calendar): the calls that reached the queue, counted from the log.
    day = [
        c
        for c in calls
        if str(c.day) == "1999-01-01" and (c.outcome == "AGENT" or (c.outcome == "HANG" and c.queued))
    ]
    row = next(line for line in result.output.splitlines() if "1999-01-01" in line)
    assert f" {len(day)} " in row.replace("│", " ")


def test_several_seeds_give_each_figure_its_mean_and_95_percent_interval() -> None:
    """Two replicates' comparison tables, by hand: every simulated figure's mean is (a + b) / 2 and its interval
    t(0.975, 1) x |a - b| / 2 (the standard error of two values is |a - b| / 2); a figure one setup cannot
    observe (None) has no mean; the log as recorded, fed once, is in one table only and has no interval. (The
    command runs its seeds end to end in `test_what_if_command_with_seeds_and_weekday_staffing`.)"""
    columns = ("scenario", "e2e_sl_20s", "vendor_asa_s", "label")
    first = DashboardResult(
        columns, [("ER shared", 0.80, None, "x"), ("log", 0.70, 12.0, "y"), ("full", 0.9, 30.0, "z")]
    )
    second = DashboardResult(columns, [("ER shared", 0.86, None, "x"), ("full", 0.9, 24.0, "z")])
    found = replicate_intervals([first, second])
    assert set(found) == {("ER shared", "e2e_sl_20s"), ("ER shared", "vendor_asa_s"), ("full", "e2e_sl_20s"),
                          ("full", "vendor_asa_s")}  # fmt: skip
    assert found[("ER shared", "e2e_sl_20s")].mean == pytest.approx(0.83)
    assert found[("ER shared", "e2e_sl_20s")].half_width == pytest.approx(12.706 * 0.06 / 2, rel=1e-4)
    assert found[("ER shared", "vendor_asa_s")] == Interval(None, None)
    assert found[("full", "e2e_sl_20s")].half_width == pytest.approx(0.0)
    assert found[("full", "vendor_asa_s")].mean == pytest.approx(27.0)
    assert found[("full", "vendor_asa_s")].half_width == pytest.approx(12.706 * 3.0, rel=1e-4)


def test_weekday_staffing_follows_the_log() -> None:
    """The log's weekday pattern, from the raw file: distinct servers who answered on each date (the UTC date
    of the answer, as the simulator's days are UTC: the bank kept Israel's time, UTC+2), averaged per weekday,
    over the best-staffed weekday's (January 1999: Sundays 20 on average, Fridays 10, Saturdays 6)."""
    calls, events = january()
    servers: dict[object, set[str]] = {}
    for call in calls:
        if call.outcome == "AGENT":
            # Served with no service times: answered as it left the queue (as the adapter counts it).
            at = call.ser_start or call.q_exit
            assert at is not None
            local = at if at.tzinfo else at.replace(tzinfo=ZoneInfo("Asia/Jerusalem"))
            servers.setdefault(local.astimezone(UTC).date(), set()).add(call.server)
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    per: dict[str, list[int]] = {}
    for day, seen in servers.items():
        per.setdefault(names[day.weekday()], []).append(len(seen))  # type: ignore[attr-defined]
    means = {name: sum(v) / len(v) for name, v in per.items()}
    expected = {name: mean / max(means.values()) for name, mean in means.items()}
    pattern = weekday_staffing(events)
    assert pattern.shares == pytest.approx(expected)
    assert pattern.shares["sun"] == 1.0
    assert pattern.shares["fri"] == pytest.approx(0.5, abs=0.02)
    assert pattern.shares["sat"] == pytest.approx(0.3, abs=0.01)
    dates = {day: names[day.weekday()] for day in servers}  # type: ignore[attr-defined]
    assert pattern.mean_share == pytest.approx(sum(expected[name] for name in dates.values()) / len(dates))
    # The scenario's 16 agents a day on average, on the log's pattern: 21 on Sundays, 10 on Fridays, 6 on
    # Saturdays, as the log's own (20, 10, 6).
    roster = weekday_roster(_base(16, 4).in_house, pattern)
    assert (roster.agents_on("sun"), roster.agents_on("fri"), roster.agents_on("sat")) == (21, 10, 6)
    on_days = [roster.agents_on(name) for name in dates.values()]
    assert sum(on_days) / len(on_days) == pytest.approx(16, abs=0.5)


def test_what_if_command_with_seeds_and_weekday_staffing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from acdscope.cli import app

    result = CliRunner().invoke(
        app,
        [
            "what-if",
            str(DATA),
            "--days",
            "1",
            "--seeds",
            "2",
            "--weekday-staffing",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "means over seeds 1999-2000, ± the 95 % interval" in result.output
    assert "21 in-house agents, on shift fri 49%, sat 30%" in result.output
    assert "±" in result.output
