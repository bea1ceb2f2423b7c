"""Twilio TaskRouter callbacks: every number counted by hand on a small fixture (events and the feed report),
checked against an independent count of the raw lines, and through the engine."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.twilio import Reject
from producers.feeds.twilio import TaskRouterAdapter
from producers.feeds.twilio import read
from streams.events import decode_event
from streams.events import encode_event
from tests.support.engine import contact_rows
from tests.support.raw_lines import json_lines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "twilio_taskrouter.jsonl"


def adapt() -> tuple[list, list[Reject], TaskRouterAdapter]:
    adapter = TaskRouterAdapter(
        "flex", b"k", queues={"bpo-support": "vendor-a"}, overflow_to={"support": "vendor-a"},
        worker_sources={"bpo-7": "vendor-a"},
    )  # fmt: skip
    items = list(adapter.adapt(FIXTURE.read_text().splitlines()))
    return (
        [i for i in items if not isinstance(i, Reject)],
        [i for i in items if isinstance(i, Reject)],
        adapter,
    )


EVENTS = Counter(
    {
        "contact.offered": 3,
        "contact.queued": 4,
        "contact.answered": 2,
        "contact.ended": 2,
        "contact.wrapup_ended": 2,
        "contact.abandoned": 1,
        "contact.overflowed": 1,
        "agent.login": 2,
        "agent.ready": 2,
        "agent.not_ready": 1,
        "agent.logout": 1,
    }
)


def test_callbacks_counted_by_hand() -> None:
    events, rejects, adapter = adapt()
    assert Counter(e.type for e in events) == EVENTS
    assert [r.line for r in rejects] == [20, 22]  # a task never created; a truncated line
    assert adapter.report.skipped == Counter({"not a call event: workflow.target-matched": 1})
    ended = {e.contact_id: (e.talk_ms) for e in events if e.type == "contact.ended"}
    assert ended == {"WT1": 180_000, "WT3.2": 300_000}
    answered = {
        e.contact_id: (e.source, e.wait_ms, e.total_wait_ms) for e in events if e.type == "contact.answered"
    }
    assert answered == {"WT1": ("in-house", 12_000, 12_000), "WT3.2": ("vendor-a", 8_000, 38_000)}
    assert all(decode_event(encode_event(e)) == e for e in events)


def test_the_engine_counts_the_taskrouter_stream() -> None:
    events, _, _ = adapt()
    (overflow,) = contact_rows(events, "flex")["overflow_interval"]
    assert (overflow.arrived, overflow.overflowed, overflow.e2e_answered, overflow.e2e_abandoned) == (
        3,
        1,
        2,
        1,
    )
    assert overflow.overflow_wait_ms == 30_000


def test_read_gives_the_same_events_in_time_order_and_accounts_for_every_line() -> None:
    report = FeedReport("taskrouter")
    events = list(read(FIXTURE, FeedOptions(tenant="flex", caller_key=b"k"), report))
    # What replay did with the adapter (no queue mapping in FeedOptions): all lines, adapted, sorted by time.
    adapted = [i for i in TaskRouterAdapter("flex", b"k").adapt(FIXTURE.read_text().splitlines())
               if not isinstance(i, Reject)]  # fmt: skip
    assert events == sorted(adapted, key=lambda e: e.ts)
    assert Counter(e.type for e in events) == EVENTS
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    # 22 lines, none blank. Accepted, 19: lines 1-2 (ana and bpo-7 Available: login + ready), 3-7 (WT1
    # created, queued, answered, wrapped up, completed), 8-10 (WT2 created, queued, canceled by a hangup), 11-17
    # (WT3 created, queued, timed out, queued for bpo-support, answered, wrapped up, completed), 18 (ana on
    # Break) and 21 (ana Offline: logout). Skipped, 1: line 19, a workflow event. Rejected, 2: line 20
    # (reservation for WT9, never created) and line 22 (truncated JSON).
    assert (report.read, report.blank, report.accepted, report.rejected) == (22, 0, 19, 2)
    assert report.skipped == Counter({"not a call event: workflow.target-matched": 1})
    assert [r.line for r in report.rejects] == [20, 22]
    assert "never created" in report.rejects[0].reason
    assert report.rejects[1].text == '{"EventType": '
    assert report.observed == Counter()
    assert report.events == EVENTS
    assert (report.files, report.unaccounted) == (1, 0)


def test_the_report_agrees_with_an_independent_count_of_the_raw_lines() -> None:
    report = FeedReport("taskrouter")
    list(read(FIXTURE, FeedOptions(tenant="flex", caller_key=b"k"), report))
    raw = json_lines(FIXTURE)
    assert (report.read, report.blank) == (raw.read, raw.blank) == (22, 0)
    assert raw.malformed == (22,)
    # Every line that does not parse is rejected; the one other reject (line 20) parses but names no task.
    assert set(raw.malformed) <= {r.line for r in report.rejects}
    assert report.rejected == len(raw.malformed) + 1


def test_lines_with_no_canonical_event_are_skipped_or_observed_by_kind() -> None:
    def line(kind: str, **fields: str) -> str:
        return json.dumps({"EventType": kind, "Timestamp": "1767603600", "TaskSid": "WT1", **fields})

    lines = [
        line("task.created", TaskAttributes='{"type": "support"}'),
        line("reservation.created", WorkerName="ana"),
        line("reservation.rejected", WorkerName="ana"),
        line("reservation.timeout", WorkerName="bo"),
        line("task.updated"),
        line("task.canceled", TaskCanceledReason="Task TTL Exceeded"),
        "",
        line("worker.activity.update", WorkerSid="WK3", WorkerName="cy", WorkerActivityName="Offline"),
        line("worker.channel.availability.update", WorkerSid="WK3"),
    ]
    adapter = TaskRouterAdapter("t", b"k")
    items = list(adapter.adapt(lines))
    assert [i.type for i in items if not isinstance(i, Reject)] == ["contact.offered"]
    report = adapter.report
    # Accepted: the created task, and the three lines whose fact no canonical event holds (two agents offered
    # the task who did not take it; a cancel that is not a hangup, so not an abandon).
    assert (report.read, report.blank, report.accepted, report.rejected) == (9, 1, 4, 0)
    assert report.observed == Counter(
        {
            "offered to an agent, not taken: reservation.rejected": 1,
            "offered to an agent, not taken: reservation.timeout": 1,
            "task canceled, not a hangup: Task TTL Exceeded": 1,
        }
    )
    assert report.skipped == Counter(
        {
            "call event not mapped: reservation.created": 1,
            "call event not mapped: task.updated": 1,
            "offline, not logged in": 1,
            "not a call event: worker.channel.availability.update": 1,
        }
    )
    assert report.unaccounted == 0
