"""The event contract: round trips, UTC millisecond time, and bad payloads rejected with a reason naming the field."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest

from streams.events import MAX_REPORT_AGENTS
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactOffered
from streams.events import EventDecodeError
from streams.events import VendorIntervalReport
from streams.events import contact_key
from streams.events import decode_contact_event
from streams.events import decode_event
from streams.events import encode_event
from streams.events import event_from_dict
from streams.events import new_event_id


def _answered(**overrides: object) -> ContactAnswered:
    fields: dict[str, object] = {
        "event_id": new_event_id(42),
        "ts": datetime(2026, 1, 5, 9, 0, 1, 234567, tzinfo=UTC),
        "contact_id": "c-2",
        "initial_contact_id": "c-1",
        "source": "vendor-a",
        "call_type": "billing",
        "agent_id": "a-7",
        "wait_ms": 31_000,
    }
    fields.update(overrides)
    return ContactAnswered(**fields)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field() -> None:
    event = _answered()
    assert decode_contact_event(encode_event(event)) == event


def test_time_is_utc_truncated_to_milliseconds() -> None:
    plus_two = timezone(timedelta(hours=2))
    event = _answered(ts=datetime(2026, 1, 5, 11, 0, 1, 234567, tzinfo=plus_two))
    assert event.ts == datetime(2026, 1, 5, 9, 0, 1, 234000, tzinfo=UTC)
    assert event.ts.utcoffset() == timedelta(0)


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _answered(ts=datetime(2026, 1, 5, 9, 0))


def test_key_is_the_initial_contact_so_overflow_legs_share_a_partition() -> None:
    assert contact_key(_answered()) == b"c-1"


def test_seeded_event_ids_are_reproducible_uuid4() -> None:
    assert new_event_id(7) == new_event_id(7)
    assert new_event_id(7).version == 4


@pytest.mark.parametrize(
    ("payload", "reason_start"),
    [
        (b'{"type": "contact.offered"', "json_invalid"),
        (b"\xff\xfe", "json_invalid"),
        (b"[1, 2]", "dict_type"),
        (b'{"type": "contact.nope"}', "union_tag_invalid"),
        (b'{"event_id": "x"}', "union_tag_not_found"),
    ],
)
def test_bad_payloads_raise_with_a_reason(payload: bytes, reason_start: str) -> None:
    with pytest.raises(EventDecodeError) as info:
        decode_contact_event(payload)
    assert info.value.reason.startswith(reason_start), info.value.reason


def test_reason_names_the_offending_field() -> None:
    good = ContactOffered(
        event_id=new_event_id(1),
        ts=datetime(2026, 1, 5, tzinfo=UTC),
        contact_id="c",
        initial_contact_id="c",
        source="in-house",
        call_type="sales",
    )
    payload = encode_event(good).replace(b'"source":"in-house"', b'"source":""')
    with pytest.raises(EventDecodeError, match=r"contact\.offered\.source"):
        decode_contact_event(payload)


def test_negative_wait_is_rejected() -> None:
    payload = encode_event(_answered()).replace(b'"wait_ms":31000', b'"wait_ms":-1')
    with pytest.raises(EventDecodeError, match="wait_ms"):
        decode_contact_event(payload)


def test_unknown_fields_are_rejected_not_ignored() -> None:
    payload = encode_event(_answered()).replace(b'"agent_id"', b'"caller_number":"+15550100","agent_id"')
    with pytest.raises(EventDecodeError, match="extra_forbidden"):
        decode_contact_event(payload)


def test_oversized_payload_is_rejected_before_parsing() -> None:
    with pytest.raises(EventDecodeError, match="exceeds"):
        decode_contact_event(b" " * 70_000)


def test_abandon_carries_its_wait() -> None:
    event = ContactAbandoned(
        event_id=new_event_id(3),
        ts=datetime(2026, 1, 5, 9, tzinfo=UTC),
        contact_id="c",
        initial_contact_id="c",
        source="in-house",
        call_type="sales",
        wait_ms=4_000,
    )
    assert decode_contact_event(encode_event(event)).wait_ms == 4_000  # type: ignore[union-attr]


@pytest.mark.parametrize("event_type", ["contact.answered", "contact.abandoned"])
def test_a_total_wait_shorter_than_this_queues_wait_is_rejected(event_type: str) -> None:
    fields = {"type": event_type, "event_id": str(new_event_id(5)), "ts": "2026-01-05T09:00:00Z",
              "contact_id": "c", "initial_contact_id": "c", "source": "in-house", "call_type": "sales",
              "wait_ms": 10_000, "total_wait_ms": 9_999}  # fmt: skip
    if event_type == "contact.answered":
        fields["agent_id"] = "a-1"
    with pytest.raises(EventDecodeError, match="total_wait_ms is shorter than wait_ms"):
        event_from_dict(fields)
    assert event_from_dict({**fields, "total_wait_ms": 10_000}).total_wait_ms == 10_000  # type: ignore[union-attr]


def test_schedule_and_report_times_are_utc_milliseconds_like_ts() -> None:
    activity = event_from_dict({"type": "schedule.activity", "event_id": str(new_event_id(6)),
                                "ts": "2026-01-05T09:00:00Z", "agent_id": "a-1", "source": "in-house",
                                "team": "t", "activity": "break", "start": "2026-01-05T12:00:00.123456+02:00",
                                "end": "2026-01-05T12:15:00+02:00"})  # fmt: skip
    assert activity.start == datetime(2026, 1, 5, 10, 0, 0, 123000, tzinfo=UTC)  # type: ignore[union-attr]
    assert activity.start.tzinfo is UTC  # type: ignore[union-attr]
    report = event_from_dict({"type": "vendor.interval_report", "event_id": str(new_event_id(7)),
                              "ts": "2026-01-05T09:30:00Z", "source": "vendor-a", "call_type": "sales",
                              "interval_start": "2026-01-05T04:00:00.9999-05:00", "interval_minutes": 30,
                              "offered": 10, "answered": 8, "abandoned": 2, "answered_within_target": 7,
                              "target_s": 20, "handle_ms": 2_400_000})  # fmt: skip
    assert report.interval_start == datetime(2026, 1, 5, 9, 0, 0, 999000, tzinfo=UTC)  # type: ignore[union-attr]


def _report(**overrides: object) -> VendorIntervalReport:
    fields: dict[str, object] = {
        "type": "vendor.interval_report", "event_id": str(new_event_id(8)), "ts": "2026-01-05T09:45:00Z",
        "source": "vendor-a", "call_type": "billing", "interval_start": "2026-01-05T09:00:00Z",
        "interval_minutes": 15, "offered": 10, "answered": 9, "abandoned": 1, "answered_within_target": 8,
        "target_s": 20, "handle_ms": 2_700_000,
    }  # fmt: skip
    fields.update(overrides)
    report = event_from_dict(fields)
    assert isinstance(report, VendorIntervalReport)
    return report


def test_a_reports_staffed_time_is_none_unless_it_gives_one_and_kept_on_the_wire() -> None:
    bare = _report()
    assert bare.staffed_ms is None  # not in the report: NULL downstream, never 0
    assert b"staffed_ms" not in encode_event(bare)
    assert decode_event(encode_event(bare).replace(b"}", b',"staffed_ms":null}')) == bare
    staffed = _report(staffed_ms=3_600_000)
    assert decode_event(encode_event(staffed)) == staffed
    assert staffed.staffed_ms == 3_600_000
    # Zero is a real answer (nobody on queue), kept apart from None.
    assert _report(staffed_ms=0).staffed_ms == 0
    # More handle time than staffed time is accepted: the calls of the interval are handled past its end.
    assert _report(staffed_ms=1_800_000).staffed_ms == 1_800_000


def test_a_reports_staffed_time_is_refused_negative_or_beyond_any_vendors_agents() -> None:
    with pytest.raises(EventDecodeError, match="staffed_ms"):
        _report(staffed_ms=-1)
    with pytest.raises(EventDecodeError, match="staffed_ms"):
        _report(staffed_ms="a lot")
    whole_interval = 15 * 60_000 * MAX_REPORT_AGENTS
    assert _report(staffed_ms=whole_interval).staffed_ms == whole_interval
    with pytest.raises(EventDecodeError, match="staffed_ms exceeds 100,000 agents on queue the whole"):
        _report(staffed_ms=whole_interval + 1)
