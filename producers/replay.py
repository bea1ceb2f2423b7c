"""Replay recorded events (JSON lines, Parquet fixtures, or a real log through its adapter) into Kafka or a file,
at real time, N x real time or as fast as possible, within a time window, resumably.

Only moves events: it validates them through the contract, keeps their order (so every key keeps its order),
and remembers how far it got in a small resume file; it computes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import Literal
from typing import Protocol

from producers.feeds.anonymous_bank import BankCall
from producers.feeds.anonymous_bank import parse
from producers.feeds.anonymous_bank import to_events
from producers.feeds.rejects import Reject
from producers.simulator.gcpause import paused_gc
from producers.simulator.output import read_parquet_events
from streams.events import CallerHasher
from streams.events import Event
from streams.events import EventDecodeError
from streams.events import decode_event
from streams.events import encode_event
from streams.events import event_key
from streams.events import event_topic

Format = Literal[
    "jsonl", "parquet", "anonymous-bank", "asterisk", "connect-ctr", "connect-agents", "csv", "taskrouter",
    "genesys", "genesys-users",
]  # fmt: skip
FORMATS: tuple[str, ...] = (
    "jsonl", "parquet", "anonymous-bank", "asterisk", "connect-ctr", "connect-agents", "csv", "taskrouter",
    "genesys", "genesys-users",
)  # fmt: skip
_ADAPTED = frozenset(
    {"asterisk", "connect-ctr", "connect-agents", "csv", "taskrouter", "genesys", "genesys-users"}
)


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
    fmt: Format,
    caller_key: bytes,
    rejects: list[str] | None = None,
    tenant: str = "default",
    mapping: Path | None = None,
) -> Iterator[Event]:
    """Events of a file in file order (a real log: in event-time order); undecodable lines are listed, not lost."""
    if fmt in _ADAPTED:
        yield from _adapted(path, fmt, caller_key, rejects if rejects is not None else [], tenant, mapping)
    elif fmt == "parquet":
        yield from read_parquet_events(path)
    elif fmt == "jsonl":
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    yield decode_event(line.rstrip(b"\n"))
                except EventDecodeError as exc:
                    if rejects is not None:
                        rejects.append(f"{path}:{number}: {exc.reason}")
    else:
        hasher = CallerHasher(caller_key)
        with path.open(encoding="latin-1") as lines:
            calls = [item for item in parse(lines) if isinstance(item, BankCall)]
        yield from sorted((event for call in calls for event in to_events(call, hasher)), key=lambda e: e.ts)


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


def _adapted(
    path: Path, fmt: str, caller_key: bytes, rejects: list[str], tenant: str, mapping: Path | None
) -> Iterator[Event]:
    """A real feed through its adapter, sorted by event time (per call, the adapters keep the order)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    events: list[Event] = []
    if fmt == "asterisk":
        from producers.feeds.asterisk import QueueLogAdapter

        _split(QueueLogAdapter(tenant=tenant).adapt(lines), path, events, rejects)
    elif fmt == "taskrouter":
        from producers.feeds.twilio import TaskRouterAdapter

        _split(TaskRouterAdapter(tenant, caller_key).adapt(lines), path, events, rejects)
    elif fmt == "genesys":
        from producers.feeds.genesys import GenesysMapping
        from producers.feeds.genesys import adapt as adapt_genesys

        conversations, genesys_rejects = adapt_genesys(lines, GenesysMapping(tenant=tenant), caller_key)
        events.extend(conversations)
        rejects.extend(f"{path}:{reject.line}: {reject.reason}" for reject in genesys_rejects)
    elif fmt == "genesys-users":
        from producers.feeds.genesys_users import GenesysUserAdapter
        from producers.feeds.genesys_users import UserMapping

        _split(GenesysUserAdapter(UserMapping(tenant=tenant)).adapt(lines), path, events, rejects)
    elif fmt == "connect-agents":
        from producers.feeds.connect_agents import AgentMapping
        from producers.feeds.connect_agents import ConnectAgentAdapter

        _split(ConnectAgentAdapter(AgentMapping(tenant=tenant)).adapt(lines), path, events, rejects)
    elif fmt == "connect-ctr":
        from producers.feeds.amazon_connect import ConnectMapping
        from producers.feeds.amazon_connect import adapt

        adapted, connect_rejects, _ = adapt(lines, ConnectMapping(tenant=tenant), caller_key)
        events.extend(adapted)
        rejects.extend(f"{path}:{reject.line}: {reject.reason}" for reject in connect_rejects)
    else:
        from producers.feeds.csv_mapping import CsvAdapter
        from producers.feeds.csv_mapping import load_mapping

        if mapping is None:
            raise ValueError("the csv format needs a mapping file (--mapping)")
        _split(CsvAdapter(load_mapping(mapping), caller_key).adapt(lines), path, events, rejects)
    yield from sorted(events, key=lambda event: event.ts)


def _split(items: Iterable[Event | Reject], path: Path, events: list[Event], rejects: list[str]) -> None:
    for item in items:
        if isinstance(item, Reject):
            rejects.append(f"{path}:{item.line}: {item.reason}")
        else:
            events.append(item)
