"""Genesys Cloud user presence and routing-status notifications (one JSON message per line) to agent states.

Pure. Sources: Genesys Cloud Notification API topics `v2.users.{id}.presence` (presenceDefinition.systemPresence,
modifiedDate), `v2.users.{id}.routingStatus` (routingStatus.status, startTime) and `v2.users.{id}.activity`
(both at once); `channel.metadata` messages are WebSocket heartbeats.

Genesys splits what other ACDs call the agent state in two: a *presence* the agent picks (Available, Break,
Meal, Meeting, Training, Away, Busy, On Queue, Offline, ...) and a *routing status* the ACD sets while the agent
is on queue (IDLE, INTERACTING, COMMUNICATING, NOT_RESPONDING, OFF_QUEUE). The effective state follows the
rule Genesys' own real-time adherence uses (on queue = presence On Queue or routing status IDLE / INTERACTING /
COMMUNICATING):
- presence Offline: logged out;
- routing INTERACTING or COMMUNICATING: on contact (Genesys keeps INTERACTING through wrap-up, so after-contact
  work is not separable here; the conversation details give it per call);
- routing IDLE: ready;
- presence On Queue otherwise (NOT_RESPONDING, or OFF_QUEUE before routing catches up): not ready, reason
  `not_responding` / `not_routable`;
- any other presence: not ready, with the presence as reason (`break`, `meal`, `meeting`, ...).
The two topics arrive on separate channels and can be out of order, so messages are ordered by their own time
before they are folded. Routing-status messages carry no conversation id: the on-contact event names the
routing interval (`routing:<startTime>`) instead.

Every message lands in one count of the `FeedReport`: one that changes a user's effective state is accepted; a
heartbeat, and a message that changes nothing (a repeat, a presence message text edit, a Break while routing
still says IDLE), are skipped by kind; a line that is no notification, or one that reads but makes no valid
event, is rejected with its line number and text.
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
from streams.events import AgentLogin
from streams.events import AgentLogout
from streams.events import AgentNotReady
from streams.events import AgentOnContact
from streams.events import AgentReady
from streams.events import Event

_NAMESPACE = uuid.UUID("0b6f7c3e-2a49-4d1b-9f5e-6c8a1d2e3f40")
_ON_CONTACT = frozenset({"INTERACTING", "COMMUNICATING"})
ROUTING_STATUSES = frozenset({"OFF_QUEUE", "IDLE", "INTERACTING", "COMMUNICATING", "NOT_RESPONDING"})
HEARTBEAT = "heartbeat"
NO_STATE_CHANGE = "no state change"


@dataclass(frozen=True)
class UserMapping:
    tenant: str = "default"
    in_house: str = "in-house"
    teams: dict[str, str] = field(default_factory=dict)  # userId -> team
    team_sources: dict[str, str] = field(default_factory=dict)  # team -> vendor id (virtualized outsourcing)


@dataclass(frozen=True)
class _Message:
    line: int
    text: str  # the raw line, for its reject
    ts: datetime
    user: str
    presence: str | None  # normalised: upper case, spaces as underscores (`ON_QUEUE`)
    routing: str | None
    since: str  # the routing interval's own start, as sent


def _ts(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"timestamp {value!r} is not an ISO-8601 string")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return moment


def _presence(body: dict[str, Any]) -> tuple[str, str]:
    definition = body["presenceDefinition"]
    name = definition["systemPresence"]
    if not isinstance(name, str) or not name:
        raise ValueError("presenceDefinition.systemPresence is empty")
    return name.strip().upper().replace(" ", "_"), body["modifiedDate"]


def _routing(body: dict[str, Any]) -> tuple[str, str]:
    status = body["status"]
    if status not in ROUTING_STATUSES:
        raise ValueError(f"unknown routing status {status!r}")
    return status, body["startTime"]


def _parse(number: int, text: str) -> _Message | None:
    record = json.loads(text)
    topic = record["topicName"]
    if topic == "channel.metadata":
        return None
    parts = topic.split(".")
    if len(parts) != 4 or parts[:2] != ["v2", "users"]:
        raise ValueError(f"topic {topic!r} is not a v2.users.{{id}}.* topic")
    user, kind, body = parts[2], parts[3], record["eventBody"]
    if kind == "presence":
        presence, at = _presence(body)
        return _Message(number, text, _ts(at), user, presence, None, "")
    if kind == "routingStatus":
        routing, since = _routing(body["routingStatus"])
        return _Message(number, text, _ts(since), user, None, routing, since)
    if kind == "activity":
        presence, at = _presence(body["presence"])
        routing, since = _routing(body["routingStatus"])
        return _Message(number, text, max(_ts(at), _ts(since)), user, presence, routing, since)
    raise ValueError(f"topic kind {kind!r} is not presence, routingStatus or activity")


def effective_state(presence: str | None, routing: str | None) -> tuple[str, str] | None:
    """(state, reason) of a user from the last presence and routing status; None until either is known."""
    if presence is None and routing is None:
        return None
    if presence == "OFFLINE":
        return "logged_out", ""
    if routing in _ON_CONTACT:
        return "on_contact", ""
    if routing == "IDLE":
        return "ready", ""
    if presence == "ON_QUEUE" or presence is None:
        return "not_ready", "not_responding" if routing == "NOT_RESPONDING" else "not_routable"
    return "not_ready", presence.lower()[:64]


class GenesysUserAdapter:
    """Counts go to `report` (a fresh one when none is given)."""

    def __init__(self, mapping: UserMapping, report: FeedReport | None = None) -> None:
        self.mapping = mapping
        self.report = report if report is not None else FeedReport("genesys-users")
        self._presence: dict[str, str | None] = {}
        self._routing: dict[str, tuple[str | None, str]] = {}
        self._state: dict[str, tuple[str, str]] = {}

    def adapt(self, lines: Iterable[str]) -> Iterator[Event | Reject]:
        """Lines held in memory: see `adapt_numbered`."""
        return self.adapt_numbered(held_lines(lines, self.report))

    def adapt_numbered(self, lines: Iterable[tuple[int, str]]) -> Iterator[Event | Reject]:
        """Numbered non-blank lines (read and blank already counted by `text_lines` or `held_lines`): rejects of
        unreadable lines first (with their line), then the events in time order, with a reject in its place for
        a message that reads but makes no valid event."""
        messages: list[_Message] = []
        for number, line in lines:
            try:
                message = _parse(number, line)
            except MALFORMED as exc:
                yield self.report.reject(number, f"{type(exc).__name__}: {exc}", line)
                continue
            if message is None:
                self.report.skip(HEARTBEAT)
            else:
                messages.append(message)
        messages.sort(key=lambda m: (m.ts, m.line))
        for message in messages:
            try:
                produced = list(self._fold(message))
            # Read, but not a valid event: e.g. a user id longer than the contract allows.
            except MALFORMED as exc:
                yield self.report.reject(message.line, f"{type(exc).__name__}: {exc}", message.text)
                continue
            if not produced:
                self.report.skip(NO_STATE_CHANGE)
                continue
            self.report.accepted += 1
            self.report.events.update(event.type for event in produced)
            yield from produced

    def _fold(self, message: _Message) -> Iterator[Event]:
        user = message.user
        if message.presence is not None:
            self._presence[user] = message.presence
        if message.routing is not None:
            self._routing[user] = (message.routing, message.since)
        routing, since = self._routing.get(user, (None, ""))
        state = effective_state(self._presence.get(user), routing)
        before = self._state.get(user, ("logged_out", ""))
        if state is None or state == before:
            return
        self._state[user] = state
        team = self.mapping.teams.get(user, "default")
        common = {"tenant": self.mapping.tenant, "agent_id": user, "team": team,
                  "source": self.mapping.team_sources.get(team, self.mapping.in_house)}  # fmt: skip
        name, reason = state

        def eid(kind: str) -> uuid.UUID:
            return uuid.uuid5(_NAMESPACE, f"{self.mapping.tenant}/{user}/{message.ts.isoformat()}/{kind}")

        if before[0] == "logged_out" and name != "logged_out":
            yield AgentLogin(event_id=eid("login"), ts=message.ts, **common)
        if name == "on_contact":
            yield AgentOnContact(event_id=eid(name), ts=message.ts, contact_id=f"routing:{since}", **common)
        elif name == "ready":
            yield AgentReady(event_id=eid(name), ts=message.ts, **common)
        elif name == "not_ready":
            yield AgentNotReady(event_id=eid(name), ts=message.ts, reason=reason, **common)
        else:
            yield AgentLogout(event_id=eid(name), ts=message.ts, **common)


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[Event]:
    """A recorded notification channel's events in event-time order: the adapter already orders the messages
    by their own time (the topics arrive out of order), so the file is read whole before the first event;
    `report` is complete when the iterator is exhausted."""
    adapter = GenesysUserAdapter(UserMapping(tenant=options.tenant), report)
    for item in adapter.adapt_numbered(text_lines(path, report)):
        if not isinstance(item, Reject):
            yield item
