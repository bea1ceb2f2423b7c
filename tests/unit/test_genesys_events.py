"""Genesys Cloud detail-event notifications: two captures (a websocket channel, an EventBridge -> Firehose
delivery) read by the adapter, checked against hand-worked figures, an independent reader and the
conversation-details adapter on the same calls; then the stream's own promises: every record accounted, the
same events whatever order the messages arrive in, a horizon that closes what never completes."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from producers.feeds.genesys import GenesysMapping
from producers.feeds.genesys import adapt as adapt_conversations
from producers.feeds.genesys_events import HORIZON
from producers.feeds.genesys_events import SETTLE
from producers.feeds.genesys_events import DetailEventAdapter
from producers.feeds.genesys_events import read
from producers.feeds.genesys_events import records
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from streams.events import ContactAnswered
from streams.events import ContactEvent
from streams.events import decode_event
from streams.events import encode_event
from tests.support.raw_genesys_events import RawFigures
from tests.support.raw_genesys_events import read_raw

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
CAPTURES = FEEDS / "genesys_events"
WEBSOCKET = CAPTURES / "websocket.jsonl"
FIREHOSE = CAPTURES / "eventbridge-firehose.json"
MAPPING = GenesysMapping(tenant="gen", queues={"q-billing": "billing", "q-support": "support"},
                         external_numbers={"+18005550199": "vendor-x"})  # fmt: skip
OPTIONS = FeedOptions(tenant="gen", caller_key=b"k")


def _read(path: Path) -> tuple[list[ContactEvent], FeedReport]:
    report = FeedReport("genesys-events")
    events = list(read(path, OPTIONS, report, MAPPING))
    return events, report


def _figures(events: list[ContactEvent], report: FeedReport) -> RawFigures:
    """The independent reader's figures, from the adapter's events and report."""
    flow_outs = sum(count for kind, count in report.observed.items() if kind.startswith("flow out to"))
    return RawFigures(
        records=report.read,
        offered=sum(e.type == "contact.offered" for e in events),
        answered=sum(e.type == "contact.answered" for e in events),
        abandoned=sum(e.type == "contact.abandoned" for e in events),
        flowed_out=sum(e.type == "contact.overflowed" for e in events) + flow_outs,
        answered_wait_ms=sum(getattr(e, "wait_ms", 0) for e in events if e.type == "contact.answered"),
        talk_ms=sum(getattr(e, "talk_ms", 0) for e in events),
        skipped=report.skipped,
        rejected=report.rejected,
    )


def _by(events: list[ContactEvent], contact: str) -> dict[str, Any]:
    return {e.type: e for e in events if e.contact_id == contact}


def test_websocket_capture_by_hand() -> None:
    events, report = _read(WEBSOCKET)
    # 49 lines, one blank: 48 records = 25 accepted + 21 skipped + 2 rejected.
    assert (report.unit, report.read, report.accepted, report.rejected, report.unaccounted) == (
        "record",
        48,
        25,
        2,
        0,
    )
    assert report.skipped == Counter({
        "outbound call": 5,  # g6: customer.start OUTBOUND, user.start/end, customer.end, acw
        "heartbeat": 3,
        "not a call event: flow.end": 3,  # g1 and g5 to a queue (acd.start says so), g7's IVR hang-up
        "duplicate": 2,  # g1 acd.end, g2 customer.start
        "not a call event: flow.start": 2,
        "never queued": 2,  # g7 customer.start/end
        "not a call event: attributes": 1,
        "not a call event: contact": 1,
        "not a call event: outbound": 1,
        "not a detail event: v2.users.{id}.presence": 1,
    })  # fmt: skip
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejects] == [
        (13, "JSONDecodeError"),
        (21, "ValueError"),
    ]
    assert "MAYBE" in report.rejects[1].reason
    assert report.events == Counter({"contact.queued": 5, "contact.offered": 4, "contact.answered": 2,
                                     "contact.ended": 2, "contact.wrapup_ended": 2, "contact.overflowed": 2,
                                     "contact.abandoned": 1, "contact.redirected": 1})  # fmt: skip
    assert not report.corrections
    assert report.observed == Counter({"wrap-up code wc-resolved": 1, "wrap-up code wc-sale": 1})
    g1 = _by(events, "g1")
    # Queued 09:00:10, answered 09:00:25 by u-ana: 15 s; talk 120 s + 95 s around a 30 s hold; acw 30 s.
    assert (g1["contact.answered"].agent_id, g1["contact.answered"].wait_ms) == ("u-ana", 15_000)
    assert (g1["contact.ended"].talk_ms, g1["contact.ended"].hold_ms) == (215_000, 30_000)
    assert g1["contact.wrapup_ended"].acw_ms == 30_000
    assert g1["contact.offered"].caller_hash is not None
    assert _by(events, "g2")["contact.abandoned"].wait_ms == 55_000  # 09:01:05 -> 09:02:00
    g3 = _by(events, "g3")  # 30 s in q-support, then the in-queue flow dials the outsourcer
    assert (g3["contact.overflowed"].to_source, g3["contact.overflowed"].trigger) == ("vendor-x", "timeout")
    assert (g3["contact.overflowed"].wait_ms, g3["contact.redirected"].handoff) == (30_000, "accepted")
    g5, g5b = _by(events, "g5"), _by(events, "g5.2")  # 40 s in q-billing, moved to q-support, 20 s there
    assert (g5["contact.overflowed"].to_source, g5["contact.overflowed"].wait_ms) == ("in-house", 40_000)
    assert (g5b["contact.queued"].queue, g5b["contact.queued"].call_type) == ("q-support", "support")
    assert (g5b["contact.answered"].wait_ms, g5b["contact.answered"].total_wait_ms) == (20_000, 60_000)
    assert {e.initial_contact_id for e in events} == {"g1", "g2", "g3", "g5"}
    for contact in ("g1", "g2", "g3", "g5", "g5.2"):
        times = [e.ts for e in events if e.contact_id == contact]
        assert times == sorted(times)
    assert all(decode_event(encode_event(e)) == e for e in events)
    assert len({e.event_id for e in events}) == len(events)


def test_eventbridge_firehose_capture_by_hand() -> None:
    events, report = _read(FIREHOSE)
    # One line of 27 concatenated events and a 28th cut short: 24 accepted + 3 skipped + 1 rejected.
    assert (report.read, report.accepted, report.rejected, report.unaccounted) == (28, 24, 1, 0)
    assert report.rejects[0].line == 28
    assert report.skipped == Counter({"duplicate": 1, "not a call event: voicemail.start": 1,
                                      "not a call event: voicemail.end": 1})  # fmt: skip
    # e5 is answered but the capture ends before its agent's user.end: emitted at the end, without an end.
    assert report.corrections == Counter({"closed at end of input": 1, "talk end missing: no ended event": 1})
    assert report.observed == Counter({"wrap-up code wc-resolved": 1, "flow out to ACD_VOICEMAIL": 1})
    e1 = _by(events, "e1")  # 10:00:03 -> 10:00:15
    assert (e1["contact.answered"].wait_ms, e1["contact.ended"].talk_ms, e1["contact.ended"].hold_ms) == (
        12_000, 150_000, 10_000)  # fmt: skip
    assert _by(events, "e2")["contact.abandoned"].wait_ms == 8_000  # its acd.end arrived before its acd.start
    assert _by(events, "e3")["contact.redirected"].to_source == "external"  # a number no vendor is mapped to
    assert set(_by(events, "e4")) == {"contact.offered", "contact.queued"}  # to voicemail: observed only
    assert set(_by(events, "e5")) == {"contact.offered", "contact.queued", "contact.answered"}


def test_the_adapter_agrees_with_an_independent_reader() -> None:
    expected = {
        # offered g1 g2 g3 g5; answered g1 15 s + g5 20 s; talk 215 s + 240 s; flowed out g3, g5 (first leg).
        WEBSOCKET: (4, 2, 1, 2, 35_000, 455_000),
        # offered e1-e5; answered e1 12 s + e5 30 s; talk e1 150 s; flowed out e3, e4.
        FIREHOSE: (5, 2, 1, 2, 42_000, 150_000),
        CAPTURES: (9, 4, 2, 4, 77_000, 605_000),
    }
    for path, figures in expected.items():
        events, report = _read(path)
        raw = read_raw(path)
        assert _figures(events, report) == raw, path.name
        assert (
            raw.offered,
            raw.answered,
            raw.abandoned,
            raw.flowed_out,
            raw.answered_wait_ms,
            raw.talk_ms,
        ) == figures
        assert report.unaccounted == 0
    assert read_raw(CAPTURES).duplicates == 3
    assert _read(CAPTURES)[1].files == 2


def test_the_same_calls_as_the_conversation_details_agree() -> None:
    details, _ = adapt_conversations(
        (FEEDS / "genesys_conversations.jsonl").read_text().splitlines(), MAPPING, b"k"
    )
    events, _ = _read(WEBSOCKET)

    def figures(stream: list[ContactEvent], contact: str) -> tuple[object, ...]:
        by = _by(stream, contact)
        return (
            by["contact.offered"].ts, by["contact.offered"].caller_hash, by["contact.queued"].call_type,
            getattr(by.get("contact.answered"), "wait_ms", None), getattr(by.get("contact.abandoned"), "wait_ms", None),
            getattr(by.get("contact.ended"), "talk_ms", None), getattr(by.get("contact.ended"), "hold_ms", None),
            getattr(by.get("contact.wrapup_ended"), "acw_ms", None), getattr(by.get("contact.redirected"), "to_source", None),
            getattr(by.get("contact.overflowed"), "wait_ms", None),
        )  # fmt: skip

    for contact in ("g1", "g2", "g3"):
        assert figures(events, contact) == figures(details, contact), contact


def _messages() -> list[tuple[int, str]]:
    report = FeedReport("genesys-events")
    return [*records(WEBSOCKET, report), *((n + 1000, text) for n, text in records(FIREHOSE, report))]


def _event_ms(text: str) -> int:
    try:
        record = json.loads(text)
        body = (record.get("detail") or record)["eventBody"]
        return int(body["eventTime"])
    except (ValueError, KeyError, TypeError):
        return 0


def _push_all(messages: list[tuple[int, str]]) -> tuple[list[ContactEvent], FeedReport]:
    adapter = DetailEventAdapter(MAPPING, b"k")
    events = [event for number, text in messages for event in adapter.push(text, number)]
    events.extend(adapter.close())
    return events, adapter.report


def test_pushed_in_any_order_within_the_settle_window_the_events_are_the_same() -> None:
    messages = sorted(_messages(), key=lambda m: _event_ms(m[1]))
    in_order, report = _push_all(messages)
    assert report.unaccounted == 0
    first_ms = min(_event_ms(text) for _, text in messages if _event_ms(text))
    settle_ms = int(SETTLE.total_seconds() * 1000)
    for seed in range(5):
        rng = random.Random(seed)
        # Each message delivered up to a settle window after its event time; ones without a time anywhere.
        delivery = {n: (_event_ms(t) or first_ms + rng.randrange(3_600_000)) + rng.randrange(settle_ms)
                    for n, t in messages}  # fmt: skip
        shuffled = sorted(messages, key=lambda m: delivery[m[0]])
        assert shuffled != messages
        events, shuffled_report = _push_all(shuffled)
        assert sorted(events, key=lambda e: str(e.event_id)) == sorted(
            in_order, key=lambda e: str(e.event_id)
        )
        assert (shuffled_report.skipped, shuffled_report.accepted, shuffled_report.rejected) == (
            report.skipped, report.accepted, report.rejected)  # fmt: skip


def test_a_live_run_and_a_replay_give_the_same_event_ids() -> None:
    replayed, _ = _read(WEBSOCKET)
    adapter = DetailEventAdapter(MAPPING, b"k")  # the webhook edge hands over parsed bodies
    live: list[ContactEvent] = []
    for number, text in records(WEBSOCKET, FeedReport("genesys-events")):
        try:
            message: Any = json.loads(text)
        except ValueError:
            message = text
        live.extend(adapter.push(message, number))
    live.extend(adapter.close())
    assert live == replayed


def _ws(conversation: str, kind: str, at: datetime, **body: object) -> dict[str, object]:
    return {"topicName": f"v2.detail.events.conversation.{conversation}.{kind}",
            "eventBody": {"eventTime": int(at.timestamp() * 1000), "conversationId": conversation, **body}}  # fmt: skip


def test_a_conversation_silent_for_the_horizon_is_emitted_and_its_late_repeat_still_known() -> None:
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    adapter = DetailEventAdapter(MAPPING, b"k")
    start = _ws("h1", "acd.start", t0 + SETTLE, queueId="q-billing", sessionId="s1")
    opened = [_ws("h1", "customer.start", t0, ani="tel:+15550300"), start,
              _ws("h1", "acd.end", t0 + 2 * SETTLE, queueId="q-billing", sessionId="s1", acdOutcome="ANSWERED",
                  answeredUserId="u-ana")]  # fmt: skip
    assert [adapter.push(m, n) for n, m in enumerate(opened, start=1)] == [[], [], []]
    assert adapter.held == 3
    # Another call, 4 h after h1's last message: h1 (no user.end, acw or customer.end) is emitted as it stands.
    later = adapter.push(_ws("h2", "customer.start", t0 + 2 * SETTLE + HORIZON), 4)
    assert [e.type for e in later] == ["contact.offered", "contact.queued", "contact.answered"]
    assert isinstance(later[2], ContactAnswered)
    assert later[2].wait_ms == 60_000
    assert adapter.report.corrections == Counter(
        {"closed by horizon": 1, "talk end missing: no ended event": 1}
    )
    assert adapter.held == 1
    assert adapter.push(start, 5) == []  # a repeat after it was emitted is still a duplicate
    assert adapter.push(_ws("h1", "acw", t0 + 3 * SETTLE, userId="u-ana"), 6) == []
    assert adapter.report.skipped == Counter(
        {"duplicate": 1, "late: its conversation was already emitted": 1}
    )
    # A horizon after h1 was emitted it is forgotten, and h2 (an arrival that never queued) is closed too:
    # memory holds only a horizon's conversations.
    assert adapter.push(_ws("h3", "customer.start", t0 + 3 * HORIZON), 7) == []
    assert "h1" not in adapter._closed
    assert list(adapter._open) == ["h3"]
    assert adapter.close() == []
    assert adapter.report.unaccounted == 0
    assert adapter.report.accepted == 3  # h1's three
    assert adapter.report.skipped["never queued"] == 2  # h2 and h3, nothing but their arrival
    assert adapter.report.corrections == Counter({"closed by horizon": 2, "talk end missing: no ended event": 1,
                                                  "closed at end of input": 1})  # fmt: skip


def test_messages_that_are_not_events_are_rejected_with_their_record() -> None:
    adapter = DetailEventAdapter(MAPPING, b"k")
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    bad: list[Any] = [
        "[1, 2]",
        {"version": "0", "detail-type": "x", "detail": 7},
        _ws("c1", "acd.start", at),  # no queueId
        {
            **_ws("c1", "acd.end", at, queueId="q"),
            "eventBody": {"eventTime": "09:00", "conversationId": "c1"},
        },
        _ws("c1", "user.end", at, userId="u" * 129),
        _ws("c1", "acw", at, userId="u-ana", wrapupDurationMs=-5),
        _ws("c2", "customer.start", at, conversationId="c3"),
        _ws("c1", "customer.start", datetime(2200, 1, 1, tzinfo=UTC)),
    ]
    for number, message in enumerate(bad, start=1):
        assert adapter.push(message, number) == []
    assert [r.line for r in adapter.report.rejects] == list(range(1, 9))
    assert adapter.report.unaccounted == 0
    assert "queueId" in adapter.report.rejects[2].reason
    assert "'c3'" in adapter.report.rejects[6].reason
