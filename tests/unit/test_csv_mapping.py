"""The generic CSV adapter on a small export: events counted by hand, bad rows rejected with their line, and
mapping mistakes caught before any row is read."""

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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def test_export_to_events_counted_by_hand() -> None:
    adapter = CsvAdapter(load_mapping(FIXTURES / "cdr_mapping.toml"), b"k")
    items = list(adapter.adapt((FIXTURES / "cdr_export.csv").read_text().splitlines()))
    events = [item for item in items if not isinstance(item, Reject)]
    rejects = [item for item in items if isinstance(item, Reject)]
    assert Counter(e.type for e in events) == Counter(
        {
            "contact.offered": 3,
            "contact.queued": 3,
            "contact.answered": 2,
            "contact.ended": 2,
            "contact.abandoned": 1,
        }
    )
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
    assert (adapter.accepted, adapter.rejected) == (3, 3)  # c-1, c-2, c-3 in; three rows out


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
