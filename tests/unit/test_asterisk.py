"""Asterisk queue_log to canonical events, on a small hand-written log whose every number is counted by hand."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from producers.feeds.asterisk import QueueLogAdapter
from producers.feeds.asterisk import QueueMap
from producers.feeds.asterisk import Reject
from streams.events import decode_event
from streams.events import encode_event
from tests.support.engine import contact_rows

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "asterisk_queue_log.txt"
QUEUES = {
    "support": QueueMap(source="in-house", call_type="support"),
    "bpo_support": QueueMap(source="vendor-a", call_type="support"),
    "support:overflow": QueueMap(source="vendor-a"),
}


def adapt() -> tuple[list, list[Reject], QueueLogAdapter]:
    adapter = QueueLogAdapter(tenant="pbx", queues=QUEUES)
    items = list(adapter.adapt(FIXTURE.read_text().splitlines()))
    events = [item for item in items if not isinstance(item, Reject)]
    rejects = [item for item in items if isinstance(item, Reject)]
    return events, rejects, adapter


def test_counts_by_hand() -> None:
    events, rejects, adapter = adapt()
    assert Counter(event.type for event in events) == Counter(
        {
            "contact.offered": 3,  # three calls (the overflowed one is one customer call)
            "contact.queued": 4,  # ... in four queue legs
            "contact.answered": 2,
            "contact.ended": 2,
            "contact.abandoned": 1,
            "contact.overflowed": 1,
            "agent.login": 2,
            "agent.ready": 3,  # two log-ins and one unpause
            "agent.not_ready": 1,
            "agent.logout": 2,
        }
    )
    assert adapter.report.skipped == Counter(
        {"not a call event: QUEUESTART": 1, "no canonical event: RINGNOANSWER": 1}
    )
    assert adapter.report.observed == Counter({"ring_no_answer": 1, "ring_no_answer_ms": 15_000})
    # Line 16 is not queue_log; line 17 connects a call that never queued: both rejected with their line.
    assert [(reject.line, reject.reason.split(" ")[0]) for reject in rejects] == [(16, "1"), (17, "CONNECT")]
    assert adapter.report.rejected == 2
    # 20 lines: 16 made events, 2 skipped, 2 rejected, none blank.
    assert (adapter.report.read, adapter.report.accepted, adapter.report.blank) == (20, 16, 0)
    assert adapter.report.unaccounted == 0
    assert all(decode_event(encode_event(event)) == event for event in events)


def test_the_overflowed_call_keeps_one_initial_contact_and_its_total_wait() -> None:
    events, _, _ = adapt()
    overflow_call = [
        event for event in events if getattr(event, "initial_contact_id", "") == "pbx-1767603800.4"
    ]
    answered = next(event for event in overflow_call if event.type == "contact.answered")
    assert answered.source == "vendor-a"
    assert answered.wait_ms == 10_000  # in the vendor queue
    assert answered.total_wait_ms == 40_000  # 30 s in-house + 10 s at the vendor
    overflowed = next(event for event in overflow_call if event.type == "contact.overflowed")
    assert (overflowed.to_source, overflowed.wait_ms) == ("vendor-a", 30_000)


def test_the_engine_counts_the_log() -> None:
    events, _, _ = adapt()
    rows = contact_rows(events, "pbx")
    (overflow,) = rows["overflow_interval"]
    assert (overflow.arrived, overflow.overflowed, overflow.e2e_answered, overflow.e2e_abandoned) == (
        3,
        1,
        2,
        1,
    )
    quality = {row.source: row for row in rows["quality_interval"]}
    assert (quality["in-house"].offered, quality["in-house"].answered, quality["in-house"].abandoned) == (
        3,
        1,
        1,
    )
    assert quality["in-house"].overflowed_out == 1
    assert (quality["vendor-a"].offered, quality["vendor-a"].answered, quality["vendor-a"].talk_ms) == (
        1,
        1,
        300_000,
    )
