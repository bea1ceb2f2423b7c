"""Hostile and malformed input, property-based: whatever the bytes or lines, the decoder either returns a
valid event or raises `EventDecodeError` with a reason, and every feed adapter turns each line into events or
a `Reject` with its line number; nothing raises anything else, nothing is silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producers.feeds.anonymous_bank import BankCall, parse
from producers.feeds.asterisk import QueueLogAdapter
from producers.feeds.connect_agents import AgentMapping, ConnectAgentAdapter
from producers.feeds.genesys import GenesysMapping
from producers.feeds.genesys import adapt as adapt_genesys
from producers.feeds.genesys_users import GenesysUserAdapter, UserMapping
from producers.feeds.rejects import Reject
from producers.feeds.twilio import TaskRouterAdapter
from streams.events import EventDecodeError, decode_event, encode_event

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
    yield "taskrouter", lambda lines: TaskRouterAdapter("t", b"k").adapt(lines)
    yield "connect-agents", lambda lines: ConnectAgentAdapter(AgentMapping()).adapt(lines)
    yield "genesys-users", lambda lines: GenesysUserAdapter(UserMapping()).adapt(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=300) | st.builds(json.dumps, JSON_VALUES), min_size=1, max_size=8))
def test_adapters_reject_what_they_cannot_read_line_by_line(lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    for name, adapt in _adapters():
        items = list(adapt(lines))
        rejected = {item.line for item in items if isinstance(item, Reject)}
        assert all(1 <= line <= len(lines) for line in rejected), name
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
    assert adapter.report.messages == len(lines)
