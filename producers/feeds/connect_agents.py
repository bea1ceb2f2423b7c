"""Amazon Connect agent event stream (Kinesis records, one JSON per line) to canonical agent-state events.

Pure, one pass with each agent's last effective state. Source: Connect admin guide "Agent event streams data
model". The effective state is status x contacts: a contact CONNECTED (or on hold) = on contact; a contact
ENDED (after-contact work is implicit in Connect) = ACW; otherwise the status: `Available` = ready, `Offline`
= logged out, any other (custom) status = not ready with that name as reason. HEART_BEATs and STATE_CHANGEs
that change nothing of that (configuration changes: routing profile, hierarchy, ...) emit nothing, and are
counted. Duplicates (the stream is at-least-once) are dropped by `EventId`, and counted.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from producers.feeds.rejects import MALFORMED
from producers.feeds.rejects import Reject
from streams.events import AgentAfterContactWork
from streams.events import AgentLogin
from streams.events import AgentLogout
from streams.events import AgentNotReady
from streams.events import AgentOnContact
from streams.events import AgentReady
from streams.events import Event


@dataclass
class AgentStreamReport:
    records: int = 0
    emitted: int = 0
    unchanged: Counter[str] = field(default_factory=Counter)  # heartbeats and configuration-only changes
    duplicates: int = 0
    rejected: int = 0


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
    def __init__(self, mapping: AgentMapping) -> None:
        self.mapping = mapping
        self.report = AgentStreamReport()
        self._last: dict[str, tuple[str, str]] = {}
        self._seen: set[str] = set()

    def adapt(self, lines: Iterable[str]) -> Iterator[Event | Reject]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            self.report.records += 1
            try:
                record = json.loads(line)
                produced = list(self._record(record))
            except MALFORMED as exc:
                self.report.rejected += 1
                yield Reject(number, f"{type(exc).__name__}: {exc}")
                continue
            self.report.emitted += len(produced)
            yield from produced

    def _record(self, record: dict[str, Any]) -> Iterator[Event]:
        event_id = record["EventId"]
        if event_id in self._seen:
            self.report.duplicates += 1
            return
        self._seen.add(event_id)
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
            self._last[agent] = ("not_ready", "login")
            yield AgentLogin(event_id=base, ts=ts, **common)
            return
        if kind == "LOGOUT":
            self._last[agent] = ("logged_out", "")
            yield AgentLogout(event_id=base, ts=ts, **common)
            return
        if kind == "HEART_BEAT":
            self.report.unchanged["HEART_BEAT"] += 1
            return
        if kind != "STATE_CHANGE":
            raise ValueError(f"unknown EventType {kind!r}")
        state = _state(snapshot)
        if self._last.get(agent) == state:
            self.report.unchanged["configuration change"] += 1
            return
        self._last[agent] = state
        name, detail = state
        if name == "on_contact":
            yield AgentOnContact(event_id=base, ts=ts, contact_id=detail, **common)
        elif name == "acw":
            yield AgentAfterContactWork(event_id=base, ts=ts, contact_id=detail, **common)
        elif name == "ready":
            yield AgentReady(event_id=base, ts=ts, **common)
        elif name == "not_ready":
            yield AgentNotReady(event_id=base, ts=ts, reason=detail, **common)
        else:
            yield AgentLogout(event_id=base, ts=ts, **common)
