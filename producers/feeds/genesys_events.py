"""Genesys Cloud analytics detail-event notifications (`v2.detail.events.conversation.{id}.*`) to canonical events,
so a Genesys tenant streams live instead of waiting for the conversation-details query.

Pure and incremental: `DetailEventAdapter.push(message, number)` takes one message as a websocket client, a
webhook edge or an EventBridge target receives it and returns the events it completes; `close()` ends the
stream. `read(path, options, report)` runs it over saved files (JSON lines, or records concatenated with no
separator as EventBridge -> Firehose -> S3 writes them; a folder of such files). Sources: Genesys Cloud SDK
models AcdStartDetailEventTopicAcdStartEvent, AcdEndDetailEventTopicAcdEndEvent (acdOutcome ABANDON, ANSWERED,
FLOW_OUT, UNKNOWN), AcwDetailEventTopicAfterCallWorkEvent, CustomerStart/End, UserStart/End, FlowEnd
(exitReason, transferType) DetailEventTopic events (MyPureCloud platform-client-sdk-java build/docs).

Two envelopes carry the same body: the notification service's `{"topicName", "version", "eventBody",
"metadata"}` and EventBridge's `{"version": "0", "id", "detail-type", "source", ..., "detail": {"topicName",
"eventBody", ...}}`. `channel.metadata` messages are websocket heartbeats.

Mapping, per conversation (`conversationId`, the initial contact id):
- customer.start: the arrival, ContactOffered (caller ani hashed); direction OUTBOUND makes the whole
  conversation an outbound call, skipped. A conversation that never reaches a queue (an IVR hang-up) is no
  offered call (Genesys counts offered at queue entry): its messages are skipped as "never queued".
- acd.start: ContactQueued. Every further acd.start is a new leg `{conversationId}.N` (the queue transfer Genesys
  fires it for). If the leg before ended FLOW_OUT, the in-queue flow moved the call: ContactOverflowed to the
  in-house source, trigger `timeout` when it had waited (> 0 ms, the in-queue flow's "transfer after a wait"),
  `call_type` when it was moved on arrival (a routing rule, not a wait). If the leg before was ANSWERED, its
  agent transferred it: ContactTransferred (internal) and the new leg queued as `transferred_in`.
- acd.end: ANSWERED -> ContactAnswered by `answeredUserId`, wait = eventTime(acd.end) - eventTime(acd.start).
  `connectedDurationMs` is the ACD session's own connected time, the same span measured by Genesys; it is used
  only when the acd.start was lost. ABANDON -> ContactAbandoned. FLOW_OUT without a next queue: the flow's
  flow.end names the transfer; transferType NUMBER to a number in `GenesysMapping.external_numbers` is an
  enterprise-routed redirect to that vendor (ContactOverflowed + ContactRedirected, as the conversation-details
  adapter maps an `external` participant); to another number, to the source `external`; any other
  transferType (voicemail, a user, a flow) has no source to name and is counted in `report.observed`.
- user.end of the answering agent: ContactEnded, talk = interactingDurationMs, hold = heldDurationMs.
- acw of the agent: ContactWrapupEnded, acw = wrapupDurationMs (the wrap-up code, which no canonical event
  carries, is counted in `report.observed`).
- customer.end: the call is over (kept for completeness; its disconnectType names who hung up).
flow.start, attributes, voicemail.*, outbound and any other detail topic carry no queue fact: skipped, by kind.

The notification service delivers at least once and out of order, so messages are de-duplicated on (topic,
conversationId, participantId, sessionId, eventTime) and a conversation is held until it is complete
(customer.start and .end seen, every queue leg ended, an answered leg's user.end and acw seen, a flow-out's
destination known) and has settled (event time, the latest eventTime read, `SETTLE` past its last message, so
a message still in flight joins it), or until `HORIZON` of event time has passed since its last message (then
what is known is emitted and `closed by horizon` counted; at the end of input, `closed at end of input`). A closed conversation's keys are kept for another horizon, so a
late duplicate is still recognised; memory stays bounded by the horizon on a stream of any length. A held
message is counted (accepted or skipped) when its conversation is emitted: `held` says how many are waiting.
Each conversation's events come out in event-time order (the order of their Kafka key); ids are uuid5 of the
tenant, leg and event kind, so a replay and a live run of the same messages give the same events.
"""

