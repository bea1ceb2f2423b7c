"""Amazon Connect agent event stream: implicit after-contact work, configuration-only changes and heartbeats
skipped (and counted by kind), duplicates dropped; checked by hand (events and the feed report), against an
independent count of the raw lines, and through the adherence engine."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from producers.feeds.connect_agents import CONFIGURATION_CHANGE
from producers.feeds.connect_agents import DUPLICATE
from producers.feeds.connect_agents import HEARTBEAT
from producers.feeds.connect_agents import AgentMapping
from producers.feeds.connect_agents import ConnectAgentAdapter
from producers.feeds.connect_agents import Reject
from producers.feeds.connect_agents import read
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from streams.events import decode_event
from streams.events import encode_event
from tests.support.raw_lines import json_lines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "connect_agent_events.jsonl"


STATES = [
    "agent.login",
    "agent.ready",
    "agent.on_contact",
    "agent.acw",  # contact ENDED, status still Available: Connect's implicit after-contact work
    "agent.ready",
    "agent.not_ready",
    "agent.ready",
    "agent.logout",
]


def test_agent_stream_to_states_by_hand() -> None:
    adapter = ConnectAgentAdapter(AgentMapping(tenant="acme"))
    items = list(adapter.adapt(FIXTURE.read_text().splitlines()))
    events = [i for i in items if not isinstance(i, Reject)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [e.type for e in events] == STATES
    assert adapter.report.skipped == Counter({HEARTBEAT: 1, CONFIGURATION_CHANGE: 1, DUPLICATE: 1})
    assert [r.line for r in rejects] == [12]
    not_ready = next(e for e in events if e.type == "agent.not_ready")
    assert not_ready.reason == "Break"
    assert all(e.agent_id == "ana" and e.team == "Lisbon" for e in events)
    assert all(decode_event(encode_event(e)) == e for e in events)


def test_read_gives_the_same_events_and_accounts_for_every_line() -> None:
    report = FeedReport("connect-agents")
    events = list(read(FIXTURE, FeedOptions(tenant="acme", caller_key=b"k"), report))
    adapted = [i for i in ConnectAgentAdapter(AgentMapping(tenant="acme")).adapt(FIXTURE.read_text().splitlines())
               if not isinstance(i, Reject)]  # fmt: skip
    assert events == sorted(adapted, key=lambda e: e.ts) == adapted  # one agent: already in time order
    assert [e.type for e in events] == STATES
    # 12 lines, none blank. Accepted, 8: line 1 (LOGIN), 2 (Available: ready), 3 (a contact CONNECTED: on
    # contact), 4 (contact ENDED: after-contact work), 5 (no contact: ready), 8 (Break: not ready), 10
    # (Available: ready), 11 (LOGOUT). Skipped, 3: line 6 (HEART_BEAT), line 7 (the routing profile changed to
    # Premium, the state did not), line 9 (line 8 again, same EventId ...008). Rejected, 1: line 12, a record
    # with no EventId.
    assert (report.read, report.blank, report.accepted, report.rejected) == (12, 0, 8, 1)
    assert report.skipped == Counter({HEARTBEAT: 1, CONFIGURATION_CHANGE: 1, DUPLICATE: 1})
    assert [(r.line, r.reason, r.text) for r in report.rejects] == [
        (12, "KeyError: 'EventId'", '{"EventType": "STATE_CHANGE"}')
    ]
    assert report.events == Counter(STATES)
    assert (report.files, report.unaccounted) == (1, 0)


def test_the_report_agrees_with_an_independent_count_of_the_raw_lines() -> None:
    report = FeedReport("connect-agents")
    list(read(FIXTURE, FeedOptions(tenant="acme", caller_key=b"k"), report))
    raw = json_lines(FIXTURE)
    assert (report.read, report.blank) == (raw.read, raw.blank) == (12, 0)
    assert raw.malformed == ()  # every line is JSON; line 12 is JSON that is no agent event
    assert report.rejected == len(raw.malformed) + 1


def test_a_good_copy_after_a_malformed_one_is_an_event_not_a_duplicate() -> None:
    good = FIXTURE.read_text().splitlines()[0]
    broken = json.dumps({**json.loads(good), "EventTimestamp": "not a time"})
    adapter = ConnectAgentAdapter(AgentMapping(tenant="acme"))
    items = list(adapter.adapt([broken, good, good]))
    assert [type(i).__name__ for i in items] == ["Reject", "AgentLogin"]
    assert (adapter.report.accepted, adapter.report.rejected) == (1, 1)
    assert adapter.report.skipped == Counter({DUPLICATE: 1})  # the third line only
    assert adapter.report.unaccounted == 0


def test_worked_time_through_the_adherence_engine() -> None:
    from streams.engine.adherence import AdherenceEngine

    adapter = ConnectAgentAdapter(AgentMapping(tenant="acme"))
    events = [i for i in adapter.adapt(FIXTURE.read_text().splitlines()) if not isinstance(i, Reject)]
    engine = AdherenceEngine(0)
    engine.apply(enumerate(events))
    rows = engine.drain_rows()
    worked = sum(row.worked_on_queue_ms for row in rows)
    # Ready/on contact/ACW from 08:00:01 to 10:00:00 and from 10:15:00 to 16:00:00 (the 15-min break is not).
    assert worked == (2 * 3600 - 1) * 1000 + (5 * 3600 + 45 * 60) * 1000
