"""A feed's events counted the way the worker counts them, for adapter tests that check the engine's view, and
engine rows read as the figures `tests.support.expected` computes from the simulator's truth."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from producers.simulator.output import MemorySink
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder
from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.engine.overflow import OverflowRow
from streams.engine.partition import ContactPartition
from streams.engine.quality import QualityRow
from streams.events import Event
from tests.support.expected import expected_overflow


def contact_rows(events: Iterable[Event], tenant: str) -> dict[str, list[Any]]:
    """The contact events in time order through one virtualized tenant's contact partition, every interval
    closed: the rows of each table."""
    contacts = sorted((e for e in events if e.type.startswith("contact.")), key=lambda e: e.ts)
    engine = ContactPartition(0, EngineConfig(tenants={tenant: TenantConfig(setup="virtualized")}))
    engine.process(enumerate(contacts))
    engine.advance_idle(10**10)
    return engine.drain()


def quality_figures(row: QualityRow, target_index: int) -> dict[str, Any]:
    """A quality row's figures as `tests.support.expected.expected_quality` states them, NULL kept as None."""
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
        "handled": row.handled,
        "transferred": row.transferred,
        "transferred_in": row.transferred_in,
        "overflowed_out": row.overflowed_out,
        "qa_count": row.qa_count,
        "qa_sum": None if row.qa_sum is None else round(row.qa_sum, 6),
        "csat_count": row.csat_count,
        "csat_sum": row.csat_sum,
    }
    if row.observed_via == "vendor_report":
        # The truth has them only where reports carry them.
        figures["handle_ms"] = row.handle_ms
        figures["staffed_ms"] = row.staffed_ms
    return figures


ROUTING = ("overflowed", "overflowed_timeout", "overflowed_split", "overflowed_call_type", "overflow_wait_ms")
OUTCOMES = ("e2e_answered", "e2e_answered_within_target", "e2e_abandoned", "e2e_hidden")


def overflow_figures(row: OverflowRow, target_index: int) -> dict[str, Any]:
    """An overflow row's figures as `expected_overflow_figures` states them, NULL kept as None."""
    return {
        "arrived": row.arrived,
        **{name: getattr(row, name) for name in ROUTING},
        "e2e_answered": row.e2e_answered,
        "e2e_answered_within_target": row.e2e_answered_within[target_index],
        "e2e_abandoned": row.e2e_abandoned,
        "e2e_hidden": row.e2e_hidden,
    }


def expected_overflow_figures(
    scenario: Scenario, truth: TruthRecorder
) -> dict[tuple[str, int], dict[str, Any]]:
    """The truth's overflow rows with every figure present: a routing figure the carrier hides is NULL (not
    0), one the enterprise sees is its count, 0 included."""
    routing_seen = scenario.setup != "network_delivered"
    return {
        key: {
            "arrived": row.get("arrived", 0),
            **{name: row.get(name, 0) if routing_seen else None for name in ROUTING},
            **{name: row.get(name, 0) for name in OUTCOMES},
        }
        for key, row in expected_overflow(scenario, truth).items()
    }


def simulated_variant(
    base: Scenario, setup: str, engagement: str
) -> tuple[Scenario, MemorySink, TruthRecorder]:
    """`base` under another setup and engagement, simulated into memory: its events and the simulator's truth."""
    scenario = variant(base, setup, engagement)  # type: ignore[arg-type]
    sink, truth = simulate_in_memory(scenario)
    sink.close()
    return scenario, sink, truth
