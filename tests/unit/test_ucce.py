"""Cisco UCCE Termination_Call_Detail (+ Route_Call_Detail) exports to canonical events, checked against an
independent reader of the raw columns (`tests/support/raw_ucce.py`) and against figures counted by hand."""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest

from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.ucce import FORMAT
from producers.feeds.ucce import MappingError
from producers.feeds.ucce import UcceMapping
from producers.feeds.ucce import adapt
from producers.feeds.ucce import load_mapping
from producers.feeds.ucce import read
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactOffered
from streams.events import ContactRedirected
from streams.events import Event
from streams.events import decode_event
from streams.events import encode_event
from tests.support.engine import contact_rows
from tests.support.raw_ucce import RawFigures
from tests.support.raw_ucce import read_raw

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "ucce"
MAPPING = FIXTURES / "ucce_mapping.toml"
OPTIONS = FeedOptions(tenant="acme", caller_key=b"test-key", mapping=MAPPING)
# What the raw reader needs of the mapping, written out again (it imports nothing of the adapter's).
PERIPHERALS = {5000: "in-house", 5100: "vendor-b"}
LABELS = {"8005550199": "vendor-a", "8005550177": "vendor-c"}
TARGETS = {9101: "vendor-a", 9201: "vendor-c"}


def run(path: Path, options: FeedOptions = OPTIONS) -> tuple[list[Event], FeedReport]:
    report = FeedReport(FORMAT)
    return list(read(path, options, report)), report


def raw(*paths: Path) -> RawFigures:
    return read_raw(list(paths), PERIPHERALS, LABELS, TARGETS)


def of(events: list[Event], kind: type) -> list:
    return [event for event in events if isinstance(event, kind)]


def test_the_export_equals_the_independent_reader_and_the_hand_count() -> None:
    events, report = run(FIXTURES / "tcd_export.csv")
    figures = raw(FIXTURES / "tcd_export.csv")
    offered, answered = of(events, ContactOffered), of(events, ContactAnswered)
    # 18 customer calls: 101-115, 117, the call without router keys (PeripheralCallKey 8801) and 121; not
    # 116 (forced busy), 118 (outbound), 119 (a consult), 122 (a task) or 123 (answering machine).
    assert len(offered) == figures.offered == 18
    assert len({event.initial_contact_id for event in offered}) == 18  # offered once per customer call
    # Answered legs: 101, 107 (hung up on hold after talking), both legs of 112, 113, 114, 115 (after its
    # ring-no-answer), 117's vendor leg, 8801 and 121.
    assert len(answered) == figures.answered_legs == 10
    # Waits (LocalQTime + RingTime): 15 + 7 + 8 + 24 + 10 + 10 + (15 + 12 + 5 + 3) + 12 + 6 + 3 = 130 s.
    assert sum(event.wait_ms for event in answered) == figures.answered_wait_s * 1000 == 130_000
    # Talk: 240 + 60 + 90 + 120 + 45 + 100 + 200 + 180 + 75 + 55 = 1165 s.
    assert sum(event.talk_ms for event in of(events, ContactEnded)) == figures.talk_s * 1000 == 1_165_000
    # Abandoned 102 (network), 103 (local queue), 104 (ring), 105 (delay), 106 (interflow), 108 (short).
    assert len(of(events, ContactAbandoned)) == figures.abandoned == 6
    assert report.observed["short_abandon"] == figures.short == 1
    # 109 (Redirected) and 110 (Network Blind Transfer, 800-555-0199) to vendor-a; 111 interflowed to an
    # unmapped label.
    redirected = Counter(event.to_source for event in of(events, ContactRedirected))
    assert redirected == figures.redirected == Counter({"vendor-a": 2, "external": 1})
    assert [reject.line for reject in report.rejects] == figures.rejected_lines == [10, 31, 32]
    assert sum(report.skipped.values()) == figures.skipped == 7
    assert report.read == figures.rows + 1  # the header


