"""Asterisk `queue_log` (`unix_ts|callid|queue|agent|EVENT|data1|data2|...`) to canonical events.

Every event the queue log can hold is either mapped or skipped under a named kind, and only malformed lines are
rejected, so `FeedReport.unaccounted` is 0 and a skipped event is never mistaken for a lost one. The events are
those of docs.asterisk.org "Queue Logs" and of app_queue.c's `ast_queue_log` calls (PAUSE, UNPAUSE, PAUSEALL,
UNPAUSEALL are written there without being listed), plus those the common dialplans write with `QueueLog()`:
Wazo's FULL, JOINEMPTY, LEAVEEMPTY, CLOSED, DIVERT_CA_RATIO and DIVERT_HOLDTIME (its `stat_call_on_queue`
statuses), the JOINUNAVAIL and LEAVEUNAVAIL of Asterisk's QUEUESTATUS, and the DID (number dialled) and INFO
(free text) that FreePBX's and QueueMetrics' dialplans write. A name outside that list is rejected: it is
either a typo or a site's own dialplan event, whose meaning we cannot know.

Mapping, and why:
- ENTERQUEUE(url|callerid|origpos) -> offered (the call's first queue only: a customer call is offered once)
  + queued. A later entry of the same call id is a new leg `<initial>.<n>`; after a transfer it is queued with
  `transferred_in` (the same call again, not a new offered one).
- CONNECT(holdtime|bridged uniqueid|ringtime) -> answered after holdtime s in this queue; its total wait runs
  from the call's first queue entry.
- COMPLETEAGENT / COMPLETECALLER(holdtime|calltime|origpos) -> ended with calltime s of talk.
- ABANDON(pos|origpos|waittime) -> abandoned: the caller hung up waiting.
- EXITWITHTIMEOUT(pos|origpos|waittime) -> overflowed, trigger "timeout" (Wazo's `timeout` status): the queue's
  own timer sent the call on; where to is the dialplan's business, so the target is the source of the queue
  mapped as `<call type>:overflow`, if any, and the call's next ENTERQUEUE is its next leg.
- TRANSFER / BLINDTRANSFER(extension|context|holdtime|calltime|origpos) -> transferred + ended (calltime):
  internal, to that queue, when the extension is a queue of the mapping or one the log has named, else
  external.
  ATTENDEDTRANSFER(method|method-data|holdtime|calltime|origpos) names how the bridges were joined (BRIDGE,
  APP, LINK), never a destination: transferred external + ended.
- FULL, JOINEMPTY, JOINUNAVAIL, CLOSED, DIVERT_CA_RATIO, DIVERT_HOLDTIME: the call was refused at the queue's
  door (no ENTERQUEUE precedes them). Wazo counts each as a call of the queue, against its answered rate, so
  the call is offered (once, if it was not already) and never queued: the engine counts it as arrived at the
  enterprise ACD (overflow table) and not in any queue's offered, answered or abandoned. The refusal itself has
  no canonical event: `observed["refused_<event>"]`.
- EXITEMPTY / LEAVEEMPTY / LEAVEUNAVAIL (no reachable agent left) and EXITWITHKEY (the caller pressed a menu
  key) end the queue leg without an answer. They are not abandons (the caller did not hang up; Wazo reports
  `leaveempty` apart from `abandoned`) and not an overflow (no timer expired, and the contract's triggers are
  timeout, split and call type only), so no outcome event is made: the leg stays in its queue's offered, counts
  against answered and service level, and not against abandonment. Counted in `observed["left_no_agents"]` and
  `observed["exit_with_key"]`, skipped as "no canonical event".
- RINGNOANSWER(ringtime ms), RINGCANCELED, AGENTDUMP, SYSCOMPAT: an attempt on an agent that did not become
  the call's outcome (the outcome line follows); `observed` counts them (and the ms rang without an answer).
- Agent state is one per agent (canonical agent events name no queue), changed only when it changes:
  ADDMEMBER / AGENTLOGIN / AGENTCALLBACKLOGIN -> login + ready for an agent in no queue yet; REMOVEMEMBER ->
  logout when it leaves its last queue; AGENTLOGOFF / AGENTCALLBACKLOGOFF -> logout; PAUSE / PAUSEALL -> not
  ready (the reason, or "paused"), and again when a paused agent's reason changes; UNPAUSE / UNPAUSEALL ->
  ready. app_queue writes a PAUSEALL without a reason and then a PAUSE, with the reason, per queue (so one pause
  of all queues is not ready "paused", then not ready for its reason), and an ADDMEMBER per queue: the repeats
  are skipped as "agent state unchanged".
- QUEUESTART, CONFIGRELOAD, DID, INFO carry no contact-center fact: skipped as "not a call event".

Rejected, with the line number, reason and text: fewer than 5 fields (a partial last line too), a time that is not
an integer epoch (queue_log writes whole seconds; a realtime table's datetime is another format), a call event
without a call id or for a call that never entered a queue (or whose leg has ended), an agent event without an
agent, a documented number that is not one (a CONNECT's holdtime), and an undocumented event name. Quirks that
are not errors: `NONE` as agent, call id or queue where the event has none; data fields fewer than documented
(older versions: a missing wait or talk time is taken from the log's own times and counted as a correction);
trailing empty fields (the realtime layout's empty data1..data5 columns); CRLF line ends.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import deque
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from producers.feeds.rejects import MALFORMED
from producers.feeds.rejects import Reject
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.report import text_lines
from streams.events import AgentLogin
from streams.events import AgentLogout
from streams.events import AgentNotReady
from streams.events import AgentReady
from streams.events import CallerHasher
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactOffered
from streams.events import ContactOverflowed
from streams.events import ContactQueued
from streams.events import ContactTransferred
from streams.events import Event

__all__ = ["DOCUMENTED", "QueueLogAdapter", "QueueMap", "Reject", "read"]

# Every event a queue_log holds, with its data fields as documented (the first ones a version may leave out).
DOCUMENTED: dict[str, tuple[str, ...]] = {
    # docs.asterisk.org "Queue Logs"
    "ABANDON": ("position", "origposition", "waittime"),
    "ADDMEMBER": (),
    "AGENTDUMP": (),
    "AGENTLOGIN": ("channel",),
    "AGENTCALLBACKLOGIN": ("exten@context",),
    "AGENTLOGOFF": ("channel", "logintime"),
    "AGENTCALLBACKLOGOFF": ("exten@context", "logintime", "reason"),
    "ATTENDEDTRANSFER": ("method", "method-data", "holdtime", "calltime", "origposition"),
    "BLINDTRANSFER": ("extension", "context", "holdtime", "calltime", "origposition"),
    "COMPLETEAGENT": ("holdtime", "calltime", "origposition"),
    "COMPLETECALLER": ("holdtime", "calltime", "origposition"),
    "CONFIGRELOAD": (),
    "CONNECT": ("holdtime", "bridgedchanneluniqueid", "ringtime"),
    "ENTERQUEUE": ("url", "callerid", "origposition", "calleridname"),
    "EXITEMPTY": ("position", "origposition", "waittime"),
    "EXITWITHKEY": ("key", "position", "origposition", "waittime"),
    "EXITWITHTIMEOUT": ("position", "origposition", "waittime"),
    "QUEUESTART": (),
    "REMOVEMEMBER": (),
    "RINGNOANSWER": ("ringtime",),
    "RINGCANCELED": (),
    "SYSCOMPAT": (),
    "TRANSFER": ("extension", "context", "holdtime", "calltime", "origposition"),
    # app_queue.c set_member_paused, not in the list above
    "PAUSE": ("reason",),
    "UNPAUSE": ("reason",),
    "PAUSEALL": ("reason",),
    "UNPAUSEALL": ("reason",),
    # Wazo's dialplan (wazo.readthedocs.io queue_log) and Asterisk's QUEUESTATUS values
    "FULL": (),
    "JOINEMPTY": (),
    "JOINUNAVAIL": (),
    "LEAVEEMPTY": (),
    "LEAVEUNAVAIL": (),
    "CLOSED": (),
    "DIVERT_CA_RATIO": (),
    "DIVERT_HOLDTIME": (),
    # FreePBX's and QueueMetrics' dialplans: the number dialled, and free text
    "DID": ("did",),
    "INFO": ("info",),
}
NOT_CALL_EVENTS = frozenset({"QUEUESTART", "CONFIGRELOAD", "DID", "INFO"})
REFUSED = frozenset({"FULL", "JOINEMPTY", "JOINUNAVAIL", "CLOSED", "DIVERT_CA_RATIO", "DIVERT_HOLDTIME"})
LEFT_NO_AGENTS = frozenset({"EXITEMPTY", "LEAVEEMPTY", "LEAVEUNAVAIL"})
ATTEMPTS = {"RINGNOANSWER": "ring_no_answer", "RINGCANCELED": "ring_canceled", "AGENTDUMP": "agent_dump",
            "SYSCOMPAT": "dropped_incompatible"}  # fmt: skip
LOGINS = frozenset({"ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN"})
LOGOUTS = frozenset({"REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF"})
PAUSES = frozenset({"PAUSE", "PAUSEALL"})
UNPAUSES = frozenset({"UNPAUSE", "UNPAUSEALL"})
AGENT_EVENTS = LOGINS | LOGOUTS | PAUSES | UNPAUSES
TRANSFERS = frozenset({"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"})

_NAMESPACE = uuid.UUID("2b8f7a40-95f2-4c3e-8d31-6b9a1e0c4f12")
_NONE = frozenset({"", "NONE"})
# A call whose queue legs have all ended is remembered this long, for its next leg (a transfer, an overflow).
_FORGET_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class QueueMap:
    """Which source and call type a queue stands for (a vendor's queue on the enterprise PBX, say)."""

    source: str = "in-house"
    call_type: str | None = None  # None: the queue name


@dataclass
class _Leg:
    contact_id: str
    queue: str
    source: str
    call_type: str
    enqueued: datetime
    agent: str = ""
    connected: datetime | None = None


@dataclass
class _Call:
    initial: str
    first_enqueued: datetime | None  # None while the call has only been refused at a queue's door
    legs: int = 0
    leg: _Leg | None = None  # the queue leg the call is in now
    transferred: bool = False  # its last leg ended in a transfer: its next queue entry is a transfer in
    ended: datetime | None = None


@dataclass
class _Agent:
    queues: set[str]
    logged_in: bool = False  # by AGENTLOGIN / AGENTCALLBACKLOGIN, whatever its queues
    ready: bool | None = None  # None: not known (logged out, or not seen yet)
    reason: str = ""  # why it is not ready


class QueueLogAdapter:
    """Lines to events; keeps each call's queue leg and each agent's state while they last, and fills `report`."""

    def __init__(
        self,
        tenant: str = "default",
        queues: dict[str, QueueMap] | None = None,
        agent_source: str = "in-house",
        team: str = "default",
        report: FeedReport | None = None,
        caller_key: bytes = b"",
    ) -> None:
        self.tenant = tenant
        self.queues = queues or {}
        self.agent_source = agent_source
        self.team = team
        self.report = report if report is not None else FeedReport("asterisk")
        self._hash = CallerHasher(caller_key) if caller_key else None
        self._id_prefix = hashlib.sha1(_NAMESPACE.bytes + f"{tenant}/".encode(), usedforsecurity=False)
        self._calls: dict[str, _Call] = {}
        self._ended: deque[tuple[datetime, str]] = deque()
        self._agents: dict[str, _Agent] = {}
        self._queues_seen: set[str] = set()  # the queues the log has named: a transfer there is internal
        self._corrections: list[str] = []  # the line's repairs, counted once it is accepted or skipped
        self._skipped = 0  # lines skipped so far, so `line` can tell a line counted nowhere (a bug)

    def adapt(self, lines: Iterable[str]) -> Iterator[Event | Reject]:
        """Events and rejects of lines already in memory (tests, the fuzzer, replay), counting them as read."""
        for number, raw in enumerate(lines, start=1):
            self.report.read += 1
            text = raw.rstrip("\r\n")
            if not text.strip():
                self.report.blank += 1
                continue
            yield from self.line(number, text)

    def line(self, number: int, text: str) -> Iterator[Event | Reject]:
        """One non-blank line: its events (the line accepted), nothing (skipped, counted by kind) or its reject."""
        self._corrections.clear()
        skipped = self._skipped
        try:
            produced = list(self._line(number, text))
        except MALFORMED as exc:
            yield self.report.reject(number, str(exc) or type(exc).__name__, text)
            return
        if not produced and self._skipped == skipped:
            raise RuntimeError(f"line {number} is in no count: an adapter bug")  # unaccounted would be > 0
        for kind in self._corrections:
            self.report.correct(kind)
        if produced:
            self.report.accepted += 1
            for event in produced:
                self.report.events[event.type] += 1
        yield from produced

    def _skip(self, kind: str) -> None:
        self._skipped += 1
        self.report.skip(kind)

    def _id(self, number: int, role: str) -> uuid.UUID:
        """`uuid5(_NAMESPACE, "tenant/line/role")`, with the namespace and tenant hashed once (a quarter of the
        adapter's time went to uuid5): the same line read again has the same id, so a re-replay de-duplicates."""
        digest = self._id_prefix.copy()
        digest.update(f"{number}/{role}".encode())
        return uuid.UUID(bytes=digest.digest()[:16], version=5)

    def _line(self, number: int, text: str) -> Iterator[Event]:
        """A line's events; a line that yields none has been counted as skipped (always as its last step, so a
        line that raises is only ever a reject)."""
        parts = text.split("|")
        if len(parts) < 5:
            raise ValueError(f"{len(parts)} fields, expected at least 5 (time|callid|queue|agent|event)")
        stamp, callid, queue, agent, event, *data = (part.strip() for part in parts)
        if not (stamp.isascii() and stamp.isdigit()):
            raise ValueError(f"time {stamp!r} is not an integer epoch")
        ts = datetime.fromtimestamp(int(stamp), tz=UTC)
        if event not in DOCUMENTED:
            raise ValueError(f"{event!r} is not a documented queue_log event")
        self._forget(ts)
        if event in NOT_CALL_EVENTS:
            self._skip(f"not a call event: {event}")
        elif event in AGENT_EVENTS:
            yield from self._agent_event(number, ts, event, agent, queue, data)
        elif callid in _NONE:
            raise ValueError(f"{event} without a call id")
        elif event == "ENTERQUEUE":
            yield from self._enter(number, ts, callid, queue, data)
        elif event in REFUSED:
            yield from self._refused(number, ts, event, callid, queue)
        else:
            yield from self._leg_event(number, ts, event, callid, agent, data)
        if queue not in _NONE and len(self._queues_seen) < 10_000:  # the line was read (not rejected)
            self._queues_seen.add(queue)

    # --- agents ---------------------------------------------------------------------------------------------

    def _agent_event(
        self, number: int, ts: datetime, event: str, agent: str, queue: str, data: list[str]
    ) -> Iterator[Event]:
        if agent in _NONE:
            raise ValueError(f"{event} without an agent")
        common = {"tenant": self.tenant, "agent_id": agent, "source": self.agent_source, "team": self.team}
        known = self._agents.get(agent)
        state = known or _Agent(set())
        in_queue = queue not in _NONE
        produced: list[Event] = []
        if event in LOGINS:
            if not (state.queues or state.logged_in):
                produced = [AgentLogin(event_id=self._id(number, "login"), ts=ts, **common),
                            AgentReady(event_id=self._id(number, "ready"), ts=ts, **common)]  # fmt: skip
                state.ready = True
            if event == "ADDMEMBER" and in_queue:
                state.queues.add(queue)
            else:
                state.logged_in = True
        elif event in LOGOUTS:
            # Logged in as far as the log shows, or seen only pausing (the log began after its log-in).
            was_in = known is None or bool(state.queues or state.logged_in) or state.ready is not None
            if event == "REMOVEMEMBER":
                state.queues.discard(queue)
            else:
                state.queues.clear()
                state.logged_in = False
            if was_in and not (state.queues or state.logged_in):
                produced = [AgentLogout(event_id=self._id(number, "logout"), ts=ts, **common)]
                state.ready = None
        elif event in PAUSES:
            given = (data[0] if data else "")[:64]
            if state.ready is not False or (given and given != state.reason):
                reason = given or "paused"
                produced = [AgentNotReady(event_id=self._id(number, "pause"), ts=ts, reason=reason, **common)]
                state.ready, state.reason = False, reason
        elif state.ready is not True:  # UNPAUSE, UNPAUSEALL
            produced = [AgentReady(event_id=self._id(number, "unpause"), ts=ts, **common)]
            state.ready = True
        self._agents[agent] = state
        if not produced:
            self._skip(f"agent state unchanged: {event}")
        yield from produced

    # --- calls ----------------------------------------------------------------------------------------------

    def _mapped(self, queue: str) -> tuple[str, str]:
        mapping = self.queues.get(queue, QueueMap())
        return mapping.source, mapping.call_type or queue

    def _common(self, contact_id: str, initial: str, source: str, call_type: str) -> dict[str, str]:
        return {"tenant": self.tenant, "contact_id": contact_id, "initial_contact_id": initial, "source": source,
                "call_type": call_type}  # fmt: skip

    def _enter(self, number: int, ts: datetime, callid: str, queue: str, data: list[str]) -> Iterator[Event]:
        if queue in _NONE:
            raise ValueError("ENTERQUEUE without a queue")
        call = self._calls.get(callid)
        if call is not None and call.leg is not None:
            raise ValueError(f"ENTERQUEUE for call {callid!r} already in queue {call.leg.queue!r}")
        source, call_type = self._mapped(queue)
        initial = call.initial if call is not None else f"{self.tenant}-{callid}"
        legs = (call.legs if call is not None else 0) + 1
        contact_id = initial if legs == 1 else f"{initial}.{legs}"
        common = self._common(contact_id, initial, source, call_type)
        produced: list[Event] = []
        if call is None:
            caller = data[1] if len(data) > 1 else ""
            caller_hash = self._hash(caller) if self._hash is not None and caller else None
            produced.append(ContactOffered(event_id=self._id(number, "offered"), ts=ts, caller_hash=caller_hash,
                                           **common))  # fmt: skip
        transferred_in = call is not None and call.transferred
        produced.append(ContactQueued(event_id=self._id(number, "queued"), ts=ts, queue=queue[:64],
                                      transferred_in=transferred_in, **common))  # fmt: skip
        if call is None:
            call = self._calls[callid] = _Call(initial, ts)
        call.first_enqueued = call.first_enqueued or ts
        call.legs = legs
        call.leg = _Leg(contact_id, queue, source, call_type, ts)
        call.transferred = False
        yield from produced

    def _refused(self, number: int, ts: datetime, event: str, callid: str, queue: str) -> Iterator[Event]:
        if callid in self._calls:
            self.report.observed[f"refused_{event.lower()}"] += 1
            self._skip(f"no canonical event (the call was offered already): {event}")
            return
        source, call_type = self._mapped(queue)
        initial = f"{self.tenant}-{callid}"
        offered = ContactOffered(event_id=self._id(number, "offered"), ts=ts,
                                 **self._common(initial, initial, source, call_type))  # fmt: skip
        self.report.observed[f"refused_{event.lower()}"] += 1
        self._calls[callid] = _Call(initial, None, ended=ts)
        self._ended.append((ts, callid))
        yield offered

    def _leg_event(
        self, number: int, ts: datetime, event: str, callid: str, agent: str, data: list[str]
    ) -> Iterator[Event]:
        call = self._calls.get(callid)
        if call is None:
            raise ValueError(f"{event} for call {callid!r} that never entered a queue")
        leg = call.leg
        if leg is None:
            raise ValueError(f"{event} for call {callid!r} whose queue leg has ended")
        common = self._common(leg.contact_id, call.initial, leg.source, leg.call_type)
        first = call.first_enqueued or leg.enqueued
        if event in ATTEMPTS:
            if event == "RINGNOANSWER":
                rang_ms = _number(data, 0, event, "ringtime")
                self.report.observed["ring_no_answer_ms"] += rang_ms or 0
            self.report.observed[ATTEMPTS[event]] += 1
            self._skip(f"no canonical event: {event}")
        elif event == "CONNECT":
            if leg.connected is not None:
                raise ValueError(f"CONNECT for call {callid!r} already connected")
            if agent in _NONE:
                raise ValueError("CONNECT without an agent")
            wait_s = _number(data, 0, event, "holdtime")
            if wait_s is None:  # in every version since the first: a CONNECT without it is damaged
                raise ValueError("CONNECT holdtime '' is not a number")
            answered = ContactAnswered(event_id=self._id(number, "answered"), ts=ts, agent_id=agent,
                                       wait_ms=wait_s * 1000, total_wait_ms=max(_ms(ts - first), wait_s * 1000),
                                       **common)  # fmt: skip
            leg.agent, leg.connected = agent, ts
            yield answered
        elif event in ("COMPLETEAGENT", "COMPLETECALLER") or event in TRANSFERS:
            if leg.connected is None:
                raise ValueError(f"{event} for call {callid!r} that was never connected")
            talk_s = self._seconds(
                data, 1 if event.startswith("COMPLETE") else 3, event, "calltime", ts, leg.connected
            )
            who = leg.agent or agent
            produced: list[Event] = []
            if event in TRANSFERS:
                destination = data[0] if data and event != "ATTENDEDTRANSFER" else ""
                internal = destination in self.queues or destination in self._queues_seen
                produced.append(ContactTransferred(event_id=self._id(number, "transferred"), ts=ts, agent_id=who,
                                                   kind="internal" if internal else "external",
                                                   to_queue=destination[:64] if internal else None, **common))  # fmt: skip
            produced.append(ContactEnded(event_id=self._id(number, "ended"), ts=ts, agent_id=who,
                                         talk_ms=talk_s * 1000, **common))  # fmt: skip
            self._end(call, callid, ts, transferred=event in TRANSFERS)
            yield from produced
        else:  # the call left the queue unanswered: ABANDON, EXITWITHTIMEOUT, EXITEMPTY, LEAVE*, EXITWITHKEY
            if leg.connected is not None:
                raise ValueError(f"{event} for call {callid!r} already connected")
            index = 3 if event == "EXITWITHKEY" else 2
            produced = []
            if event in ("ABANDON", "EXITWITHTIMEOUT"):
                wait_ms = self._seconds(data, index, event, "waittime", ts, leg.enqueued) * 1000
            else:  # no event carries the wait: only checked
                _number(data, index, event, "waittime")
            if event == "ABANDON":
                produced.append(ContactAbandoned(event_id=self._id(number, "abandoned"), ts=ts, wait_ms=wait_ms,
                                                 total_wait_ms=max(_ms(ts - first), wait_ms), **common))  # fmt: skip
            elif event == "EXITWITHTIMEOUT":
                target = self.queues.get(f"{leg.call_type}:overflow", QueueMap(source="unknown")).source
                produced.append(ContactOverflowed(event_id=self._id(number, "overflowed"), ts=ts, to_source=target,
                                                  trigger="timeout", wait_ms=wait_ms, **common))  # fmt: skip
            self._end(call, callid, ts, transferred=False)
            if not produced:
                self.report.observed["exit_with_key" if event == "EXITWITHKEY" else "left_no_agents"] += 1
                self._skip(f"no canonical event: {event}")
            yield from produced

    def _seconds(
        self, data: list[str], index: int, event: str, name: str, ts: datetime, since: datetime
    ) -> int:
        """A documented duration in seconds, or (left out by an older version) the one the log's times give."""
        value = _number(data, index, event, name)
        if value is not None:
            return value
        self._corrections.append(f"{event} {name} missing: taken from the log's times")
        return max(0, int((ts - since).total_seconds()))

    def _end(self, call: _Call, callid: str, ts: datetime, transferred: bool) -> None:
        call.leg = None
        call.transferred = transferred
        call.ended = ts
        self._ended.append((ts, callid))

    def _forget(self, now: datetime) -> None:
        """Calls whose legs all ended long before `now`, so a day's log keeps only the calls still going."""
        horizon = now - _FORGET_AFTER
        while self._ended and self._ended[0][0] < horizon:
            _, callid = self._ended.popleft()
            call = self._calls.get(callid)
            if call is not None and call.leg is None and call.ended is not None and call.ended < horizon:
                del self._calls[callid]


def _number(data: list[str], index: int, event: str, name: str) -> int | None:
    """Data field `index` as a whole number; None when the line leaves it out (or empty, as realtime writes)."""
    value = data[index] if index < len(data) else ""
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"{event} {name} {value!r} is not a number")
    return int(value)


def _ms(delta: timedelta) -> int:
    return max(0, int(delta / timedelta(milliseconds=1)))


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[Event]:
    """A queue_log file's events, streamed in file order, which is event-time order: Asterisk appends each line as
    it happens, and one line's events share its time. Fills `report` (rejects with line number, reason, text)."""
    adapter = QueueLogAdapter(tenant=options.tenant, report=report, caller_key=options.caller_key)
    for number, text in text_lines(path, report):
        for item in adapter.line(number, text):
            if not isinstance(item, Reject):
                yield item
