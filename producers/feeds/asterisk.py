"""Asterisk `queue_log` (`unix_ts|callid|queue|agent|EVENT|data...`) to canonical events.

A pure adapter over lines (it keeps each call's queue entry while the call lasts); reading the file is the
caller's business. Source: docs.asterisk.org "Queue Logs". Mapping:
ENTERQUEUE -> offered (first queue of the call) + queued; CONNECT(holdtime) -> answered after holdtime s;
COMPLETEAGENT / COMPLETECALLER(holdtime|calltime) -> ended; ABANDON(pos|origpos|waittime) -> abandoned;
EXITWITHTIMEOUT(pos|origpos|waittime) -> overflowed (trigger timeout; the next ENTERQUEUE of the call is its
new leg); TRANSFER(ext|context|holdtime|calltime) -> transferred (external) + ended; AGENTLOGIN / ADDMEMBER ->
login + ready; AGENTLOGOFF / REMOVEMEMBER -> logout; PAUSE(reason) -> not ready; UNPAUSE -> ready.
Events that carry no contact-center fact (RINGNOANSWER, CONFIGRELOAD, QUEUESTART, ...) are counted as ignored,
never silently dropped; malformed lines are rejected with their line number and reason.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from producers.feeds.rejects import MALFORMED
from producers.feeds.rejects import Reject
from streams.events import AgentLogin
from streams.events import AgentLogout
from streams.events import AgentNotReady
from streams.events import AgentReady
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactOffered
from streams.events import ContactOverflowed
from streams.events import ContactQueued
from streams.events import ContactTransferred
from streams.events import Event

IGNORED = frozenset(
    {"RINGNOANSWER", "CONFIGRELOAD", "QUEUESTART", "DID", "INFO", "SYSCOMPAT", "RINGCANCELED"}
)
_NAMESPACE = uuid.UUID("2b8f7a40-95f2-4c3e-8d31-6b9a1e0c4f12")


@dataclass(frozen=True)
class QueueMap:
    """Which source and call type a queue stands for (a vendor's queue on the enterprise PBX, say)."""

    source: str = "in-house"
    call_type: str | None = None  # None: the queue name


@dataclass
class AsteriskReport:
    accepted: int = 0
    rejected: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)


@dataclass
class _Leg:
    contact_id: str
    initial: str
    source: str
    call_type: str
    enqueued: datetime
    first_enqueued: datetime
    agent: str = ""


