"""The generic CSV adapter on a small export: events counted by hand, bad rows rejected with their line, the
feed report counted by hand and against an independent count of the raw rows, and mapping mistakes caught
before any row is read."""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest

from producers.feeds.csv_mapping import CsvAdapter
from producers.feeds.csv_mapping import MappingError
from producers.feeds.csv_mapping import Reject
from producers.feeds.csv_mapping import load_mapping
from producers.feeds.csv_mapping import read
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from tests.support.raw_lines import csv_rows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
EXPORT = FIXTURES / "cdr_export.csv"
OPTIONS = FeedOptions(tenant="acme", caller_key=b"k", mapping=FIXTURES / "cdr_mapping.toml")
EVENTS = Counter(
    {
        "contact.offered": 3,
        "contact.queued": 3,
        "contact.answered": 2,
        "contact.ended": 2,
        "contact.abandoned": 1,
    }
)


def test_export_to_events_counted_by_hand() -> None:
    adapter = CsvAdapter(load_mapping(FIXTURES / "cdr_mapping.toml"), b"k")
    items = list(adapter.adapt((FIXTURES / "cdr_export.csv").read_text().splitlines()))
    events = [item for item in items if not isinstance(item, Reject)]
    rejects = [item for item in items if isinstance(item, Reject)]
    assert Counter(e.type for e in events) == EVENTS
    # c-3's "answered" is lower case: outcomes are compared upper-cased, so it is answered too; its talk time
    # comes from End - Answer (3 min), having no TalkSec.
    ended = {e.contact_id: e.talk_ms for e in events if e.type == "contact.ended"}
    assert ended == {"c-1": 240_000, "c-3": 180_000}
    assert [r.line for r in rejects] == [5, 6, 7]  # VOICEMAIL, empty CallID, bad date
    assert "VOICEMAIL" in rejects[0].reason
    answered = next(e for e in events if e.type == "contact.answered")
    assert answered.ts == datetime(2026, 1, 5, 8, 0, 12, tzinfo=UTC)  # 09:00:12 at UTC+1
    assert answered.wait_ms == 12_000
    abandoned = next(e for e in events if e.type == "contact.abandoned")
    assert abandoned.wait_ms == 45_000
    assert (adapter.report.accepted, adapter.report.rejected) == (3, 3)  # c-1, c-2, c-3 in; three rows out


def test_read_gives_the_same_events_in_time_order_and_accounts_for_every_row() -> None:
    report = FeedReport("csv")
    events = list(read(EXPORT, OPTIONS, report))
    adapter = CsvAdapter(load_mapping(FIXTURES / "cdr_mapping.toml"), b"k")
    adapted = [i for i in adapter.adapt(EXPORT.read_text().splitlines()) if not isinstance(i, Reject)]
    assert events == sorted(adapted, key=lambda e: e.ts)
    assert Counter(e.type for e in events) == EVENTS
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    # 7 rows, one a line. Blank, 1: line 1, the header. Accepted, 3: lines 2 (c-1 answered), 3 (c-2 abandoned)
    # and 4 (c-3, "answered" in lower case). Rejected, 3: line 5 (outcome VOICEMAIL, not in the mapping), 6
    # (empty CallID), 7 ("not a date"). Skipped: none, the mapping has no filters.
    assert (report.unit, report.read, report.blank, report.accepted, report.rejected) == ("row", 7, 1, 3, 3)
    assert report.skipped == Counter()
    assert [(r.line, r.text) for r in report.rejects] == [
        (5, "c-4;05/01/2026 09:03:00;;;VOICEMAIL;sales;;+15550102;"),
        (6, ";05/01/2026 09:04:00;;05/01/2026 09:04:10;ABANDONED;sales;;;"),
        (7, "c-6;not a date;;;ANSWERED;sales;;;"),
    ]
    assert report.events == EVENTS
    assert (report.files, report.unaccounted) == (1, 0)


def test_the_report_agrees_with_an_independent_count_of_the_raw_rows() -> None:
    report = FeedReport("csv")
    list(read(EXPORT, OPTIONS, report))
    raw = csv_rows(EXPORT, ";")
    assert (report.read, report.blank) == (raw.read, raw.blank) == (7, 1)
    assert raw.malformed == ()  # every row has the header's 9 fields; its three rejects are values, not shape
    assert report.rejected == len(raw.malformed) + 3


def test_a_quoted_line_break_stays_in_its_row_and_short_or_empty_rows_are_counted(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    lines = EXPORT.read_text().splitlines()
    # c-1 with its queue name quoted across two lines, an empty line, a short row and c-2.
    quoted = lines[1].replace(";billing;", ';"bill\ning";')
    export.write_text("\n".join([lines[0], quoted, "", "c-9;05/01/2026 09:00:00", lines[2]]) + "\n")
    report = FeedReport("csv")
    events = list(read(export, OPTIONS, report))
    assert {e.call_type for e in events if e.contact_id == "c-1"} == {"bill\ning"}
    # 5 rows on 6 lines: the header and the empty line blank, c-1 (lines 2-3) and c-2 accepted, the short row
    # (line 5) rejected.
    assert (report.read, report.blank, report.accepted, report.rejected) == (5, 2, 2, 1)
    assert [(r.line, r.reason) for r in report.rejects] == [(5, "2 fields, the header has 9")]
    assert report.unaccounted == 0


def test_read_needs_a_mapping() -> None:
    with pytest.raises(MappingError, match="mapping"):
        list(read(EXPORT, FeedOptions(caller_key=b"k"), FeedReport("csv")))


def test_mapping_mistakes_are_caught_before_reading(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'delimiter = ";"\n[columns]\ncontact_id = "CallID"\narrived = "Arrival"\noutcome = "X"\nsurprise = 1\n'
    )
    with pytest.raises(MappingError, match="surprise"):
        load_mapping(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        'delimiter = ";"\n[columns]\ncontact_id = "CallID"\narrived = "Arrival"\noutcome = "Status"\n'
    )
    adapter = CsvAdapter(load_mapping(wrong), b"k")
    with pytest.raises(MappingError, match="no column Status"):
        list(adapter.adapt((FIXTURES / "cdr_export.csv").read_text().splitlines()))
