"""Cisco UCCE / PCCE Termination_Call_Detail (+ Route_Call_Detail) CSV exports to canonical events (`ucce-tcd`).

Input: a TCD export as SQL Server or CUIC writes it (a header of Cisco column names; `NULL` literals, a BOM,
quoted fields, `2026-03-05 09:07:02.000` or `...T09:07:02`), or a folder holding `Termination_Call_Detail*.csv`
and optionally `Route_Call_Detail*.csv` (other files in a folder are not read). Sources: Cisco UCCE/ICM
Database Schema Handbook (Termination_Call_Detail, Route_Call_Detail, "Termination Call Detail: Call
Disposition and CallDispositionFlag Fields"), Cisco doc 43621, CUIC/WebView call type templates; see
the project's domain notes §1.3 and §2.6.

Why it works the way it does:

- A TCD row is one leg of a call at one peripheral, written when the leg *ended*: `DateTime` is the leg's end
  and its start is `DateTime - Duration` (Duration = DelayTime + LocalQTime + RingTime + TalkTime + HoldTime +
  WorkTime). A Duration shorter than those parts (or NULL) is read as their sum, counted as a correction.
  `DateTime` is the logger's local time: `time_zone` in the mapping (default UTC).
- Legs of one customer call share RouterCallKeyDay + RouterCallKey (the cradle-to-grave key that also joins
  Route_Call_Detail); where those are 0 or NULL (a call the router never saw) the key is PeripheralID +
  PeripheralCallKey + the day of DateTime. Legs are ordered by RouterCallKeySequenceNumber, then DateTime.
  A customer call is offered once (its first customer leg); `initial_contact_id` is `{tenant}-{day}-{key}`,
  later legs are `{initial}.2`, `{initial}.3`, ... (as asterisk.py numbers its legs). The whole export is read
  before any event is made (a call's legs are written as each ends, so a call is only known complete at the
  end of the file); events come out in event-time order, held only while a call that is still to be made
  could come earlier. The parsed rows of a day's export stay in memory (about 1 KB a row).
- Waits: the answered wait is LocalQTime + RingTime (UCCE's answer wait / ASA counts queue and ring time and
  starts when the call is queued, so DelayTime and self-service NetworkTime are not in it); an abandon's wait
  is TimeToAband, or LocalQTime + RingTime where that is NULL/0. `total_wait_ms` adds the waits of the call's
  earlier legs (its queue time end to end, without the talk of a leg that transferred it). NULL timings read
  as 0 and negative ones clamped to 0, each counted as a correction by column; a timing past the contract's
  7 days is a reject.
- The source of a leg is its peripheral's (`[peripherals]`: an outsourcer's peripheral in a virtualized
  setup); the call type is `[call_types]`'s name for CallTypeID (else `calltype-<id>`), also the queue name.
- Only the call's *last* customer leg has the call's outcome. An earlier leg was passed on: answered (talk
  > 0, or a handled/transfer disposition) -> answered + ended + wrap-up + ContactTransferred (internal, to the
  next leg's call type; the next leg is queued `transferred_in`); not answered, for another source ->
  ContactOverflowed (trigger timeout) to it; not answered, re-queued at the same source (after Ring No Answer
  or an intraflow) or a partial record (53) -> the next leg continues the same contact: it is not queued or
  offered again, and its wait adds to the earlier leg's (a per-source offered count stays one per call). That
  also covers the documented quirk that a single-step transfer leaves a disposition 7 (Short) on the
  transferred leg: a 7 the call went on from is no abandon (a correction, "abandon disposition on a leg the
  call continued from").
- Enterprise-routed outsourcing: a last leg that left without answer for a device the enterprise does not
  monitor (15, 17, 18, 31, 32, 34) is a redirect: ContactOverflowed (the outsourcer's `trigger`, default
  timeout) + ContactRedirected (accepted), as genesys.py does for an `external` participant. The outsourcer is
  the one whose labels hold the leg's DigitsDialed or whose network target / label is in the call's
  Route_Call_Detail; else `external`.
- Route_Call_Detail: a routing request whose call has TCD legs is folded into that call (accepted, no event).
  A call with RCD rows and no TCD leg never reached a peripheral of the enterprise: its last request is
  ContactOffered (source in-house, at the request's DateTime) and then, routed to a label / network target,
  ContactOverflowed (the outsourcer's `trigger`, default split: an ICM pre-route Percent Allocation) +
  ContactRedirected (accepted), to the mapped outsourcer or `external`; with no target and RouterErrorCode 0,
  abandoned in the network (wait = NetQTime); with a RouterErrorCode, skipped (the outcome is not known).
- Short calls (7) are abandons (Cisco counts them offered but not abandoned): ContactAbandoned, and
  `observed["short_abandon"]`, since the contract has no short flag; the warehouse's short-abandon threshold
  on `wait_ms` classes them. Also observed, by kind: `ring_no_answer` (19), `router_requery` (58),
  `abandoned_on_hold` (6 after talk), `network_error` (60, 61), `partial_call_folded` (53).

Mapping (TOML at `FeedOptions.mapping`, validated; an unknown key or time zone is an error before reading):

    time_zone = "Europe/Paris"          # the logger's zone of DateTime (default UTC)
    in_house = "in-house"               # the source of unmapped peripherals and of the router
    [peripherals]                       # PeripheralID -> source
    5000 = "in-house"
    5100 = "vendor-b"                   # a vendor's PG in a virtualized setup
    [call_types]                        # CallTypeID -> call type (and queue) name
    7001 = "billing"
    [outsourcers.vendor-a]              # enterprise- or network-routed hand-offs to vendor-a
    network_target_ids = [9101]
    labels = ["8005550199"]             # labels / dialled numbers, compared on digits
    trigger = "split"                   # optional: timeout | split | call_type

PeripheralCallType: 1 ACD In, 2 Pre-Route ACD In, 3 Pre-Route Direct Agent, 4 Transfer In, 5 Overflow In,
6 Other In, 25 Route by UCCE, 26 Route by Application Instance, NULL (read as ACD In, a correction) are
customer legs; 7 Auto Out, 8 Agent Out, 9 Out, 10 Agent Inside, 17 Preview, 18 Reservation, 27-36 dialer
reservations and customer legs, 39/40 agent greeting are skipped "not a call event: outbound"; 11 Offered, 12
Consult, 13 Consult Offered, 14 Consult Conference, 15 Conference, 19-24 supervisor assist / monitor / whisper
/ barge-in / intercept / emergency are skipped "not a call event: consult or conference"; any other type is
skipped "not a call event: PeripheralCallType N".

CallDisposition of a customer leg (the last leg's; earlier legs are passed on, see above):
  ===========  ===========================================================  =========================================
  code         meaning (schema handbook)                                    becomes
  ===========  ===========================================================  =========================================
  1            Abandoned in Network (UCCE: routed, never arrived)            abandoned
  2, 3, 4, 5   Abandoned in Local Queue / Ring / Delay / Interflow          abandoned
  6            Abandoned Agent Terminal (hung up on hold)                   answered + ended if TalkTime > 0
                                                                            (observed "abandoned_on_hold"), else
                                                                            abandoned
  7            Short (abandoned under the abandon-call-wait time)           abandoned, observed "short_abandon"
  8, 9         Busy, Forced Busy (no answering resources)                   skipped "busy: refused by the ACD"
  10, 11, 12   Disconnect/drop no answer / busy / reorder                   abandoned (Cisco: abandoned or short)
  13, 14       Disconnect/drop handled primary route / other                answered + ended + wrap-up
  15, 17, 18   Redirected, Intraflow, Interflow                             redirect (overflowed + redirected)
  16, 20-27    Cut Through, Intercept reorder/denial, Time Out, Voice /     skipped "not a call event: dialer or
  33           non-classified energy, No Cut Through, U-Abort, Failed       switch disposition"
               Software, Answering Machine (dialer/switch results)
  19           Ring No Answer                                               abandoned (no later leg), observed
                                                                            "ring_no_answer"
  28, 29, 30   Blind Transfer, Announced Transfer, Conferenced              answered + ended + wrap-up +
  55           Network Consult Transfer                                     transferred (external: no later leg)
  31, 32, 34   Duplicate Transfer (off-switch), Unmonitored Device,         redirect (overflowed + redirected)
               Network Blind Transfer
  35-51        multichannel task dispositions                               skipped "not a call event: non-voice
                                                                            task"
  52           Called Party Disconnected                                    answered + ended + wrap-up
  53           Partial call (interim record, more rows follow)              folded into the call's next leg (its
                                                                            start and wait, not its talk);
                                                                            alone, skipped "partial call: no
                                                                            final record"
  54, 56, 57   Drop / conference / abandon of a network consult             skipped "not a call event: consult or
                                                                            conference"
  58           Router Requery Before Answer                                 as 19, observed "router_requery"
  59, 62       Router Requery / Network Error After Answer                  answered + ended + wrap-up
  60, 61       Network Error (before answer)                                abandoned, observed "network_error"
  other        not in the handbook                                          rejected
  ===========  ===========================================================  =========================================

Every row is accounted in the FeedReport (unit "line"): a file's header is blank; a malformed row (a
field count unlike the header's, a bad number or time, a missing key, an unknown disposition) is rejected
with its line and raw text; a row of a non-customer leg is skipped by kind; the others are accepted. A field
holding a line break is not supported (its line is rejected: each line is one row).
"""

