"""Replay recorded events (JSON lines, Parquet fixtures, or a real log through its adapter) into Kafka or a file,
at real time, N x real time or as fast as possible, within a time window, resumably.

Only moves events: it validates them through the contract, keeps their order (so every key keeps its order),
and remembers how far it got in a small resume file; it computes nothing.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import Protocol

from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.report import text_lines
from producers.simulator.gcpause import paused_gc
from producers.simulator.output import read_parquet_events
from streams.events import Event
from streams.events import EventDecodeError
from streams.events import decode_event
from streams.events import encode_event
from streams.events import event_key
from streams.events import event_topic

# Each real feed's adapter module exports `read(path, options, report)`: its events in event-time order, every
# line (or record) of the input accounted in the report. Imported when used, so a replay of one format loads
# only its adapter.
ADAPTERS: dict[str, str] = {
    "anonymous-bank": "producers.feeds.anonymous_bank",
    "asterisk": "producers.feeds.asterisk",
    "connect-ctr": "producers.feeds.amazon_connect",
    "connect-agents": "producers.feeds.connect_agents",
    "csv": "producers.feeds.csv_mapping",
    "taskrouter": "producers.feeds.twilio",
    "genesys": "producers.feeds.genesys",
    "genesys-users": "producers.feeds.genesys_users",
    "genesys-events": "producers.feeds.genesys_events",
    "ucce-tcd": "producers.feeds.ucce",
}
FORMATS: tuple[str, ...] = ("jsonl", "parquet", *ADAPTERS)
Reader = Callable[[Path, FeedOptions, FeedReport], Iterator[Event]]


class Output(Protocol):
    def send(self, event: Event) -> None: ...

    def flush(self) -> None: ...


@dataclass
class ReplayStats:
    read: int = 0
    sent: int = 0
    skipped_resumed: int = 0
    outside_window: int = 0
    rejected: int = 0


def read_events(
    path: Path,
    fmt: str,
    caller_key: bytes,
    report: FeedReport | None = None,
    tenant: str = "default",
    mapping: Path | None = None,
) -> Iterator[Event]:
    """Events of a file (or a folder of pages) in event-time order; every input line is accounted in `report`:
    blank, accepted, skipped as not a call event, or rejected with its number and reason."""
    report = report if report is not None else FeedReport(fmt)
    options = FeedOptions(tenant=tenant, caller_key=caller_key, mapping=mapping)
    yield from reader(fmt)(path, options, report)


def reader(fmt: str) -> Reader:
    if fmt == "jsonl":
        return read_jsonl
    if fmt == "parquet":
        return _read_parquet
    if fmt not in ADAPTERS:
        raise ValueError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    read: Reader = importlib.import_module(ADAPTERS[fmt]).read
    return read


def read_jsonl(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[Event]:
    """The contract's own wire format, a line an event, in file order (recorded runs are written in order)."""
    del options  # the events carry their tenant; callers were hashed when they were recorded
    for number, text in text_lines(path, report):
        try:
            event = decode_event(text.encode())
        except EventDecodeError as exc:
            report.reject(number, exc.reason, text)
            continue
        report.accepted += 1
        report.events[event.type] += 1
        yield event


def _read_parquet(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[Event]:
    """A Parquet fixture the simulator wrote: a record an event, validated as it is read."""
    del options
    report.unit, report.files = "record", report.files + 1
    for event in read_parquet_events(path):
        report.read += 1
        report.accepted += 1
        report.events[event.type] += 1
        yield event


class JsonLinesOutput:
    def __init__(self, path: Path, append: bool) -> None:
        self._file = path.open("ab" if append else "wb")

    def send(self, event: Event) -> None:
        self._file.write(encode_event(event) + b"\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def replay(
    events: Iterable[Event],
    output: Output,
    speed: float = 0.0,
    start: datetime | None = None,
    until: datetime | None = None,
    resume_file: Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_event: Callable[[], None] | None = None,
) -> ReplayStats:
    """Send events with `start` <= ts < `until`; `speed` 1 = real time, 60 = a minute per second, 0 = flat out.

    The resume file holds the number of in-window events already sent; it is written after each flush, so an
    interrupted replay resumes after the last flushed event (at-least-once: the Faust edge de-duplicates ids).

    The cyclic collector is paused meanwhile: it rescanned the producer's queued records on every burst of
    allocations (a third of a replay to Kafka, `bench/producer.py`), and a replay makes no reference cycles
    (kafka-python's futures drop their callbacks once done), so nothing waits for it.
    """
    with paused_gc():
        return _replay(events, output, speed, start, until, resume_file, sleep, monotonic, on_event)


def _replay(
    events: Iterable[Event],
    output: Output,
    speed: float,
    start: datetime | None,
    until: datetime | None,
    resume_file: Path | None,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
    on_event: Callable[[], None] | None,
) -> ReplayStats:
    stats = ReplayStats()
    done = int(resume_file.read_text()) if resume_file is not None and resume_file.exists() else 0
    first_ts: datetime | None = None
    first_wall = 0.0
    position = 0
    for event in events:
        stats.read += 1
        if (start is not None and event.ts < start) or (until is not None and event.ts >= until):
            stats.outside_window += 1
            continue
        position += 1
        if position <= done:
            stats.skipped_resumed += 1
            continue
        if speed > 0:
            if first_ts is None:
                first_ts, first_wall = event.ts, monotonic()
            due = first_wall + (event.ts - first_ts).total_seconds() / speed
            delay = due - monotonic()
            if delay > 0:
                sleep(delay)
        output.send(event)
        stats.sent += 1
        if on_event is not None:
            on_event()
        if resume_file is not None and stats.sent % 1000 == 0:
            output.flush()
            resume_file.write_text(str(position))
    output.flush()
    if resume_file is not None:
        resume_file.write_text(str(position))
    return stats


class KafkaOutput:
    """The contract's topics (renamed by `topics`) and keys, one idempotent producer: per-key order is kept.

    The producer (`event_producer`) waits out a broker outage and raises on a record the broker did not take,
    so a replay either resumes where the broker left it or stops with the error."""

    def __init__(
        self, bootstrap: str, topics: dict[str, str] | None = None, security: Mapping[str, Any] | None = None
    ) -> None:
        from producers.kafka_out import event_producer

        self._topics = topics or {}
        self._producer = event_producer(bootstrap, security)

    def send(self, event: Event) -> None:
        topic = event_topic(event)
        self._producer.send(self._topics.get(topic, topic), key=event_key(event), value=encode_event(event))

    def flush(self) -> None:
        self._producer.flush()

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()
