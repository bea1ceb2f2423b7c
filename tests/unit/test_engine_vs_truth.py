"""The engine, fed what each setup lets the enterprise see, reproduces the simulator's ground truth exactly,
and reports NULL with a reason for what the setup hides. Pure: no broker, no warehouse."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

import pytest

from producers.simulator.output import MemorySink
from producers.simulator.scenario import ENGAGEMENTS
from producers.simulator.scenario import SETUPS
from producers.simulator.scenario import Scenario
from producers.simulator.truth import TruthRecorder
from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.engine.partition import KEY_LENGTH
from streams.engine.partition import ContactPartition
from streams.engine.timebase import to_ms
from tests.support.engine import expected_overflow_figures
from tests.support.engine import overflow_figures
from tests.support.engine import quality_figures
from tests.support.engine import simulated_variant
from tests.support.expected import expected_quality
from tests.support.expected import expected_volume
from tests.support.scenarios import mixed

BASE = mixed("engine", billing=900, sales=400, agents=38, teams=4, vendor_agents=18, vendor_teams=2)


@cache
def run(setup: str, engagement: str) -> tuple[Scenario, MemorySink, TruthRecorder]:
    return simulated_variant(BASE, setup, engagement)


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
    tables = ("quality_interval", "overflow_interval", "overflow_target_interval", "contact_volume_interval")
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
        figures = quality_figures(row, target_index)
        if row.observed_via == "vendor_report":
            assert row.hidden_reason
        else:
            assert row.staffed_ms is None  # the agents' states give staffing where calls are seen
        got[(row.source, row.call_type, to_ms(row.interval_start))] = figures
    # Rows with nothing but later events (e.g. a transfer leg's quality) may exist only in the engine.
    assert {k: v for k, v in got.items() if v["offered"] or k in expected} == expected


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("engagement", ENGAGEMENTS)
def test_overflow_counts_each_customer_call_once(setup: str, engagement: str) -> None:
    """Every figure of every row, NULL compared as NULL: a routing figure the carrier hides must be NULL (not
    0), and one the enterprise sees must be its count, 0 included."""
    scenario, sink, truth = run(setup, engagement)
    target_index = list(EngineConfig().service_thresholds_s).index(scenario.service_threshold_s)
    expected = expected_overflow_figures(scenario, truth)
    got: dict[tuple[str, int], dict[str, Any]] = {}
    for row in engine_rows(scenario, sink)["overflow_interval"]:
        if row.overflowed is None:
            assert "carrier" in row.hidden_reason
        if row.e2e_hidden:
            assert "outcome" in row.hidden_reason
        got[(row.call_type, to_ms(row.interval_start))] = overflow_figures(row, target_index)
    assert got == expected


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("engagement", ENGAGEMENTS)
def test_contact_volume_equals_the_truth(setup: str, engagement: str) -> None:
    """The walking skeleton's table had a truth only in the tiny simulator's run through Kafka: here offered,
    answered and abandoned per source and interval equal the simulator's legs in every setup and engagement."""
    scenario, sink, truth = run(setup, engagement)
    got = {
        (row.source, to_ms(row.interval_start)): (row.offered, row.answered, row.abandoned)
        for row in engine_rows(scenario, sink)["contact_volume_interval"]
        if row.offered or row.answered or row.abandoned
    }
    expected = expected_volume(scenario, truth)
    assert got == expected
    if scenario.name != "network-delivered-full":  # the enterprise sees no call at all there
        assert sum(offered for offered, _, _ in expected.values()) > 500


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


@pytest.mark.parametrize("setup", ["enterprise_routed", "virtualized"])
def test_vendor_legs_are_scored_surveyed_and_transferred(setup: str) -> None:
    """Regression: only first legs were scored, surveyed or transferred, so a vendor (which handles a call as its
    second leg) had no QA, no CSAT and no transfers. Now its figures are there, from events or its reports."""
    scenario, sink, truth = run(setup, "full")
    vendors = {vendor.id for vendor in scenario.vendors}
    totals: dict[str, float] = defaultdict(float)
    for row in engine_rows(scenario, sink)["quality_interval"]:
        if row.source in vendors:
            for name in ("handled", "transferred", "qa_count", "csat_count"):
                totals[name] += getattr(row, name)
    handled_legs = [leg for leg in truth.legs if leg.source in vendors and leg.outcome == "answered"]
    assert totals["handled"] == len(handled_legs) > 1000
    assert totals["transferred"] == sum(leg.transferred for leg in handled_legs) > 0
    # 5 % of handled legs are scored and 20 % surveyed; those a report was sent before count in the next.
    assert 0.03 < totals["qa_count"] / totals["handled"] < 0.07
    assert 0.16 < totals["csat_count"] / totals["handled"] < 0.24


def test_offered_counts_customer_calls_and_transfer_legs_apart() -> None:
    """Regression: in-house "offered" counted the tier-2 leg of every internal transfer as a new call."""
    scenario, sink, truth = run("virtualized", "shared")
    rows = [
        row for row in engine_rows(scenario, sink)["quality_interval"] if row.source == scenario.in_house.id
    ]
    entered = [
        leg for leg in truth.legs if leg.source == scenario.in_house.id and leg.enqueued_ms is not None
    ]
    calls = [leg for leg in entered if leg.entry != "transfer"]
    assert sum(row.offered for row in rows) == len(calls)
    assert sum(row.transferred_in for row in rows) == len(entered) - len(calls) > 0
    assert sum(row.answered + row.abandoned for row in rows) <= len(calls)
