"""Genesys Cloud analytics conversation details, as the platform emits them, to canonical events.

Sources: the Genesys Cloud SDK models AnalyticsConversation / AnalyticsParticipant / AnalyticsSession /
AnalyticsConversationSegment, AnalyticsConversationQueryResponse (POST /api/v2/analytics/conversations/details/
query: `{"conversations": [...], "totalHits": N}`, paged by pageNumber) and AnalyticsConversationAsyncQueryResponse
(GET .../details/jobs/{jobId}/results: `{"conversations": [...], "cursor": "..."}`).

**Shapes.** A file holds JSON documents, one after another (a document per line, pretty-printed ones, pages
concatenated); `path` may be a folder of such files (pages saved one per file, read in name order). Each document
is recognized by its first bytes and its keys: an object with a `conversations` array (or only envelope keys,
as an empty page `{"totalHits": 0}`) is a page envelope, whose conversations are streamed one at a time with
ijson and never the page at once; a top-level array holds conversations or pages; any other object is a
conversation. Units are records: every conversation read is accepted, skipped ("not voice": the product counts
calls, as the Connect adapter does with non-voice contacts) or rejected; a page envelope without conversations
is blank. A record's line is the line its object begins on. Invalid JSON is one reject, at the line its
document began, naming the line the parser stopped at; reading goes on at the first line after that start which
begins a document at column 0 (the next line of a JSON-lines file, the next page of pretty-printed ones), else at
the next file, and the reject says which lines were not read. Events come in event-time order (`GenesysReader`).

**A call.** A conversation is one customer call (`conversationId`). Each `interact` segment of an `acd`
participant is a visit to a queue (`queueId`); a second visit is a queue-to-queue transfer, the call's next leg
(`contact_id` "<id>.2", as the TaskRouter adapter numbers legs): an overflow (to the in-house source, trigger
timeout) when no agent took the first, an agent's internal transfer (the next leg `transferred_in`) when one did. An `agent` participant with an `interact` segment answered the leg it
started in: the answer goes to the first agent who talked, and an agent who only alerted (`alert`, no
`interact`, disconnectType noAnswerTransfer, notAvailableTransfer, ...) is counted in
`observed["ring_no_answer"]` (a customer who hangs up while it rings, disconnectType peer, abandoned: not the
agent's miss). Talk is the agent's `interact` segments, hold its `hold` segments, after-contact work its
`wrapup` segment (its `wrapUpCode` has no canonical field: `observed["wrapup_code"]`). An `external`
participant after an unanswered visit is an enterprise-routed redirect to an outsourcer (its dialled number
mapped to a source); after an answered one, the agent's external transfer. An unanswered visit that ends
otherwise is an abandon.

**Repairs** (counted once per conversation and kind in `report.corrections`): the queue segment's end a few ms
after the agent's talk began (`overlap_clamped`: the wait ends at the answer); timestamps that are not zero-padded
(`unpadded_timestamp`); a segment whose time cannot be read, dropped (`unreadable_segment`); a segment that ends
before it starts (`segment_end_before_start`, length 0); an event dated before `conversationStart`
(`before_conversation_start`, dated at it). **Open conversations** (no `conversationEnd`, or a segment without
an end): what is known is kept (offered, queued, answered) and no end is invented (no ended, abandoned or wrap-up
event from a segment still going on); each is counted once in `observed["open_segment"]` (a fact of the call, not
a repair). Agents who talked after the leg's first agent without a queue between (`observed["further_agent"]`)
or before any queue (`observed["talk_outside_queue"]`) are counted, not mapped. A conversation is rejected only
when it has no `conversationId` or no readable `conversationStart`, or values of the wrong type or beyond the
contract (a wait longer than the contract's 7 days).
"""

from __future__ import annotations

import heapq
import io
import itertools
import json
import re
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path
from typing import IO
from typing import Any
from typing import NamedTuple

import ijson
from pydantic import ValidationError

