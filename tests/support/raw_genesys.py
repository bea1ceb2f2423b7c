"""An independent reader of raw Genesys Cloud conversation-detail files, for tests: stdlib only, no project code.

It reads whole files with `json.JSONDecoder.raw_decode` (not ijson, not the adapter's state machine) and
works the figures out from the raw segments by the plain rules of the domain:

- a document is a conversation, a page (an object whose keys are all envelope keys; its `conversations`), or
  an array of either; a page without conversations is blank; a document that does not decode is one reject,
  and reading resumes at the next line after its first line that begins with `{` or `[`;
- a conversation without `conversationId` or `conversationStart` is a reject; one whose sessions name media
  and none is voice is skipped;
- each `interact` segment of an `acd` participant is a queue visit; an agent answers the visit in which their
  first `interact` starts; the answered wait runs from the visit's start to its end or the answer, whichever is
  first (later: the overlap is clamped, a correction); talk is the answering agent's `interact` time, counted when
  all of it has ended;
- a visit nobody answered is redirected when an external participant follows and it is the last visit,
  abandoned when it is the last visit and it ended; a ring-no-answer is an agent who only alerted, the alert over
  and not ended by the customer (disconnectType peer).

Unsuitable for production (whole files in memory); exactly right as a second opinion on small fixtures.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

ENVELOPE = {"conversations", "totalHits", "cursor", "dataAvailabilityDate", "aggregations"}
PADDED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ANY_TIME = re.compile(r"^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(?:\.(\d+))?Z$")


@dataclass
class RawFigures:
    read: int = 0
    blank: int = 0
    skipped: int = 0
    rejects: list[tuple[str, int]] = field(default_factory=list)  # (file name, line)
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    redirected: int = 0
    answered_wait_ms: int = 0
    talk_ms: int = 0
    ring_no_answer: int = 0
    corrections: Counter[str] = field(default_factory=Counter)
    open_conversations: int = 0


def when(text: str) -> datetime:
    """A UTC timestamp as Genesys writes it, padded or not (only `Z` zones occur in the fixtures)."""
    match = ANY_TIME.match(text)
    if match is None:
        raise ValueError(text)
    y, mo, d, h, mi, s, frac = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=UTC)


def ms(a: datetime, b: datetime) -> int:
    return (b - a) // timedelta(milliseconds=1)


def read_raw(path: Path) -> RawFigures:
    figures = RawFigures()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        _read_file(file, figures)
    return figures


def _read_file(file: Path, figures: RawFigures) -> None:
    text = file.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        first_line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            figures.read += 1
            figures.rejects.append((file.name, first_line))
            found = re.compile(r"\n[{\[]").search(
                text, text.find("\n", pos) if "\n" in text[pos:] else len(text)
            )
            if found is None:
                return
            pos = found.start() + 1
            continue
        for line, record in _records(value, first_line):
            _conversation(file.name, line, record, figures)


def _records(value: Any, line: int) -> list[tuple[int, Any]]:
    if isinstance(value, list):
        return [r for item in value for r in _records(item, line)] if value else [(line, None)]
    if (
        isinstance(value, dict)
        and value
        and set(value) <= ENVELOPE
        and isinstance(value.get("conversations"), list | None)
    ):
        return [(line, c) for c in value.get("conversations") or []] or [(line, None)]
    return [(line, value)]


def _conversation(name: str, line: int, c: Any, figures: RawFigures) -> None:
    figures.read += 1
    if c is None:
        figures.blank += 1
        return
    if not isinstance(c, dict) or not c.get("conversationId") or not c.get("conversationStart"):
        figures.rejects.append((name, line))
        return
    sessions = [s for p in c.get("participants", []) for s in p.get("sessions", [])]
    media = {s.get("mediaType") for s in sessions if s.get("mediaType")}
    if media and "voice" not in media:
        figures.skipped += 1
        return
    times = [c["conversationStart"], c.get("conversationEnd")] + [
        v
        for s in sessions
        for g in s.get("segments", [])
        for v in (g.get("segmentStart"), g.get("segmentEnd"))
    ]
    if any(t is not None and not PADDED.match(t) for t in times):
        figures.corrections["unpadded_timestamp"] += 1
    if c.get("conversationEnd") is None or any(
        "segmentEnd" not in g for s in sessions for g in s.get("segments", [])
    ):
        figures.open_conversations += 1
    figures.offered += 1

    def segments(p: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        found = [
            g for s in p.get("sessions", []) for g in s.get("segments", []) if g.get("segmentType") == kind
        ]
        return sorted(found, key=lambda g: when(g["segmentStart"]))

    parts = c.get("participants", [])
    visits = sorted((g for p in parts if p.get("purpose") == "acd" for g in segments(p, "interact")),
                    key=lambda g: when(g["segmentStart"]))  # fmt: skip
    talkers = [
        (segments(p, "interact"), p) for p in parts if p.get("purpose") == "agent" and segments(p, "interact")
    ]
    for p in parts:
        alerts = segments(p, "alert") if p.get("purpose") == "agent" else []
        if (
            alerts
            and not segments(p, "interact")
            and "segmentEnd" in alerts[-1]
            and alerts[-1].get("disconnectType") != "peer"
        ):
            figures.ring_no_answer += 1
    externals = [p for p in parts if p.get("purpose") == "external"]
    overlap = False
    for i, visit in enumerate(visits):
        start = when(visit["segmentStart"])
        upto = when(visits[i + 1]["segmentStart"]) if i + 1 < len(visits) else None
        taker = next(
            (
                t
                for t, _ in talkers
                if start <= when(t[0]["segmentStart"]) and (upto is None or when(t[0]["segmentStart"]) < upto)
            ),
            None,
        )
        if taker is not None:
            figures.answered += 1
            talk_start = when(taker[0]["segmentStart"])
            end = when(visit["segmentEnd"]) if "segmentEnd" in visit else talk_start
            overlap = overlap or end > talk_start
            figures.answered_wait_ms += ms(start, min(end, talk_start))
            if all("segmentEnd" in g for g in taker):
                figures.talk_ms += sum(ms(when(g["segmentStart"]), when(g["segmentEnd"])) for g in taker)
        elif upto is None and externals:
            figures.redirected += 1
        elif upto is None and "segmentEnd" in visit:
            figures.abandoned += 1
    if overlap:
        figures.corrections["overlap_clamped"] += 1
