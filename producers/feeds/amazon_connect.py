"""Amazon Connect contact trace records (CTRs, one JSON object per line) to canonical events.

Pure. CTRs are delivered at least once and re-sent when updated, so per `ContactId` only the record with the
latest `LastUpdateTimestamp` counts (Connect admin guide, "Contact records data model"). A voice contact
with a queue entry and no agent connection is abandoned; `TransferredToEndpoint` is an external transfer, i.e.
an enterprise-routed redirect to an outsourcer; the source of an agent comes from its hierarchy group (level 1
names the site or vendor). Handle time = AgentInteractionDuration + CustomerHoldDuration + ACW.

Every record lands in one count of the `FeedReport`: the latest copy of a voice contact is accepted; an older
copy is skipped as "superseded by a later copy of the record" (it was read and deliberately replaced), a chat
or task as "not voice"; a line that is no contact record, or a record its events cannot be made from, is
rejected with its line number and text. The whole file is read before the first event: a later copy can
replace any earlier one.
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
from streams.events import CallerHasher
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactEvent
from streams.events import ContactOffered
from streams.events import ContactQueued
from streams.events import ContactRedirected
from streams.events import ContactWrapupEnded

_NAMESPACE = uuid.UUID("6c1e9f3a-2d47-4b58-a0c9-3e7b5d2f8a61")
SUPERSEDED = "superseded by a later copy of the record"
NOT_VOICE = "not voice"


@dataclass(frozen=True)
class ConnectMapping:
    tenant: str = "default"
    in_house: str = "in-house"
    # hierarchy level-1 group name -> source id; phone numbers of outsourcers -> source id
    groups: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)


def _ts(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"a timestamp must be a string, not {type(value).__name__}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # Connect writes UTC with a zone; without one the instant is unknown
        raise ValueError(f"timestamp {value[:40]!r} has no zone")
    return parsed


@dataclass(frozen=True)
class _Copy:
    updated: datetime
    line: int
    text: str
    record: dict[str, Any]


def latest_records(
    lines: Iterable[tuple[int, str]], report: FeedReport
) -> list[tuple[int, str, dict[str, Any]]]:
    """The latest copy of every contact record, as (line number, raw text, record), in first-seen order; an
    unreadable line is rejected, and each older copy skipped as superseded (a tie goes to the later line)."""
    latest: dict[str, _Copy] = {}
    for number, line in lines:
        try:
            record = json.loads(line)
            contact_id = record["ContactId"]
            if not isinstance(contact_id, str):
                raise TypeError(f"ContactId must be a string, not {type(contact_id).__name__}")
            updated = _ts(record.get("LastUpdateTimestamp") or record["DisconnectTimestamp"])
        except MALFORMED as exc:
            report.reject(number, f"not a contact record: {type(exc).__name__} {exc}", line)
            continue
        previous = latest.get(contact_id)
        if previous is not None:
            report.skip(SUPERSEDED)  # this copy or the one kept so far: one of the two is superseded
            if updated < previous.updated:
                continue
        latest[contact_id] = _Copy(updated, number, line, record)
    return [(copy.line, copy.text, copy.record) for copy in latest.values()]


def to_events(record: dict[str, Any], mapping: ConnectMapping, hasher: CallerHasher) -> list[ContactEvent]:
    contact, initial = record["ContactId"], record.get("InitialContactId") or record["ContactId"]
    agent = record.get("Agent") or {}
    queue = record.get("Queue") or {}
    group = (((agent.get("HierarchyGroups") or {}).get("Level1") or {}).get("GroupName")) or ""
    source = mapping.groups.get(group, mapping.in_house)
    caller = ((record.get("CustomerEndpoint") or {}).get("Address")) or ""
    common = {"tenant": mapping.tenant, "contact_id": contact, "initial_contact_id": initial, "source": source,
              "call_type": (queue.get("Name") or "default")[:64]}  # fmt: skip

    def eid(kind: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{mapping.tenant}/{contact}/{kind}")

    events: list[ContactEvent] = []
    if contact == initial:
        events.append(ContactOffered(event_id=eid("offered"), ts=_ts(record["InitiationTimestamp"]),
                                     caller_hash=hasher(caller) if caller else None, **common))  # fmt: skip
    wait_ms = int(float(queue.get("Duration") or 0) * 1000)
    if queue.get("EnqueueTimestamp"):
        events.append(ContactQueued(event_id=eid("queued"), ts=_ts(queue["EnqueueTimestamp"]),
                                    queue=common["call_type"], **common))  # fmt: skip
    connected = agent.get("ConnectedToAgentTimestamp")
    if connected:
        username = agent.get("Username") or "unknown"
        events.append(ContactAnswered(event_id=eid("answered"), ts=_ts(connected), agent_id=username,
                                      wait_ms=wait_ms, total_wait_ms=wait_ms, **common))  # fmt: skip
        events.append(ContactEnded(
            event_id=eid("ended"), ts=_ts(record["DisconnectTimestamp"]), agent_id=username,
            talk_ms=int(float(agent.get("AgentInteractionDuration") or 0) * 1000),
            hold_ms=int(float(agent.get("CustomerHoldDuration") or 0) * 1000), **common,
        ))  # fmt: skip
        if agent.get("AfterContactWorkEndTimestamp"):
            events.append(ContactWrapupEnded(
                event_id=eid("acw"), ts=_ts(agent["AfterContactWorkEndTimestamp"]), agent_id=username,
                acw_ms=int(float(agent.get("AfterContactWorkDuration") or 0) * 1000), **common,
            ))  # fmt: skip
    elif record.get("TransferredToEndpoint"):
        address = record["TransferredToEndpoint"].get("Address") or ""
        to_source = mapping.endpoints.get(address, "external")
        at = _ts(record.get("TransferCompletedTimestamp") or record["DisconnectTimestamp"])
        events.append(ContactRedirected(event_id=eid("redirected"), ts=at, to_source=to_source,
                                        handoff="accepted", **common))  # fmt: skip
    elif queue.get("EnqueueTimestamp"):
        left = queue.get("DequeueTimestamp") or record["DisconnectTimestamp"]
        events.append(ContactAbandoned(event_id=eid("abandoned"), ts=_ts(left), wait_ms=wait_ms,
                                       total_wait_ms=wait_ms, **common))  # fmt: skip
    return events


def _adapt(lines: Iterable[tuple[int, str]], mapping: ConnectMapping, caller_key: bytes,
           report: FeedReport) -> list[ContactEvent]:  # fmt: skip
    hasher = CallerHasher(caller_key)
    events: list[ContactEvent] = []
    for number, text, record in latest_records(lines, report):
        if record.get("Channel", "VOICE") != "VOICE":
            report.skip(NOT_VOICE)
            continue
        try:
            produced = to_events(record, mapping, hasher)
        # AttributeError: a list or a number where Connect writes an object (`Agent`, `Queue`).
        except MALFORMED as exc:
            report.reject(number, f"contact {record['ContactId']}: {type(exc).__name__} {exc}", text)
            continue
        report.accepted += 1
        report.events.update(event.type for event in produced)
        events.extend(produced)
    events.sort(key=lambda event: event.ts)
    return events


def adapt(
    lines: Iterable[str], mapping: ConnectMapping, caller_key: bytes
) -> tuple[list[ContactEvent], list[Reject], FeedReport]:
    """Events of the latest version of each voice CTR held in memory, in time order, with rejects and counts."""
    report = FeedReport("connect-ctr")
    events = _adapt(held_lines(lines, report), mapping, caller_key, report)
    return events, report.rejects, report


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[ContactEvent]:
    """A CTR export's events in event-time order (a stable sort); the whole file is read before the first
    event, as a later copy of a record can replace any earlier one."""
    yield from _adapt(
        text_lines(path, report), ConnectMapping(tenant=options.tenant), options.caller_key, report
    )