from producers.feeds.rejects import MALFORMED
from producers.feeds.rejects import Reject
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.report import input_files
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

_NAMESPACE = uuid.UUID("c4a7e2d9-5b61-4f83-8e0a-9d16b3f72c58")
_MS = timedelta(milliseconds=1)
# Keys of a page envelope (query and async job responses); an object with only these is a page, not a call.
_ENVELOPE_KEYS = frozenset({"conversations", "totalHits", "cursor", "dataAvailabilityDate", "aggregations"})
# Where conversationStart sits in each shape, for the sortedness scan.
_START_PREFIXES = frozenset({"conversationStart", "item.conversationStart", "conversations.item.conversationStart",
                             "item.conversations.item.conversationStart"})  # fmt: skip
_UNPADDED = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,9}))?)?"
    r"(Z|[+-]\d{1,2}(?::?\d{2})?)\Z"
)
_CHUNK = 65_536  # bytes sent to the parser at a time: a line, or a piece of a long one (a minified page)
_TEXT_KEPT = 2_000  # of a rejected record's text


@dataclass(frozen=True)
class GenesysMapping:
    tenant: str = "default"
    in_house: str = "in-house"
    queues: dict[str, str] = field(default_factory=dict)  # queueId -> call type
    external_numbers: dict[str, str] = field(
        default_factory=dict
    )  # dialled number of an outsourcer -> source


