"""Amazon Connect agent event stream (Kinesis records, one JSON per line) to canonical agent-state events.

Pure, one pass with each agent's last effective state. Source: Connect admin guide "Agent event streams data
model". The effective state is status x contacts: a contact CONNECTED (or on hold) = on contact; a contact
ENDED (after-contact work is implicit in Connect) = ACW; otherwise the status: `Available` = ready, `Offline`
= logged out, any other (custom) status = not ready with that name as reason.

Every record lands in one count of the `FeedReport`: one that changes the effective state (or logs in or out)
is accepted; a HEART_BEAT, a STATE_CHANGE that changes nothing of the state (a configuration change: routing
profile, hierarchy, ...) and a second copy of an `EventId` (the stream is at-least-once) are skipped by kind;
a malformed record is rejected with its line number and text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Any

from producers.feeds.rejects import MALFORMED
from producers.feeds.rejects import Reject
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.report import held_lines
from producers.feeds.report import text_lines
from streams.events import AgentAfterContactWork
from streams.events import AgentLogin
from streams.events import AgentLogout
from streams.events import AgentNotReady
from streams.events import AgentOnContact
from streams.events import AgentReady
from streams.events import Event

HEARTBEAT = "heartbeat"
CONFIGURATION_CHANGE = "configuration change, state unchanged"
DUPLICATE = "duplicate EventId"


@dataclass(frozen=True)
class AgentMapping:
    tenant: str = "default"
    in_house: str = "in-house"
    groups: dict[str, str] = field(default_factory=dict)  # hierarchy level-1 name -> source


def _state(snapshot: dict[str, Any]) -> tuple[str, str]:
    """(state, contact or reason) from an agent snapshot."""
    contacts = snapshot.get("Contacts") or []
    live = [c for c in contacts if c.get("State") in ("CONNECTED", "CONNECTED_ONHOLD")]
    if live:
        return "on_contact", live[0]["ContactId"]
    ended = [c for c in contacts if c.get("State") == "ENDED"]
    if ended:
        return "acw", ended[0]["ContactId"]
    status = (snapshot.get("AgentStatus") or {}).get("Name") or "Offline"
    if status == "Available":
        return "ready", ""
    if status == "Offline":
        return "logged_out", ""
    return "not_ready", status[:64]


class ConnectAgentAdapter:
    """Counts go to `report` (a fresh one when none is given)."""

    def __init__(self, mapping: AgentMapping, report: FeedReport | None = None) -> None:
        self.mapping = mapping
        self.report = report if report is not None else FeedReport("connect-agents")
        self._last: dict[str, tuple[str, str]] = {}
        self._seen: set[str] = set()

    def adapt(self, lines: Iterable[str]) -> Iterator[Event | Reject]:
        """Lines held in memory, in file order: events and, in its place, a `Reject` for each bad line."""
        return self.adapt_numbered(held_lines(lines, self.report))

    def adapt_numbered(self, lines: Iterable[tuple[int, str]]) -> Iterator[Event | Reject]:
        """Numbered non-blank lines (read and blank already counted by `text_lines` or `held_lines`)."""
        for number, line in lines:
            try:
                outcome = self._record(json.loads(line))
            except MALFORMED as exc:
                yield self.report.reject(number, f"{type(exc).__name__}: {exc}", line)
                continue
            if isinstance(outcome, str):
                self.report.skip(outcome)
                continue
            self.report.accepted += 1
            self.report.events[outcome.type] += 1
            yield outcome

    def _record(self, record: dict[str, Any]) -> Event | str:
        """The record's event, or the kind it is skipped as. Its `EventId` counts as seen only once the record
        is read: a malformed copy followed by a good one is one reject and one event, not a reject and a
        duplicate."""
        event_id = record["EventId"]
        if event_id in self._seen:
            return DUPLICATE
        event = self._event(event_id, record)
        self._seen.add(event_id)
        return event

    def _event(self, event_id: str, record: dict[str, Any]) -> Event | str:
        kind = record["EventType"]
        agent = record["AgentARN"].rsplit("/", 1)[-1]
        ts = datetime.fromisoformat(record["EventTimestamp"].replace("Z", "+00:00"))
        snapshot = record.get("CurrentAgentSnapshot") or {}
        config = snapshot.get("Configuration") or {}
        group = ((config.get("AgentHierarchyGroups") or {}).get("Level1") or {}).get("Name") or ""
        common = {"tenant": self.mapping.tenant, "agent_id": config.get("Username") or agent,
                  "source": self.mapping.groups.get(group, self.mapping.in_house), "team": group or "default"}  # fmt: skip
        base = uuid.UUID(event_id)
        if kind == "LOGIN":
            login = AgentLogin(event_id=base, ts=ts, **common)
            self._last[agent] = ("not_ready", "login")
            return login
        if kind == "LOGOUT":
            logout = AgentLogout(event_id=base, ts=ts, **common)
            self._last[agent] = ("logged_out", "")
            return logout
        if kind == "HEART_BEAT":
            return HEARTBEAT
        if kind != "STATE_CHANGE":
            raise ValueError(f"unknown EventType {kind!r}")
        state = _state(snapshot)
        if self._last.get(agent) == state:
            return CONFIGURATION_CHANGE
        name, detail = state
        event: Event
        if name == "on_contact":
            event = AgentOnContact(event_id=base, ts=ts, contact_id=detail, **common)
        elif name == "acw":
            event = AgentAfterContactWork(event_id=base, ts=ts, contact_id=detail, **common)
        elif name == "ready":
            event = AgentReady(event_id=base, ts=ts, **common)
        elif name == "not_ready":
            event = AgentNotReady(event_id=base, ts=ts, reason=detail, **common)
        else:
            event = AgentLogout(event_id=base, ts=ts, **common)
        self._last[agent] = state
        return event


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[Event]:
    """An agent event stream's events in event-time order (a stable sort, so an agent keeps its own order):
    Kinesis keeps each agent's order, not the order across agents. The file is read whole before the first
    event; `report` is complete when the iterator is exhausted."""
    adapter = ConnectAgentAdapter(AgentMapping(tenant=options.tenant), report)
    events = [
        item for item in adapter.adapt_numbered(text_lines(path, report)) if not isinstance(item, Reject)
    ]
    yield from sorted(events, key=lambda event: event.ts)
