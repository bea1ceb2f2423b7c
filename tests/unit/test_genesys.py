"""Genesys Cloud conversation details: an answered call with a hold and wrap-up, an abandon, and a transfer to
an outsourcer's number (enterprise-routed redirect), every figure worked out by hand."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from producers.feeds.genesys import GenesysMapping
from producers.feeds.genesys import adapt
from streams.events import decode_event
from streams.events import encode_event

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "genesys_conversations.jsonl"
MAPPING = GenesysMapping(
    tenant="gen",
    queues={"q-billing": "billing", "q-support": "support"},
    external_numbers={"+18005550199": "vendor-x"},
)


def test_conversations_counted_by_hand() -> None:
    events, rejects = adapt(FIXTURE.read_text().splitlines(), MAPPING, b"k")
    assert [r.line for r in rejects] == [4]  # no conversationStart
    assert Counter(e.type for e in events) == Counter(
        {
            "contact.offered": 3,
            "contact.queued": 3,
            "contact.answered": 1,
            "contact.ended": 1,
            "contact.wrapup_ended": 1,
            "contact.abandoned": 1,
            "contact.overflowed": 1,
            "contact.redirected": 1,
        }
    )
    g1 = {e.type: e for e in events if e.contact_id == "g1"}
    assert (g1["contact.answered"].wait_ms, g1["contact.answered"].agent_id) == (15_000, "u-ana")
    assert (g1["contact.ended"].talk_ms, g1["contact.ended"].hold_ms) == (
        215_000,
        30_000,
    )  # 120 s + 95 s talk
    assert g1["contact.wrapup_ended"].acw_ms == 30_000
    assert g1["contact.queued"].call_type == "billing"
    abandoned = next(e for e in events if e.type == "contact.abandoned")
    assert abandoned.wait_ms == 55_000
    redirect = next(e for e in events if e.type == "contact.redirected")
    assert (redirect.contact_id, redirect.to_source, redirect.handoff) == ("g3", "vendor-x", "accepted")
    overflow = next(e for e in events if e.type == "contact.overflowed")
    assert overflow.wait_ms == 30_000
    assert all(decode_event(encode_event(e)) == e for e in events)