def load_mapping(path: Path, tenant: str = "default") -> GenesysMapping:
    """A mapping from TOML (`in_house = "..."`, `[queues]` queueId = call type, `[external_numbers]` number =
    source), so `--mapping` names the call types and outsourcers of a real tenant."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return GenesysMapping(tenant=tenant, in_house=str(data.get("in_house", "in-house")),
                          queues={str(k): str(v) for k, v in data.get("queues", {}).items()},
                          external_numbers={str(k): str(v) for k, v in data.get("external_numbers", {}).items()})  # fmt: skip


def parse_ts(value: Any) -> tuple[datetime, bool]:
    """An ISO-8601 instant and whether it had to be read without zero padding (`2026-3-5T9:07:02.5Z`)."""
    if not isinstance(value, str):
        raise TypeError(f"a timestamp must be a string, not {type(value).__name__}")
    try:
        parsed, unpadded = datetime.fromisoformat(value.replace("Z", "+00:00")), False
    except ValueError:
        match = _UNPADDED.match(value.strip())
        if match is None:
            raise ValueError(f"timestamp {value[:40]!r} is not ISO-8601") from None
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro,
                          tzinfo=_zone(zone))  # fmt: skip
        unpadded = True
    if parsed.tzinfo is None:  # Genesys writes UTC with a Z; without a zone the instant is unknown
        raise ValueError(f"timestamp {value[:40]!r} has no zone")
    return parsed, unpadded


def _zone(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


class _Segment(NamedTuple):
    kind: str
    start: datetime
    end: datetime | None  # None: still going on (an open conversation)
    queue: str
    disconnect: str
    wrapup_code: str


@dataclass
class _Agent:
    user: str
    talk: list[_Segment]
    holds: list[_Segment]
    wrapups: list[_Segment]
    alerts: list[_Segment]


@dataclass
class Conversion:
    """What one conversation gives: its events, and what the report counts of it."""

    events: list[ContactEvent]
    start: datetime
    corrections: set[str] = field(default_factory=set)
    observed: Counter[str] = field(default_factory=Counter)
    skipped: str = ""  # the kind of skip, when the conversation is well formed but not a call


def _ms(start: datetime, end: datetime) -> int:
    return max(0, int((end - start) / _MS))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{what} must be a list, not {type(value).__name__}")
    return value


class _Reading:
    """The per-conversation repairs, collected while its times are read."""

    def __init__(self) -> None:
        self.corrections: set[str] = set()
        self.open = False

    def ts(self, value: Any) -> datetime:
        parsed, unpadded = parse_ts(value)
        if unpadded:
            self.corrections.add("unpadded_timestamp")
        return parsed

    def segments(self, participant: dict[str, Any]) -> list[_Segment]:
        out: list[_Segment] = []
        for session in _list(participant.get("sessions"), "sessions"):
            for raw in _list(session.get("segments"), "segments"):
                try:
                    start = self.ts(raw["segmentStart"])
                    end = self.ts(raw["segmentEnd"]) if raw.get("segmentEnd") is not None else None
                except MALFORMED:
                    self.corrections.add("unreadable_segment")
                    continue
                if end is None:
                    self.open = True
                elif end < start:
                    self.corrections.add("segment_end_before_start")
                    end = start
                out.append(_Segment(_str(raw.get("segmentType")), start, end, _str(raw.get("queueId")),
                                    _str(raw.get("disconnectType")), _str(raw.get("wrapUpCode"))))  # fmt: skip
        return sorted(out, key=lambda s: s.start)


def _voice(participants: list[dict[str, Any]]) -> bool:
    """A call unless its sessions name media and none is voice (a chat, an email, a message)."""
    media = {
        session.get("mediaType")
        for p in participants
        for session in _list(p.get("sessions"), "sessions")
        if isinstance(session, dict) and session.get("mediaType")
    }
    return not media or "voice" in media


def convert(conversation: Any, mapping: GenesysMapping, hasher: CallerHasher) -> Conversion:
    """One conversation's canonical events (pure); raises a MALFORMED error when it cannot be read."""
    if not isinstance(conversation, dict):
        raise TypeError(f"not a conversation: a JSON {type(conversation).__name__}")
    cid = conversation.get("conversationId")
    if not isinstance(cid, str) or not cid:
        raise ValueError("no conversationId")
    if conversation.get("conversationStart") is None:
        raise ValueError(f"conversation {cid!r}: no conversationStart")
    reading = _Reading()
    start = reading.ts(conversation["conversationStart"])
    participants = _list(conversation.get("participants"), "participants")
    if not all(isinstance(p, dict) for p in participants):
        raise TypeError(f"conversation {cid!r}: a participant that is not an object")
    if not _voice(participants):
        return Conversion([], start, skipped="not voice")
    if conversation.get("conversationEnd") is None:
        reading.open = True

    customer: dict[str, Any] = next((p for p in participants if p.get("purpose") == "customer"), {})
    ani = next((_str(s.get("ani")) for s in _list(customer.get("sessions"), "sessions") if s.get("ani")), "")
    visits = sorted((s for p in participants if p.get("purpose") == "acd" for s in reading.segments(p)
                     if s.kind == "interact"), key=lambda s: s.start)  # fmt: skip
    agents: list[_Agent] = []
    observed: Counter[str] = Counter()
    for p in participants:
        if p.get("purpose") != "agent":
            continue
        segments = reading.segments(p)
        agent = _Agent(_str(p.get("userId")) or "unknown", *([s for s in segments if s.kind == kind]
                       for kind in ("interact", "hold", "wrapup", "alert")))  # fmt: skip
        if agent.talk:
            agents.append(agent)
        elif (
            agent.alerts
            and all(a.end is not None for a in agent.alerts)
            and agent.alerts[-1].disconnect != "peer"
        ):
            observed["ring_no_answer"] += 1
    agents.sort(key=lambda a: a.talk[0].start)
    externals: list[tuple[datetime, str]] = []
    for p in participants:
        if p.get("purpose") == "external":
            sessions = _list(p.get("sessions"), "sessions")
            dialled = next((_str(s.get("dnis")) or _str(s.get("addressTo")) for s in sessions), "")
            segments = reading.segments(p)
            externals.append((segments[0].start if segments else start, dialled.removeprefix("tel:")))
    externals.sort()

    def at(ts: datetime) -> datetime:
        if ts < start:
            reading.corrections.add("before_conversation_start")
            return start
        return ts

    events: list[ContactEvent] = []
    leg_common = {"tenant": mapping.tenant, "initial_contact_id": cid, "source": mapping.in_house}

    def common(leg: str, queue_id: str) -> dict[str, Any]:
        return {
            **leg_common,
            "contact_id": leg,
            "call_type": mapping.queues.get(queue_id, queue_id or "default")[:64],
        }

    def eid(leg: str, kind: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{mapping.tenant}/{leg}/{kind}")

    first_queue = visits[0].queue if visits else ""
    events.append(ContactOffered(event_id=eid(cid, "offered"), ts=start, **common(cid, first_queue),
                                 caller_hash=hasher(ani.removeprefix("tel:")) if ani else None))  # fmt: skip
    answered_before, taken = False, 0
    for index, visit in enumerate(visits):
        leg = cid if index == 0 else f"{cid}.{index + 1}"
        following = visits[index + 1] if index + 1 < len(visits) else None
        c = common(leg, visit.queue)
        events.append(ContactQueued(event_id=eid(leg, "queued"), ts=at(visit.start), queue=(visit.queue or "default")[:64],
                                    transferred_in=answered_before, **c))  # fmt: skip
        in_leg = [
            a
            for a in agents
            if a.talk[0].start >= visit.start and (following is None or a.talk[0].start < following.start)
        ]
        taken += len(in_leg)
        if len(in_leg) > 1:
            observed["further_agent"] += len(in_leg) - 1  # talked after the first without a queue in between
        if in_leg:
            agent = in_leg[0]
            answered = agent.talk[0].start
            wait_end = answered
            if visit.end is not None and visit.end < answered:
                # The queue let go before the talk began (the agent's alert runs between): the wait is the queue's.
                wait_end = visit.end
            elif visit.end is not None and visit.end > answered:
                reading.corrections.add("overlap_clamped")
            wait_ms = _ms(visit.start, wait_end)
            events.append(ContactAnswered(event_id=eid(leg, "answered"), ts=at(answered), agent_id=agent.user,
                                          wait_ms=wait_ms, total_wait_ms=max(wait_ms, _ms(visits[0].start, wait_end)),
                                          **c))  # fmt: skip
            talk_end = agent.talk[-1].end
            closed = talk_end is not None and all(s.end is not None for s in (*agent.talk, *agent.holds))
            if closed and talk_end is not None:
                talk_ms = sum(_ms(s.start, s.end) for s in agent.talk if s.end is not None)
                hold_ms = sum(_ms(s.start, s.end) for s in agent.holds if s.end is not None)
                events.append(ContactEnded(event_id=eid(leg, "ended"), ts=at(talk_end), agent_id=agent.user,
                                           talk_ms=talk_ms, hold_ms=hold_ms, **c))  # fmt: skip
            wrapup = agent.wrapups[0] if agent.wrapups else None
            if wrapup is not None and wrapup.end is not None:
                events.append(ContactWrapupEnded(event_id=eid(leg, "wrapup"), ts=at(wrapup.end), agent_id=agent.user,
                                                 acw_ms=_ms(wrapup.start, wrapup.end), **c))  # fmt: skip
            if any(w.wrapup_code for w in agent.wrapups):
                observed["wrapup_code"] += 1
            left = talk_end or answered
            external = next((x for x in externals if x[0] >= answered), None)
            if following is not None:
                events.append(ContactTransferred(event_id=eid(leg, "transferred"), ts=at(min(left, following.start)),
                                                 agent_id=agent.user, kind="internal",
                                                 to_queue=(following.queue or "default")[:64], **c))  # fmt: skip
            elif external is not None:
                events.append(ContactTransferred(event_id=eid(leg, "transferred"), ts=at(external[0]),
                                                 agent_id=agent.user, kind="external", **c))  # fmt: skip
            answered_before = True
            continue
        answered_before = False
        wait_ms = _ms(visit.start, visit.end) if visit.end is not None else 0
        external = next((x for x in externals if x[0] >= visit.start), None)
        if following is not None:
            left = visit.end or following.start
            events.append(ContactOverflowed(event_id=eid(leg, "overflowed"), ts=at(left), to_source=mapping.in_house,
                                            trigger="timeout", wait_ms=_ms(visit.start, left), **c))  # fmt: skip
        elif external is not None:
            left = visit.end or external[0]
            to_source = mapping.external_numbers.get(external[1], "external")[:64]
            events.append(ContactOverflowed(event_id=eid(leg, "overflowed"), ts=at(left), to_source=to_source,
                                            trigger="timeout", wait_ms=_ms(visit.start, left), **c))  # fmt: skip
            events.append(ContactRedirected(event_id=eid(leg, "redirected"), ts=at(left), to_source=to_source,
                                            handoff="accepted", **c))  # fmt: skip
        elif visit.end is not None:
            events.append(ContactAbandoned(event_id=eid(leg, "abandoned"), ts=at(visit.end), wait_ms=wait_ms,
                                           total_wait_ms=max(wait_ms, _ms(visits[0].start, visit.end)), **c))  # fmt: skip
        # else: still queued when the data was taken; nothing more is known
    if len(agents) > taken:  # agents who talked before any queue: a direct or internal call, not ACD work
        observed["talk_outside_queue"] += len(agents) - taken
    if reading.open:
        observed["open_segment"] += 1
    return Conversion(events, start, reading.corrections, observed)


def to_events(conversation: Any, mapping: GenesysMapping, hasher: CallerHasher) -> list[ContactEvent]:
    """One conversation's events (pure; none for a conversation that is not a call), for the fuzz target."""
    return convert(conversation, mapping, hasher).events


# --- the stream of documents ------------------------------------------------------------------------------


_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


class _Documents:
    """Turns ijson parse events into records: (line, value) of every conversation, or of anything that stands
    where a conversation should. A page envelope's conversations are built one at a time; the envelope keeps only
    its small fields. Counts blank envelopes in `report`. Levels are nesting depths, not ijson prefixes, which a
    key holding a dot or an empty key would confuse."""

    def __init__(self, report: FeedReport) -> None:
        self.report = report
        self.reset()

    def reset(self) -> None:
        self.depth = 0
        self.top_array, self.top_items = False, 0
        self.doc_line = 0  # where the top-level document being read began; 0 between documents
        self.doc: Any = None  # builder of the object (or stray array) that may be a conversation or a page
        self.doc_level, self.record_line = 0, 0
        self.doc_keys: set[str] = set()
        self.pending_key = False  # the document's `conversations` key seen, its value not yet
        self.pages = False  # inside the envelope's conversations array
        self.page_items = 0
        self.item: Any = None  # builder of one conversation of a page
        self.item_level, self.item_line = 0, 0

    def feed(self, line: int, events: list[tuple[str, Any]], out: list[tuple[int, Any]]) -> None:
        """The records completed by these parse events, appended to `out` (the loop runs once per JSON token of
        a month of data: locals and no generators)."""
        depth, item = self.depth, self.item
        for event, value in events:
            if event in _STARTS:
                level = depth
                depth += 1
            elif event in _ENDS:
                depth -= 1
                level = depth
            elif event == "map_key":
                level = depth - 1
            else:
                level = depth
            if item is not None:
                item.event(event, value)
                if level == self.item_level and event in _ENDS:
                    out.append((self.item_line, item.value))
                    item = None
            elif self.pages:
                if event in _ENDS:
                    self.pages = False
                elif event in _STARTS:
                    self.page_items += 1
                    item, self.item_level, self.item_line = ijson.ObjectBuilder(), level, line
                    item.event(event, value)
                else:
                    self.page_items += 1
                    out.append((line, value))
            elif self.doc is not None:
                self._in_document(level, event, value, out)
            elif level == 0 and event == "start_array":
                self.top_array, self.top_items, self.doc_line = True, 0, line
            elif level == 0 and event == "end_array":
                if self.top_items == 0:  # `[]`: a page with nothing in it
                    self.report.read += 1
                    self.report.blank += 1
                self.top_array, self.doc_line = False, 0
            elif event in _STARTS:
                self.top_items += 1
                self.doc, self.doc_level, self.record_line = ijson.ObjectBuilder(), level, line
                self.doc_keys, self.page_items = set(), 0
                self.doc_line = self.doc_line if self.top_array else line
                self.doc.event(event, value)
            else:
                self.top_items += 1
                out.append((line, value))
        self.depth, self.item = depth, item

    def whole(self, line: int, value: Any) -> Iterator[tuple[int, Any]]:
        """A top-level document decoded at once: its records, as `feed` would give them."""
        if isinstance(value, list):
            if not value:
                self.report.read += 1
                self.report.blank += 1
            for item in value:
                yield from (
                    self.whole(line, item) if isinstance(item, dict) and _is_page(item) else [(line, item)]
                )
        elif isinstance(value, dict) and _is_page(value):
            conversations = value.get("conversations")
            if isinstance(conversations, list) and conversations:
                yield from ((line, c) for c in conversations)
            elif isinstance(conversations, list | None):
                self.report.read += 1
                self.report.blank += 1
            else:
                yield line, value
        else:
            yield line, value

    def _in_document(self, level: int, event: str, value: Any, out: list[tuple[int, Any]]) -> None:
        if self.pending_key:
            self.pending_key = False
            if event == "start_array":
                self.pages = True
                return
            self.doc.event("map_key", "conversations")
        if event == "map_key" and level == self.doc_level:
            self.doc_keys.add(value)
            if value == "conversations":
                self.pending_key = True
                return
        self.doc.event(event, value)
        if level == self.doc_level and event in _ENDS:
            record, keys = self.doc.value, self.doc_keys
            self.doc = None
            if not self.top_array:
                self.doc_line = 0
            if not (isinstance(record, dict) and keys and keys <= _ENVELOPE_KEYS):
                out.append((self.record_line, record))
            elif self.page_items == 0 and not isinstance(record.get("conversations"), list | None):
                out.append(
                    (self.record_line, record)
                )  # `"conversations": 7`: neither page nor call, rejected
            elif self.page_items == 0:
                self.report.read += 1
                self.report.blank += 1


def _documents(stream: IO[bytes], report: FeedReport, source: str) -> Iterator[tuple[int, Any]]:
    """Every record of one (seekable) file, streamed: the parser is sent a line at a time, or a long line in
    bounded pieces, so its events are placed on a line without a minified page being read whole. A document that
    is not JSON is rejected; reading goes on at the first line after its start that begins a document at column
    0 (the next line of a JSON-lines file, the next page of pretty-printed ones), else at the end of the file."""
    parsed: list[tuple[str, Any]] = ijson.sendable_list()
    state = _Documents(report)
    coro = ijson.basic_parse_coro(parsed, multiple_values=True, use_float=True)
    line, at_start, first = 1, True, True
    sent = False  # the parser was given more than white space (else closing it would report a premature end)
    # The first line inside the unfinished document that starts one at column 0, and where: a restart point.
    resume: tuple[int, int] | None = None
    # (began, failed at, why, text) of a document that is not JSON, while skipping to the next one.
    broken: tuple[int, int, str, str] | None = None
    offset = stream.tell()
    while True:
        chunk = stream.readline(_CHUNK)
        if not chunk:
            break
        offset, chunk_offset = offset + len(chunk), offset
        if first:
            chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False
        this_line, opens = line, at_start and chunk[:1] in (b"{", b"[")
        at_start = chunk.endswith(b"\n")
        line += at_start
        if broken is not None:
            if not opens:
                continue
            _reject_broken(report, source, *broken, this_line - 1)
            broken = None
            state.reset()
            coro, sent = ijson.basic_parse_coro(parsed, multiple_values=True, use_float=True), False
        elif opens and state.doc_line and resume is None:
            resume = (this_line, chunk_offset)
        if opens and at_start and not state.doc_line:
            # A whole document on one line (JSON lines): decoded by the C json module, ten times the speed of
            # building it from parse events; anything json refuses goes to the parser, which says why.
            try:
                whole = json.loads(chunk, parse_constant=_refuse)
            except ValueError:
                pass
            else:
                yield from state.whole(this_line, whole)
                continue
        sent = sent or bool(chunk.strip())
        try:
            coro.send(chunk)
        except ijson.JSONError as exc:
            yield from _complete(state, this_line, parsed)
            began, why = state.doc_line or this_line, str(exc).split("\n", 1)[0]
            text = chunk.decode("utf-8", "replace")
            if resume is not None and resume[0] > began:
                _reject_broken(report, source, began, this_line, why, text, resume[0] - 1)
                stream.seek(resume[1])
                offset = resume[1]
                line, at_start, resume = resume[0], True, None
                state.reset()
                coro, sent = ijson.basic_parse_coro(parsed, multiple_values=True, use_float=True), False
            else:
                broken, resume = (began, this_line, why, text), None
            continue
        yield from _complete(state, this_line, parsed)
        if not state.doc_line:
            resume = None
    last = line - 1 if at_start else line
    if broken is not None:
        _reject_broken(report, source, *broken, last)
        return
    try:
        if sent:
            coro.close()
    except ijson.JSONError as exc:
        yield from _complete(state, last, parsed)
        began = state.doc_line or last
        why = str(exc).split("\n", 1)[0]
        report.read += 1
        report.reject(began, f"invalid JSON: the file ends inside the document begun at line {began} ({why})",
                      "", source)  # fmt: skip
        return
    yield from _complete(state, last, parsed)


def _is_page(value: dict[str, Any]) -> bool:
    return bool(value) and value.keys() <= _ENVELOPE_KEYS


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _complete(state: _Documents, line: int, parsed: list[tuple[str, Any]]) -> list[tuple[int, Any]]:
    """The records the parser's last events completed (most lines of a pretty-printed page complete none)."""
    if not parsed:
        return []
    out: list[tuple[int, Any]] = []
    state.feed(line, parsed, out)
    del parsed[:]
    return out


def _reject_broken(
    report: FeedReport, source: str, began: int, failed: int, why: str, text: str, last: int
) -> None:
    report.read += 1
    skipped = f"lines {began}-{last} not read" if last > began else f"line {began} not read"
    report.reject(began, f"invalid JSON at line {failed}: {why}; {skipped}", text[:_TEXT_KEPT], source)


def _opened(files: Iterable[Path]) -> Iterator[tuple[str, IO[bytes]]]:
    """Each file open in turn (a folder of ten thousand pages never holds them all open)."""
    for file in files:
        with file.open("rb") as stream:
            yield str(file), stream


def _sorted_by_start(files: Iterable[Path]) -> bool:
    """Whether conversations come in conversationStart order (as the query returns them), across the files in
    the order they are read; invalid JSON or an unreadable start answers no, the safe side."""
    last: datetime | None = None
    for _, stream in _opened(files):
        if stream.read(3) != b"\xef\xbb\xbf":
            stream.seek(0)
        try:
            for prefix, event, value in ijson.parse(stream, multiple_values=True):
                if event == "string" and prefix in _START_PREFIXES:
                    ts = parse_ts(value)[0]
                    if last is not None and ts < last:
                        return False
                    last = ts
        except (ijson.JSONError, *MALFORMED):
            return False
    return True


class GenesysReader:
    """Reads files or folders of conversation details into canonical events in event-time order.

    Order: events are held in a heap keyed by (ts, arrival) and one is released once the stream's
    conversationStart has passed it. Every event of a conversation is at or after its conversationStart (an
    earlier one is dated at it), so with the input sorted by conversationStart, as the query returns it, no later
    conversation can bring an earlier event: the heap holds only the calls still going on, and memory stays
    bounded. Sortedness is not assumed: a first cheap pass (ijson in C, the start times only) checks it, and when
    the input is not sorted (async job results promise no order) every event is held and released in ts order
    at the end: still correct, with memory growing with the input. `peak_held` is the heap's largest size.
    """

    def __init__(
        self, options: FeedOptions, report: FeedReport, mapping: GenesysMapping | None = None
    ) -> None:
        if mapping is None:
            mapping = (
                load_mapping(options.mapping, options.tenant)
                if options.mapping
                else GenesysMapping(tenant=options.tenant)
            )
        self.mapping = mapping
        self.hasher = CallerHasher(options.caller_key)
        self.report = report
        report.unit = "record"
        self.peak_held = 0

    def read(self, path: Path) -> Iterator[ContactEvent]:
        files = input_files(path)
        yield from self.events(_opened(files), ordered=_sorted_by_start(files))

    def events(self, sources: Iterable[tuple[str, IO[bytes]]], ordered: bool) -> Iterator[ContactEvent]:
        heap: list[tuple[datetime, int, ContactEvent]] = []
        arrival = itertools.count()
        report = self.report
        for source, stream in sources:
            report.files += 1
            for line, record in _documents(stream, report, source):
                report.read += 1
                try:
                    conversion = convert(record, self.mapping, self.hasher)
                except MALFORMED as exc:
                    report.reject(line, _reason(record, exc), _text(record), source)
                    continue
                if conversion.skipped:
                    report.skip(conversion.skipped)
                    continue
                report.accepted += 1
                for kind in conversion.corrections:
                    report.correct(kind)
                report.observed.update(conversion.observed)
                for event in conversion.events:
                    heapq.heappush(heap, (event.ts, next(arrival), event))
                self.peak_held = max(self.peak_held, len(heap))
                while ordered and heap and heap[0][0] <= conversion.start:
                    event = heapq.heappop(heap)[2]
                    report.events[event.type] += 1
                    yield event
        while heap:
            event = heapq.heappop(heap)[2]
            report.events[event.type] += 1
            yield event


def _reason(record: Any, exc: Exception) -> str:
    """One line: the error's kind, the conversation it concerns, and for a contract violation the fields."""
    if isinstance(exc, ValidationError):
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)[:3]
        )
        detail = f"{exc.title} {fields}"
    else:
        detail = str(exc)
    cid = record.get("conversationId") if isinstance(record, dict) else None
    about = f"conversation {cid!r}: " if isinstance(cid, str) and cid and cid not in detail else ""
    return f"{type(exc).__name__}: {about}{detail}"[:500]


def _text(record: Any) -> str:
    try:
        return json.dumps(record, ensure_ascii=False)[:_TEXT_KEPT]
    except (TypeError, ValueError):
        return repr(record)[:_TEXT_KEPT]


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[ContactEvent]:
    """Events of a file or a folder of files of conversation details (any shape the platform emits), in event-time
    order, streamed; every record is accounted for in `report` (unit: record)."""
    return GenesysReader(options, report).read(path)


def adapt(
    lines: Iterable[str], mapping: GenesysMapping, caller_key: bytes
) -> tuple[list[ContactEvent], list[Reject]]:
    """The lines of a file, read as `read` reads a file (any shape), for callers that hold lines: events in time
    order and the rejects, each with its line."""
    report = FeedReport("genesys", unit="record")
    data = io.BytesIO("".join(f"{line}\n" for line in lines).encode("utf-8", "replace"))
    reader = GenesysReader(FeedOptions(tenant=mapping.tenant, caller_key=caller_key), report, mapping)
    return list(reader.events([("", data)], ordered=False)), report.rejects