def test_every_row_is_accounted_with_its_kind() -> None:
    _, report = run(FIXTURES / "tcd_export.csv")
    assert (report.unit, report.read, report.blank, report.accepted, report.rejected) == (
        "line",
        32,
        1,
        21,
        3,
    )
    assert report.unaccounted == 0
    assert report.skipped == Counter(
        {
            "not a call event: consult or conference": 3,  # 114's consult and conference legs, 119
            "busy: refused by the ACD": 1,
            "not a call event: outbound": 1,
            "not a call event: non-voice task": 1,
            "not a call event: dialer or switch disposition": 1,
        }
    )
    reasons = [reject.reason for reject in report.rejects]
    assert reasons[0] == "20 fields, the header has 77"
    assert "Invalid isoformat string: '05/03/2026 09:31'" in reasons[1]
    assert "CallDisposition 99" in reasons[2]
    assert report.rejects[0].text.startswith("9000000001,1,")  # the raw line is kept
    assert report.corrections == Counter(
        {
            "NULL HoldTime read as 0": 1,  # the 8801 row writes NULL literals
            "NULL WorkTime read as 0": 1,
            "NULL TimeToAband read as 0": 1,
            "NULL PeripheralCallType read as ACD In": 1,
            "negative HoldTime clamped to 0": 1,  # 121
            "Duration NULL or shorter than its parts: read as their sum": 1,  # 121's Duration -1
        }
    )
    assert report.observed == Counter({"abandoned_on_hold": 1, "short_abandon": 1, "ring_no_answer": 1})
    assert sum(report.events.values()) == 78


def test_legs_of_one_call() -> None:
    events, _ = run(FIXTURES / "tcd_export.csv")
    call = {
        (e.contact_id, e.type): e for e in events if getattr(e, "initial_contact_id", "").endswith("-112")
    }
    # Blind transfer after 90 s of talk, then 24 s in the support queue: the second leg is a transfer-in and
    # its total wait is both queue waits (8 + 24 s), not the talk between them.
    assert call[("acme-150000-112", "contact.transferred")].to_queue == "support"
    assert call[("acme-150000-112.2", "contact.queued")].transferred_in is True
    assert call[("acme-150000-112.2", "contact.answered")].total_wait_ms == 32_000
    vendor = {
        (e.contact_id, e.type): e for e in events if getattr(e, "initial_contact_id", "").endswith("-117")
    }
    # Interflowed after 30 s to vendor-b's peripheral (a virtualized vendor), answered there after 12 s.
    assert vendor[("acme-150000-117", "contact.overflowed")].to_source == "vendor-b"
    answered = vendor[("acme-150000-117.2", "contact.answered")]
    assert (answered.source, answered.agent_id, answered.wait_ms, answered.total_wait_ms) == (
        "vendor-b",
        "2001",
        12_000,
        42_000,
    )
    rona = [e for e in events if getattr(e, "initial_contact_id", "").endswith("-115")]
    # Ring no answer, then answered by another agent: one contact, queued once, waited 27 + 8 s.
    assert [e.type for e in rona].count("contact.queued") == 1
    assert of(rona, ContactAnswered)[0].wait_ms == 35_000
    assert of(rona, ContactAnswered)[0].agent_id == "1008"


def test_times_are_the_loggers_local_time_and_a_leg_starts_duration_before_it_was_written() -> None:
    events, _ = run(FIXTURES / "tcd_export.csv")
    first = of(events, ContactOffered)[0]
    # 101 was written at 09:05:06 Paris (UTC+1) after Duration 306 s: it started at 09:00:00, 08:00 UTC.
    assert first.ts == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    no_key = next(e for e in of(events, ContactOffered) if "p5000-8801" in e.initial_contact_id)
    assert no_key.ts == datetime(2026, 3, 5, 8, 27, tzinfo=UTC)  # its DateTime is written with a T
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    utc, _ = run(FIXTURES / "tcd_export.csv", FeedOptions(tenant="acme", caller_key=b"test-key"))
    assert of(utc, ContactOffered)[0].ts == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # no mapping: UTC


def test_events_are_deterministic_valid_and_hold_no_caller_number() -> None:
    events, _ = run(FIXTURES / "tcd_export.csv")
    again, _ = run(FIXTURES / "tcd_export.csv")
    assert [e.event_id for e in events] == [e.event_id for e in again]
    assert len({e.event_id for e in events}) == len(events)
    assert all(decode_event(encode_event(e)) == e for e in events)
    wire = b"".join(encode_event(e) for e in events)
    assert b"5550102001" not in wire
    assert all(e.caller_hash and len(e.caller_hash) == 32 for e in of(events, ContactOffered))


