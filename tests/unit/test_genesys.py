"""Genesys Cloud conversation details: every shape the platform emits read into canonical events, each fixture's
figures checked against an independent reader of the raw files (tests/support/raw_genesys.py), and the hard
cases worked out by hand from the fixtures' segment times."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest

from producers.feeds.genesys import GenesysMapping
from producers.feeds.genesys import GenesysReader
from producers.feeds.genesys import adapt
from producers.feeds.genesys import load_mapping
from producers.feeds.genesys import read
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from streams.events import ContactEvent
from streams.events import decode_event
from streams.events import encode_event
from tests.support.raw_genesys import read_raw

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
FIXTURE = FEEDS / "genesys_conversations.jsonl"
GENESYS = FEEDS / "genesys"
MAPPING = GenesysMapping(
    tenant="gen",
    queues={"q-billing": "billing", "q-support": "support"},
    external_numbers={"+18005550199": "vendor-x"},
)
Q_BILLING = "5f1c2d3e-0b1a-4c2d-8e3f-b111111111b1"
Q_SUPPORT = "5f1c2d3e-0b1a-4c2d-8e3f-5222222222c2"
Q_OVERFLOW = "5f1c2d3e-0b1a-4c2d-8e3f-0333333333f3"
ANA, BEN, CHO = (f"9a0e1b2c-3d4e-4f50-8a61-{x}0000000000{x}" for x in "abc")
REAL = GenesysMapping(tenant="gen", queues={Q_BILLING: "billing", Q_SUPPORT: "support", Q_OVERFLOW: "overflow"},
                      external_numbers={"+18005550199": "vendor-x"})  # fmt: skip


def cid(k: int) -> str:
    return f"c0a80001-0000-4000-8000-{k:012d}"


def _read(path: Path, mapping: GenesysMapping = REAL) -> tuple[list[ContactEvent], FeedReport]:
    report = FeedReport("genesys")
    events = list(GenesysReader(FeedOptions(tenant="gen", caller_key=b"k"), report, mapping).read(path))
    return events, report


def _by_leg(events: list[ContactEvent], leg: str) -> dict[str, ContactEvent]:
    return {e.type: e for e in events if e.contact_id == leg}


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
    # Ids as before the rework, so a re-run over data loaded by the old adapter dedups.
    namespace = uuid.UUID("c4a7e2d9-5b61-4f83-8e0a-9d16b3f72c58")
    assert g1["contact.offered"].event_id == uuid.uuid5(namespace, "gen/g1/offered")


@pytest.mark.parametrize(
    "source",
    [GENESYS / "query_response.json", GENESYS / "jobs", GENESYS / "conversations.jsonl", FIXTURE],
    ids=lambda p: p.name,
)
def test_every_fixture_agrees_with_an_independent_reader(source: Path) -> None:
    events, report = _read(source)
    raw = read_raw(source)
    assert report.unit == "record"
    assert report.unaccounted == 0
    assert (report.read, report.blank, sum(report.skipped.values())) == (raw.read, raw.blank, raw.skipped)
    assert sorted((Path(r.source).name, r.line) for r in report.rejects) == sorted(raw.rejects)
    assert (report.events["contact.offered"], report.events["contact.answered"]) == (
        raw.offered,
        raw.answered,
    )
    assert (report.events["contact.abandoned"], report.events["contact.redirected"]) == (
        raw.abandoned,
        raw.redirected,
    )
    assert sum(e.wait_ms for e in events if e.type == "contact.answered") == raw.answered_wait_ms
    assert sum(e.talk_ms for e in events if e.type == "contact.ended") == raw.talk_ms
    assert report.observed["ring_no_answer"] == raw.ring_no_answer
    assert report.observed["open_segment"] == raw.open_conversations
    assert report.corrections == raw.corrections
    assert report.events == Counter(e.type for e in events)
    assert [e.ts for e in events] == sorted(e.ts for e in events)  # event-time order, sorted input or not
    assert all(decode_event(encode_event(e)) == e for e in events)
    assert not any(b"555" in encode_event(e) for e in events if e.type == "contact.offered")  # callers hashed


def test_the_saved_query_response_worked_by_hand() -> None:
    events, report = _read(GENESYS / "query_response.json")
    # Two pages, 7 conversations: 6 calls and a web chat, skipped as not a call.
    assert (report.read, report.accepted, report.skipped) == (7, 6, Counter({"not voice": 1}))
    c1 = _by_leg(events, cid(1))
    # Queued 09:00:05.000, Ana talks from 09:00:17.345: wait 12 345 ms. The queue segment ends at 09:00:17.465,
    # 120 ms into her talk: clamped, not a wait of 12 465 ms.
    assert (c1["contact.answered"].wait_ms, c1["contact.answered"].agent_id) == (12_345, ANA)
    assert report.corrections["overlap_clamped"] == 1
    # Talk 17.345-137.345 (120 s) and 167.345-280 (112.655 s), a 30 s hold between; wrap-up 280-300 with a code.
    assert (c1["contact.ended"].talk_ms, c1["contact.ended"].hold_ms) == (232_655, 30_000)
    assert c1["contact.wrapup_ended"].acw_ms == 20_000
    assert c1["contact.queued"].call_type == "billing"
    assert report.observed["wrapup_code"] == 1
    # Abandoned in queue: 63.5-125 s, 61.5 s.
    assert _by_leg(events, cid(2))["contact.abandoned"].wait_ms == 61_500
    # Abandoned while Ben's phone rang (his alert ended by the customer, peer): 122-170 s, no ring-no-answer.
    assert _by_leg(events, cid(3))["contact.abandoned"].wait_ms == 48_000
    # Blind transfer to the outsourcer's number after 30 s in the support queue: an accepted redirect.
    c4 = _by_leg(events, cid(4))
    assert (c4["contact.overflowed"].wait_ms, c4["contact.redirected"].to_source) == (30_000, "vendor-x")
    # Ben rang 15 s without answering (noAnswerTransfer): counted; Cho answered at 300 s, queued from 241 s.
    c5 = _by_leg(events, cid(5))
    assert report.observed["ring_no_answer"] == 1
    assert (c5["contact.answered"].agent_id, c5["contact.answered"].wait_ms) == (CHO, 59_000)
    assert c5["contact.ended"].talk_ms == 200_000
    # Billing 301-341 s, then the overflow queue 341-366 s where Ana answers: leg 2 waited 25 s, 65 s in all.
    c6, c6b = _by_leg(events, cid(6)), _by_leg(events, f"{cid(6)}.2")
    assert (c6["contact.overflowed"].wait_ms, "contact.answered" in c6) == (40_000, False)
    assert (c6b["contact.queued"].queue, c6b["contact.queued"].call_type) == (Q_OVERFLOW, "overflow")
    assert (c6b["contact.answered"].wait_ms, c6b["contact.answered"].total_wait_ms) == (25_000, 65_000)
    assert c6b["contact.answered"].initial_contact_id == cid(6)
    assert "contact.offered" not in c6b  # one customer call, offered once


def test_async_job_pages_worked_by_hand() -> None:
    events, report = _read(GENESYS / "jobs")
    # Pages 1-2 hold 5 records (one without conversationStart), page 3 is cut short, page 4 is empty.
    assert (report.files, report.read, report.blank, report.accepted) == (4, 7, 1, 4)
    assert [(Path(r.source).name, r.line) for r in report.rejects] == [
        ("results-002.json", 1),
        ("results-003.json", 1),
    ]
    assert "no conversationStart" in report.rejects[0].reason
    assert "invalid JSON" in report.rejects[1].reason
    # 2026-3-5T9:20:3Z queued, answered 9:20:21.5Z: 18.5 s; talk to 9:24:41.5Z: 260 s.
    c8 = _by_leg(events, cid(8))
    assert (c8["contact.answered"].wait_ms, c8["contact.ended"].talk_ms) == (18_500, 260_000)
    assert report.corrections["unpadded_timestamp"] == 1
    # Still going on: offered, queued, answered after 28 s; no end invented.
    c9 = _by_leg(events, cid(9))
    assert set(c9) == {"contact.offered", "contact.queued", "contact.answered"}
    assert c9["contact.answered"].wait_ms == 28_000
    assert report.observed["open_segment"] == 1


def test_json_lines_with_a_broken_line_worked_by_hand() -> None:
    events, report = _read(GENESYS / "conversations.jsonl")
    # Line 4 is cut off; line 5 (no conversationId) and 6 still read: the break costs line 4 only.
    assert [(r.line, "invalid JSON" in r.reason) for r in report.rejects] == [(4, True), (5, False)]
    assert "line 4 not read" in report.rejects[0].reason
    assert (report.read, report.blank, report.accepted) == (5, 0, 3)
    # Ana answers in billing (wait 10 s) and transfers to the support queue, where Ben answers after 9 s.
    leg1, leg2 = _by_leg(events, cid(14)), _by_leg(events, f"{cid(14)}.2")
    assert (leg1["contact.answered"].wait_ms, leg1["contact.ended"].talk_ms) == (10_000, 30_000)
    assert (leg1["contact.transferred"].kind, leg1["contact.transferred"].to_queue) == ("internal", Q_SUPPORT)
    assert leg2["contact.queued"].transferred_in
    assert (leg2["contact.answered"].agent_id, leg2["contact.answered"].wait_ms) == (BEN, 9_000)
    assert leg2["contact.answered"].total_wait_ms == 49_000


def test_every_shape_of_the_same_conversations_reads_alike(tmp_path: Path) -> None:
    conversations = [line for line in FIXTURE.read_text().splitlines() if '"conversationStart"' in line]
    parsed = [json.loads(line) for line in conversations]
    shapes = {
        "lines.jsonl": "\n".join(conversations),
        "pretty.json": "\n".join(json.dumps(c, indent=4) for c in parsed),
        "array.json": json.dumps(parsed),
        "pages.json": json.dumps({"conversations": parsed[:2], "totalHits": 3})
        + json.dumps({"conversations": parsed[2:], "totalHits": 3}),
        "bom.json": "\ufeff" + json.dumps({"conversations": parsed, "cursor": "x"}, indent=2),
    }
    expected = None
    for name, text in shapes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        events, report = _read(tmp_path / name, MAPPING)
        assert (report.accepted, report.rejected, report.unaccounted) == (3, 0, 0), name
        expected = expected or events
        assert events == expected, name


def test_pages_in_an_array_a_minified_page_past_a_chunk_and_empty_files(tmp_path: Path) -> None:
    """A page longer than the parser's 64 KiB pieces is still read a conversation at a time, each placed on its
    line; a file of white space holds no record."""
    parsed = [json.loads(line) for line in FIXTURE.read_text().splitlines()[:3]]
    many = [{**parsed[i % 3], "conversationId": f"m{i}"} for i in range(300)]
    (tmp_path / "minified.json").write_text(json.dumps({"conversations": many, "totalHits": 300}) + "\n")
    (tmp_path / "pages-in-array.json").write_text(json.dumps([{"conversations": parsed}, {"totalHits": 3}]))
    (tmp_path / "blank.json").write_text("\n  \n")
    events, report = _read(tmp_path / "minified.json", MAPPING)
    assert (report.read, report.accepted, report.unaccounted) == (300, 300, 0)
    assert len(tmp_path.joinpath("minified.json").read_bytes()) > 3 * 65_536  # four pieces
    assert (report.events["contact.answered"], len({e.contact_id for e in events})) == (100, 300)
    _, report = _read(tmp_path / "pages-in-array.json", MAPPING)
    assert (report.read, report.blank, report.accepted, report.rejected) == (4, 1, 3, 0)
    _, report = _read(tmp_path / "blank.json", MAPPING)
    assert (report.read, report.rejected) == (0, 0)


def test_a_page_cut_short_keeps_the_conversations_before_the_cut(tmp_path: Path) -> None:
    parsed = [json.loads(line) for line in FIXTURE.read_text().splitlines()[:3]]
    page = json.dumps({"conversations": parsed, "cursor": "x"}, indent=2)
    cut = page.index('"g3"') + 10
    (tmp_path / "results.json").write_text(page[:cut], encoding="utf-8")
    events, report = _read(tmp_path / "results.json", MAPPING)
    assert (report.read, report.accepted, report.rejected, report.unaccounted) == (3, 2, 1, 0)
    assert "the file ends inside the document begun at line 1" in report.rejects[0].reason
    assert {e.contact_id for e in events} == {"g1", "g2"}


def test_read_takes_its_tenant_key_and_mapping_from_the_options(tmp_path: Path) -> None:
    mapping = tmp_path / "genesys.toml"
    mapping.write_text(
        'in_house = "hq"\n[queues]\n"q-billing" = "billing"\n[external_numbers]\n"+18005550199" = "bpo"\n'
    )
    report = FeedReport("genesys")
    events = list(read(FIXTURE, FeedOptions(tenant="acme", caller_key=b"k", mapping=mapping), report))
    assert load_mapping(mapping).in_house == "hq"
    assert {e.tenant for e in events} == {"acme"}
    assert next(e for e in events if e.type == "contact.redirected").to_source == "bpo"
    assert next(e for e in events if e.contact_id == "g1").call_type == "billing"


def test_a_sorted_month_streams_with_a_small_heap(tmp_path: Path) -> None:
    """5 000 calls ordered by conversationStart, one every 10 s, each 2 minutes: the heap holds the calls still
    going on (about 12, 4 events each), not the month."""
    template = (
        '{{"conversationId":"m{i}","conversationStart":"{s}","conversationEnd":"{e}","participants":[{{"purpose":"acd",'
        '"sessions":[{{"mediaType":"voice","segments":[{{"segmentType":"interact","queueId":"q","segmentStart":"{s}",'
        '"segmentEnd":"{e}","disconnectType":"peer"}}]}}]}}]}}\n'
    )
    from datetime import UTC
    from datetime import datetime
    from datetime import timedelta

    base = datetime(2026, 3, 1, tzinfo=UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.000Z"
    with (tmp_path / "month.jsonl").open("w") as out:
        for i in range(5_000):
            start = base + timedelta(seconds=10 * i)
            out.write(
                template.format(i=i, s=start.strftime(fmt), e=(start + timedelta(minutes=2)).strftime(fmt))
            )
    report = FeedReport("genesys")
    reader = GenesysReader(FeedOptions(caller_key=b"k"), report)
    count = sum(1 for _ in reader.read(tmp_path / "month.jsonl"))
    assert (count, report.accepted, report.unaccounted) == (15_000, 5_000, 0)
    assert reader.peak_held < 200
