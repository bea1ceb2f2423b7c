"""Amazon Connect CTRs: the latest version of a re-sent record wins, abandons and external transfers are
recognised, vendor agents are attributed by hierarchy group; counted by hand on a small fixture."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from producers.feeds.amazon_connect import ConnectMapping
from producers.feeds.amazon_connect import adapt
from streams.events import decode_event
from streams.events import encode_event

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "connect_ctr.jsonl"
MAPPING = ConnectMapping(
    tenant="acme", groups={"BPO Manila": "vendor-m"}, endpoints={"+18005550199": "vendor-x"}
)


def test_ctrs_to_events_counted_by_hand() -> None:
    events, rejects, report = adapt(FIXTURE.read_text().splitlines(), MAPPING, b"k")
    assert (report.records, report.superseded, report.not_voice, report.accepted) == (7, 1, 1, 4)
    assert len(rejects) == 1 and rejects[0].line == 7  # noqa: PT018 (the truncated last line)
    assert Counter(e.type for e in events) == Counter(
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
