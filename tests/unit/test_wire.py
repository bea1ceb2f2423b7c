"""The simulator's Kafka path writes rows straight to bytes (`producers/simulator/wire.py`): those bytes, topics and
keys must be exactly what the contract's own path, `encode_event(row_to_event(row))`, gives, for every event type."""

from __future__ import annotations

from typing import Any

from producers.simulator import wire
from producers.simulator.core import Simulation
from producers.simulator.emit import TYPE_NAMES
from producers.simulator.output import RowSink
from producers.simulator.output import row_to_event
from producers.simulator.output import stamped_dict
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder
from streams.events import encode_event
from streams.events import event_key
from streams.events import event_topic


class _Rows(RowSink):
    def __init__(self, seed: str) -> None:
        super().__init__(seed)
        self.rows: list[tuple[int, int, tuple[Any, ...], str]] = []

    def write_rows(self, rows: list[tuple[int, int, tuple[Any, ...]]]) -> None:
        ids = self.ids.take(len(rows))
        self.rows.extend((code, ts, values, id_) for (code, ts, values), id_ in zip(rows, ids, strict=True))


def test_wire_bytes_topics_and_keys_are_the_contracts_for_a_day_of_every_event_type() -> None:
    # A full day of the default bank in each setup: vendor reports (network-delivered, enterprise-routed),
    # redirects (enterprise-routed) and vendor agents (virtualized) between them, every one of the 20 types.
    base = scenario_from_dict({**Scenario().model_dump(), "days": 1})
    rows = []
    for setup in ("network_delivered", "enterprise_routed", "virtualized"):
        scenario = variant(base, setup, "shared")
        sink = _Rows(scenario.name)
        Simulation(scenario, sink, TruthRecorder(), b"wire").run()
        sink.close()
        rows.extend(sink.rows)
    assert {TYPE_NAMES[code] for code, *_ in rows} == set(TYPE_NAMES)
    mismatches = []
    for code, ts_ms, values, event_id in rows:
        event = row_to_event(stamped_dict(code, ts_ms, values, event_id))
        contract = (event_topic(event), event_key(event), encode_event(event))
        fast = (wire.TOPICS[code], wire.key(code, values), wire.encode(code, ts_ms, values, event_id))
        if fast != contract:
            mismatches.append((contract, fast))
    assert not mismatches, f"{len(mismatches)} of {len(rows)} differ, first: {mismatches[0]}"


def test_times_are_written_as_pydantic_writes_them() -> None:
    assert wire.iso_millis(0) == "1970-01-01T00:00:00Z"
    assert wire.iso_millis(1_767_600_000_250) == "2026-01-05T08:00:00.250000Z"
    assert wire.iso_millis(1_767_686_399_999) == "2026-01-06T07:59:59.999000Z"