from __future__ import annotations

import heapq
import json
import uuid
from collections import deque
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from producers.feeds.genesys import GenesysMapping
from producers.feeds.genesys import load_mapping
from producers.feeds.rejects import MALFORMED
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.report import input_files
from streams.events import MAX_DURATION_MS
from streams.events import CallerHasher
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactEvent
from streams.events import ContactOffered
from streams.events import ContactOverflowed
from streams.events import ContactQueued
from streams.events import ContactRedirected
from streams.events import ContactTransferred
from streams.events import ContactWrapupEnded

FORMAT = "genesys-events"
# A Genesys voice conversation longer than this without a single message is over: its missing messages are
# lost, not late. Four hours holds the longest calls and wrap-ups seen; a day's stream holds a few thousand.
HORIZON = timedelta(hours=4)
# The notification service delivers a conversation's messages up to about a minute apart from their event
# order: a complete conversation is held until event time has moved this far past its last message, so a
# message still in flight (a late acd.start, say) joins it instead of arriving after it was emitted.
SETTLE = timedelta(seconds=60)
_NAMESPACE = uuid.UUID("5d2c8e71-4a09-4b6f-a3e5-7f18c0b94d26")
_MS = timedelta(milliseconds=1)
_FIRST_MS, _LAST_MS = 946_684_800_000, 4_102_444_800_000  # 2000-01-01 and 2100-01-01: the horizon's sums fit
_PREFIX = "v2.detail.events.conversation."
# Kinds that make the call's events; flow.end is held too, since it names where a flow-out went.
CALL_KINDS = frozenset(
    {"customer.start", "customer.end", "acd.start", "acd.end", "user.start", "user.end", "acw"}
)
ACD_OUTCOMES = frozenset({"ABANDON", "ANSWERED", "FLOW_OUT", "UNKNOWN"})
# A flow-out whose flow.end says this is going to another queue: the next acd.start completes it.
_TO_QUEUE = "ACD"


_Key = tuple[str, str, str, str, datetime]


@dataclass(frozen=True)
class _Message:
    seq: int  # order of arrival in this adapter, unique across the files of a folder
    number: int
    source: str
    text: str
    kind: str  # the topic after the conversation id: acd.start, acw, customer.end, ...
    conversation: str
    ts: datetime
    body: dict[str, Any]

    @property
    def key(self) -> _Key:
        body = self.body
        return (self.kind, self.conversation, str(body.get("participantId", "")), str(body.get("sessionId", "")),
                self.ts)  # fmt: skip


@dataclass
class _Conversation:
    cid: str
    messages: list[_Message] = field(default_factory=list)
    keys: set[_Key] = field(default_factory=set)
    last: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is not a non-empty string")
    if len(value) > 128:
        raise ValueError(f"{name} is longer than 128 characters")
    return value


