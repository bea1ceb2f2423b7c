"""Amazon Connect agent event stream: implicit after-contact work, configuration-only changes and heartbeats
ignored (and counted), duplicates dropped; checked by hand and through the adherence engine."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from producers.feeds.connect_agents import AgentMapping
from producers.feeds.connect_agents import ConnectAgentAdapter
from producers.feeds.connect_agents import Reject
from streams.events import decode_event
from streams.events import encode_event

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "connect_agent_events.jsonl"


def test_agent_stream_to_states_by_hand() -> None:
    adapter = ConnectAgentAdapter(AgentMapping(tenant="acme"))
    items = list(adapter.adapt(FIXTURE.read_text().splitlines()))
    events = [i for i in items if not isinstance(i, Reject)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [e.type for e in events] == [
        "agent.login",
        "agent.ready",
        "agent.on_contact",
        "agent.acw",  # contact ENDED, status still Available: Connect's implicit after-contact work
        "agent.ready",
        "agent.not_ready",
        "agent.ready",
        "agent.logout",
    ]
    assert adapter.report.unchanged == Counter({"HEART_BEAT": 1, "configuration change": 1})
    assert adapter.report.duplicates == 1
    assert [r.line for r in rejects] == [12]
    not_ready = next(e for e in events if e.type == "agent.not_ready")
    assert not_ready.reason == "Break"
    assert all(e.agent_id == "ana" and e.team == "Lisbon" for e in events)
    assert all(decode_event(encode_event(e)) == e for e in events)


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