from __future__ import annotations

import csv
import heapq
import tomllib
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import field_validator

from producers.feeds.rejects import MALFORMED
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.report import input_files
from producers.feeds.report import text_lines
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
from streams.events import Event
from streams.events import Name

FORMAT = "ucce-tcd"
_NAMESPACE = uuid.UUID("5f0c2a9e-83d1-4b7a-9e64-1c3d8b2f7a05")
Trigger = Literal["timeout", "split", "call_type"]

# PeripheralCallType families (schema handbook, "PeripheralCallType").
_INBOUND_TYPES = frozenset({1, 2, 3, 4, 5, 6, 25, 26})
_OUTBOUND_TYPES = frozenset({7, 8, 9, 10, 17, 18, *range(27, 37), 39, 40})
_CONSULT_TYPES = frozenset({11, 12, 13, 14, 15, 19, 20, 21, 22, 23, 24})

# CallDisposition families (schema handbook; table in the module docstring).
ABANDONED = frozenset({1, 2, 3, 4, 5, 7, 10, 11, 12, 60, 61})
HANDLED = frozenset({13, 14, 52, 59, 62})
TRANSFERRED = frozenset({28, 29, 30, 55})
REDIRECTED = frozenset({15, 17, 18, 31, 32, 34})
NOT_ANSWERED = frozenset({19, 58})  # rang an agent who did not answer; the router re-routes the call
BUSY = frozenset({8, 9})
DIALER = frozenset({16, *range(20, 28), 33})
TASKS = frozenset(range(35, 52))
CONSULT_DISPOSITIONS = frozenset({54, 56, 57})
PARTIAL = 53
ON_HOLD = 6
SHORT = 7
KNOWN_DISPOSITIONS = (
    ABANDONED | HANDLED | TRANSFERRED | REDIRECTED | NOT_ANSWERED | BUSY | DIALER | TASKS | CONSULT_DISPOSITIONS
    | {PARTIAL, ON_HOLD}
)  # fmt: skip

