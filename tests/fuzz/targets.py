"""Coverage-guided fuzz targets (atheris, libFuzzer) for everything that reads outside bytes: the event decoder,
the caller-outcome decoder and every feed adapter. Hypothesis (`tests/unit/test_hostile_input.py`) draws from
shapes we thought of; libFuzzer mutates towards code paths not yet reached, which finds the shapes we did not.

The rule checked is the same for all: an input becomes valid events or is refused with a reason (a decode error,
a dead letter, a `Reject` naming its line); any other exception is a crash and a finding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def _check(holds: bool, finding: str) -> None:
    """A broken rule is a finding: raised, so libFuzzer stops and keeps the input."""
    if not holds:
        raise AssertionError(finding)


def _decoder(data: bytes) -> None:
    from streams.events import EventDecodeError
    from streams.events import decode_event
    from streams.events import encode_event

    try:
        event = decode_event(data)
    except EventDecodeError as exc:
        _check(bool(exc.reason), "a refusal without a reason")
        return
    _check(decode_event(encode_event(event)) == event, "an accepted event that does not survive a round trip")


def _caller_outcomes(data: bytes) -> None:
    from streams.edge.records import decode_caller_contacts

    try:
        contacts = decode_caller_contacts(data)
    except ValueError as exc:
        _check(bool(str(exc)), "a refusal without a reason")
        return
    _check(bool(contacts), "an empty list accepted")


def _lines_checked(items: Iterable[object], lines: list[str]) -> None:
    from producers.feeds.rejects import Reject

    for item in items:
        if isinstance(item, Reject):
            _check(1 <= item.line <= len(lines), f"a reject without its line: {item}")
            _check(bool(item.reason), f"a reject without a reason: {item}")


def _line_adapters() -> dict[str, Callable[[list[str]], None]]:
    from producers.feeds.amazon_connect import ConnectMapping
    from producers.feeds.amazon_connect import adapt as adapt_connect
    from producers.feeds.anonymous_bank import parse
    from producers.feeds.asterisk import QueueLogAdapter
    from producers.feeds.connect_agents import AgentMapping
    from producers.feeds.connect_agents import ConnectAgentAdapter
    from producers.feeds.csv_mapping import CsvAdapter
    from producers.feeds.csv_mapping import MappingError
    from producers.feeds.csv_mapping import load_mapping
    from producers.feeds.genesys import GenesysMapping
    from producers.feeds.genesys import adapt as adapt_genesys
    from producers.feeds.genesys_users import GenesysUserAdapter
    from producers.feeds.genesys_users import UserMapping
    from producers.feeds.twilio import TaskRouterAdapter

    csv_mapping = load_mapping(FIXTURES / "cdr_mapping.toml")

    def csv(lines: list[str]) -> None:
        # A header without the mapped columns refuses the whole file, naming the columns it lacks.
        with contextlib.suppress(MappingError):
            _lines_checked(CsvAdapter(csv_mapping, b"k").adapt(lines), lines)

    def connect(lines: list[str]) -> None:
        _, rejects, _ = adapt_connect(lines, ConnectMapping(tenant="t"), b"k")
        _lines_checked(rejects, lines)

    def genesys(lines: list[str]) -> None:
        _, rejects = adapt_genesys(lines, GenesysMapping(), b"k")
        _lines_checked(rejects, lines)

    return {
        "asterisk": lambda lines: _lines_checked(QueueLogAdapter(tenant="t").adapt(lines), lines),
        "taskrouter": lambda lines: _lines_checked(TaskRouterAdapter("t", b"k").adapt(lines), lines),
        "connect-agents": lambda lines: _lines_checked(
            ConnectAgentAdapter(AgentMapping()).adapt(lines), lines
        ),
        "genesys-users": lambda lines: _lines_checked(GenesysUserAdapter(UserMapping()).adapt(lines), lines),
        "anonymous-bank": lambda lines: _lines_checked(parse(lines), lines),
        "csv": csv,
        "connect-ctr": connect,
        "genesys": genesys,
    }


# Record i of a pipeline input is "<topic byte><value>\n", produced at 2026-01-06T00:00Z, after the seed events.
_PRODUCED_MS = 1_767_657_600_000
_TOPICS = ("contacts", "agents", "reports", "callers")


def _pipeline_rows(pipeline: Any, written: dict[str, dict[Any, Any]]) -> None:
    for spec, rows in pipeline.sink.detach():
        if spec.table in ("dead_letter", "adherence_live"):
            continue
        final = written.setdefault(spec.table, {})
        for row in rows:
            # Written in offset order, the last one stands. Its version (the offset that last touched it) may
            # differ between runs for the same content: ClickHouse keeps the highest either way.
            final[spec.key_of(row) or row] = row._replace(version=0) if hasattr(row, "version") else row


def _pipeline(data: bytes) -> None:
    """The worker's pipeline, in process: whatever the records, `process` refuses with a reason or counts, and a
    restart from a checkpoint taken between two batches, re-reading everything, ends with the same rows as
    running on."""
    from streams.edge.pipeline import EnginePipeline
    from streams.edge.records import Record
    from streams.engine.config import EngineConfig
    from streams.warehouse import checkpoints
    from streams.warehouse.sink import BatchSink

    records = []
    for offset, chunk in enumerate(data.split(b"\n")[:64]):
        if chunk:
            topic = _TOPICS[chunk[0] % len(_TOPICS)]
            records.append(Record(topic, 0, offset, None, chunk[1:], _PRODUCED_MS))
    if not records:
        return
    kinds = {"contacts": "contact", "agents": "agent", "reports": "vendor", "callers": "caller"}

    def fresh(load: Callable[[str, int], dict[str, Any] | None] | None = None) -> Any:
        sink = BatchSink(lambda table, columns, rows: None, 10**9, 10**9)
        return EnginePipeline(sink, EngineConfig(), kinds, load_checkpoint=load, loopback=False)  # type: ignore[arg-type]

    # The same two batches both ways: an event later than the allowed lateness counts from the time already
    # accounted, so where batches split is part of the input; what must not matter is the restart between them.
    cut = len(records) // 2
    straight: dict[str, dict[Any, Any]] = {}
    one = fresh()
    dead = one.process(records[:cut]) + one.process(records[cut:])
    for letter in dead:
        _check(bool(letter.reason), f"a dead letter without a reason: {letter}")
    events = sum(1 for record in records if record.topic != "callers")
    refused = sum(1 for letter in dead if letter.record.topic != "callers")
    _check(one.accepted_events + refused == events, "an event neither counted nor dead-lettered")
    _pipeline_rows(one, straight)

    restarted: dict[str, dict[Any, Any]] = {}
    first = fresh()
    first.process(records[:cut])
    _pipeline_rows(first, restarted)
    saved = {(row.topic, row.stream_partition): row.snapshot for row in first.checkpoint("fuzz")}

    def load(topic: str, partition: int) -> dict[str, Any] | None:
        snapshot = saved.get((topic, partition))
        return checkpoints.decode(snapshot) if snapshot is not None else None

    second = fresh(load)
    second.process(records)  # re-read from the start: what the checkpoint covers is skipped by offset
    _pipeline_rows(second, restarted)
    _check(restarted == straight, "a restart from a checkpoint changed the rows")


def build() -> Callable[[bytes], None]:
    """The libFuzzer entry point: the first byte picks the target, the rest is its input."""
    byte_targets = [_decoder, _caller_outcomes, _pipeline]
    line_targets = list(_line_adapters().values())
    count = len(byte_targets) + len(line_targets)

    def one_input(data: bytes) -> None:
        if not data:
            return
        pick, payload = data[0] % count, data[1:]
        if pick < len(byte_targets):
            byte_targets[pick](payload)
        else:
            lines = payload.decode("utf-8", "replace").splitlines()
            line_targets[pick - len(byte_targets)](lines)

    return one_input


CANONICAL = (
    b'{"type":"contact.answered","event_id":"00000000-0000-4000-8000-000000000001",'
    b'"ts":"2026-01-05T08:00:30.000Z","tenant":"t","contact_id":"c1","initial_contact_id":"c1",'
    b'"source":"in-house","call_type":"billing","agent_id":"a1","wait_ms":30000,"total_wait_ms":30000}'
)
CALLERS = (
    b'[{"tenant":"t","caller_hash":"0123456789abcdef0123456789abcdef","initial_contact_id":"c1",'
    b'"arrived_ms":1767600000000,"call_type":"billing","handled_by":"in-house"}]'
)


def seeds() -> list[bytes]:
    """A starting corpus: a canonical event, a caller outcome, and each feed fixture for each line target;
    libFuzzer mutates from there."""
    from streams.events import TOPIC_AGENT_EVENTS
    from streams.events import TOPIC_CONTACT_EVENTS
    from streams.events import decode_event
    from streams.events import event_topic

    out = [b"\x00" + CANONICAL, b"\x01" + CALLERS]
    lines = (Path(__file__).with_name("seed_events.jsonl")).read_bytes().splitlines()
    topic_byte = {TOPIC_CONTACT_EVENTS: 0, TOPIC_AGENT_EVENTS: 1}
    records = [bytes([topic_byte.get(event_topic(decode_event(line)), 2)]) + line for line in lines]
    for start in range(0, len(records), 48):
        out.append(b"\x02" + b"\n".join(records[start : start + 48]))
    for path in sorted(p for p in FIXTURES.rglob("*") if p.is_file()):  # folders hold pages (genesys/jobs)
        text = path.read_bytes()[:4000]
        out.extend(bytes([3 + pick]) + text for pick in range(len(_line_adapters())))
    return out
