"""The real January 1999 log of the Anonymous Bank (Technion SEE Center): the adapter reproduces the figures
the data is known for, exactly, and turns every customer call into valid canonical events."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest

from producers.feeds.anonymous_bank import BankCall
from producers.feeds.anonymous_bank import BankReport
from producers.feeds.anonymous_bank import Reject
from producers.feeds.anonymous_bank import daily_figures
from producers.feeds.anonymous_bank import parse
from producers.feeds.anonymous_bank import to_events
from streams.events import CallerHasher
from streams.events import decode_event
from streams.events import encode_event

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "anonymous_bank" / "january.txt"


@cache
def january() -> tuple[list[BankCall], list[Reject], BankReport]:
    if not DATA.is_file():
        pytest.fail(f"the Anonymous Bank log is missing at {DATA} (shared/ beside the project)")
    report = BankReport()
    calls: list[BankCall] = []
    rejects: list[Reject] = []
    with DATA.open(encoding="latin-1") as lines:
        for item in parse(lines, report):
            (calls if isinstance(item, BankCall) else rejects).append(item)  # type: ignore[arg-type]
    return calls, rejects, report


def test_every_call_of_january_is_read() -> None:
    calls, rejects, report = january()
    assert len(calls) == 31_599
    assert rejects == []
    assert report.accepted == 31_599


def test_outcomes_and_served_share() -> None:
    _, _, report = january()
    assert report.outcomes == Counter({"AGENT": 27_060, "HANG": 4_299, "PHANTOM": 240})
    served_share = report.outcomes["AGENT"] / (report.outcomes["AGENT"] + report.outcomes["HANG"])
    assert round(served_share, 3) == 0.863


def test_service_times_of_served_calls() -> None:
    calls, _, _ = january()
    times = [call.ser_time for call in calls if call.outcome == "AGENT" and 0 < call.ser_time <= 3600]
    assert len(times) == 26_779
    assert round(statistics.fmean(times), 1) == 184.7
    assert statistics.median(times) == 114


def test_defects_are_handled_and_counted() -> None:
    calls, _, report = january()
    assert report.never_queued == sum(1 for call in calls if not call.queued) > 0
    assert report.undocumented_types == Counter({"AA": 2})
    # This copy has none of the space-separated lines or disagreeing durations other public copies have.
    assert (report.repaired_separators, report.duration_mismatch, report.rejected) == (0, 0, 0)
    # 42 AGENT calls with no service times (ser_start 0:00:00, ser_time 0): answered as they left the queue/VRU.
    assert report.missing_service_times == 42
    # With them placed, no served call starts service more than an hour after it entered (midnight is crossed
    # only by calls that really cross it, by seconds).
    served = [c for c in calls if c.outcome == "AGENT"]
    assert all(c.ser_start is not None and c.ser_start - c.vru_entry < timedelta(hours=1) for c in served)


def test_a_line_with_spaces_for_tabs_is_repaired_and_a_broken_one_rejected_with_its_line() -> None:
    header = "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\t"
    good = "AA0101 33118 27997683 2 PS 990101 6:55:20 6:55:26 6 6:55:26 6:55:43 17 AGENT 6:55:43 6:56:37 54 MICHAL"
    broken = "AA0101\t33119\tnot enough fields"
    report = BankReport()
    items = list(parse([header, good, broken], report))
    assert isinstance(items[0], BankCall)
    assert items[0].ser_time == 54
    assert isinstance(items[1], Reject)
    assert items[1].line == 3
    assert "expected 17" in items[1].reason
    assert (report.repaired_separators, report.rejected) == (1, 1)


def test_daily_table_adds_up_to_the_month() -> None:
    calls, _, _ = january()
    days = daily_figures(calls)
    # The public copy has calls on 29 days of January 1999: the 11th and the 12th are missing from it.
    assert len(days) == 29
    assert {day.day.day for day in days} == set(range(1, 32)) - {11, 12}
    assert sum(day.offered for day in days) == 27_060 + 4_299
    assert sum(day.abandoned for day in days) == 4_299
    assert all(day.mean_service_s is None or 30 < day.mean_service_s < 600 for day in days)


def test_calls_become_valid_canonical_events_with_stable_ids() -> None:
    calls, _, _ = january()
    hasher = CallerHasher(b"test-key")
    events = [event for call in calls[:2000] for event in to_events(call, hasher)]
    assert events
    assert all(decode_event(encode_event(event)) == event for event in events)
    again = [event for call in calls[:2000] for event in to_events(call, hasher)]
    assert [e.event_id for e in again] == [e.event_id for e in events]
    kinds = Counter(event.type for event in events)
    served = sum(1 for call in calls[:2000] if call.outcome == "AGENT")
    assert kinds["contact.answered"] == kinds["contact.ended"] == served
    assert not any("27997683" in encode_event(event).decode() for event in events)  # customer ids only hashed
