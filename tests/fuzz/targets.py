"""Coverage-guided fuzz targets (atheris, libFuzzer) for everything that reads outside bytes: the event decoder,
the caller-outcome decoder and every feed adapter. Hypothesis (`tests/unit/test_hostile_input.py`) draws from
shapes we thought of; libFuzzer mutates towards code paths not yet reached, which finds the shapes we did not.

The rule checked is the same for all: an input becomes valid events or is refused with a reason (a decode error,
a dead letter, a `Reject` naming its line); any other exception is a crash and a finding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def _check(holds: bool, finding: str) -> None:
    """A broken rule is a finding: raised, so libFuzzer stops and keeps the input."""
    if not holds:
        raise AssertionError(finding)


def _decoder(data: bytes) -> None:
    from streams.events import EventDecodeError, decode_event, encode_event

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
    from producers.feeds.connect_agents import AgentMapping, ConnectAgentAdapter
    from producers.feeds.csv_mapping import CsvAdapter, MappingError, load_mapping
    from producers.feeds.genesys import GenesysMapping
    from producers.feeds.genesys import adapt as adapt_genesys
    from producers.feeds.genesys_users import GenesysUserAdapter, UserMapping
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


def build() -> Callable[[bytes], None]:
    """The libFuzzer entry point: the first byte picks the target, the rest is its input."""
    byte_targets = [_decoder, _caller_outcomes]
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
    out = [b"\x00" + CANONICAL, b"\x01" + CALLERS]
    for path in sorted(FIXTURES.iterdir()):
        text = path.read_bytes()[:4000]
        out.extend(bytes([2 + pick]) + text for pick in range(len(_line_adapters())))
    return out