def test_a_folder_of_tcd_and_rcd_shows_the_calls_routed_away() -> None:
    events, report = run(FIXTURES / "routed")
    figures = raw(
        FIXTURES / "routed" / "Termination_Call_Detail_20260305.csv",
        FIXTURES / "routed" / "Route_Call_Detail_20260305.csv",
    )
    assert (report.files, report.read, report.blank, report.accepted, report.unaccounted) == (2, 11, 2, 7, 0)
    assert report.skipped == Counter({"routing failed: RouterErrorCode, outcome unknown": 1})  # call 204
    assert [(r.line, r.source.endswith("Route_Call_Detail_20260305.csv")) for r in report.rejects] == [
        (8, True)
    ]
    # 201 (pre-routed to vendor-a's label), 202 (handled in-house), 203 (abandoned in the network), 205.
    assert len(of(events, ContactOffered)) == figures.offered == 4
    assert len(of(events, ContactAbandoned)) == figures.abandoned == 1
    redirected = Counter(e.to_source for e in of(events, ContactRedirected))
    # 205's Network Blind Transfer names no digits: its second routing request's network target is vendor-c's.
    assert redirected == figures.redirected == Counter({"vendor-a": 1, "vendor-c": 1})
    by_call = {(e.initial_contact_id, e.type): e for e in events if hasattr(e, "initial_contact_id")}
    split = by_call[("acme-150000-201", "contact.overflowed")]
    assert (split.trigger, split.wait_ms, split.source) == ("split", 0, "in-house")  # a Percent Allocation
    assert ("acme-150000-201", "contact.queued") not in by_call  # it never queued at the enterprise
    assert by_call[("acme-150000-205", "contact.overflowed")].trigger == "timeout"
    assert by_call[("acme-150000-203", "contact.abandoned")].wait_ms == 25_000  # NetQTime


def service_levels(answered_in: int, abandoned_in: int, offered: int) -> tuple[float, float, float]:
    """UCCE's three service-level types (ignore / negative / positive abandons), in %."""
    return (
        round(100 * answered_in / (offered - abandoned_in), 1),
        round(100 * answered_in / offered, 1),
        round(100 * (answered_in + abandoned_in) / offered, 1),
    )


def test_the_three_service_level_types_agree_with_the_raw_columns() -> None:
    path = FIXTURES / "tcd_service_level.csv"
    events, report = run(path)
    threshold_ms, short_ms = 20_000, 5_000
    answered, abandoned = of(events, ContactAnswered), of(events, ContactAbandoned)
    long_abandons = [e for e in abandoned if e.wait_ms >= short_ms]  # shorts are out of service level
    from_events = service_levels(
        sum(e.wait_ms <= threshold_ms for e in answered),
        sum(e.wait_ms <= threshold_ms for e in long_abandons),
        len(answered) + len(long_abandons),
    )
    figures = raw(path)
    from_columns = service_levels(
        figures.answered_in_sl,
        figures.abandoned_in_sl,
        figures.answered_calls + figures.abandoned - figures.short,
    )
    # domain-notes §1.3: 70 answered in SL, 10 abandoned in SL, 20 beyond it -> 77.8 %, 70 %, 80 %.
    assert from_events == from_columns == (77.8, 70.0, 80.0)
    assert report.observed["short_abandon"] == figures.short == 3
    assert len(abandoned) - len(long_abandons) == 3


def test_a_header_without_the_keys_rejects_every_row_and_accounts_for_it() -> None:
    lines = ["PeripheralID,CallDisposition", "5000,13", "", "5000,2"]
    report = FeedReport(FORMAT)
    events = adapt(lines, UcceMapping(), FeedOptions(caller_key=b"k"), report)
    assert events == []
    assert [(r.line, r.reason) for r in report.rejects] == [
        (2, "the header has no column DateTime"),
        (4, "the header has no column DateTime"),
    ]
    assert (report.read, report.blank, report.unaccounted) == (4, 2, 0)


