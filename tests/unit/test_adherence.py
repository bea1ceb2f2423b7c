"""Adherence and conformance counters and the live RTA view, checked against figures worked out by hand, a
per-second reference model, and the simulator's own truth."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.truth import TruthRecorder
from streams.engine.adherence import AdherenceConfig
from streams.engine.adherence import AdherenceEngine
from streams.engine.adherence import AdherenceRow
from streams.engine.adherence import LiveAdherence
from streams.engine.adherence import impact
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import AgentAfterContactWork
from streams.events import AgentLogin
from streams.events import AgentLogout
from streams.events import AgentNotReady
from streams.events import AgentOnContact
from streams.events import AgentReady
from streams.events import ContactOffered
from streams.events import Event
from streams.events import ScheduleActivity
from streams.events import event_topic
from streams.events import new_event_id

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = datetime(2026, 1, 5, tzinfo=UTC)
MIN = 60_000
_ids = itertools.count(1)


def at(h: int, m: int = 0, s: int = 0) -> datetime:
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


def ms(h: int, m: int = 0, s: int = 0) -> int:
    return (at(h, m, s) - EPOCH) // timedelta(milliseconds=1)


def _who(agent: str) -> dict[str, str]:
    return {"tenant": "bank", "agent_id": agent, "source": "in-house", "team": "team-1"}


def sched(
    activity: str,
    start: datetime,
    end: datetime,
    version: int = 1,
    published: datetime | None = None,
    agent: str = "a1",
) -> Event:
    return ScheduleActivity(
        event_id=new_event_id(next(_ids)),
        ts=published or at(7),
        activity=activity,
        start=start,
        end=end,
        schedule_version=version,
        **_who(agent),
    )


def login(ts: datetime, agent: str = "a1") -> Event:
    return AgentLogin(event_id=new_event_id(next(_ids)), ts=ts, **_who(agent))


def ready(ts: datetime, agent: str = "a1") -> Event:
    return AgentReady(event_id=new_event_id(next(_ids)), ts=ts, **_who(agent))


def not_ready(ts: datetime, reason: str = "personal", agent: str = "a1") -> Event:
    return AgentNotReady(event_id=new_event_id(next(_ids)), ts=ts, reason=reason, **_who(agent))


def on_contact(ts: datetime, agent: str = "a1") -> Event:
    return AgentOnContact(event_id=new_event_id(next(_ids)), ts=ts, contact_id="c1", **_who(agent))


def acw(ts: datetime, agent: str = "a1") -> Event:
    return AgentAfterContactWork(event_id=new_event_id(next(_ids)), ts=ts, contact_id="c1", **_who(agent))


def logout(ts: datetime, agent: str = "a1") -> Event:
    return AgentLogout(event_id=new_event_id(next(_ids)), ts=ts, **_who(agent))


def run(
    events: Sequence[Event], until: datetime, config: AdherenceConfig | None = None
) -> list[AdherenceRow]:
    engine = AdherenceEngine(partition=0, config=config)
    engine.apply(enumerate(events))
    engine.advance((until - EPOCH) // timedelta(milliseconds=1))
    return engine.drain_rows()


def final(rows: Iterable[AdherenceRow]) -> dict[tuple[Any, ...], AdherenceRow]:
    """The row ClickHouse keeps per key: the last one emitted."""
    latest: dict[tuple[Any, ...], AdherenceRow] = {}
    for row in rows:
        latest[row[:6]] = row
    return latest


def counters(row: AdherenceRow) -> tuple[int, ...]:
    return tuple(row[6:14])


def minutes(row: AdherenceRow) -> tuple[float, ...]:
    """(scheduled, exception, in, out, unscheduled, unknown, scheduled on queue, worked on queue) in minutes."""
    return tuple(value / MIN for value in counters(row))


def by_interval(rows: Iterable[AdherenceRow]) -> dict[str, tuple[float, ...]]:
    return {row.interval_start.strftime("%H:%M"): minutes(row) for row in final(rows).values()}


def seconds_by_interval(rows: Iterable[AdherenceRow]) -> dict[str, tuple[int, ...]]:
    return {
        row.interval_start.strftime("%H:%M"): tuple(value // 1000 for value in counters(row))
        for row in final(rows).values()
    }


def totals(rows: Iterable[AdherenceRow]) -> dict[str, int]:
    names = AdherenceRow._fields[6:14]
    sums = dict.fromkeys(names, 0)
    for row in final(rows).values():
        for name in names:
            sums[name] += getattr(row, name)
    return sums


# --- the documented worked example ---------------------------------------------------------------------------


def test_worked_example_ten_late_ten_over_gives_71_percent_adherence_and_full_conformance() -> None:
    # Genesys: 60 min on queue scheduled 09:00-10:00, ready at 09:10 (10 min late), logged out 10:10 (10 min
    # over) -> adherence 1 - (10 + 10) / (60 + 10) = 71.4 %, conformance 60 / 60 = 100 %.
    rows = run(
        [sched("on_queue", at(9), at(10)), login(at(9, 10)), ready(at(9, 10)), logout(at(10, 10))], at(11)
    )
    #           sched exc  in  out unsch unkn s_oq w_oq
    assert by_interval(rows) == {
        "09:00": (15, 10, 5, 10, 0, 0, 15, 5),
        "09:15": (15, 0, 15, 0, 0, 0, 15, 15),
        "09:30": (15, 0, 15, 0, 0, 0, 15, 15),
        "09:45": (15, 0, 15, 0, 0, 0, 15, 15),
        "10:00": (10, 10, 0, 0, 10, 0, 0, 10),
    }
    sums = totals(rows)
    assert sums["scheduled_ms"] == 70 * MIN
    assert sums["exception_ms"] == 20 * MIN
    assert max(0.0, 1 - sums["exception_ms"] / sums["scheduled_ms"]) == pytest.approx(0.7142857)
    assert sums["scheduled_on_queue_ms"] == sums["worked_on_queue_ms"] == 60 * MIN
    assert {row.stream_partition for row in rows} == {0}
    assert {row.version for row in rows} == {3}
    assert {(row.tenant, row.source, row.team, row.agent_id) for row in rows} == {
        ("bank", "in-house", "team-1", "a1")
    }


def test_without_the_out_of_shift_option_overtime_is_only_unscheduled() -> None:
    rows = run(
        [sched("on_queue", at(9), at(10)), login(at(9, 10)), ready(at(9, 10)), logout(at(10, 10))],
        at(11),
        AdherenceConfig(out_of_shift_is_exception=False),
    )
    assert by_interval(rows)["10:00"] == (0, 0, 0, 0, 10, 0, 0, 10)
    sums = totals(rows)
    assert (sums["scheduled_ms"], sums["exception_ms"], sums["unscheduled_ms"]) == (
        60 * MIN,
        10 * MIN,
        10 * MIN,
    )


# --- grace ---------------------------------------------------------------------------------------------------


def _on_queue_day(*deviations: Event) -> list[Event]:
    return [sched("on_queue", at(9), at(11)), login(at(9)), ready(at(9)), *deviations, logout(at(11))]


def test_a_45_second_not_ready_is_forgiven_and_a_3_minute_one_counts_in_full() -> None:
    rows = run(
        _on_queue_day(
            not_ready(at(9, 5)),
            ready(at(9, 5, 45)),
            not_ready(at(9, 20)),
            ready(at(9, 23)),
        ),
        at(12),
    )
    table = seconds_by_interval(rows)
    assert table["09:00"] == (900, 0, 855, 45, 0, 0, 900, 855)
    assert table["09:15"] == (900, 180, 720, 180, 0, 0, 900, 720)
    assert totals(rows)["exception_ms"] == 180_000


def test_an_episode_across_an_interval_boundary_is_split_where_it_happened() -> None:
    # 09:44-09:47 (3 min: 1 in 09:30, 2 in 09:45) counts; 09:59:40-10:00:10 (30 s across 10:00) is forgiven.
    rows = run(
        _on_queue_day(not_ready(at(9, 44)), ready(at(9, 47)), not_ready(at(9, 59, 40)), ready(at(10, 0, 10))),
        at(12),
    )
    table = seconds_by_interval(rows)
    assert table["09:30"][:4] == (900, 60, 840, 60)
    assert table["09:45"][:4] == (900, 120, 760, 140)
    assert table["10:00"][:4] == (900, 0, 890, 10)
    assert totals(rows)["exception_ms"] == 3 * MIN


def test_an_episode_is_pending_until_it_reaches_grace_then_earlier_rows_are_re_emitted() -> None:
    engine = AdherenceEngine(partition=0)
    engine.apply(enumerate(_on_queue_day(not_ready(at(9, 14, 30)))[:-1]))
    engine.advance(ms(9, 15, 10))
    pending = {row.interval_start.strftime("%H:%M"): row for row in engine.drain_rows()}
    assert (pending["09:00"].out_of_adherence_ms, pending["09:00"].exception_ms) == (30_000, 0)
    assert (pending["09:15"].out_of_adherence_ms, pending["09:15"].exception_ms) == (10_000, 0)
    engine.advance(ms(9, 15, 40))  # 70 s out: the episode reached 60 s of grace
    confirmed = {row.interval_start.strftime("%H:%M"): row for row in engine.drain_rows()}
    assert confirmed["09:00"].exception_ms == 30_000
    assert confirmed["09:15"].exception_ms == 40_000
    assert engine.drain_rows() == []


def test_an_episode_of_exactly_the_grace_period_counts_and_one_ms_less_is_forgiven() -> None:
    just_under = at(9, 31) - timedelta(milliseconds=1)
    rows = run(
        _on_queue_day(not_ready(at(9, 10)), ready(at(9, 11)), not_ready(at(9, 30)), ready(just_under)), at(12)
    )
    assert totals(rows)["exception_ms"] == 60_000
    assert totals(rows)["out_of_adherence_ms"] == 119_999


def test_a_gap_in_the_schedule_ends_an_episode() -> None:
    # 30 s logged out before the gap, 40 s after it: two episodes under grace, not one of 70 s.
    events = [
        sched("on_queue", at(9), at(9, 30)),
        sched("on_queue", at(9, 45), at(10)),
        login(at(9)),
        ready(at(9)),
        logout(at(9, 29, 30)),
        login(at(9, 45, 40)),
        ready(at(9, 45, 40)),
        logout(at(10)),
    ]
    sums = totals(run(events, at(11)))
    assert (sums["out_of_adherence_ms"], sums["exception_ms"]) == (70_000, 0)


def test_not_ready_then_logged_out_is_one_episode() -> None:
    # 40 s not ready then 40 s logged out during on queue: 80 s contiguous out of adherence, over grace.
    rows = run(
        _on_queue_day(
            not_ready(at(9, 30)), logout(at(9, 30, 40)), login(at(9, 31, 20)), ready(at(9, 31, 20))
        ),
        at(12),
    )
    assert totals(rows)["exception_ms"] == 80_000


def test_login_alone_is_not_ready_until_the_agent_becomes_ready() -> None:
    rows = run([sched("on_queue", at(9), at(10)), login(at(9)), ready(at(9, 5)), logout(at(10))], at(11))
    assert by_interval(rows)["09:00"] == (15, 5, 10, 5, 0, 0, 15, 10)


# --- breaks, the live view and impact ------------------------------------------------------------------------


def _break_day() -> list[Event]:
    return [
        sched("on_queue", at(9), at(10)),
        sched("break", at(10), at(10, 15)),
        sched("on_queue", at(10, 15), at(11)),
        login(at(9)),
        ready(at(9)),
    ]


def test_staying_on_queue_through_a_break_is_out_of_adherence_with_positive_impact() -> None:
    engine = AdherenceEngine(partition=0)
    engine.apply(enumerate(_break_day()))
    # No event and no watermark since 09:00: the board projects the current state to "now".
    assert engine.live(ms(10, 0, 30)) == []  # 30 s out: still within grace
    five = LiveAdherence(
        "bank", "in-house", "team-1", "a1", ms(10), 5 * MIN, False, "break", "ready", "positive"
    )
    assert engine.live(ms(10, 5)) == [five]
    assert engine.live(ms(10, 10)) == [five._replace(duration_ms=10 * MIN, severe=True)]
    assert engine.live(ms(10, 16)) == []
    engine.advance(ms(10, 12))
    assert engine.live(ms(10, 12))[0].since_ms == ms(10)
    engine.advance(ms(10, 30))
    table = by_interval(engine.drain_rows())
    assert table["10:00"] == (15, 15, 0, 15, 0, 0, 0, 15)
    assert table["10:15"] == (15, 0, 15, 0, 0, 0, 15, 15)


def test_an_unplanned_break_shows_negative_impact_on_the_board() -> None:
    engine = AdherenceEngine(partition=0)
    engine.apply(enumerate([*_break_day(), not_ready(at(9, 30), "personal")]))
    (line,) = engine.live(ms(9, 42))
    assert (line.since_ms, line.duration_ms, line.severe) == (ms(9, 30), 12 * MIN, True)
    assert (line.activity, line.state, line.impact) == ("on_queue", "not_ready", "negative")


def test_impact_names() -> None:
    assert impact("on_queue", "logged_out") == "negative"
    assert impact("lunch", "on_contact") == "positive"
    assert impact("meeting", "logged_out") == "neutral"
    assert impact(None, "ready") == "unknown"


@pytest.mark.parametrize(
    ("back", "exceptions"),
    [((10, 15), {"10:00": 4}), ((10, 19), {"10:00": 4, "10:15": 4})],
)
def test_a_call_running_into_the_break_makes_the_late_minutes_an_exception(
    back: tuple[int, int], exceptions: dict[str, float]
) -> None:
    # On a call from 09:55, wrap-up 10:02-10:04, break taken 4 min late; back on time, or a full 15 min later.
    events = [
        *_break_day(),
        on_contact(at(9, 55)),
        acw(at(10, 2)),
        not_ready(at(10, 4), "break"),
        ready(at(*back)),
    ]
    rows = run(events, at(10, 30))
    table = by_interval(rows)
    assert {start: values[1] for start, values in table.items() if values[1]} == exceptions
    assert table["10:00"] == (15, 4, 11, 4, 0, 0, 0, 4)


# --- watermarks ----------------------------------------------------------------------------------------------


def _lunch_day() -> list[Event]:
    return [
        sched("on_queue", at(8), at(9)),
        sched("lunch", at(9), at(11)),
        sched("on_queue", at(11), at(12)),
        login(at(8)),
        ready(at(8)),
        not_ready(at(9), "lunch"),
        ready(at(11)),
        logout(at(12)),
    ]


def test_advance_fills_the_intervals_of_a_silent_agent_without_double_counting() -> None:
    events = _lunch_day()
    engine = AdherenceEngine(partition=0)
    engine.apply(enumerate(events[:6]))  # up to the start of the two-hour lunch
    emitted = engine.drain_rows()
    engine.advance(ms(10, 37))
    silent = engine.drain_rows()
    assert by_interval(silent) == {
        "09:00": (15, 0, 15, 0, 0, 0, 0, 0),
        "09:15": (15, 0, 15, 0, 0, 0, 0, 0),
        "09:30": (15, 0, 15, 0, 0, 0, 0, 0),
        "09:45": (15, 0, 15, 0, 0, 0, 0, 0),
        "10:00": (15, 0, 15, 0, 0, 0, 0, 0),
        "10:15": (15, 0, 15, 0, 0, 0, 0, 0),
        "10:30": (7, 0, 7, 0, 0, 0, 0, 0),
    }
    engine.advance(ms(10, 20))  # an older watermark changes nothing
    assert engine.drain_rows() == []
    engine.apply(enumerate(events[6:], start=6))
    engine.advance(ms(12, 30))
    after = engine.drain_rows()
    assert by_interval(after)["10:30"] == (15, 0, 15, 0, 0, 0, 0, 0)
    assert min(row.interval_start for row in after) == at(10, 30)
    emitted += silent + after
    one_go = final(run(events, at(12, 30)))
    assert {k: counters(r) for k, r in final(emitted).items()} == {k: counters(r) for k, r in one_go.items()}
    sums = totals(emitted)
    assert sums["scheduled_ms"] == sums["in_adherence_ms"] == 240 * MIN
    assert sums["worked_on_queue_ms"] == sums["scheduled_on_queue_ms"] == 120 * MIN


def test_an_event_later_than_the_watermark_takes_effect_at_the_watermark() -> None:
    engine = AdherenceEngine(partition=0)
    engine.apply(enumerate(_on_queue_day()[:3]))
    engine.advance(ms(9, 30))
    engine.apply([(3, not_ready(at(9, 20)))])  # late: 09:20-09:30 is already counted as ready
    engine.advance(ms(9, 40))
    table = by_interval(engine.drain_rows())
    assert table["09:15"][1:4] == (0, 15, 0)
    assert table["09:30"][1:4] == (10, 0, 10)


def test_a_stale_or_duplicated_state_event_is_ignored() -> None:
    first_ready = ready(at(9))
    events = [sched("on_queue", at(9), at(10)), login(at(9)), first_ready, not_ready(at(9, 20)), first_ready]
    rows = run([*events, ready(at(9, 25))], at(10))
    assert totals(rows)["exception_ms"] == 5 * MIN


# --- schedules -----------------------------------------------------------------------------------------------


def _worked_hour() -> list[Event]:
    return [login(at(9)), ready(at(9)), logout(at(10))]


def test_a_republished_schedule_with_a_higher_version_replaces_the_old_one() -> None:
    v1 = sched("on_queue", at(9), at(10), version=1, published=at(7))
    v2 = sched("meeting", at(9), at(10), version=2, published=at(8))
    sums = totals(run([v1, v2, *_worked_hour()], at(11)))
    assert (sums["scheduled_ms"], sums["scheduled_on_queue_ms"]) == (60 * MIN, 0)
    assert (sums["exception_ms"], sums["worked_on_queue_ms"]) == (60 * MIN, 60 * MIN)
    # The same two versions delivered the other way round: the lower version does not win.
    assert totals(run([v2, v1, *_worked_hour()], at(11))) == sums


def test_an_identical_redelivered_activity_counts_once() -> None:
    activity = sched("on_queue", at(9), at(10))
    sums = totals(run([activity, activity, *_worked_hour()], at(11)))
    assert (sums["scheduled_ms"], sums["in_adherence_ms"], sums["exception_ms"]) == (60 * MIN, 60 * MIN, 0)


def test_a_higher_version_that_splits_a_window_overrides_where_it_overlaps() -> None:
    events = [
        sched("on_queue", at(9), at(11), version=1, published=at(7)),
        sched("on_queue", at(9), at(10), version=2, published=at(8)),
        sched("training", at(10), at(11), version=2, published=at(8)),
        login(at(9)),
        ready(at(9)),
        not_ready(at(10), "training"),
        logout(at(11)),
    ]
    sums = totals(run(events, at(12)))
    assert (sums["scheduled_ms"], sums["in_adherence_ms"], sums["exception_ms"]) == (120 * MIN, 120 * MIN, 0)
    assert sums["scheduled_on_queue_ms"] == 60 * MIN


def test_an_agent_never_scheduled_is_unknown_until_a_schedule_arrives() -> None:
    events = [login(at(9)), ready(at(9)), sched("on_queue", at(10), at(11), published=at(9, 30))]
    rows = run([*events, logout(at(11))], at(12))
    table = by_interval(rows)
    assert table["09:15"] == (0, 0, 0, 0, 0, 15, 0, 15)
    # Once the agent has a schedule, uncovered working time is off shift (unscheduled), not unknown.
    assert table["09:30"] == (15, 15, 0, 0, 15, 0, 0, 15)
    assert table["10:00"] == (15, 0, 15, 0, 0, 0, 15, 15)
    assert totals(rows)["unknown_ms"] == 30 * MIN


def test_a_logged_out_agent_off_shift_produces_no_rows() -> None:
    rows = run([sched("on_queue", at(9), at(10), published=at(0)), login(at(9)), ready(at(9))], at(9, 1))
    assert [row.interval_start for row in rows] == [at(9)]


def test_an_agent_moved_to_another_team_mid_interval_gets_a_row_per_team() -> None:
    moved = ready(at(9, 5)).model_copy(update={"team": "team-2"})
    rows = final(run([sched("on_queue", at(9), at(10)), login(at(9)), ready(at(9)), moved], at(9, 20)))
    assert {(row.team, row.interval_start): row.in_adherence_ms for row in rows.values()} == {
        ("team-1", at(9)): 5 * MIN,
        ("team-2", at(9)): 10 * MIN,
        ("team-2", at(9, 15)): 5 * MIN,
    }


def test_other_event_families_are_ignored_but_move_the_version() -> None:
    offered = ContactOffered(
        event_id=new_event_id(next(_ids)),
        ts=at(9, 30),
        contact_id="c9",
        initial_contact_id="c9",
        source="in-house",
        call_type="billing",
    )
    engine = AdherenceEngine(partition=2)
    engine.apply(
        [(10, sched("on_queue", at(9), at(10))), (11, login(at(9))), (12, ready(at(9))), (13, offered)]
    )
    engine.advance(ms(9, 10))
    (row,) = engine.drain_rows()
    assert (row.version, row.stream_partition, row.in_adherence_ms) == (13, 2, 10 * MIN)


def test_config_rejects_unknown_activities_and_states() -> None:
    with pytest.raises(ValueError, match="unknown activity"):
        AdherenceConfig(in_adherence={"nap": frozenset({"ready"})})
    with pytest.raises(ValueError, match="unknown states"):
        AdherenceConfig(in_adherence={"break": frozenset({"asleep"})})
    with pytest.raises(ValueError, match="interval_minutes"):
        AdherenceConfig(interval_minutes=0)


# --- snapshot / restore --------------------------------------------------------------------------------------


def test_restore_mid_episode_gives_the_same_rows_as_never_stopping() -> None:
    events = _on_queue_day(
        not_ready(at(9, 14, 30)), ready(at(9, 16)), not_ready(at(9, 40)), ready(at(9, 40, 20))
    )
    first, second = events[:4], events[4:]
    steady = AdherenceEngine(partition=1, config=AdherenceConfig(grace_s=60, interval_minutes=30))
    steady.apply(enumerate(first))
    steady.advance(ms(9, 15, 20))  # 50 s into the episode: pending
    expected = [steady.drain_rows()]
    steady.apply(enumerate(second, start=4))
    steady.advance(ms(12))
    expected.append(steady.drain_rows())

    stopped = AdherenceEngine(partition=1, config=AdherenceConfig(grace_s=60, interval_minutes=30))
    stopped.apply(enumerate(first))
    stopped.advance(ms(9, 15, 20))
    snapshot = json.loads(json.dumps(stopped.snapshot()))
    resumed = AdherenceEngine.restore(snapshot)
    got = [resumed.drain_rows()]  # undrained rows survive the restart
    resumed.apply(enumerate(second, start=4))
    resumed.advance(ms(12))
    got.append(resumed.drain_rows())
    assert got == expected
    assert resumed.config == steady.config
    assert totals(itertools.chain(*got))["exception_ms"] == 90_000


# --- properties against a per-second reference model ---------------------------------------------------------

HORIZON_S = 2 * 3600
STATE_EVENTS = ("login", "ready", "not_ready", "on_contact", "acw", "logout")
ACTIVITY_NAMES = ("on_queue", "break", "lunch", "meeting", "training")
T0 = at(9)


def _state_event(kind: str, second: int) -> Event:
    ts = T0 + timedelta(seconds=second)
    maker = {
        "login": login,
        "ready": ready,
        "not_ready": not_ready,
        "on_contact": on_contact,
        "acw": acw,
        "logout": logout,
    }[kind]
    return maker(ts)  # type: ignore[operator]


@st.composite
def agent_days(draw: st.DrawFn) -> tuple[list[tuple[str, int, int]], list[tuple[int, str]], int]:
    """(schedule as (activity, start s, end s), state changes as (second, kind), grace s), seconds from 09:00."""
    schedule: list[tuple[str, int, int]] = []
    if draw(st.booleans()) or draw(st.booleans()):
        cuts = sorted(set(draw(st.lists(st.integers(0, HORIZON_S // 60), min_size=2, max_size=10))))
        for a, b in itertools.pairwise(cut * 60 for cut in cuts):
            activity = draw(st.sampled_from((*ACTIVITY_NAMES, "gap")))
            if activity != "gap":
                schedule.append((activity, a, b))
    changes = draw(
        st.lists(
            st.tuples(st.integers(0, HORIZON_S - 1), st.sampled_from(STATE_EVENTS)), min_size=1, max_size=25
        )
    )
    # Often on a coarse grid, so events share a second and episodes land exactly on grace.
    grid = draw(st.sampled_from((1, 15, 60)))
    changes = sorted(((second - second % grid, kind) for second, kind in changes), key=lambda c: c[0])
    grace = draw(st.sampled_from((0, 45, 60, 120)))
    return schedule, changes, grace


def _events(schedule: list[tuple[str, int, int]], changes: list[tuple[int, str]]) -> list[Event]:
    events: list[Event] = [
        sched(activity, T0 + timedelta(seconds=a), T0 + timedelta(seconds=b), published=T0)
        for activity, a, b in schedule
    ]
    events.extend(_state_event(kind, second) for second, kind in changes)
    return events


IN_ADHERENCE = {
    "on_queue": {"ready", "on_contact", "acw"},
    "break": {"not_ready", "logged_out"},
    "lunch": {"not_ready", "logged_out"},
    "meeting": {"not_ready"},
    "training": {"not_ready"},
}


def _reference(
    schedule: list[tuple[str, int, int]], changes: list[tuple[int, str]], grace_s: int, width_s: int = 900
) -> dict[int, list[int]]:
    """Second by second, straight from the definitions: counters (in seconds) per interval start second."""
    start = 0 if schedule else changes[0][0]
    activity_at: dict[int, str] = {}
    for activity, a, b in schedule:
        for second in range(a, b):
            activity_at[second] = activity
    state, j = "logged_out", 0
    status: list[str] = []
    table: dict[int, list[int]] = defaultdict(lambda: [0] * 8)
    for second in range(start, HORIZON_S):
        while j < len(changes) and changes[j][0] <= second:
            kind = changes[j][1]
            if kind == "login":
                state = "not_ready" if state == "logged_out" else state
            else:
                state = "logged_out" if kind == "logout" else kind
            j += 1
        scheduled = activity_at.get(second)
        working = state != "logged_out"
        row = table[second - second % width_s]
        if scheduled is not None:
            row[0] += 1
            adherent = state in IN_ADHERENCE[scheduled]
            row[2 if adherent else 3] += 1
            status.append("in" if adherent else "out")
            row[6] += scheduled == "on_queue"
        elif working and schedule:
            row[4] += 1
            row[0] += 1  # out-of-shift work is an exception by option, without grace
            row[1] += 1
            status.append("unscheduled")
        elif working:
            row[5] += 1
            status.append("unknown")
        else:
            status.append("")
        row[7] += state in ("ready", "on_contact", "acw")
    run_start = None
    for offset, value in enumerate([*status, ""]):
        if value == "out" and run_start is None:
            run_start = offset
        elif value != "out" and run_start is not None:
            if offset - run_start >= grace_s:
                for second in range(start + run_start, start + offset):
                    table[second - second % width_s][1] += 1
            run_start = None
    return {key: value for key, value in table.items() if any(value[:6])}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agent_days())
def test_counters_match_a_per_second_model_and_cover_the_time(
    day: tuple[list[tuple[str, int, int]], list[tuple[int, str]], int],
) -> None:
    schedule, changes, grace = day
    config = AdherenceConfig(grace_s=grace)
    rows = final(run(_events(schedule, changes), T0 + timedelta(seconds=HORIZON_S), config))
    got = {
        (row.interval_start - T0) // timedelta(seconds=1): [value // 1000 for value in counters(row)]
        for row in rows.values()
    }
    assert got == _reference(schedule, changes, grace)
    # (a) every covered second is in, out (pending, exception or forgiven), unscheduled or unknown, once.
    start = 0 if schedule else changes[0][0]
    covered, working, j = 0, False, 0
    for second in range(start, HORIZON_S):
        while j < len(changes) and changes[j][0] <= second:
            working = changes[j][1] != "logout"
            j += 1
        covered += working or any(a <= second < b for _, a, b in schedule)
    sums = totals(rows.values())
    assert (
        sums["in_adherence_ms"] + sums["out_of_adherence_ms"] + sums["unscheduled_ms"] + sums["unknown_ms"]
        == covered * 1000
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agent_days(), st.data())
def test_any_batching_watermarks_and_restarts_give_the_same_final_rows(
    day: tuple[list[tuple[str, int, int]], list[tuple[int, str]], int], data: st.DataObject
) -> None:
    schedule, changes, grace = day
    config = AdherenceConfig(grace_s=grace)
    events = _events(schedule, changes)
    end = T0 + timedelta(seconds=HORIZON_S)
    expected = final(run(events, end, config))

    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(events)), max_size=8))) | {len(events)})
    engine = AdherenceEngine(partition=0, config=config)
    emitted: list[AdherenceRow] = []
    watermark = ms(0)
    lo = 0
    for hi in cuts:
        engine.apply((offset, events[offset]) for offset in range(lo, hi))
        if hi < len(events) and data.draw(st.booleans()):
            # A watermark never passes an event still to come (its ts), and never goes back.
            next_ts = (events[hi].ts - EPOCH) // timedelta(milliseconds=1)
            watermark = data.draw(st.integers(min(watermark, next_ts), next_ts))
            engine.advance(watermark)
        if data.draw(st.booleans()):
            emitted.extend(engine.drain_rows())
        if data.draw(st.integers(0, 3)) == 0:
            engine = AdherenceEngine.restore(json.loads(json.dumps(engine.snapshot())))
        lo = hi
    engine.advance((end - EPOCH) // timedelta(milliseconds=1))
    emitted.extend(engine.drain_rows())
    got = final(emitted)
    assert {key: counters(row) for key, row in got.items()} == {
        key: counters(row) for key, row in expected.items()
    }
    # Cumulative rows only grow.
    seen: dict[tuple[Any, ...], tuple[int, ...]] = {}
    for row in emitted:
        before = seen.get(row[:6], (0,) * 8)
        assert all(new >= old for new, old in zip(counters(row), before, strict=True))
        seen[row[:6]] = counters(row)


# --- the simulator's truth -----------------------------------------------------------------------------------

SCENARIO = {
    "name": "adherence",
    "setup": "virtualized",
    "call_types": [{"name": "billing", "daily_volume": 300}],
    "in_house": {"id": "in-house", "agents": 12, "teams": 2},
    "vendors": [{"id": "vendor-a", "agents": 6, "teams": 1}],
}
DAY_MS = 86_400_000


@cache
def simulated() -> tuple[list[Event], TruthRecorder]:
    sink, truth = simulate_in_memory(scenario_from_dict(SCENARIO))
    events = [event for event in sink.events() if event_topic(event) == TOPIC_AGENT_EVENTS]
    return events, truth


def _end_ms(events: list[Event], truth: TruthRecorder) -> int:
    last = max((event.ts - EPOCH) // timedelta(milliseconds=1) for event in events)
    return max(last, *(activity.end_ms for activity in truth.schedules)) + 1


def _per_day(spans: Iterable[tuple[str, int, int]]) -> dict[tuple[str, int], int]:
    """Sum (agent, start ms, end ms) spans per agent and UTC day, splitting spans at midnight."""
    sums: dict[tuple[str, int], int] = defaultdict(int)
    for agent, start, end in spans:
        while start < end:
            day = start // DAY_MS
            cut = min(end, (day + 1) * DAY_MS)
            sums[(agent, day)] += cut - start
            start = cut
    return {key: value for key, value in sums.items() if value}


def _outside(start: int, end: int, windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Parts of [start, end) that no window covers."""
    parts, cursor = [], start
    for a, b in sorted(windows):
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            parts.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        parts.append((cursor, end))
    return parts


