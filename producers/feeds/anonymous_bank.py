"""The Anonymous Bank call log (Technion SEE Center, 1999): tab-separated, 17 fields per call, to canonical events.

A pure function from lines to calls, events and rejects; reading the file is the caller's business. Data:
"Anonymous Bank" call-center data, Service Enterprise Engineering Center, Technion (documentation:
I. Guedj and A. Mandelbaum, "Anonymous Bank call-center data", documentation.pdf beside the data).

Decisions on the known defects of the public copies (each counted in `BankReport`):
- a line whose fields are separated by spaces instead of tabs is split on whitespace when that yields the 17
  fields (`repaired_separators`); otherwise it is rejected with its line number;
- `q_start` 0:00:00 means the call never waited in the queue (the documentation's convention): served, it was
  routed straight to an idle agent and is queued for 0 s at its service start (as an ACD counts it); hung up,
  it left in the VRU and never reached the queue (no queue event);
- durations (`q_time`, `ser_time`) that disagree with their timestamps by more than 1 s are kept as recorded
  (`duration_mismatch`): the published figures (mean service time 185 s) are computed from the duration fields;
- call types outside the documented six (PS, PE, IN, NE, NW, TT) are kept as they are (`undocumented_types`);
- PHANTOM calls are, per the documentation, not customer calls: counted, no events emitted;
- an AGENT call whose `ser_start` is 0:00:00 (45 in January, all with `ser_time` 0) has no service times: it
  is answered when it left the queue (or the VRU) and served for 0 s as recorded (`missing_service_times`);
- a time earlier than the call's VRU entry belongs to the next day (calls crossing midnight);
- within a call, event times are clamped to be non-decreasing (the log's clocks disagree by a second at times).
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from producers.feeds.rejects import Reject
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from streams.events import CallerHasher
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactEvent
from streams.events import ContactOffered
from streams.events import ContactQueued

FIELDS = (
    "vru_line", "call_id", "customer_id", "priority", "type", "date", "vru_entry", "vru_exit", "vru_time",
    "q_start", "q_exit", "q_time", "outcome", "ser_start", "ser_exit", "ser_time", "server",
)  # fmt: skip
DOCUMENTED_TYPES = frozenset({"PS", "PE", "IN", "NE", "NW", "TT"})
OUTCOMES = frozenset({"AGENT", "HANG", "PHANTOM"})
TENANT = "anonymous-bank"
SOURCE = "in-house"
# The bank is in Israel; the log's clock is local time. Events are UTC: Israel Standard Time is UTC+2 in January.
LOCAL_OFFSET = timedelta(hours=2)
_TIME = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")
_NAMESPACE = uuid.UUID("5f0c6a52-7d1e-4b8e-9a43-0d2f3c1b6e77")


@dataclass(frozen=True)
class BankCall:
    line: int
    vru_line: str
    call_id: str
    customer_id: str
    priority: int
    call_type: str
    day: date
    vru_entry: datetime
    queued: bool
    q_start: datetime | None
    q_exit: datetime | None
    q_time: int
    outcome: str
    ser_start: datetime | None
    ser_exit: datetime | None
    ser_time: int
    server: str


@dataclass
class BankReport:
    """What the adapter accepted and rejected, and the defects it repaired or kept, with counts."""

    accepted: int = 0
    rejected: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    repaired_separators: int = 0
    never_queued: int = 0
    duration_mismatch: int = 0
    undocumented_types: Counter[str] = field(default_factory=Counter)
    missing_service_times: int = 0


def _clock(value: str, day: date, after: datetime | None) -> datetime:
    match = _TIME.match(value)
    if match is None:
        raise ValueError(f"time {value!r} is not H:MM:SS")
    hours, minutes, seconds = (int(part) for part in match.groups())
    moment = datetime(day.year, day.month, day.day, hours, minutes, seconds, tzinfo=UTC) - LOCAL_OFFSET
    if after is not None and moment < after - timedelta(hours=1):
        moment += timedelta(days=1)  # crossed midnight after the VRU entry
    return moment


def parse(lines: Iterable[str], report: BankReport | None = None) -> Iterator[BankCall | Reject]:
    """One `BankCall` per good line and one `Reject` (line number, reason) per bad one; the header is skipped."""
    report = report if report is not None else BankReport()
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if number == 1 and text.startswith("vru+line"):
            continue
        if not text.strip():
            continue
        parts = text.split("\t")
        if len(parts) != len(FIELDS):
            spaced = re.split(r"\s+", text.strip())
            if len(spaced) != len(FIELDS):
                report.rejected += 1
                yield Reject(number, f"{len(parts)} tab-separated fields, expected {len(FIELDS)}", text)
                continue
            parts = spaced
            report.repaired_separators += 1
        values = dict(zip(FIELDS, (part.strip() for part in parts), strict=True))
        try:
            call = _call(number, values, report)
        except ValueError as exc:
            report.rejected += 1
            yield Reject(number, str(exc), text)
            continue
        report.accepted += 1
        report.outcomes[call.outcome] += 1
        yield call


def _call(number: int, v: dict[str, str], report: BankReport) -> BankCall:
    if v["outcome"] not in OUTCOMES:
        raise ValueError(f"unknown outcome {v['outcome']!r}")
    if not re.fullmatch(r"\d{6}", v["date"]):
        raise ValueError(f"date {v['date']!r} is not YYMMDD")
    day = date(1900 + int(v["date"][:2]) if int(v["date"][:2]) > 50 else 2000 + int(v["date"][:2]),
               int(v["date"][2:4]), int(v["date"][4:6]))  # fmt: skip
    entry = _clock(v["vru_entry"], day, None)
    queued = v["q_start"] not in ("0:00:00", "00:00:00")
    if not queued:
        report.never_queued += 1
    q_start = _clock(v["q_start"], day, entry) if queued else None
    q_exit = _clock(v["q_exit"], day, entry) if queued else None
    q_time = int(v["q_time"])
    served = v["outcome"] == "AGENT"
    ser_start = _clock(v["ser_start"], day, entry) if served else None
    ser_exit = _clock(v["ser_exit"], day, entry) if served else None
    if served and v["ser_start"] in ("0:00:00", "00:00:00"):
        # Served, but no service times: answered when the call left the queue (or the VRU), for 0 s as recorded.
        report.missing_service_times += 1
        ser_start = ser_exit = q_exit if q_exit is not None else _clock(v["vru_exit"], day, entry)
    ser_time = int(v["ser_time"])
    if q_time < 0 or ser_time < 0:
        raise ValueError("negative duration")
    mismatch = (
        q_start is not None and q_exit is not None and abs((q_exit - q_start).total_seconds() - q_time) > 1
    ) or (
        ser_start is not None
        and ser_exit is not None
        and abs((ser_exit - ser_start).total_seconds() - ser_time) > 1
    )
    if mismatch:
        report.duration_mismatch += 1
    if v["type"] not in DOCUMENTED_TYPES:
        report.undocumented_types[v["type"]] += 1
    return BankCall(
        number, v["vru_line"], v["call_id"], v["customer_id"], int(v["priority"]), v["type"], day, entry,
        queued, q_start, q_exit, q_time, v["outcome"], ser_start, ser_exit, ser_time, v["server"],
    )  # fmt: skip


def to_events(call: BankCall, hasher: CallerHasher) -> list[ContactEvent]:
    """Canonical events of one call, with ids derived from the call (a re-run emits the same ids)."""
    if call.outcome == "PHANTOM":
        return []
    contact = f"ab-{call.day:%y%m%d}-{call.vru_line}-{call.call_id}"
    caller = hasher(call.customer_id) if call.customer_id not in ("", "0") else None
    common = {"tenant": TENANT, "contact_id": contact, "initial_contact_id": contact, "source": SOURCE,
              "call_type": call.call_type}  # fmt: skip

    def eid(kind: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{contact}/{kind}")

    events: list[ContactEvent] = [
        ContactOffered(event_id=eid("offered"), ts=call.vru_entry, caller_hash=caller, **common)
    ]
    wait_ms = call.q_time * 1000
    # The log's clocks disagree by a second here and there (service starting before the queue start): event
    # times are clamped to be non-decreasing within the call, so its events stay in order on the wire.
    at = call.vru_entry
    if call.queued and call.q_start is not None:
        at = max(at, call.q_start)
        events.append(ContactQueued(event_id=eid("queued"), ts=at, queue=f"bank.{call.call_type}", **common))
    elif call.outcome == "AGENT" and call.ser_start is not None:
        # Routed straight to an idle agent: the ACD offered it to the queue for 0 s, as ACDs count it.
        at = max(at, call.ser_start)
        events.append(ContactQueued(event_id=eid("queued"), ts=at, queue=f"bank.{call.call_type}", **common))
    if call.outcome == "AGENT" and call.ser_start is not None and call.ser_exit is not None:
        at = max(at, call.ser_start)
        events.append(
            ContactAnswered(
                event_id=eid("answered"), ts=at, agent_id=call.server or "unknown", wait_ms=wait_ms,
                total_wait_ms=wait_ms, **common,
            )
        )  # fmt: skip
        events.append(
            ContactEnded(
                event_id=eid("ended"), ts=max(call.ser_exit, at), agent_id=call.server or "unknown",
                talk_ms=call.ser_time * 1000, **common,
            )
        )  # fmt: skip
    elif call.outcome == "HANG":
        hung_up = call.q_exit if call.queued and call.q_exit is not None else call.vru_entry
        events.append(
            ContactAbandoned(
                event_id=eid("abandoned"), ts=max(hung_up, at), wait_ms=wait_ms if call.queued else 0,
                total_wait_ms=wait_ms if call.queued else 0, **common,
            )
        )  # fmt: skip
    return events


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[ContactEvent]:
    """The log's events in event-time order, every line accounted in `report`.

    The header and blank lines are blank; PHANTOM calls are skipped (not customer calls, per the
    documentation); the re-split separators and the served calls with no service times are corrections; the
    durations kept as recorded and the undocumented call types are observed. A month is 31,599 calls, so its
    150k events are sorted in memory: the log is written by VRU line, not in time order.
    """
    bank = BankReport()
    hasher = CallerHasher(options.caller_key)
    events: list[ContactEvent] = []
    report.files += 1
    with path.open(encoding="latin-1") as lines:
        for item in parse(_counted(lines, report), bank):
            if isinstance(item, Reject):
                report.rejects.append(item)
            elif item.outcome == "PHANTOM":
                report.skip("PHANTOM: not a customer call")
            else:
                report.accepted += 1
                events.extend(to_events(item, hasher))
    for kind, count in (
        ("space-separated fields re-split", bank.repaired_separators),
        ("served with no service times: answered as it left the queue, for 0 s", bank.missing_service_times),
    ):
        if count:
            report.correct(kind, count)
    if bank.duration_mismatch:
        report.observed["duration disagrees with its timestamps: kept as recorded"] += bank.duration_mismatch
    for call_type, count in bank.undocumented_types.items():
        report.observed[f"undocumented call type {call_type!r}: kept"] += count
    events.sort(key=lambda event: event.ts)
    for event in events:
        report.events[event.type] += 1
    yield from events


def _counted(lines: Iterable[str], report: FeedReport) -> Iterator[str]:
    """Every line, counted as read, and as blank when it is the header or empty (what `parse` passes over)."""
    for number, line in enumerate(lines, start=1):
        report.read += 1
        if not line.strip() or (number == 1 and line.startswith("vru+line")):
            report.blank += 1
        yield line


@dataclass(frozen=True)
class DailyFigures:
    day: date
    offered: int  # AGENT + HANG (phantoms are not customer calls)
    abandoned: int  # HANG
    served: int  # AGENT
    mean_service_s: float | None  # AGENT calls with 0 < ser_time <= 3600 s (the published filter)
    mean_service_all_s: float | None  # every AGENT call, ser_time as recorded (what the warehouse's AHT uses)


def daily_figures(calls: Iterable[BankCall]) -> list[DailyFigures]:
    """The day-by-day table (by the log's own local date) used to check the pipeline against independent tables."""
    per_day: dict[date, list[int]] = {}
    times: dict[date, list[int]] = {}
    for call in calls:
        row = per_day.setdefault(call.day, [0, 0, 0, 0])
        if call.outcome == "AGENT":
            row[0] += 1
            row[2] += 1
            row[3] += call.ser_time
            if 0 < call.ser_time <= 3600:
                times.setdefault(call.day, []).append(call.ser_time)
        elif call.outcome == "HANG":
            row[0] += 1
            row[1] += 1
    return [
        DailyFigures(
            day,
            offered,
            abandoned,
            served,
            round(sum(times[day]) / len(times[day]), 1) if times.get(day) else None,
            round(total / served, 1) if served else None,
        )
        for day, (offered, abandoned, served, total) in sorted(per_day.items())
    ]
