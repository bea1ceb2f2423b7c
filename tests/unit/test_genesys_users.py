"""Genesys Cloud presence + routing-status notifications: the effective state worked out by hand from a small
recorded channel (out-of-order topics, a duplicate, a heartbeat, two bad messages), the feed report counted by
hand and against an independent count of the raw lines, then through adherence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from producers.feeds.genesys_users import HEARTBEAT
from producers.feeds.genesys_users import NO_STATE_CHANGE
from producers.feeds.genesys_users import GenesysUserAdapter
from producers.feeds.genesys_users import UserMapping
from producers.feeds.genesys_users import effective_state
from producers.feeds.genesys_users import read
from producers.feeds.rejects import Reject
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from streams.engine.adherence import AdherenceEngine
from streams.events import Event
from streams.events import decode_event
from streams.events import encode_event
from tests.support.raw_lines import json_lines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "genesys_user_events.jsonl"
MAPPING = UserMapping(tenant="gen", teams={"u-ana": "lisbon", "u-bo": "bpo-team"},
                      team_sources={"bpo-team": "vendor-x"})  # fmt: skip


def _run() -> tuple[GenesysUserAdapter, list[Event], list[Reject]]:
    adapter = GenesysUserAdapter(MAPPING)
    items = list(adapter.adapt(FIXTURE.read_text().splitlines()))
    return (
        adapter,
        [i for i in items if not isinstance(i, Reject)],
        [i for i in items if isinstance(i, Reject)],
    )


def _label(event: Event) -> str:
    reason = getattr(event, "reason", None)
    return f"{event.type}({reason})" if reason else event.type


def test_states_by_hand() -> None:
    adapter, events, rejects = _run()
    ana = [_label(e) for e in events if e.agent_id == "u-ana"]  # type: ignore[union-attr]
    assert ana == [
        "agent.login",
        "agent.not_ready(available)",  # presence Available is not on queue
        "agent.not_ready(not_routable)",  # On Queue, routing not yet IDLE
        "agent.ready",
        "agent.on_contact",
        "agent.ready",
        "agent.on_contact",  # 08:20 COMMUNICATING arrived after 09:00 messages: put back in time order
        "agent.ready",
        "agent.not_ready(break)",  # presence Break alone changes nothing until routing goes OFF_QUEUE
        "agent.not_ready(not_routable)",
        "agent.ready",
        "agent.not_ready(meal)",  # one activity message carries both halves
        "agent.not_ready(not_routable)",
        "agent.ready",
        "agent.logout",
    ]
    bo = [_label(e) for e in events if e.agent_id == "u-bo"]  # type: ignore[union-attr]
    assert bo == ["agent.login", "agent.ready", "agent.on_contact", "agent.ready", "agent.logout"]
    assert {e.source for e in events if e.agent_id == "u-bo"} == {"vendor-x"}  # type: ignore[union-attr]
    assert {e.source for e in events if e.agent_id == "u-ana"} == {"in-house"}  # type: ignore[union-attr]
    assert [r.line for r in rejects] == [15, 20]
    assert "DANCING" in rejects[0].reason
    assert adapter.report.skipped == Counter({HEARTBEAT: 1, NO_STATE_CHANGE: 3})
    assert (adapter.report.read, sum(adapter.report.events.values()), adapter.report.rejected) == (24, 20, 2)
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    assert all(decode_event(encode_event(e)) == e for e in events)
    assert len({e.event_id for e in events}) == len(events)


def test_read_gives_the_same_events_and_accounts_for_every_line() -> None:
    _, adapted, _ = _run()
    report = FeedReport("genesys-users")
    events = list(read(FIXTURE, FeedOptions(tenant="gen", caller_key=b"k"), report))
    # FeedOptions has no team mapping: the same events, but every agent on the default team, in-house.
    default = GenesysUserAdapter(UserMapping(tenant="gen")).adapt(FIXTURE.read_text().splitlines())
    assert events == [i for i in default if not isinstance(i, Reject)]
    assert [(_label(e), e.agent_id, e.ts) for e in events] == [(_label(e), e.agent_id, e.ts) for e in adapted]  # type: ignore[union-attr]
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    # 24 lines, none blank. Accepted, 18 (20 events: a first message of ana, line 1, and of bo, line 7, also
    # logs in): ana's lines 1, 2, 3, 5, 6, 10 (08:20, put before line 8's 08:26), 8, 14, 16, 17, 19, 21, 22, 23
    # and bo's lines 7, 11, 12, 18. Skipped, 4: line 4 (a WebSocket heartbeat); line 9 (line 8 again), line 13
    # (Break while routing is still IDLE) and line 24 (OFF_QUEUE after Offline), no state change. Rejected, 2:
    # line 15 (routing status DANCING) and line 20 (truncated JSON).
    assert (report.read, report.blank, report.accepted, report.rejected) == (24, 0, 18, 2)
    assert report.skipped == Counter({HEARTBEAT: 1, NO_STATE_CHANGE: 3})
    assert [r.line for r in report.rejects] == [15, 20]
    assert report.rejects[0].text.startswith('{"topicName": "v2.users.u-ana.routingStatus"')
    assert report.events == Counter(e.type for e in events)
    assert sum(report.events.values()) == 20
    assert (report.files, report.unaccounted) == (1, 0)


def test_the_report_agrees_with_an_independent_count_of_the_raw_lines() -> None:
    report = FeedReport("genesys-users")
    list(read(FIXTURE, FeedOptions(tenant="gen", caller_key=b"k"), report))
    raw = json_lines(FIXTURE)
    assert (report.read, report.blank) == (raw.read, raw.blank) == (24, 0)
    assert raw.malformed == (20,)
    # Every line that does not parse is rejected; the one other reject (line 15) parses, with a status unknown.
    assert set(raw.malformed) <= {r.line for r in report.rejects}
    assert report.rejected == len(raw.malformed) + 1


def test_worked_time_through_the_adherence_engine() -> None:
    _, events, _ = _run()
    engine = AdherenceEngine(0)
    engine.apply(enumerate(events))
    rows = engine.drain_rows()
    worked = Counter[str]()
    for row in rows:
        worked[row.agent_id] += row.worked_on_queue_ms
    # ana: 08:00:06-10:00:00, 10:15:02-12:00:00, 12:30:01-16:00:00; bo: 09:00-11:00.
    assert worked == {"u-ana": (7194 + 6298 + 12599) * 1000, "u-bo": 7200 * 1000}


@pytest.mark.parametrize(
    ("presence", "routing", "state"),
    [
        (None, None, None),
        ("OFFLINE", "INTERACTING", ("logged_out", "")),
        ("BREAK", "INTERACTING", ("on_contact", "")),  # Genesys RTA: interacting counts as on queue
        ("AVAILABLE", "IDLE", ("ready", "")),
        ("ON_QUEUE", "NOT_RESPONDING", ("not_ready", "not_responding")),
        ("ON_QUEUE", None, ("not_ready", "not_routable")),
        (None, "OFF_QUEUE", ("not_ready", "not_routable")),
        ("TRAINING", "OFF_QUEUE", ("not_ready", "training")),
    ],
)
def test_effective_state_rule(
    presence: str | None, routing: str | None, state: tuple[str, str] | None
) -> None:
    assert effective_state(presence, routing) == state