def test_conformance_and_scheduled_time_equal_the_simulator_truth_to_the_millisecond() -> None:
    events, truth = simulated()
    engine = AdherenceEngine(partition=0)
    engine.apply(enumerate(events))
    engine.advance(_end_ms(events, truth))
    engine_sums: dict[str, dict[tuple[str, int], int]] = defaultdict(lambda: defaultdict(int))
    rows = final(engine.drain_rows())
    for row in rows.values():
        day = (row.interval_start - EPOCH) // timedelta(days=1)
        for name in (
            "worked_on_queue_ms", "scheduled_on_queue_ms", "scheduled_ms", "unscheduled_ms", "handling_ms"
        ):  # fmt: skip
            engine_sums[name][(row.agent_id, day)] += getattr(row, name)

    worked = _per_day(
        (span.agent_id, span.start_ms, span.end_ms)
        for span in truth.spans
        if span.state in ("ready", "busy", "acw")
    )
    on_queue = _per_day(
        (a.agent_id, a.start_ms, a.end_ms) for a in truth.schedules if a.activity == "on_queue"
    )
    windows: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for activity in truth.schedules:
        windows[activity.agent_id].append((activity.start_ms, activity.end_ms))
    off_shift_work = _per_day(
        (span.agent_id, a, b)
        for span in truth.spans
        for a, b in _outside(span.start_ms, span.end_ms, windows[span.agent_id])
    )
    scheduled = _per_day((a.agent_id, a.start_ms, a.end_ms) for a in truth.schedules)
    for key, value in off_shift_work.items():
        scheduled[key] = scheduled.get(key, 0) + value

    assert len({agent for agent, _ in worked}) == 18
    assert {k: v for k, v in engine_sums["worked_on_queue_ms"].items() if v} == worked
    assert {k: v for k, v in engine_sums["scheduled_on_queue_ms"].items() if v} == on_queue
    assert {k: v for k, v in engine_sums["scheduled_ms"].items() if v} == scheduled
    assert {k: v for k, v in engine_sums["unscheduled_ms"].items() if v} == off_shift_work
    # Occupancy's numerator: on a contact or in wrap-up, from the simulator's own state spans.
    handling = _per_day(
        (span.agent_id, span.start_ms, span.end_ms) for span in truth.spans if span.state in ("busy", "acw")
    )
    assert {k: v for k, v in engine_sums["handling_ms"].items() if v} == handling
    assert 0 < sum(handling.values()) < sum(worked.values())
    assert sum(row.unknown_ms for row in rows.values()) == 0
    sums = totals(rows.values())
    assert 0 < sums["exception_ms"] < sums["scheduled_ms"]