SKIP_OUTBOUND = "not a call event: outbound"
SKIP_CONSULT = "not a call event: consult or conference"
SKIP_BUSY = "busy: refused by the ACD"
SKIP_DIALER = "not a call event: dialer or switch disposition"
SKIP_TASK = "not a call event: non-voice task"
SKIP_PARTIAL = "partial call: no final record"
SKIP_ROUTE_ERROR = "routing failed: RouterErrorCode, outcome unknown"
SKIP_ROUTE_NO_LEG = "not a call event: routing of a call with no customer leg"

MAX_SECONDS = MAX_DURATION_MS // 1000  # a timing past the contract's bound cannot become an event
TIMINGS = ("DelayTime", "LocalQTime", "RingTime", "TalkTime", "HoldTime", "WorkTime", "TimeToAband")
_TCD_REQUIRED = ("DateTime", "PeripheralID", "CallDisposition")
_RCD_REQUIRED = ("DateTime", "RouterCallKeyDay", "RouterCallKey")


class Outsourcer(BaseModel):
    """How a hand-off to an outsourcer shows in the export: the network targets and labels (or dialled numbers,
    compared on their digits) the router sends its calls to, and why calls go there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    network_target_ids: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    trigger: Trigger | None = None  # None: timeout for a redirect from a queue, split for a pre-route


class UcceMapping(BaseModel):
    """Which peripheral is which source, which call type is which name, which targets are which outsourcer,
    and the zone of DateTime (UCCE writes the logger's local time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str = "UTC"
    in_house: Name = "in-house"
    peripherals: dict[int, Name] = Field(default_factory=dict)  # PeripheralID -> source
    call_types: dict[int, Name] = Field(default_factory=dict)  # CallTypeID -> call type
    outsourcers: dict[Name, Outsourcer] = Field(default_factory=dict)  # source -> how its hand-offs show

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class MappingError(ValueError):
    pass


def load_mapping(path: Path | None) -> UcceMapping:
    if path is None:
        return UcceMapping()
    try:
        return UcceMapping.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise MappingError(f"{path}: {exc}") from None


@dataclass(frozen=True, slots=True)
class TcdRow:
    """One parsed Termination_Call_Detail row: what the adapter reads of it."""

    line: int
    source_file: str
    ended: datetime  # DateTime, UTC
    peripheral_id: int
    call_type_code: int | None  # PeripheralCallType
    disposition: int
    key_day: int | None
    key: int | None
    sequence: int
    peripheral_call_key: int | None
    call_type_id: int | None
    agent: str
    ani: str
    digits_dialed: str
    times: dict[str, int]  # seconds, NULL and negatives already read as 0
    duration: int | None
    text: str = ""  # the raw line, kept for a reject of the whole call

    def call_key(self) -> str:
        if self.key_day and self.key:
            return f"{self.key_day}-{self.key}"
        return f"p{self.peripheral_id}-{self.peripheral_call_key or 0}-{self.ended:%Y%m%d}"


@dataclass(frozen=True, slots=True)
class RcdRow:
    """One parsed Route_Call_Detail row (a routing request)."""

    line: int
    source_file: str
    at: datetime
    key_day: int
    key: int
    call_type_id: int | None
    network_target_id: int | None
    label: str
    router_error: int
    ani: str
    net_q_time: int
    text: str = ""

    def call_key(self) -> str:
        return f"{self.key_day}-{self.key}"


def _null(value: str) -> bool:
    return not value.strip() or value.strip().upper() == "NULL"


def _text(row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    return "" if _null(value) else value.strip()


def _int(row: dict[str, str], column: str) -> int | None:
    value = row.get(column, "")
    if _null(value):
        return None
    text = value.strip()
    return int(float(text)) if "." in text else int(text)  # SQL exports may write 12.0 for an int column


def _time(value: str, zone: ZoneInfo) -> datetime:
    if _null(value):
        raise ValueError("DateTime is NULL")
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def parse_tcd(
    row: dict[str, str], line: int, source: str, zone: ZoneInfo, report: FeedReport, text: str = ""
) -> TcdRow:
    """A TCD row's fields; a NULL timing is read as 0 and a negative one clamped (corrections by column)."""
    ended = _time(row["DateTime"], zone)
    disposition = _int(row, "CallDisposition")
    if disposition is None:
        raise ValueError("CallDisposition is NULL")
    if disposition not in KNOWN_DISPOSITIONS:
        raise ValueError(f"CallDisposition {disposition} is not in the schema handbook's list")
    peripheral = _int(row, "PeripheralID")
    if peripheral is None:
        raise ValueError("PeripheralID is NULL")
    times: dict[str, int] = {}
    for column in TIMINGS:
        value = _int(row, column)
        if value is None:
            report.correct(f"NULL {column} read as 0")
            value = 0
        elif value < 0:
            report.correct(f"negative {column} clamped to 0")
            value = 0
        elif value > MAX_SECONDS:
            raise ValueError(f"{column} {value} s is beyond the contract's 7 days")
        times[column] = value
    duration = _int(row, "Duration")
    if duration is not None and duration > MAX_SECONDS:
        raise ValueError(f"Duration {duration} s is beyond the contract's 7 days")
    agent = _text(row, "AgentPeripheralNumber") or _text(row, "AgentSkillTargetID")
    return TcdRow(line, source, ended, peripheral, _int(row, "PeripheralCallType"), disposition,
                  _int(row, "RouterCallKeyDay"), _int(row, "RouterCallKey"), _int(row, "RouterCallKeySequenceNumber") or 0,
                  _int(row, "PeripheralCallKey"), _int(row, "CallTypeID"), agent[:128], _text(row, "ANI"),
                  _text(row, "DigitsDialed"), times, duration, text)  # fmt: skip


def parse_rcd(row: dict[str, str], line: int, source: str, zone: ZoneInfo, text: str = "") -> RcdRow:
    day, key = _int(row, "RouterCallKeyDay"), _int(row, "RouterCallKey")
    if not day or not key:
        raise ValueError("a routing request without RouterCallKeyDay / RouterCallKey")
    return RcdRow(line, source, _time(row["DateTime"], zone), day, key, _int(row, "CallTypeID"),
                  _int(row, "NetworkTargetID"), _text(row, "Label"), _int(row, "RouterErrorCode") or 0,
                  _text(row, "ANI"), min(MAX_SECONDS, max(0, _int(row, "NetQTime") or 0)), text)  # fmt: skip


@dataclass
class Rows:
    """The parsed rows of an export, in file order."""

    tcd: list[TcdRow] = field(default_factory=list)
    rcd: list[RcdRow] = field(default_factory=list)


def parse_lines(
    lines: Iterable[tuple[int, str]], mapping: UcceMapping, report: FeedReport, rows: Rows, source: str = ""
) -> None:
    """Parse one CSV file's (line number, text) pairs into `rows`: the first line is the header (blank in the
    report) and says whether the file is TCD or RCD; each later line is one row, parsed or rejected."""
    zone = ZoneInfo(mapping.time_zone)
    header: list[str] | None = None
    kind = ""
    missing: list[str] = []
    for number, text in lines:
        if header is None:
            report.blank += 1
            try:
                header = [name.strip().strip("[]") for name in next(csv.reader([text]), [])]
            except csv.Error:
                header = []  # every row is then rejected for the columns it lacks
            kind = "tcd" if "CallDisposition" in header else "rcd"
            required = _TCD_REQUIRED if kind == "tcd" else _RCD_REQUIRED
            missing = [name for name in required if name not in header]
            continue
        if missing:
            report.reject(number, f"the header has no column {', '.join(missing)}", text, source)
            continue
        try:
            fields = next(csv.reader([text], strict=True))
        except csv.Error as exc:
            report.reject(number, f"Error: {exc}", text, source)
            continue
        if len(fields) != len(header):
            report.reject(number, f"{len(fields)} fields, the header has {len(header)}", text, source)
            continue
        row = dict(zip(header, fields, strict=True))
        try:
            if kind == "tcd":
                rows.tcd.append(parse_tcd(row, number, source, zone, report, text))
            else:
                rows.rcd.append(parse_rcd(row, number, source, zone, text))
        except MALFORMED as exc:
            report.reject(number, f"{type(exc).__name__}: {exc}", text, source)


@dataclass(slots=True)
class _Leg:
    row: TcdRow
    start: datetime
    queued: datetime
    wait_s: int


class _Calls:
    """Turns grouped rows into events; one per export, since it holds the mapping, hasher and report."""

    def __init__(self, mapping: UcceMapping, options: FeedOptions, report: FeedReport) -> None:
        self.mapping = mapping
        self.tenant = options.tenant
        self.hasher = CallerHasher(options.caller_key)
        self.report = report
        self.labels: dict[str, str] = {}
        self.targets: dict[int, str] = {}
        for source, outsourcer in mapping.outsourcers.items():
            for label in outsourcer.labels:
                self.labels[_digits(label) or label] = source
            for target in outsourcer.network_target_ids:
                self.targets[target] = source

    def _source(self, row: TcdRow) -> str:
        return self.mapping.peripherals.get(row.peripheral_id, self.mapping.in_house)[:64]

    def _call_type(self, call_type_id: int | None) -> str:
        if call_type_id is None:
            return "default"
        return self.mapping.call_types.get(call_type_id, f"calltype-{call_type_id}")[:64]

    def _skip_kind(self, row: TcdRow) -> str | None:
        code = row.call_type_code
        if code is not None and code not in _INBOUND_TYPES:
            if code in _OUTBOUND_TYPES:
                return SKIP_OUTBOUND
            if code in _CONSULT_TYPES:
                return SKIP_CONSULT
            return f"not a call event: PeripheralCallType {code}"
        disposition = row.disposition
        if disposition in BUSY:
            return SKIP_BUSY
        if disposition in DIALER:
            return SKIP_DIALER
        if disposition in TASKS:
            return SKIP_TASK
        if disposition in CONSULT_DISPOSITIONS:
            return SKIP_CONSULT
        return None

    def _outsourcer(self, row: TcdRow | None, routes: list[RcdRow]) -> str:
        if row is not None and row.digits_dialed:
            found = self.labels.get(_digits(row.digits_dialed) or row.digits_dialed)
            if found:
                return found
        for route in reversed(routes):
            if route.network_target_id is not None and route.network_target_id in self.targets:
                return self.targets[route.network_target_id]
            found = self.labels.get(_digits(route.label) or route.label) if route.label else None
            if found:
                return found
        return "external"

    def _trigger(self, to_source: str, default: Trigger) -> Trigger:
        outsourcer = self.mapping.outsourcers.get(to_source)
        return (outsourcer.trigger if outsourcer else None) or default

    def call(self, call_key: str, rows: list[TcdRow], routes: list[RcdRow]) -> list[ContactEvent]:
        """The events of one customer call from its legs and routing requests, in causal order."""
        initial = f"{self.tenant}-{call_key}"
        legs: list[_Leg] = []
        for row in sorted(rows, key=lambda r: (r.sequence, r.ended, r.line)):
            kind = self._skip_kind(row)
            if kind is not None:
                self.report.skip(kind)
                continue
            if row.call_type_code is None:
                self.report.correct("NULL PeripheralCallType read as ACD In")
            leg, short = leg_timing(row)
            if short:
                self.report.correct("Duration NULL or shorter than its parts: read as their sum")
            legs.append(leg)
        trailing = 0  # partial records at the end: the rest of their call is not in this export
        while legs and legs[-1].row.disposition == PARTIAL:
            legs.pop()
            trailing += 1
        if trailing:
            self.report.skip(SKIP_PARTIAL, trailing)
        if not legs:
            if not rows:
                return self._routed_only(initial, routes)
            if routes:
                self.report.skip(SKIP_ROUTE_NO_LEG, len(routes))
            return []
        self.report.accepted += len(legs) + len(routes)  # the routing requests are folded into the call
        ani = next((leg.row.ani for leg in legs if leg.row.ani), "") or next(
            (route.ani for route in routes if route.ani), ""
        )
        common = self._common(initial, initial, legs[0].row)
        events: list[ContactEvent] = [
            ContactOffered(event_id=self._id(initial, "offered"), ts=min(leg.start for leg in legs),
                           caller_hash=self.hasher(ani) if _digits(ani) else None, **common)
        ]  # fmt: skip
        number, carried_s, waited_s, transferred_in, continues = 0, 0, 0, False, False
        for index, leg in enumerate(legs):
            following = legs[index + 1] if index + 1 < len(legs) else None
            if not continues:  # a leg the previous one did not merge into is a new contact of the call
                number += 1
            contact_id = initial if number == 1 else f"{initial}.{number}"
            merge = (
                following is not None
                and not _answered(leg.row)
                and (leg.row.disposition == PARTIAL or self._source(following.row) == self._source(leg.row))
            )
            events.extend(self._leg_events(initial, contact_id, leg, following, routes,
                                           transferred_in, continues, carried_s, waited_s, merge))  # fmt: skip
            waited_s += leg.wait_s
            continues = merge
            if merge:
                carried_s += leg.wait_s
                if leg.row.disposition == PARTIAL:
                    self.report.observed["partial_call_folded"] += 1
            else:
                carried_s = 0
                transferred_in = _answered(leg.row)
        return events

    def _common(self, contact_id: str, initial: str, row: TcdRow) -> dict[str, str]:
        return {"tenant": self.tenant, "contact_id": contact_id, "initial_contact_id": initial,
                "source": self._source(row), "call_type": self._call_type(row.call_type_id)}  # fmt: skip

    def _id(self, contact_id: str, kind: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{self.tenant}/{contact_id}/{kind}")

    def _leg_events(
        self, initial: str, contact_id: str, leg: _Leg, following: _Leg | None, routes: list[RcdRow],
        transferred_in: bool, continues: bool, carried_s: int, waited_s: int, merge: bool,
    ) -> list[ContactEvent]:  # fmt: skip
        """One leg's events. `continues`: the leg goes on from earlier legs at this source the call left
        unanswered (Ring No Answer, an intraflow, a partial record), so it is not queued again; `carried_s`:
        their wait, which this leg's counts from. `waited_s`: every earlier leg's wait, the start of
        `total_wait_ms`. `merge`: the next leg continues this one."""
        row, t = leg.row, leg.row.times
        common = self._common(contact_id, initial, row)
        eid = self._id
        events: list[ContactEvent] = []
        if not continues:
            events.append(ContactQueued(event_id=eid(contact_id, "queued"), ts=leg.queued, queue=common["call_type"],
                                        transferred_in=transferred_in, **common))  # fmt: skip
        wait_ms = (carried_s + leg.wait_s) * 1000
        left = leg.queued + timedelta(seconds=leg.wait_s)
        total_ms = (waited_s + leg.wait_s) * 1000  # every queue wait of the call so far, not its talk between
        disposition = row.disposition
        if disposition in NOT_ANSWERED:
            self.report.observed["ring_no_answer" if disposition == 19 else "router_requery"] += 1
        if merge:
            if disposition in ABANDONED:
                self.report.correct("abandon disposition on a leg the call continued from")
            return events
        if _answered(row):
            if disposition == ON_HOLD:
                self.report.observed["abandoned_on_hold"] += 1
            agent = row.agent or "unknown"
            ended = left + timedelta(seconds=t["TalkTime"] + t["HoldTime"])
            events.append(ContactAnswered(event_id=eid(contact_id, "answered"), ts=left, agent_id=agent,
                                          wait_ms=wait_ms, total_wait_ms=total_ms, **common))  # fmt: skip
            events.append(ContactEnded(event_id=eid(contact_id, "ended"), ts=ended, agent_id=agent,
                                       talk_ms=t["TalkTime"] * 1000, hold_ms=t["HoldTime"] * 1000, **common))  # fmt: skip
            if following is not None or disposition in TRANSFERRED:
                to_queue = self._call_type(following.row.call_type_id) if following else None
                events.append(ContactTransferred(event_id=eid(contact_id, "transferred"), ts=ended, agent_id=agent,
                                                 kind="internal" if following else "external", to_queue=to_queue,
                                                 **common))  # fmt: skip
            if t["WorkTime"]:
                events.append(ContactWrapupEnded(event_id=eid(contact_id, "wrapup"),
                                                 ts=ended + timedelta(seconds=t["WorkTime"]), agent_id=agent,
                                                 acw_ms=t["WorkTime"] * 1000, **common))  # fmt: skip
            return events
        if following is not None:
            # Left unanswered for another source's queue (merge covers the same source).
            if disposition in ABANDONED:
                self.report.correct("abandon disposition on a leg the call continued from")
            events.append(ContactOverflowed(event_id=eid(contact_id, "overflowed"), ts=left,
                                            to_source=self._source(following.row), trigger="timeout", wait_ms=wait_ms,
                                            **common))  # fmt: skip
            return events
        if disposition in REDIRECTED:
            to_source = self._outsourcer(row, routes)
            events.append(ContactOverflowed(event_id=eid(contact_id, "overflowed"), ts=left, to_source=to_source,
                                            trigger=self._trigger(to_source, "timeout"), wait_ms=wait_ms,
                                            **common))  # fmt: skip
            events.append(ContactRedirected(event_id=eid(contact_id, "redirected"), ts=left, to_source=to_source,
                                            handoff="accepted", **common))  # fmt: skip
            return events
        if disposition == SHORT:
            self.report.observed["short_abandon"] += 1
        elif disposition in (60, 61):
            self.report.observed["network_error"] += 1
        events.append(ContactAbandoned(event_id=eid(contact_id, "abandoned"), ts=left, wait_ms=wait_ms,
                                       total_wait_ms=total_ms, **common))  # fmt: skip
        return events

    def _routed_only(self, initial: str, routes: list[RcdRow]) -> list[ContactEvent]:
        """A call the router saw and no peripheral of the enterprise did: routed away, or lost in the network."""
        last = max(routes, key=lambda r: (r.at, r.line))
        if last.router_error:
            self.report.skip(SKIP_ROUTE_ERROR, len(routes))
            return []
        self.report.accepted += len(routes)
        common = {"tenant": self.tenant, "contact_id": initial, "initial_contact_id": initial,
                  "source": self.mapping.in_house, "call_type": self._call_type(last.call_type_id)}  # fmt: skip
        ani = next((route.ani for route in routes if route.ani), "")
        first_at = min(route.at for route in routes)
        events: list[ContactEvent] = [
            ContactOffered(event_id=self._id(initial, "offered"), ts=first_at,
                           caller_hash=self.hasher(ani) if _digits(ani) else None, **common)
        ]  # fmt: skip
        left = max(last.at, first_at)
        if last.label or last.network_target_id is not None:
            to_source = self._outsourcer(None, [last])
            events.append(ContactOverflowed(event_id=self._id(initial, "overflowed"), ts=left, to_source=to_source,
                                            trigger=self._trigger(to_source, "split"), wait_ms=last.net_q_time * 1000,
                                            **common))  # fmt: skip
            events.append(ContactRedirected(event_id=self._id(initial, "redirected"), ts=left, to_source=to_source,
                                            handoff="accepted", **common))  # fmt: skip
        else:
            wait_ms = last.net_q_time * 1000
            events.append(ContactAbandoned(event_id=self._id(initial, "abandoned"), ts=left, wait_ms=wait_ms,
                                           total_wait_ms=wait_ms, **common))  # fmt: skip
        return events


def leg_timing(row: TcdRow) -> tuple[_Leg, bool]:
    """When a leg started, queued and how long it waited, from the time it was written (its end) back; and
    whether its Duration was NULL or shorter than its parts (then read as their sum)."""
    t = row.times
    parts = t["DelayTime"] + t["LocalQTime"] + t["RingTime"] + t["TalkTime"] + t["HoldTime"] + t["WorkTime"]
    duration = row.duration
    short = duration is None or duration < parts
    start = row.ended - timedelta(seconds=parts if duration is None or short else duration)
    if _answered(row):
        return _Leg(
            row, start, start + timedelta(seconds=t["DelayTime"]), t["LocalQTime"] + t["RingTime"]
        ), short
    wait = t["TimeToAband"] or t["LocalQTime"] + t["RingTime"]
    queued = row.ended - timedelta(seconds=wait + t["TalkTime"] + t["HoldTime"])
    return _Leg(row, min(start, queued), queued, wait), short


def _answered(row: TcdRow) -> bool:
    """A leg an agent talked on: a handled or transfer disposition, or talk time on any other (the caller who
    hung up on hold, disposition 6, was answered)."""
    if row.disposition in HANDLED or row.disposition in TRANSFERRED:
        return True
    if row.disposition == PARTIAL:  # the record that follows finishes the leg, and says how it ended
        return False
    return row.times["TalkTime"] > 0 and row.disposition not in ABANDONED | REDIRECTED | NOT_ANSWERED


def iter_events(
    rows: Rows, mapping: UcceMapping, options: FeedOptions, report: FeedReport
) -> Iterator[Event]:
    """Parsed rows to canonical events in event-time order, every row accounted in `report` by the end.

    Calls are taken in the order of the earliest moment any of their events can have (the start of their first
    leg, or their first routing request), and an event is let out once no call still to come can have an
    earlier one: only the events of calls open at the same time are held, not the export's."""
    calls = _Calls(mapping, options, report)
    legs: dict[str, list[TcdRow]] = {}
    for row in rows.tcd:
        legs.setdefault(row.call_key(), []).append(row)
    routes: dict[str, list[RcdRow]] = {}
    for route in rows.rcd:
        routes.setdefault(route.call_key(), []).append(route)

    def earliest(key: str) -> datetime:
        starts = [leg_timing(row)[0].start for row in legs.get(key, [])]
        return min(starts + [route.at for route in routes.get(key, [])])

    keys = [*legs, *(key for key in routes if key not in legs)]
    order = sorted((earliest(key), number, key) for number, key in enumerate(keys))
    held: list[tuple[datetime, int, int, Event]] = []
    for start, number, key in order:
        while held and held[0][0] < start:
            event = heapq.heappop(held)[3]
            report.events[event.type] += 1
            yield event
        call_rows, call_routes = legs.get(key, []), routes.get(key, [])
        counted = (report.accepted, report.skipped.copy(), report.observed.copy())
        try:
            produced = calls.call(key, call_rows, call_routes)
        # Rows each valid that make an event the contract refuses together (waits over 7 days across legs):
        # the call's rows are rejected, its counts taken back.
        except MALFORMED as exc:
            report.accepted, report.skipped, report.observed = counted
            items: list[TcdRow | RcdRow] = [*call_rows, *call_routes]
            for item in items:
                report.reject(
                    item.line, f"call {key}: {type(exc).__name__}: {exc}", item.text, item.source_file
                )
            continue
        for index, event in enumerate(produced):
            heapq.heappush(held, (event.ts, number, index, event))
    while held:
        event = heapq.heappop(held)[3]
        report.events[event.type] += 1
        yield event


def to_events(rows: Rows, mapping: UcceMapping, options: FeedOptions, report: FeedReport) -> list[Event]:
    """Pure: `iter_events` as a list (the fuzz target's and the tests' path)."""
    return list(iter_events(rows, mapping, options, report))


def adapt(
    lines: Iterable[str], mapping: UcceMapping, options: FeedOptions, report: FeedReport
) -> list[Event]:
    """One export's text lines (a TCD or RCD file) to events: the pure path the fuzz target drives."""

    def numbered() -> Iterator[tuple[int, str]]:
        for number, raw in enumerate(lines, start=1):
            report.read += 1
            text = raw.lstrip("\ufeff").rstrip("\r\n")
            if not text.strip():
                report.blank += 1
                continue
            yield number, text

    rows = Rows()
    parse_lines(numbered(), mapping, report, rows)
    return to_events(rows, mapping, options, report)


def _export_files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    names = ("termination_call_detail", "route_call_detail")
    return [p for p in input_files(path) if p.name.lower().startswith(names) and p.suffix.lower() == ".csv"]


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[Event]:
    """Events of a TCD export (a file, or a folder of TCD and RCD files), in event-time order."""
    mapping = load_mapping(options.mapping)
    report.unit = "line"
    rows = Rows()
    files = _export_files(path)
    for file in files:
        parse_lines(text_lines(file, report), mapping, report, rows, str(file) if len(files) > 1 else "")
    yield from iter_events(rows, mapping, options, report)
