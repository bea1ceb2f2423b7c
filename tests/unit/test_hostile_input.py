"""Hostile and malformed input, property-based: whatever the bytes or lines, the decoder either returns a
valid event or raises `EventDecodeError` with a reason, and every feed adapter turns each line into events or
a `Reject` with its line number; nothing raises anything else, nothing is silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from producers.feeds.amazon_connect import ConnectMapping
from producers.feeds.amazon_connect import adapt as adapt_connect
from producers.feeds.anonymous_bank import BankCall
from producers.feeds.anonymous_bank import parse
from producers.feeds.asterisk import QueueLogAdapter
from producers.feeds.connect_agents import AgentMapping
from producers.feeds.connect_agents import ConnectAgentAdapter
from producers.feeds.csv_mapping import CsvAdapter
from producers.feeds.csv_mapping import load_mapping
from producers.feeds.genesys import GenesysMapping
from producers.feeds.genesys import adapt as adapt_genesys
from producers.feeds.genesys_users import GenesysUserAdapter
from producers.feeds.genesys_users import UserMapping
from producers.feeds.rejects import Reject
from producers.feeds.twilio import TaskRouterAdapter
from streams.edge.pipeline import EnginePipeline
from streams.edge.records import Record
from streams.engine.config import EngineConfig
from streams.events import ContactEvent
from streams.events import EventDecodeError
from streams.events import decode_event
from streams.events import encode_event
from streams.warehouse.sink import BatchSink

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
GOOD = (
    b'{"type":"contact.offered","event_id":"00000000-0000-4000-8000-000000000001",'
    b'"ts":"2026-01-05T08:00:00.000Z","tenant":"t","contact_id":"c1","initial_contact_id":"c1",'
    b'"source":"in-house","call_type":"billing","entry":"enterprise_acd"}'
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=200),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=8)
    ),
    max_leaves=30,
)


def _decodes_or_refuses(payload: bytes) -> None:
    try:
        event = decode_event(payload)
    except EventDecodeError as exc:
        reason = exc.reason
    else:
        assert decode_event(encode_event(event)) == event  # anything accepted is a valid, re-encodable event
        return
    assert reason


def test_the_reference_payload_is_valid() -> None:
    assert decode_event(GOOD).type == "contact.offered"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes(payload: bytes) -> None:
    _decodes_or_refuses(payload)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(GOOD) - 1))
def test_every_truncation_is_refused(cut: int) -> None:
    with pytest.raises(EventDecodeError) as refused:
        decode_event(GOOD[:cut])
    assert refused.value.reason


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(list(json.loads(GOOD))), JSON_VALUES, min_size=1))
def test_wrong_types_in_known_fields(overrides: dict[str, object]) -> None:
    _decodes_or_refuses(json.dumps({**json.loads(GOOD), **overrides}).encode())


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "2026-01-05T08:00:00",
            "2026-13-45T99:00:00Z",
            "1970-01-01T00:00:00+14:00",
            "yesterday",
        ]
    ),
    st.text(max_size=5_000),
)
def test_far_timestamps_and_huge_strings(ts: str, text: str) -> None:
    _decodes_or_refuses(json.dumps({**json.loads(GOOD), "ts": ts, "contact_id": text or "x"}).encode())


def _adapters():  # type: ignore[no-untyped-def]
    yield "asterisk", lambda lines: QueueLogAdapter(tenant="t").adapt(lines)


def _reporting_adapters():  # type: ignore[no-untyped-def]
    """The adapters that fill a `FeedReport`, fresh for each input."""
    yield "taskrouter", lambda: TaskRouterAdapter("t", b"k")
    yield "connect-agents", lambda: ConnectAgentAdapter(AgentMapping())
    yield "genesys-users", lambda: GenesysUserAdapter(UserMapping())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=300) | st.builds(json.dumps, JSON_VALUES), min_size=1, max_size=8))
def test_adapters_reject_what_they_cannot_read_line_by_line(lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    for name, adapt in _adapters():
        items = list(adapt(lines))
        rejected = {item.line for item in items if isinstance(item, Reject)}
        assert all(1 <= line <= len(lines) for line in rejected), name
    for name, make in _reporting_adapters():
        adapter = make()
        items = list(adapter.adapt(lines))
        rejected = {item.line for item in items if isinstance(item, Reject)}
        assert all(1 <= line <= len(lines) for line in rejected), name
        assert (adapter.report.read, adapter.report.unaccounted) == (len(lines), 0), name
        assert [r.line for r in adapter.report.rejects] == [i.line for i in items if isinstance(i, Reject)], (
            name
        )
    _, rejects = adapt_genesys(lines, GenesysMapping(), b"k")
    assert all(1 <= r.line <= len(lines) for r in rejects)
    bank = list(parse(lines))
    assert all(isinstance(item, (BankCall, Reject)) for item in bank)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_corrupted_line_among_good_ones_costs_only_that_line(data: st.DataObject) -> None:
    good = (FIXTURES / "genesys_user_events.jsonl").read_text().splitlines()
    at = data.draw(st.integers(min_value=0, max_value=len(good) - 1))
    cut = data.draw(st.integers(min_value=1, max_value=max(1, len(good[at]) - 1)))
    lines = [*good[:at], good[at][:cut], *good[at + 1 :]]
    adapter = GenesysUserAdapter(UserMapping())
    items = list(adapter.adapt(lines))
    rejected = {item.line for item in items if isinstance(item, Reject)}
    # The fixture's own two bad lines (15, 20) and the cut one; every other line still counts.
    assert at + 1 in rejected
    assert rejected <= {15, 20, at + 1}
    assert adapter.report.read == len(lines)
    assert adapter.report.unaccounted == 0


CDR_MAPPING = FIXTURES / "cdr_mapping.toml"
CDR_LINES = (FIXTURES / "cdr_export.csv").read_text().splitlines()
CTR_LINES = (FIXTURES / "connect_ctr.jsonl").read_text().splitlines()
CTR_MAPPING = ConnectMapping(tenant="t", groups={"BPO Manila": "vendor-m"})
# A CTR as Connect exports it, and parts of one: what a fuzzer needs to get past `json.loads` and `ContactId`.
CTR_FIELDS = st.sampled_from(
    ["ContactId", "InitialContactId", "Channel", "InitiationTimestamp", "DisconnectTimestamp",
     "LastUpdateTimestamp", "Queue", "Agent", "CustomerEndpoint", "TransferredToEndpoint"]
)  # fmt: skip


def _csv_rejects(lines: list[str]) -> tuple[list[object], set[int]]:
    adapter = CsvAdapter(load_mapping(CDR_MAPPING), b"k")
    items = list(adapter.adapt(lines))
    assert adapter.report.unaccounted == 0
    return items, {item.line for item in items if isinstance(item, Reject)}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=300), min_size=1, max_size=8))
def test_csv_rows_are_events_or_rejects_with_their_line(rows: list[str]) -> None:
    # The header is the mapping's (a file without the named columns is refused before any row is read);
    # every row after it is arbitrary: short, long, quoted, delimiters anywhere.
    lines = [CDR_LINES[0], *(row.replace("\n", " ").replace("\r", " ") for row in rows)]
    items, rejected = _csv_rejects(lines)
    assert all(2 <= line <= len(lines) for line in rejected)
    assert all(isinstance(item, (ContactEvent, Reject)) for item in items)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_corrupted_csv_row_among_good_ones_costs_only_that_row(data: st.DataObject) -> None:
    good = [line for line in CDR_LINES[:4]]  # header and the three rows the fixture accepts
    at = data.draw(st.integers(min_value=1, max_value=len(good) - 1))
    cut = data.draw(st.integers(min_value=0, max_value=len(good[at]) - 1))
    # No quote opening a field: CSV lets a quoted field span lines, so that is the next lines' text, not noise.
    noise = data.draw(st.sampled_from(["", ";", 'x"y', "\x00", "x" * 200_000, "\udcff", ";;;;;;;;;;;;"]))
    lines = [*good[:at], good[at][:cut] + noise, *good[at + 1 :]]
    items, rejected = _csv_rejects(lines)
    assert rejected <= {at + 1}
    offered = {
        item.contact_id for item in items if isinstance(item, ContactEvent) and item.type == "contact.offered"
    }
    assert offered >= {f"c-{n}" for n in (1, 2, 3)} - {f"c-{at}"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.text(max_size=300)
        | st.builds(json.dumps, JSON_VALUES)
        | st.builds(json.dumps, st.dictionaries(CTR_FIELDS, JSON_VALUES, min_size=1)),
        min_size=1,
        max_size=8,
    )
)
def test_ctr_lines_are_events_or_rejects_with_their_line(lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    events, rejects, report = adapt_connect(lines, CTR_MAPPING, b"k")
    assert all(1 <= reject.line <= len(lines) for reject in rejects)
    assert report.unaccounted == 0
    assert report.read == len(lines)
    assert all(decode_event(encode_event(event)) == event for event in events)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_corrupted_ctr_among_good_ones_costs_only_that_record(data: st.DataObject) -> None:
    good = CTR_LINES[:-1]  # the fixture's last line is its own truncated record
    at = data.draw(st.integers(min_value=0, max_value=len(good) - 1))
    cut = data.draw(st.integers(min_value=1, max_value=len(good[at]) - 1))
    lines = [*good[:at], good[at][:cut], *good[at + 1 :]]
    events, rejects, _ = adapt_connect(lines, CTR_MAPPING, b"k")
    assert [reject.line for reject in rejects] == [at + 1]
    contacts = {event.contact_id for event in events}
    cut_contact = json.loads(good[at])["ContactId"]
    others = {json.loads(line)["ContactId"] for n, line in enumerate(good) if n != at} - {"chat9"}
    assert others <= contacts
    assert contacts <= others | {cut_contact}  # c1 is sent twice: its other copy still counts


def _pipeline() -> tuple[EnginePipeline, dict[str, list[object]]]:
    written: dict[str, list[object]] = {}

    def write(table: str, columns: object, rows: list[object]) -> None:
        written.setdefault(table, []).extend(rows)

    topics = {"contacts": "contact", "callers": "caller"}
    return EnginePipeline(BatchSink(write, 10**9, 10**9), EngineConfig(), topics, loopback=False), written  # type: ignore[arg-type]


CALLER_FIELDS = ("tenant", "caller_hash", "initial_contact_id", "arrived_ms", "call_type", "handled_by")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=300)
    | st.builds(lambda v: json.dumps(v).encode(), JSON_VALUES)
    | st.builds(
        lambda items: json.dumps(items).encode(),
        st.lists(st.fixed_dictionaries({name: JSON_VALUES for name in CALLER_FIELDS}), max_size=3),
    )
)
def test_hostile_records_on_the_caller_topic_are_dead_letters_not_crashes(payload: bytes) -> None:
    # The topic is the worker's own, but a record on it that the repeat engine cannot key (a list for a
    # tenant, an empty list) stopped the worker; now it is one dead letter with a reason.
    pipeline, _ = _pipeline()
    dead = pipeline.process([Record("callers", 0, 0, None, payload, 1_767_600_000_000)])
    pipeline.tick()
    assert (len(dead), pipeline.accepted) in ((1, 0), (0, 1), (0, 2), (0, 3))
    assert all(letter.reason.startswith("not a caller-contact record") for letter in dead)


def test_an_event_dated_far_ahead_of_its_record_costs_only_itself() -> None:
    # One contact.offered dated 2100 among the day's events used to move its tenant's watermark to 2100:
    # every real event after it was "older than the correction horizon". It is refused on its own now.
    good = json.loads(GOOD)
    produced_ms = 1_767_600_000_000  # 2026-01-05T08:00Z, when the producer sent them

    def offered(n: int, ts: str) -> bytes:
        return json.dumps({**good, "event_id": f"00000000-0000-4000-8000-{n:012d}", "ts": ts,
                           "contact_id": f"c{n}", "initial_contact_id": f"c{n}"}).encode()  # fmt: skip

    records = [
        Record("contacts", 0, 0, None, offered(1, "2026-01-05T08:00:00Z"), produced_ms),
        Record("contacts", 0, 1, None, offered(2, "2100-01-01T00:00:00Z"), produced_ms),
        Record("contacts", 0, 2, None, offered(3, "2026-01-05T08:01:00Z"), produced_ms),
        Record("contacts", 0, 3, None, offered(4, "2026-01-06T08:00:00.001Z"), produced_ms),  # 24 h + 1 ms
        Record("contacts", 0, 4, None, offered(5, "2026-01-05T08:02:00Z"), produced_ms),
    ]
    pipeline, written = _pipeline()
    dead = pipeline.process(records)
    assert [(letter.record.offset, letter.reason) for letter in dead] == [
        (1, "event time 2100-01-01T00:00:00+00:00 is more than 24 h after the record was produced"),
        (3, "event time 2026-01-06T08:00:00.001000+00:00 is more than 24 h after the record was produced"),
    ]
    assert pipeline.accepted_events == 3
    pipeline.sink.flush()
    assert sorted(json.loads(row[-1])["contact_id"] for row in written["acd_events"]) == ["c1", "c3", "c5"]  # type: ignore[index]


def test_after_a_restart_re_read_records_are_not_stored_again_as_raw_events() -> None:
    """Found by fuzzing a restart between two batches: records re-read at or below the checkpoint were stored
    in `acd_events` again, and one refused the first time (older than the horizon) then looked accepted."""
    from streams.warehouse import checkpoints

    good = json.loads(GOOD)

    def offered(n: int, ts: str) -> bytes:
        return json.dumps({**good, "event_id": f"00000000-0000-4000-8000-{n:012d}", "ts": ts,
                           "contact_id": f"c{n}", "initial_contact_id": f"c{n}"}).encode()  # fmt: skip

    produced_ms = 1_767_600_000_000
    records = [
        Record("contacts", 0, 0, None, offered(1, "2026-01-05T08:00:00Z"), produced_ms),
        Record("contacts", 0, 1, None, offered(2, "2025-12-01T08:00:00Z"), produced_ms),  # past the horizon
        Record("contacts", 0, 2, None, offered(3, "2026-01-05T08:01:00Z"), produced_ms),
    ]
    first, written = _pipeline()
    assert [letter.record.offset for letter in first.process(records)] == [1]
    first.sink.flush()
    assert sorted(row[6] for row in written["acd_events"]) == [0, 2]  # type: ignore[index]
    saved = {row.topic: checkpoints.decode(row.snapshot) for row in first.checkpoint("t")}
    written.clear()
    restarted = EnginePipeline(first.sink, EngineConfig(), {"contacts": "contact", "callers": "caller"},
                               load_checkpoint=lambda topic, partition: saved.get(topic),
                               loopback=False)  # fmt: skip
    restarted.process(records)  # re-read from the committed offset, which is older than the checkpoint
    restarted.sink.flush()
    assert "acd_events" not in written
    assert restarted.accepted_events == 0  # nothing counted anew