def test_mapping_mistakes_are_caught_before_reading(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('time_zone = "Mars/Olympus"\n')
    with pytest.raises(MappingError, match="unknown time zone"):
        load_mapping(bad)
    extra = tmp_path / "extra.toml"
    extra.write_text('[outsourcers.v]\nlabels = ["1"]\nsurprise = 1\n')
    with pytest.raises(MappingError, match="surprise"):
        load_mapping(extra)
    mapping = load_mapping(MAPPING)
    assert (mapping.peripherals[5100], mapping.call_types[7002]) == ("vendor-b", "support")
    assert mapping.outsourcers["vendor-a"].network_target_ids == (9101,)
    empty = tmp_path / "empty.toml"
    empty.write_text('[peripherals]\n5000 = ""\n')
    with pytest.raises(MappingError, match="peripherals"):
        load_mapping(empty)


def test_partial_records_and_a_short_the_call_went_on_from_continue_one_contact() -> None:
    header = (
        "DateTime,PeripheralID,PeripheralCallType,CallDisposition,RouterCallKeyDay,RouterCallKey,"
        "RouterCallKeySequenceNumber,DelayTime,LocalQTime,RingTime,TalkTime,HoldTime,WorkTime,TimeToAband,Duration,"
        "AgentPeripheralNumber,CallTypeID,ANI,DigitsDialed"
    )
    lines = [
        header,
        "2026-03-05 10:00:10.000,5000,2,53,150000,1,1,0,10,0,0,0,0,0,10,NULL,7001,5550100,NULL",  # partial ...
        "2026-03-05 10:01:17.000,5000,2,13,150000,1,2,0,5,2,60,0,0,0,67,1001,7001,5550100,NULL",  # ... final
        "2026-03-05 10:05:03.000,5000,4,7,150000,2,1,0,3,0,0,0,0,0,3,NULL,7001,5550101,NULL",  # single-step ...
        "2026-03-05 10:06:00.000,5000,4,13,150000,2,2,0,4,1,52,0,0,0,57,1002,7001,5550101,NULL",  # ... transfer
        "2026-03-05 10:09:00.000,5000,2,53,150000,3,1,0,30,0,0,0,0,0,30,NULL,7001,5550102,NULL",  # no final row
        "2026-03-05 10:10:00.000,5000,2,19,150000,4,1,0,0,0,0,0,0,0,0,1003,7001,5550103,NULL",  # no answer at 0 s
        "2026-03-05 10:11:00.000,5000,2,13,150000,4,2,0,2,1,50,0,0,0,53,1004,7001,5550103,NULL",  # ... answered
    ]
    report = FeedReport(FORMAT)
    events = adapt(lines, UcceMapping(), FeedOptions(tenant="t", caller_key=b"k"), report)
    assert Counter(e.type for e in events) == Counter(
        {"contact.offered": 3, "contact.queued": 3, "contact.answered": 3, "contact.ended": 3}
    )
    waits = {e.initial_contact_id: (e.contact_id, e.wait_ms) for e in of(events, ContactAnswered)}
    # One contact each: the partial record's 10 s and the short leg's 3 s count into the answered wait.
    assert waits == {
        "t-150000-1": ("t-150000-1", 17_000),
        "t-150000-2": ("t-150000-2", 8_000),
        "t-150000-4": ("t-150000-4", 3_000),  # one contact even when the unanswered leg waited 0 s
    }
    assert report.skipped == Counter({"partial call: no final record": 1})
    assert report.corrections["abandon disposition on a leg the call continued from"] == 1
    assert report.observed == Counter({"partial_call_folded": 1, "ring_no_answer": 1})
    assert (report.accepted, report.blank, report.unaccounted) == (6, 1, 0)


def test_the_engine_counts_the_export() -> None:
    events, _ = run(FIXTURES / "tcd_export.csv")
    rows = contact_rows(events, "acme")
    in_house = [row for row in rows["quality_interval"] if row.source == "in-house"]
    # 18 arrivals queued in-house; answered there 8 (112's transferred-in leg is not a new offer), abandoned
    # 6 (two under the engine's 5 s short-abandon threshold: 108, a Short, and 105, a 4 s delay abandon);
    # out of the queue 4 (109, 110, 111 redirected; 117 to vendor-b).
    assert sum(row.offered for row in in_house) == 18
    assert sum(row.answered for row in in_house) == 8
    assert (sum(row.abandoned for row in in_house), sum(row.short_abandoned for row in in_house)) == (6, 2)
    assert sum(row.overflowed_out for row in in_house) == 4
    assert sum(row.transferred_in for row in in_house) == 1
    (vendor,) = [row for row in rows["quality_interval"] if row.source == "vendor-b"]
    assert (vendor.offered, vendor.answered, vendor.talk_ms) == (1, 1, 180_000)
    overflow = rows["overflow_interval"]
    # End to end: 9 answered, 6 abandoned, 3 handed to an outsourcer the enterprise no longer sees.
    assert (sum(r.arrived for r in overflow), sum(r.e2e_answered for r in overflow)) == (18, 9)
    assert (sum(r.e2e_abandoned for r in overflow), sum(r.e2e_hidden for r in overflow)) == (6, 3)
    routed, _ = run(FIXTURES / "routed")
    routed_overflow = contact_rows(routed, "acme")["overflow_interval"]
    assert sum(r.overflowed_split for r in routed_overflow) == 1  # the Percent Allocation to vendor-a
