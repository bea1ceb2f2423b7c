"""An independent reader of Genesys Cloud detail-event captures, to check the `genesys-events` adapter against.

Standard library only and no project imports: it reads the whole capture at once, drops repeats, groups the
messages by conversation and counts what the captures say in the plainest way (an acd.end's outcome is the
queue's outcome, a user.end's interactingDurationMs is talk), with none of the adapter's streaming, holding or
event building. Where the two agree, neither has mis-read the format the same way by sharing code.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

PREFIX = "v2.detail.events.conversation."
HELD = {"customer.start", "customer.end", "acd.start", "acd.end", "user.start", "user.end", "acw", "flow.end"}
OUTCOMES = {"ABANDON", "ANSWERED", "FLOW_OUT", "UNKNOWN"}
_ID = re.compile(r"^[^.]*[0-9-][^.]*$")


@dataclass
class RawFigures:
    records: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    flowed_out: int = 0
    answered_wait_ms: int = 0  # acd.end - acd.start of each answered queue leg
    talk_ms: int = 0  # interactingDurationMs of the answering agents' user.end
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: int = 0

    @property
    def duplicates(self) -> int:
        return self.skipped["duplicate"]


def _documents(text: str) -> list[str | None]:
    """Each JSON document of the text, None for a piece that does not parse (the rest of its line)."""
    decoder = json.JSONDecoder()
    out: list[str | None] = []
    for line in text.splitlines():
        at = 0
        line = line.strip()
        while at < len(line):
            try:
                _, end = decoder.raw_decode(line, at)
            except ValueError:
                out.append(None)
                break
            out.append(line[at:end])
            at = end
            while at < len(line) and line[at] in " \t,":
                at += 1
    return out


def _topic(record: Any) -> tuple[Any, Any] | None:
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("detail"), dict):
        detail = record["detail"]
        return detail.get("topicName") or record.get("detail-type"), detail.get("eventBody")
    if "topicName" in record:
        return record["topicName"], record.get("eventBody")
    return None


def read_raw(path: Path) -> RawFigures:
    figures = RawFigures()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    seen: set[tuple[Any, ...]] = set()
    by_conversation: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for file in files:
        for document in _documents(file.read_text(encoding="utf-8")):
            figures.records += 1
            found = _topic(json.loads(document)) if document is not None else None
            if found is None or not isinstance(found[0], str):
                figures.rejected += 1
                continue
            topic, body = found
            if topic == "channel.metadata":
                figures.skipped["heartbeat"] += 1
                continue
            if not topic.startswith(PREFIX):
                kind = ".".join(
                    "{id}" if i and _ID.match(part) else part for i, part in enumerate(topic.split("."))
                )
                figures.skipped[f"not a detail event: {kind}"] += 1
                continue
            conversation, _, kind = topic[len(PREFIX) :].partition(".")
            if kind not in HELD:
                figures.skipped[f"not a call event: {kind}"] += 1
                continue
            if not isinstance(body.get("eventTime"), int) or (
                kind == "acd.end" and body.get("acdOutcome") not in OUTCOMES
            ):
                figures.rejected += 1
                continue
            key = (kind, conversation, body.get("participantId"), body.get("sessionId"), body["eventTime"])
            if key in seen:
                figures.skipped["duplicate"] += 1
                continue
            seen.add(key)
            by_conversation[conversation].append((kind, body))
    for messages in by_conversation.values():
        _conversation(messages, figures)
    return figures


def _conversation(messages: list[tuple[str, dict[str, Any]]], figures: RawFigures) -> None:
    kinds = [kind for kind, _ in messages]
    outbound = any(k == "customer.start" and b.get("direction") == "OUTBOUND" for k, b in messages)
    if outbound or "acd.start" not in kinds:
        for kind in kinds:
            why = "outbound call" if outbound else "never queued"
            figures.skipped["not a call event: flow.end" if kind == "flow.end" else why] += 1
        return
    figures.offered += 1
    starts = {b["sessionId"]: b["eventTime"] for k, b in messages if k == "acd.start"}
    flowed_out_at: list[int] = []
    for kind, body in messages:
        if kind != "acd.end":
            continue
        outcome = body["acdOutcome"]
        if outcome == "ANSWERED":
            figures.answered += 1
            figures.answered_wait_ms += body["eventTime"] - starts[body["sessionId"]]
            agent = body["answeredUserId"]
            figures.talk_ms += sum(
                b.get("interactingDurationMs", 0)
                for k, b in messages
                if k == "user.end" and b["userId"] == agent
            )
        elif outcome == "ABANDON":
            figures.abandoned += 1
        elif outcome == "FLOW_OUT":
            figures.flowed_out += 1
            flowed_out_at.append(body["eventTime"])
    for kind, body in messages:
        # A flow.end says where a flow-out went unless it sent the call to another queue (whose acd.start says it).
        if kind == "flow.end" and not (
            body.get("transferType") not in (None, "ACD")
            and any(at <= body["eventTime"] for at in flowed_out_at)
        ):
            figures.skipped["not a call event: flow.end"] += 1