class QueueLogAdapter:
    def __init__(
        self,
        tenant: str = "default",
        queues: dict[str, QueueMap] | None = None,
        agent_source: str = "in-house",
        team: str = "default",
    ) -> None:
        self.tenant = tenant
        self.queues = queues or {}
        self.agent_source = agent_source
        self.team = team
        self.report = AsteriskReport()
        self._legs: dict[str, _Leg] = {}
        self._leg_count: Counter[str] = Counter()

    def _id(self, *parts: object) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, "/".join(str(part) for part in (self.tenant, *parts)))

    def adapt(self, lines: Iterable[str]) -> Iterator[Event | Reject]:
        for number, raw in enumerate(lines, start=1):
            text = raw.rstrip("\r\n")
            if not text.strip():
                continue
            try:
                produced = list(self._line(number, text))
            except MALFORMED as exc:
                self.report.rejected += 1
                yield Reject(number, str(exc) or type(exc).__name__, text)
                continue
            self.report.accepted += 1
            for event in produced:
                self.report.events[event.type] += 1
            yield from produced

    def _line(self, number: int, text: str) -> Iterator[Event]:
        parts = text.split("|")
        if len(parts) < 5:
            raise ValueError(f"{len(parts)} fields, expected at least 5 (time|callid|queue|agent|event)")
        stamp, callid, queue, agent, event, *data = parts
        ts = datetime.fromtimestamp(int(stamp), tz=UTC)
        if event in IGNORED or event == "NONE":
            self.report.ignored[event] += 1
            return
        common_agent = {
            "tenant": self.tenant,
            "agent_id": agent,
            "source": self.agent_source,
            "team": self.team,
        }
        if event in ("AGENTLOGIN", "ADDMEMBER"):
            yield AgentLogin(event_id=self._id(number, "login"), ts=ts, **common_agent)
            yield AgentReady(event_id=self._id(number, "ready"), ts=ts, **common_agent)
        elif event in ("AGENTLOGOFF", "REMOVEMEMBER"):
            yield AgentLogout(event_id=self._id(number, "logout"), ts=ts, **common_agent)
        elif event == "PAUSE":
            reason = (data[0] if data and data[0] else "paused")[:64]
            yield AgentNotReady(event_id=self._id(number, "pause"), ts=ts, reason=reason, **common_agent)
        elif event == "UNPAUSE":
            yield AgentReady(event_id=self._id(number, "unpause"), ts=ts, **common_agent)
        elif event == "ENTERQUEUE":
            yield from self._enter(number, ts, callid, queue)
        else:
            leg = self._legs.get(callid)
            if leg is None:
                raise ValueError(f"{event} for call {callid!r} that never entered a queue")
            yield from self._call_event(number, ts, event, data, agent, leg)

    def _enter(self, number: int, ts: datetime, callid: str, queue: str) -> Iterator[Event]:
        mapping = self.queues.get(queue, QueueMap())
        previous = self._legs.get(callid)
        self._leg_count[callid] += 1
        legs = self._leg_count[callid]
        initial = previous.initial if previous else f"{self.tenant}-{callid}"
        contact_id = initial if legs == 1 else f"{initial}.{legs}"
        leg = _Leg(contact_id, initial, mapping.source, mapping.call_type or queue, ts,
                   previous.first_enqueued if previous else ts)  # fmt: skip
        self._legs[callid] = leg
        common = {"tenant": self.tenant, "contact_id": contact_id, "initial_contact_id": initial,
                  "source": leg.source, "call_type": leg.call_type}  # fmt: skip
        if previous is None:
            yield ContactOffered(event_id=self._id(number, "offered"), ts=ts, **common)
        yield ContactQueued(event_id=self._id(number, "queued"), ts=ts, queue=queue, **common)

    def _call_event(
        self, number: int, ts: datetime, event: str, data: list[str], agent: str, leg: _Leg
    ) -> Iterator[Event]:
        common = {"tenant": self.tenant, "contact_id": leg.contact_id, "initial_contact_id": leg.initial,
                  "source": leg.source, "call_type": leg.call_type}  # fmt: skip
        if event == "CONNECT":
            wait_ms = int(data[0]) * 1000
            leg.agent = agent
            total = int((ts - leg.first_enqueued) / timedelta(milliseconds=1))
            yield ContactAnswered(event_id=self._id(number, "answered"), ts=ts, agent_id=agent, wait_ms=wait_ms,
                                  total_wait_ms=max(total, wait_ms), **common)  # fmt: skip
        elif event in ("COMPLETEAGENT", "COMPLETECALLER"):
            yield ContactEnded(event_id=self._id(number, "ended"), ts=ts, agent_id=leg.agent or agent,
                               talk_ms=int(data[1]) * 1000, **common)  # fmt: skip
        elif event == "ABANDON":
            wait_ms = int(data[2]) * 1000
            total = int((ts - leg.first_enqueued) / timedelta(milliseconds=1))
            yield ContactAbandoned(event_id=self._id(number, "abandoned"), ts=ts, wait_ms=wait_ms,
                                   total_wait_ms=max(total, wait_ms), **common)  # fmt: skip
        elif event == "EXITWITHTIMEOUT":
            # Where the call goes next is the dialplan's business: the next ENTERQUEUE names the queue. The
            # overflow's target is the source of the queue configured as this one's overflow, if known.
            target = self.queues.get(f"{leg.call_type}:overflow", QueueMap(source="unknown")).source
            yield ContactOverflowed(event_id=self._id(number, "overflowed"), ts=ts, to_source=target,
                                    trigger="timeout", wait_ms=int(data[2]) * 1000, **common)  # fmt: skip
        elif event in ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"):
            calltime = int(data[3]) if len(data) > 3 and data[3].isdigit() else 0
            yield ContactTransferred(event_id=self._id(number, "transferred"), ts=ts, agent_id=leg.agent or agent,
                                     kind="external", to_queue=(data[0] or None) and data[0][:64], **common)  # fmt: skip
            yield ContactEnded(event_id=self._id(number, "ended"), ts=ts, agent_id=leg.agent or agent,
                               talk_ms=calltime * 1000, **common)  # fmt: skip
        else:
            raise ValueError(f"unknown queue_log event {event!r}")