def test_the_simulated_day_in_batches_with_watermarks_and_restarts_gives_the_same_rows() -> None:
    events, truth = simulated()
    end = _end_ms(events, truth)
    reference = AdherenceEngine(partition=0)
    reference.apply(enumerate(events))
    reference.advance(end)
    expected = final(reference.drain_rows())

    engine = AdherenceEngine(partition=0)
    emitted: list[AdherenceRow] = []
    step = max(1, len(events) // 23)
    for lo in range(0, len(events), step):
        engine.apply((offset, events[offset]) for offset in range(lo, min(lo + step, len(events))))
        if lo + step < len(events):
            lateness = timedelta(seconds=30)
            engine.advance((events[lo + step].ts - lateness - EPOCH) // timedelta(milliseconds=1))
        emitted.extend(engine.drain_rows())
        if (lo // step) % 5 == 4:
            engine = AdherenceEngine.restore(json.loads(json.dumps(engine.snapshot())))
    engine.advance(end)
    emitted.extend(engine.drain_rows())
    got = final(emitted)
    assert {k: counters(r) for k, r in got.items()} == {k: counters(r) for k, r in expected.items()}
    assert max(row.version for row in emitted) == len(events) - 1


def test_a_watermark_jump_past_the_horizon_is_accounted_from_the_horizon_only() -> None:
    """Found by fuzzing: an agent's first event dated centuries back, then real ones, made the engine account
    (and hold a row for) every interval in between; out of memory. Rows older than the correction horizon
    could never be corrected anyway: the jump now accounts from there."""
    from streams.engine.config import EngineConfig
    from streams.engine.partition import AgentPartition

    engine = AgentPartition(0, EngineConfig(retention_hours=1, allowed_lateness_s=0))
    engine.process([(0, login(at(9) - timedelta(days=30))), (1, ready(at(9) - timedelta(days=30)))])
    engine.process([(2, ready(at(9)))])
    rows = engine.drain()["adherence_interval"]
    # At most the horizon (1 h retention + 1 h) of 15-minute rows, plus the one it starts in.
    assert 0 < len(rows) <= 9
    assert min(row.interval_start for row in rows) >= at(9) - timedelta(hours=2, minutes=15)
