"""Amazon Connect CTRs: the latest version of a re-sent record wins, abandons and external transfers are
recognised, vendor agents are attributed by hierarchy group; counted by hand on a small fixture (events and the
feed report), and checked against an independent count of the raw lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from producers.feeds.amazon_connect import NOT_VOICE
from producers.feeds.amazon_connect import SUPERSEDED
from producers.feeds.amazon_connect import ConnectMapping
from producers.feeds.amazon_connect import adapt
from producers.feeds.amazon_connect import read
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from streams.events import decode_event
from streams.events import encode_event
from tests.support.raw_lines import json_lines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "connect_ctr.jsonl"
MAPPING = ConnectMapping(
    tenant="acme", groups={"BPO Manila": "vendor-m"}, endpoints={"+18005550199": "vendor-x"}
)


EVENTS = Counter(
    {
        "contact.offered": 4,
        "contact.queued": 4,
        "contact.answered": 2,
        "contact.ended": 2,
        "contact.wrapup_ended": 1,  # only the re-sent c1 carries the after-contact work
        "contact.abandoned": 1,
        "contact.redirected": 1,
    }
)


def test_ctrs_to_events_counted_by_hand() -> None:
    events, rejects, report = adapt(FIXTURE.read_text().splitlines(), MAPPING, b"k")
    assert (report.read, report.skipped[SUPERSEDED], report.skipped[NOT_VOICE], report.accepted) == (
        7,
        1,
        1,
        4,
    )
    assert len(rejects) == 1 and rejects[0].line == 7  # noqa: PT018 (the truncated last line)
    assert Counter(e.type for e in events) == EVENTS
    by_type = {e.type: e for e in events if e.contact_id == "c1"}
    assert by_type["contact.answered"].wait_ms == 15_000
    assert (by_type["contact.ended"].talk_ms, by_type["contact.ended"].hold_ms) == (230_000, 20_000)
    assert by_type["contact.wrapup_ended"].acw_ms == 35_000
    redirect = next(e for e in events if e.type == "contact.redirected")
    assert (redirect.contact_id, redirect.to_source) == ("c3", "vendor-x")
    vendor = next(e for e in events if e.type == "contact.answered" and e.contact_id == "c4")
    assert vendor.source == "vendor-m"
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    assert all(decode_event(encode_event(e)) == e for e in events)
    assert not any("+1555" in encode_event(e).decode() for e in events)


def test_read_gives_the_same_events_and_accounts_for_every_record() -> None:
    report = FeedReport("connect-ctr")
    events = list(read(FIXTURE, FeedOptions(tenant="acme", caller_key=b"k"), report))
    # What replay did: the lines adapted with the tenant's default mapping (FeedOptions has no groups).
    adapted, _, _ = adapt(FIXTURE.read_text().splitlines(), ConnectMapping(tenant="acme"), b"k")
    assert events == adapted
    assert Counter(e.type for e in events) == EVENTS
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    # 7 lines, none blank. Line 1 is c1 as first sent, replaced by line 2 (a later LastUpdateTimestamp, with the
    # after-contact work): skipped as superseded. Accepted, 4: line 2 (c1 answered), 3 (c2 abandoned), 4 (c3
    # transferred out to an outsourcer's number), 6 (c4 answered by a BPO agent). Line 5 is a chat: skipped as
    # not voice. Line 7 is truncated JSON: rejected.
    assert (report.read, report.blank, report.accepted, report.rejected) == (7, 0, 4, 1)
    assert report.skipped == Counter({SUPERSEDED: 1, NOT_VOICE: 1})
    assert [(r.line, r.text) for r in report.rejects] == [(7, '{"ContactId": ')]
    assert report.rejects[0].reason.startswith("not a contact record: JSONDecodeError")
    assert report.events == EVENTS
    assert (report.files, report.unaccounted) == (1, 0)


def test_the_report_agrees_with_an_independent_count_of_the_raw_lines() -> None:
    report = FeedReport("connect-ctr")
    list(read(FIXTURE, FeedOptions(tenant="acme", caller_key=b"k"), report))
    raw = json_lines(FIXTURE)
    assert (report.read, report.blank) == (raw.read, raw.blank) == (7, 0)
    assert raw.malformed == (7,)
    assert (
        tuple(r.line for r in report.rejects) == raw.malformed
    )  # every reject here is JSON that does not load


def test_an_older_copy_arriving_after_the_newer_one_is_the_superseded_one() -> None:
    lines = FIXTURE.read_text().splitlines()
    resent_first = [lines[1], "", lines[0]]  # c1's later copy, a blank line, then its first copy
    events, rejects, report = adapt(resent_first, MAPPING, b"k")
    assert rejects == []
    assert (report.read, report.blank, report.accepted) == (3, 1, 1)
    assert report.skipped == Counter({SUPERSEDED: 1})
    assert "contact.wrapup_ended" in {e.type for e in events}  # the kept copy is the later one (line 1)
    assert report.unaccounted == 0