def _millis(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DURATION_MS:
        raise ValueError(f"{name} {value!r} is not a duration in ms")
    return value


def _topic_kind(topic: str) -> str:
    """A topic with its ids taken out, so skipped topics group by kind (`v2.users.{id}.presence`)."""
    parts = topic.split(".")
    return ".".join(
        part if i == 0 or not any(ch.isdigit() or ch == "-" for ch in part) else "{id}"
        for i, part in enumerate(parts)
    )


def _envelope(record: Any) -> tuple[str, Any]:
    """(topic, eventBody) of a websocket message or an EventBridge event."""
    if not isinstance(record, dict):
        raise ValueError("a message is not a JSON object")
    if "detail" in record and "detail-type" in record:
        detail = record["detail"]
        if not isinstance(detail, dict):
            raise ValueError("EventBridge detail is not an object")
        topic = detail.get("topicName") or record["detail-type"]
        return _text(topic, "detail-type"), detail.get("eventBody")
    if "topicName" in record:
        return _text(record["topicName"], "topicName"), record.get("eventBody")
    raise ValueError("neither a notification (topicName) nor an EventBridge event (detail-type, detail)")


def _parse(record: Any) -> tuple[str, str, dict[str, Any], datetime] | str:
    """(kind, conversation, body, event time) of a detail event, or the skip kind of anything else."""
    topic, body = _envelope(record)
    if topic == "channel.metadata":
        return "heartbeat"
    if not topic.startswith(_PREFIX):
        return f"not a detail event: {_topic_kind(topic)}"
    conversation, _, kind = topic.removeprefix(_PREFIX).partition(".")
    if not conversation or not kind:
        raise ValueError(f"topic {topic!r} names no conversation and kind")
    if kind not in CALL_KINDS and kind != "flow.end":
        return f"not a call event: {kind[:40]}"
    if not isinstance(body, dict):
        raise ValueError("eventBody is not an object")
    if body.get("conversationId", conversation) != conversation:
        raise ValueError(
            f"topic names conversation {conversation!r}, its body {body.get('conversationId')!r}"
        )
    _text(conversation, "conversationId")
    stamp = body.get("eventTime")
    if isinstance(stamp, bool) or not isinstance(stamp, int) or not _FIRST_MS <= stamp <= _LAST_MS:
        raise ValueError(f"eventTime {stamp!r} is not epoch milliseconds of this century")
    ts = datetime.fromtimestamp(stamp / 1000, tz=UTC)
    if kind == "acd.start" or kind == "acd.end":
        _text(body.get("queueId"), "queueId")
    if kind == "acd.end":
        if body.get("acdOutcome") not in ACD_OUTCOMES:
            raise ValueError(f"acdOutcome {body.get('acdOutcome')!r} is not one of {sorted(ACD_OUTCOMES)}")
        if body["acdOutcome"] == "ANSWERED":
            _text(body.get("answeredUserId"), "answeredUserId")
        _millis(body, "connectedDurationMs")
    if kind in ("user.start", "user.end", "acw"):
        _text(body.get("userId"), "userId")
    for name in ("interactingDurationMs", "heldDurationMs", "wrapupDurationMs"):
        _millis(body, name)
    return kind, conversation, body, ts


def _flow_end(messages: list[_Message], end: _Message) -> _Message | None:
    """The flow.end that says where a flow-out went (not to another queue: that queue's acd.start says so)."""
    return next((m for m in sorted(messages, key=lambda m: (m.ts, m.seq)) if m.kind == "flow.end"
                 and m.ts >= end.ts and m.body.get("transferType") not in (None, _TO_QUEUE)), None)  # fmt: skip


def _number(value: Any) -> str:
    return value.removeprefix("tel:") if isinstance(value, str) else ""


class DetailEventAdapter:
    """One stream of detail-event messages (a websocket channel, an EventBridge target) for one tenant."""

    def __init__(self, mapping: GenesysMapping, caller_key: bytes, report: FeedReport | None = None) -> None:
        self.mapping = mapping
        self.hasher = CallerHasher(caller_key)
        self.report = report if report is not None else FeedReport(FORMAT, unit="record")
        self.source = ""  # the file being read, named in rejects when the input is a folder
        self._seq = 0
        self._open: dict[str, _Conversation] = {}
        # Lazy heaps of (event time due, last message, conversation): a stale entry (the conversation has had a
        # message since) is dropped when it comes up.
        self._expiry: list[tuple[datetime, datetime, str]] = []
        self._settling: list[tuple[datetime, datetime, str]] = []
        # Emitted conversations: their last message, message keys and what a late message of theirs is.
        self._closed: dict[str, tuple[datetime, set[_Key], str]] = {}
        self._closed_order: deque[tuple[datetime, str, datetime]] = (
            deque()
        )  # (emitted at, conversation, last)
        self._watermark = datetime.min.replace(tzinfo=UTC)

    @property
    def held(self) -> int:
        """Messages read and waiting in open conversations, not yet in the report's counts."""
        return sum(len(conversation.messages) for conversation in self._open.values())

    def push(self, message: Mapping[str, Any] | str | bytes, number: int) -> list[ContactEvent]:
        """One message (parsed, or its raw JSON); the events of every conversation that it lets settle or that
        it outlives by the horizon."""
        self.report.read += 1
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        text = message if isinstance(message, str) else ""
        try:
            parsed = _parse(json.loads(message) if isinstance(message, str) else message)
        except MALFORMED as exc:
            self.report.reject(number, f"{type(exc).__name__}: {exc}", text or _dump(message), self.source)
            return []
        if isinstance(parsed, str):
            self.report.skip(parsed)
            return []
        kind, cid, body, ts = parsed
        self._seq += 1
        item = _Message(self._seq, number, self.source, text, kind, cid, ts, body)
        closed = self._closed.get(cid)
        if closed is not None:
            if item.key in closed[1]:
                self.report.skip("duplicate")
            elif kind == "flow.end":
                self.report.skip("not a call event: flow.end")
            else:
                self.report.skip(closed[2])
            return self._advance(ts)
        conversation = self._open.get(cid)
        if conversation is None:
            conversation = self._open[cid] = _Conversation(cid)
        if item.key in conversation.keys:
            self.report.skip("duplicate")
            return self._advance(ts)
        conversation.keys.add(item.key)
        conversation.messages.append(item)
        conversation.last = max(conversation.last, ts)
        heapq.heappush(self._expiry, (conversation.last + HORIZON, conversation.last, cid))
        if self._complete(conversation):
            heapq.heappush(self._settling, (conversation.last + SETTLE, conversation.last, cid))
        return self._advance(ts)

    def close(self) -> list[ContactEvent]:
        """The end of the stream: every open conversation emitted, the incomplete ones with what is known."""
        events: list[ContactEvent] = []
        for conversation in sorted(self._open.values(), key=lambda c: (c.last, c.cid)):
            closed_by = "" if self._complete(conversation) else "closed at end of input"
            events.extend(self._emit(conversation, closed_by))
        return events

    # --- holding -------------------------------------------------------------------------------------------

    def _advance(self, ts: datetime) -> list[ContactEvent]:
        """Moves event time on: complete conversations that have settled and conversations silent for a
        horizon are emitted, those emitted a horizon ago forgotten."""
        self._watermark = max(self._watermark, ts)
        now = self._watermark
        events: list[ContactEvent] = []
        for heap, closed_by in ((self._settling, ""), (self._expiry, "closed by horizon")):
            while heap and heap[0][0] <= now:
                _, last, cid = heapq.heappop(heap)
                conversation = self._open.get(cid)
                if conversation is not None and conversation.last == last:
                    events.extend(self._emit(conversation, closed_by))
        while self._closed_order and self._closed_order[0][0] + HORIZON <= now:
            _, cid, last = self._closed_order.popleft()
            if cid in self._closed and self._closed[cid][0] == last:
                del self._closed[cid]
        return events

    def _complete(self, conversation: _Conversation) -> bool:
        kinds = {m.kind for m in conversation.messages}
        if "customer.start" not in kinds or "customer.end" not in kinds:
            return False
        starts = sorted((m for m in conversation.messages if m.kind == "acd.start"), key=lambda m: m.ts)
        ends = [m for m in conversation.messages if m.kind == "acd.end"]
        if len(ends) < len(starts):
            return False
        users = {(m.kind, m.body["userId"]) for m in conversation.messages if m.kind in ("user.end", "acw")}
        for i, end in enumerate(sorted(ends, key=lambda m: m.ts)):
            outcome = end.body["acdOutcome"]
            if outcome == "ANSWERED":
                agent = end.body["answeredUserId"]
                if ("user.end", agent) not in users or ("acw", agent) not in users:
                    return False
            elif (
                outcome == "FLOW_OUT"
                and i + 1 >= len(starts)
                and _flow_end(conversation.messages, end) is None
            ):
                return False
        return True

    # --- emitting ------------------------------------------------------------------------------------------

    def _emit(self, conversation: _Conversation, closed_by: str) -> list[ContactEvent]:
        del self._open[conversation.cid]
        if closed_by:
            self.report.correct(closed_by)
        messages = sorted(conversation.messages, key=lambda m: (m.ts, m.seq))
        built = _Builder(self, conversation.cid, messages).build()
        self._closed[conversation.cid] = (conversation.last, conversation.keys, built.late)
        self._closed_order.append((self._watermark, conversation.cid, conversation.last))
        events: list[ContactEvent] = []
        for message in messages:
            fate = built.fates.get(message.seq, "")
            if fate == "reject":
                continue
            if fate:
                self.report.skip(fate)
            else:
                self.report.accepted += 1
        for event in sorted(built.events, key=lambda e: e.ts):
            self.report.events[event.type] += 1
            events.append(event)
        return events


@dataclass
class _Built:
    events: list[ContactEvent] = field(default_factory=list)
    fates: dict[int, str] = field(default_factory=dict)  # message seq -> skip kind or "reject"
    late: str = "late: its conversation was already emitted"  # the skip kind of a message after emission


class _Builder:
    """The events of one held conversation, from its messages in event-time order."""

    def __init__(self, adapter: DetailEventAdapter, cid: str, messages: list[_Message]) -> None:
        self.adapter = adapter
        self.report = adapter.report
        self.mapping = adapter.mapping
        self.cid = cid
        self.messages = messages
        self.out = _Built()
        self.flow_ends: set[int] = set()  # the flow.end messages that named where a flow-out went

    def _of(self, kind: str) -> list[_Message]:
        return [m for m in self.messages if m.kind == kind]

    def _skip_all(self, kind: str) -> _Built:
        self.out.late = kind
        for message in self.messages:
            self.out.fates[message.seq] = "not a call event: flow.end" if message.kind == "flow.end" else kind
        return self.out

    def _add(self, origin: _Message, make: Any, **fields: Any) -> bool:
        """One event, or the message that made it rejected (a value the contract refuses)."""
        try:
            self.out.events.append(make(**fields))
        except MALFORMED as exc:
            if self.out.fates.get(origin.seq) == "reject":
                return False  # one reject a message, however many of its events the contract refuses
            self.out.fates[origin.seq] = "reject"
            self.report.reject(origin.number, f"{type(exc).__name__}: {exc}", origin.text or _dump(origin.body),
                               origin.source)  # fmt: skip
            return False
        return True

    def _id(self, leg: str, kind: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{self.mapping.tenant}/{leg}/{kind}")

    def _ms(self, later: datetime, earlier: datetime) -> int:
        span = int((later - earlier) / _MS)
        if not 0 <= span <= MAX_DURATION_MS:
            self.report.correct("span out of range clamped")
            span = min(max(span, 0), MAX_DURATION_MS)
        return span

    def build(self) -> _Built:
        customer = next(iter(self._of("customer.start")), None)
        if customer is not None and customer.body.get("direction") == "OUTBOUND":
            return self._skip_all("outbound call")
        starts = self._of("acd.start")
        ends = self._of("acd.end")
        if not starts and ends:
            starts = [self._lost_start(end) for end in ends]
        if not starts:
            return self._skip_all("never queued")
        used: set[int] = set()
        legs: list[tuple[_Message, _Message | None]] = []
        for start in starts:
            end = next((e for e in ends if e.seq not in used and e.ts >= start.ts and (
                e.body.get("sessionId") == start.body.get("sessionId") or e.body["queueId"] == start.body["queueId"])),
                None)  # fmt: skip
            if end is not None:
                used.add(end.seq)
            legs.append((start, end))
        for end in ends:
            if end.seq not in used:
                self.out.fates[end.seq] = "acd.end without its queue's acd.start"
        first = starts[0]
        ani = (customer.body.get("ani") if customer else None) or first.body.get("ani")
        offered_at = customer.ts if customer else first.ts
        if customer is None:
            self.report.correct("customer.start missing: arrival at first queue")
        common = self._common(self.cid, first.body["queueId"])
        self._add(customer or first, ContactOffered, event_id=self._id(self.cid, "offered"), ts=offered_at,
                  caller_hash=self.adapter.hasher(_number(ani)) if ani else None, **common)  # fmt: skip
        previous: str | None = None  # the outcome of the leg before
        for i, (start, end) in enumerate(legs):
            leg = self.cid if i == 0 else f"{self.cid}.{i + 1}"
            queue = start.body["queueId"]
            common = self._common(leg, queue)
            self._add(start, ContactQueued, event_id=self._id(leg, "queued"), ts=start.ts, queue=queue[:64],
                      transferred_in=previous == "ANSWERED", **common)  # fmt: skip
            if end is None:
                previous = None
                continue
            following = legs[i + 1][0] if i + 1 < len(legs) else None
            previous = self._outcome(leg, start, end, first, following, common)
        self._wrapup_codes()
        return self.out

    def _lost_start(self, end: _Message) -> _Message:
        """An acd.end whose acd.start never came: the queue entry dated back by the ACD's own connected time."""
        self.report.correct("acd.start missing: dated back by connectedDurationMs")
        back = timedelta(milliseconds=end.body.get("connectedDurationMs") or 0)
        return _Message(
            end.seq, end.number, end.source, end.text, "acd.start", end.conversation, end.ts - back, end.body
        )

    def _common(self, leg: str, queue: str) -> dict[str, str]:
        return {"tenant": self.mapping.tenant, "contact_id": leg, "initial_contact_id": self.cid,
                "source": self.mapping.in_house, "call_type": self.mapping.queues.get(queue, queue)[:64]}  # fmt: skip

    def _outcome(self, leg: str, start: _Message, end: _Message, first: _Message, following: _Message | None,
                 common: dict[str, str]) -> str:  # fmt: skip
        outcome: str = end.body["acdOutcome"]
        wait_ms = self._ms(end.ts, start.ts)
        total_ms = max(self._ms(end.ts, first.ts), wait_ms)
        if outcome == "ANSWERED":
            agent = end.body["answeredUserId"]
            self._add(end, ContactAnswered, event_id=self._id(leg, "answered"), ts=end.ts, agent_id=agent,
                      wait_ms=wait_ms, total_wait_ms=total_ms, **common)  # fmt: skip
            self._talk(leg, end, agent, following, common)
        elif outcome == "ABANDON":
            self._add(end, ContactAbandoned, event_id=self._id(leg, "abandoned"), ts=end.ts, wait_ms=wait_ms,
                      total_wait_ms=total_ms, **common)  # fmt: skip
        elif outcome == "FLOW_OUT" and following is not None:
            trigger = "timeout" if wait_ms > 0 else "call_type"
            self._add(end, ContactOverflowed, event_id=self._id(leg, "overflowed"), ts=end.ts,
                      to_source=self.mapping.in_house, trigger=trigger, wait_ms=wait_ms, **common)  # fmt: skip
        elif outcome == "FLOW_OUT":
            self._flow_out(leg, end, wait_ms, common)
        else:
            self.report.observed["acd outcome UNKNOWN"] += 1
        return outcome

    def _flow_out(self, leg: str, end: _Message, wait_ms: int, common: dict[str, str]) -> None:
        flow_end = _flow_end(self.messages, end)
        transfer = flow_end.body.get("transferType") if flow_end else None
        if flow_end is not None:
            self.flow_ends.add(flow_end.seq)
        if flow_end is None or transfer != "NUMBER":
            self.report.observed[f"flow out to {transfer or 'an unnamed destination'}"[:64]] += 1
            return
        numbers = [_number(flow_end.body.get(name)) for name in ("addressTo", "dnis")]
        to_source = next((self.mapping.external_numbers[n] for n in numbers if n in self.mapping.external_numbers),
                         "external")  # fmt: skip
        if self._add(end, ContactOverflowed, event_id=self._id(leg, "overflowed"), ts=end.ts, to_source=to_source,
                     trigger="timeout", wait_ms=wait_ms, **common):  # fmt: skip
            self._add(flow_end, ContactRedirected, event_id=self._id(leg, "redirected"), ts=end.ts,
                      to_source=to_source, handoff="accepted", **common)  # fmt: skip

    def _talk(
        self, leg: str, end: _Message, agent: str, following: _Message | None, common: dict[str, str]
    ) -> None:
        user_end = next(
            (m for m in self._of("user.end") if m.body["userId"] == agent and m.ts >= end.ts), None
        )
        if user_end is None:
            customer_end = next(iter(self._of("customer.end")), None)
            if customer_end is None:
                self.report.correct("talk end missing: no ended event")
                return
            self.report.correct("user.end missing: talk to customer.end")
            user_end = customer_end
        hold_ms = _millis(user_end.body, "heldDurationMs") or 0
        talk_ms = _millis(user_end.body, "interactingDurationMs")
        if talk_ms is None:
            talk_ms = max(self._ms(user_end.ts, end.ts) - hold_ms, 0)
        if following is not None:
            self._add(user_end, ContactTransferred, event_id=self._id(leg, "transferred"), ts=user_end.ts,
                      agent_id=agent, kind="internal", to_queue=following.body["queueId"][:64], **common)  # fmt: skip
        self._add(user_end, ContactEnded, event_id=self._id(leg, "ended"), ts=user_end.ts, agent_id=agent,
                  talk_ms=talk_ms, hold_ms=hold_ms, **common)  # fmt: skip
        acw = next((m for m in self._of("acw") if m.body["userId"] == agent and m.ts >= end.ts), None)
        if acw is not None:
            self._add(acw, ContactWrapupEnded, event_id=self._id(leg, "wrapup"), ts=acw.ts, agent_id=agent,
                      acw_ms=_millis(acw.body, "wrapupDurationMs") or 0, **common)  # fmt: skip

    def _wrapup_codes(self) -> None:
        for acw in self._of("acw"):
            code = acw.body.get("wrapupCode")
            if isinstance(code, str) and code and self.out.fates.get(acw.seq) != "reject":
                self.report.observed[f"wrap-up code {code}"[:80]] += 1
        for flow_end in self._of("flow.end"):
            if flow_end.seq not in self.flow_ends:
                self.out.fates.setdefault(flow_end.seq, "not a call event: flow.end")


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)[:4000]
    except (TypeError, ValueError):
        return repr(value)[:4000]


def records(path: Path, report: FeedReport) -> Iterator[tuple[int, str]]:
    """(record number, raw JSON text) of one file: one message a line, or documents concatenated with no
    separator (Firehose), or both. A document that does not parse ends its line's chunk, which is then one
    record for the adapter to reject; the next line starts afresh."""
    report.files += 1
    decoder = json.JSONDecoder()
    number = 0
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as lines:
        for raw in lines:
            text = raw.strip()
            at = 0
            while at < len(text):
                number += 1
                try:
                    _, stop = decoder.raw_decode(text, at)
                except ValueError:
                    yield number, text[at:]
                    break
                yield number, text[at:stop]
                at = stop
                while at < len(text) and text[at] in " \t\r\n,":
                    at += 1


def read(path: Path, options: FeedOptions, report: FeedReport,
         mapping: GenesysMapping | None = None) -> Iterator[ContactEvent]:  # fmt: skip
    """The events of a file or a folder of files of detail-event messages, one stream in name order."""
    report.unit = "record"
    if (
        mapping is None
    ):  # the tenant's queues and outsourcer numbers, in the conversation-details mapping file
        mapping = (
            load_mapping(options.mapping, options.tenant)
            if options.mapping
            else GenesysMapping(options.tenant)
        )
    adapter = DetailEventAdapter(mapping, options.caller_key, report)
    for file in input_files(path):
        adapter.source = str(file) if path.is_dir() else ""
        for number, text in records(file, report):
            yield from adapter.push(text, number)
    yield from adapter.close()
