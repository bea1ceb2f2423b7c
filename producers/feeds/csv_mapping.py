"""A generic adapter for call-detail CSV exports (one row per call), driven by a mapping file (TOML).

Pure: rows in, canonical events and rejects (with the line number) out. The mapping names the columns; an
unknown key in it, or a column it names that the file lacks, is an error before any row is read.

Every row lands in one count of the `FeedReport`, whose unit here is the CSV row (a quoted field may hold a
line break, so a row can span lines): the header and empty rows are blank; a row that makes events is
accepted; a row the csv module cannot read, one shorter than the header, or one whose values do not map (an
outcome the mapping does not name, an empty id, a bad time) is rejected with its first line number and text.
The mapping has no filters, so no row is skipped.
"""

from __future__ import annotations

import csv
import tomllib
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError

from producers.feeds.rejects import MALFORMED
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

_NAMESPACE = uuid.UUID("9d3a1c52-17b4-4f0e-b6a8-52c0e7d4a913")


class Columns(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contact_id: str
    arrived: str
    outcome: str
    answered: str | None = None
    ended: str | None = None
    talk_s: str | None = None
    call_type: str | None = None
    source: str | None = None
    agent_id: str | None = None
    caller: str | None = None


class Mapping(BaseModel):
    """How to read one export: delimiter, time format and zone, column names, outcome values, constants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str = "default"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    time_format: str = "iso"  # "iso", "epoch_s", "epoch_ms" or a strptime pattern
    utc_offset_hours: float = 0.0
    source: str = "in-house"  # when no source column
    call_type: str = "default"  # when no call-type column
    answered_values: tuple[str, ...] = ("ANSWERED",)
    abandoned_values: tuple[str, ...] = ("ABANDONED",)
    columns: Columns


class MappingError(ValueError):
    pass


def load_mapping(path: Path) -> Mapping:
    try:
        return Mapping.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise MappingError(f"{path}: {exc}") from None


class CsvAdapter:
    """Counts go to `report` (a fresh one when none is given), counted in rows."""

    def __init__(self, mapping: Mapping, caller_key: bytes, report: FeedReport | None = None) -> None:
        self.mapping = mapping
        self.hasher = CallerHasher(caller_key)
        self.zone = timezone(timedelta(hours=mapping.utc_offset_hours))
        self.report = report if report is not None else FeedReport("csv")
        self.report.unit = "row"

    def _time(self, value: str) -> datetime:
        fmt = self.mapping.time_format
        if fmt == "epoch_s":
            return datetime.fromtimestamp(float(value), tz=UTC)
        if fmt == "epoch_ms":
            return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
        parsed = datetime.fromisoformat(value) if fmt == "iso" else datetime.strptime(value, fmt)  # noqa: DTZ007
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=self.zone)).astimezone(UTC)

    def _header(self, header: Sequence[str]) -> None:
        named = {name for name in self.mapping.columns.model_dump().values() if name}
        missing = sorted(named - set(header))
        if missing:
            raise MappingError(
                f"the file has no column {', '.join(missing)} (it has: {', '.join(sorted(set(header)))})"
            )

    def adapt(self, lines: Iterable[str]) -> Iterator[ContactEvent | Reject]:
        """Rows of `lines` (an open file, with its line ends, or lines held in memory) in file order: events
        and, in its place, a `Reject` for each bad row. A file should be opened with `newline=""`, so that a
        quoted line break stays in its field."""
        consumed: list[str] = []  # the physical lines of the row being read, for a reject's text

        def source() -> Iterator[str]:
            for text in lines:
                consumed.append(text)
                yield text

        def row_text() -> str:
            text = "\n".join(line.rstrip("\r\n") for line in consumed)
            consumed.clear()
            return text

        reader = csv.reader(source(), delimiter=self.mapping.delimiter)
        header: list[str] | None = None
        while True:
            line = reader.line_num + 1  # the row's first line: the reader's count lags when it raises
            try:
                row = next(reader)
            except StopIteration:
                return
            # E.g. a field over the csv module's 128 KiB limit: that row is refused, the next one read.
            except csv.Error as exc:
                self.report.read += 1
                text = row_text()
                if header is None:
                    raise MappingError(f"line {line}: the header cannot be read ({exc})") from None
                yield self.report.reject(line, f"Error: {exc}", text)
                continue
            self.report.read += 1
            text = row_text()
            if not any(value.strip() for value in row):
                self.report.blank += 1
                continue
            if header is None:
                self._header(row)
                header = row
                self.report.blank += 1  # a header holds no call
                continue
            if len(row) < len(header):  # a longer row's extra fields are ignored, as csv.DictReader does
                yield self.report.reject(line, f"{len(row)} fields, the header has {len(header)}", text)
                continue
            try:
                events = self._row(dict(zip(header, row, strict=False)), line)
            except MALFORMED as exc:
                yield self.report.reject(line, f"{type(exc).__name__}: {exc}", text)
                continue
            self.report.accepted += 1
            self.report.events.update(event.type for event in events)
            yield from events

    def _row(self, row: dict[str, str], line: int) -> list[ContactEvent]:
        m, c = self.mapping, self.mapping.columns
        contact = row[c.contact_id].strip()
        if not contact:
            raise ValueError(f"empty {c.contact_id}")
        arrived = self._time(row[c.arrived])
        outcome = row[c.outcome].strip().upper()
        common = {
            "tenant": m.tenant,
            "contact_id": contact,
            "initial_contact_id": contact,
            "source": row[c.source].strip() if c.source else m.source,
            "call_type": row[c.call_type].strip() if c.call_type else m.call_type,
        }
        caller = row[c.caller].strip() if c.caller else ""

        def eid(kind: str) -> uuid.UUID:
            return uuid.uuid5(_NAMESPACE, f"{m.tenant}/{contact}/{kind}")

        events: list[ContactEvent] = [
            ContactOffered(event_id=eid("offered"), ts=arrived, caller_hash=self.hasher(caller) if caller else None, **common),
            ContactQueued(event_id=eid("queued"), ts=arrived, queue=str(common["call_type"]), **common),
        ]  # fmt: skip
        ended = self._time(row[c.ended]) if c.ended and row.get(c.ended) else None
        if outcome in m.answered_values:
            if not c.answered or not row.get(c.answered):
                raise ValueError(f"answered call without {c.answered or 'an answered column'}")
            answered = self._time(row[c.answered])
            wait_ms = int((answered - arrived) / timedelta(milliseconds=1))
            if wait_ms < 0:
                raise ValueError("answered before it arrived")
            agent = (row[c.agent_id].strip() if c.agent_id else "") or "unknown"
            events.append(ContactAnswered(event_id=eid("answered"), ts=answered, agent_id=agent, wait_ms=wait_ms,
                                          total_wait_ms=wait_ms, **common))  # fmt: skip
            talk_ms = int(float(row[c.talk_s]) * 1000) if c.talk_s and row.get(c.talk_s) else None
            if talk_ms is None and ended is not None:
                talk_ms = int((ended - answered) / timedelta(milliseconds=1))
            if talk_ms is not None:
                events.append(ContactEnded(event_id=eid("ended"), ts=max(ended or answered, answered), agent_id=agent,
                                           talk_ms=max(0, talk_ms), **common))  # fmt: skip
        elif outcome in m.abandoned_values:
            if ended is None:
                raise ValueError(f"abandoned call without {c.ended or 'an end column'}")
            wait_ms = int((ended - arrived) / timedelta(milliseconds=1))
            events.append(ContactAbandoned(event_id=eid("abandoned"), ts=ended, wait_ms=max(0, wait_ms),
                                           total_wait_ms=max(0, wait_ms), **common))  # fmt: skip
        else:
            raise ValueError(f"outcome {outcome!r} is neither {m.answered_values} nor {m.abandoned_values}")
        return events


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[ContactEvent]:
    """A CDR export's events in event-time order (a stable sort, so a call keeps its own order): a row holds a
    whole call, so its answer and end come after later rows' arrivals. The events' tenant is the mapping's (as
    replay has always done), the caller key the options'. The file is read whole before the first event."""
    if options.mapping is None:
        raise MappingError("the csv format needs a mapping file (--mapping)")
    adapter = CsvAdapter(load_mapping(options.mapping), options.caller_key, report)
    report.files += 1
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as lines:
        events = [item for item in adapter.adapt(lines) if not isinstance(item, Reject)]
    yield from sorted(events, key=lambda event: event.ts)
