"""Twilio TaskRouter callbacks: every number counted by hand on a small fixture, and through the engine."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from producers.feeds.twilio import Reject
from producers.feeds.twilio import TaskRouterAdapter
from streams.events import decode_event
from streams.events import encode_event
from tests.support.engine import contact_rows

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


def test_callbacks_counted_by_hand() -> None:
    events, rejects, adapter = adapt()
    assert Counter(e.type for e in events) == Counter(
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
    assert [r.line for r in rejects] == [20, 22]  # a task never created; a truncated line
    assert adapter.report.ignored == Counter({"workflow.target-matched": 1})
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
