"""The engine, fed what each setup lets the enterprise see, reproduces the simulator's ground truth exactly,
and reports NULL with a reason for what the setup hides. Pure: no broker, no warehouse."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

import pytest

from producers.simulator.output import MemorySink
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import ENGAGEMENTS
from producers.simulator.scenario import SETUPS
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder
from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.engine.partition import KEY_LENGTH
from streams.engine.partition import ContactPartition
from streams.engine.timebase import to_ms
from tests.support.expected import expected_overflow
from tests.support.expected import expected_quality
from tests.support.scenarios import mixed

BASE = mixed("engine", billing=900, sales=400, agents=38, teams=4, vendor_agents=18, vendor_teams=2)


@cache
def run(setup: str, engagement: str) -> tuple[Scenario, MemorySink, TruthRecorder]:
    scenario = variant(BASE, setup, engagement)  # type: ignore[arg-type]
    sink, truth = simulate_in_memory(scenario)
    sink.close()
    return scenario, sink, truth


def engine_rows(scenario: Scenario, sink: MemorySink) -> dict[str, list[Any]]:
    config = EngineConfig(
        tenants={scenario.name: TenantConfig(setup=scenario.setup, in_house=scenario.in_house.id)}
    )
    engine = ContactPartition(0, config)
    events = [e for e in sink.events() if e.type.startswith(("contact.", "vendor."))]
    rows: dict[str, dict[tuple[Any, ...], Any]] = defaultdict(dict)
    for start in range(0, len(events), 997):
        engine.process(enumerate(events[start : start + 997], start=start))
        for table, table_rows in engine.drain().items():
            for row in table_rows:
                rows[table][row[: KEY_LENGTH[table]]] = row  # latest version per key
    engine.advance_idle(86_400_000)
    for table, table_rows in engine.drain().items():
        for row in table_rows:
            rows[table][row[: KEY_LENGTH[table]]] = row
    tables = ("quality_interval", "overflow_interval", "overflow_target_interval")
    return {table: list(rows[table].values()) for table in tables}


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("engagement", ENGAGEMENTS)
def test_quality_counters_equal_the_truth(setup: str, engagement: str) -> None:
    scenario, sink, truth = run(setup, engagement)
    expected = expected_quality(scenario, truth)
    got: dict[tuple[str, str, int], dict[str, Any]] = {}
    target_index = list(EngineConfig().service_thresholds_s).index(scenario.service_threshold_s)
    for row in engine_rows(scenario, sink)["quality_interval"]:
        assert row.is_final == 1
        figures = {
            "observed_via": row.observed_via,
            "offered": row.offered,
            "answered": row.answered,
            "abandoned": row.abandoned,
            "answered_within_target": row.answered_within[target_index],
            "wait_answered_ms": row.wait_answered_ms,
            "talk_ms": row.talk_ms,
            "hold_ms": row.hold_ms,
            "acw_ms": row.acw_ms,
            "transferred": row.transferred,
            "overflowed_out": row.overflowed_out,
        }
        if row.observed_via == "vendor_report":
            figures["handle_ms"] = row.handle_ms
            assert row.hidden_reason
        got[(row.source, row.call_type, to_ms(row.interval_start))] = figures
    # Rows with nothing but later events (e.g. a transfer leg's quality) may exist only in the engine.
    assert {k: v for k, v in got.items() if v["offered"] or k in expected} == expected


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("engagement", ENGAGEMENTS)
def test_overflow_counts_each_customer_call_once(setup: str, engagement: str) -> None:
    scenario, sink, truth = run(setup, engagement)
    expected = expected_overflow(scenario, truth)
    target_index = list(EngineConfig().service_thresholds_s).index(scenario.service_threshold_s)
    got: dict[tuple[str, int], dict[str, Any]] = {}
    for row in engine_rows(scenario, sink)["overflow_interval"]:
        figures = {"arrived": row.arrived}
        if row.overflowed is not None:
            figures.update(
                overflowed=row.overflowed,
                overflowed_timeout=row.overflowed_timeout,
                overflowed_split=row.overflowed_split,
                overflowed_call_type=row.overflowed_call_type,
                overflow_wait_ms=row.overflow_wait_ms,
            )
        else:
            assert setup == "network_delivered"
            assert "carrier" in row.hidden_reason
        figures.update(
            e2e_answered=row.e2e_answered,
            e2e_answered_within_target=row.e2e_answered_within[target_index],
            e2e_abandoned=row.e2e_abandoned,
        )
        if row.e2e_hidden:
            assert "outcome" in row.hidden_reason
        figures["e2e_hidden"] = row.e2e_hidden
        got[(row.call_type, to_ms(row.interval_start))] = {k: v for k, v in figures.items() if v}
    expected_nonzero = {key: {k: v for k, v in row.items() if v} for key, row in expected.items()}
    assert got == expected_nonzero


def test_enterprise_routed_hides_end_to_end_service_level_when_calls_left() -> None:
    scenario, sink, _ = run("enterprise_routed", "full")
    rows = engine_rows(scenario, sink)["overflow_interval"]
    assert rows
    assert all(row.e2e_hidden > 0 and "outcome" in row.hidden_reason for row in rows if row.arrived > 5)


@pytest.mark.parametrize("setup", SETUPS)
def test_a_restart_from_a_checkpoint_replaying_from_an_older_offset_counts_everything_once(
    setup: str,
) -> None:
    """The edge commits offsets only up to its last checkpoint, so after a crash the stream is re-read from
    before the checkpoint: the restored engine must skip what it already counted and end where an engine that
    never stopped ends."""
    import json

    from streams.engine.partition import AgentPartition

    scenario, sink, _ = run(setup, "shared")
    config = EngineConfig(tenants={scenario.name: TenantConfig(setup=scenario.setup)})
    events = list(enumerate(sink.events()))
    contacts = [(o, e) for o, e in events if not e.type.startswith(("agent.", "schedule."))]
    agents = [(o, e) for o, e in events if e.type.startswith(("agent.", "schedule."))]
    for factory, stream in ((ContactPartition, contacts), (AgentPartition, agents)):
        reference = factory(0, config)
        ref_rows: dict[tuple[Any, ...], Any] = {}
        for start in range(0, len(stream), 500):
            reference.process(stream[start : start + 500])
            for table, rows in reference.drain().items():
                ref_rows.update({(table, *row[: KEY_LENGTH[table]]): row[:-1] for row in rows})
        crashed = factory(0, config)
        got_rows: dict[tuple[Any, ...], Any] = {}
        middle = len(stream) // 2
        checkpoint_at = middle - 700
        for start in range(0, middle, 500):
            crashed.process(stream[start : min(start + 500, checkpoint_at)] if start < checkpoint_at else [])
            if start + 500 >= checkpoint_at:
                break
        checkpoint = json.loads(json.dumps(crashed.snapshot()))
        crashed.process(stream[checkpoint_at:middle])  # work after the checkpoint, lost in the crash
        for table, rows in crashed.drain().items():
            got_rows.update({(table, *row[: KEY_LENGTH[table]]): row[:-1] for row in rows})
        restored = factory.restore(checkpoint, config)  # type: ignore[attr-defined]
        replay_from = checkpoint_at - 300  # the committed offset lags the checkpoint
        for start in range(replay_from, len(stream), 500):
            restored.process(stream[start : start + 500])
            for table, rows in restored.drain().items():
                got_rows.update({(table, *row[: KEY_LENGTH[table]]): row[:-1] for row in rows})
        assert got_rows == ref_rows, factory.__name__


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("engagement", ENGAGEMENTS)
def test_repeat_contacts_equal_the_truth(setup: str, engagement: str) -> None:
    from streams.edge.pipeline import EnginePipeline
    from streams.warehouse.sink import BatchSink
    from tests.support.expected import expected_repeats

    scenario, sink, truth = run(setup, engagement)
    stored: dict[str, dict[tuple[Any, ...], Any]] = defaultdict(dict)

    def write(table: str, columns: Any, rows: list[Any]) -> None:
        for row in rows:
            stored[table][tuple(row[:5])] = row

    config = EngineConfig(tenants={scenario.name: TenantConfig(setup=scenario.setup)})
    pipeline = EnginePipeline(BatchSink(write, 10**9, 10**9), config, {"c": "contact"})
    from streams.edge.records import Record
    from streams.events import encode_event

    events = [e for e in sink.events() if e.type.startswith("contact.")]
    records = [Record("c", 0, i, None, encode_event(e), 0) for i, e in enumerate(events)]
    for start in range(0, len(records), 1000):
        pipeline.process(records[start : start + 1000])
    pipeline.sink.flush()
    got = {
        (row.source, row.call_type, to_ms(row.interval_start)): (row.handled, row.repeated)
        for row in stored["repeat_interval"].values()
    }
    expected = expected_repeats(scenario, truth)
    assert got == expected
    if expected:  # network-delivered + full: the enterprise sees no call at all
        assert sum(repeated for _, repeated in expected.values()) > 0
