"""Genesys Cloud analytics conversation details (one conversation JSON per line) to canonical events.

Pure. Sources: Genesys Cloud analytics API models (AnalyticsConversation / Participant / Session / Segment).
A conversation is one customer call (`conversationId`). Its ACD participant's `interact` segment is the queue
wait (`queueId`); an agent participant's `interact` segments are talk, `hold` segments hold, `wrapup` the
after-contact work; a participant with purpose `external` after the queue is a transfer out of the enterprise,
i.e. an enterprise-routed redirect to an outsourcer; an ACD segment with no agent and no external participant
is an abandon (a disconnect while queued).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any

from producers.feeds.rejects import MALFORMED
from producers.feeds.rejects import Reject
from streams.events import CallerHasher
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactEvent
from streams.events import ContactOffered
from streams.events import ContactOverflowed
from streams.events import ContactQueued
from streams.events import ContactRedirected
from streams.events import ContactWrapupEnded

_NAMESPACE = uuid.UUID("c4a7e2d9-5b61-4f83-8e0a-9d16b3f72c58")
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class GenesysMapping:
    tenant: str = "default"
    in_house: str = "in-house"
    queues: dict[str, str] = field(default_factory=dict)  # queueId -> call type
    external_numbers: dict[str, str] = field(
        default_factory=dict
    )  # dialled number of an outsourcer -> source


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _segments(participant: dict[str, Any]) -> list[dict[str, Any]]:
    return [segment for session in participant.get("sessions", []) for segment in session.get("segments", [])]


def _duration_ms(segment: dict[str, Any]) -> int:
    return int((_ts(segment["segmentEnd"]) - _ts(segment["segmentStart"])) / _MS)


def to_events(
    conversation: dict[str, Any], mapping: GenesysMapping, hasher: CallerHasher
) -> list[ContactEvent]:
    cid = conversation["conversationId"]
    participants = conversation["participants"]
    customer: dict[str, Any] = next((p for p in participants if p.get("purpose") == "customer"), {})
    acd = next((p for p in participants if p.get("purpose") == "acd"), None)
    agent = next((p for p in participants if p.get("purpose") == "agent"), None)
    external = next((p for p in participants if p.get("purpose") == "external"), None)
    ani = next((s.get("ani") for s in customer.get("sessions", []) if s.get("ani")), "")
    queue_segment = (
        next((s for s in _segments(acd) if s.get("segmentType") == "interact"), None) if acd else None
    )
    queue_id = queue_segment.get("queueId", "") if queue_segment else ""
    common = {"tenant": mapping.tenant, "contact_id": cid, "initial_contact_id": cid, "source": mapping.in_house,
              "call_type": mapping.queues.get(queue_id, queue_id or "default")[:64]}  # fmt: skip

    def eid(kind: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{mapping.tenant}/{cid}/{kind}")

    events: list[ContactEvent] = [
        ContactOffered(event_id=eid("offered"), ts=_ts(conversation["conversationStart"]),
                       caller_hash=hasher(ani.removeprefix("tel:")) if ani else None, **common)
    ]  # fmt: skip
    if queue_segment is None:
        return events
    enqueued = _ts(queue_segment["segmentStart"])
    wait_ms = _duration_ms(queue_segment)
    events.append(ContactQueued(event_id=eid("queued"), ts=enqueued, queue=queue_id or "default", **common))
    if agent is not None:
        segments = _segments(agent)
        talk = [s for s in segments if s.get("segmentType") == "interact"]
        if not talk:
            raise ValueError(f"conversation {cid}: agent participant without an interact segment")
        user = agent.get("userId") or "unknown"
        answered_at = _ts(talk[0]["segmentStart"])
        events.append(ContactAnswered(event_id=eid("answered"), ts=answered_at, agent_id=user, wait_ms=wait_ms,
                                      total_wait_ms=int((answered_at - enqueued) / _MS), **common))  # fmt: skip
        hold_ms = sum(_duration_ms(s) for s in segments if s.get("segmentType") == "hold")
        events.append(ContactEnded(event_id=eid("ended"), ts=_ts(talk[-1]["segmentEnd"]), agent_id=user,
                                   talk_ms=sum(_duration_ms(s) for s in talk), hold_ms=hold_ms, **common))  # fmt: skip
        wrapup = next((s for s in segments if s.get("segmentType") == "wrapup"), None)
        if wrapup is not None:
            events.append(ContactWrapupEnded(event_id=eid("wrapup"), ts=_ts(wrapup["segmentEnd"]), agent_id=user,
                                             acw_ms=_duration_ms(wrapup), **common))  # fmt: skip
    elif external is not None:
        dialled = next((s.get("dnis") or s.get("addressTo") for s in external.get("sessions", [])), "") or ""
        to_source = mapping.external_numbers.get(dialled.removeprefix("tel:"), "external")
        left = _ts(queue_segment["segmentEnd"])
        events.append(ContactOverflowed(event_id=eid("overflowed"), ts=left, to_source=to_source, trigger="timeout",
                                        wait_ms=wait_ms, **common))  # fmt: skip
        events.append(ContactRedirected(event_id=eid("redirected"), ts=left, to_source=to_source,
                                        handoff="accepted", **common))  # fmt: skip
    else:
        events.append(ContactAbandoned(event_id=eid("abandoned"), ts=_ts(queue_segment["segmentEnd"]),
                                       wait_ms=wait_ms, total_wait_ms=wait_ms, **common))  # fmt: skip
    return events


def adapt(
    lines: Iterable[str], mapping: GenesysMapping, caller_key: bytes
) -> tuple[list[ContactEvent], list[Reject]]:
    hasher = CallerHasher(caller_key)
    events: list[ContactEvent] = []
    rejects: list[Reject] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.extend(to_events(json.loads(line), mapping, hasher))
        except MALFORMED as exc:
            rejects.append(Reject(number, f"{type(exc).__name__}: {exc}"))
    events.sort(key=lambda event: event.ts)
    return events, rejects
