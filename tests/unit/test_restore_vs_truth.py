"""The simulator's truth as the oracle of a disordered, interrupted run.

The restore and interleaving properties (`test_engine_vs_truth`, `test_engine_quality`, `test_adherence`)
compare the engine with itself: a restored engine ends where one that never stopped ends, any order of the
same events gives the same rows. Both would pass if the engine counted wrong the same way in both runs. Here
a simulated day is delivered the way brokers deliver it (each Kafka key's events in their own order, keys
interleaved with delays up to the allowed lateness), the worker crashes some batches after a checkpoint, a
fresh worker restores the checkpoint and re-reads from an older committed offset, and the final rows must
equal what the simulator says happened, in every table the truth covers (quality, overflow, contact volume,
adherence and repeat contacts), a figure the setup hides NULL as NULL. Pure: no broker, no warehouse.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from functools import cache
from typing import Any

import pytest

from producers.simulator.output import MemorySink
from producers.simulator.scenario import Scenario
from producers.simulator.truth import TruthRecorder
from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.engine.partition import KEY_LENGTH
from streams.engine.partition import AgentPartition
from streams.engine.partition import CallerPartition
from streams.engine.partition import ContactPartition
from streams.engine.timebase import to_ms
from streams.events import Event
from streams.events import event_key
from streams.events import event_topic
from tests.support.engine import expected_overflow_figures
from tests.support.engine import overflow_figures
from tests.support.engine import quality_figures
from tests.support.engine import simulated_variant
from tests.support.expected import expected_conformance
from tests.support.expected import expected_handling
from tests.support.expected import expected_quality
from tests.support.expected import expected_repeats
from tests.support.expected import expected_volume
from tests.support.scenarios import mixed

BASE = mixed("oracle", billing=450, sales=200, agents=19, teams=2, vendor_agents=9, vendor_teams=1)
DAY_MS = 86_400_000
ROUNDS = 12  # the worker reads each input topic in this many batches
CHECKPOINT_AFTER = 5  # rounds read when the last checkpoint before the crash is written
CRASH_AFTER = 7  # rounds read when the worker dies: what it did after the checkpoint is lost
COMMIT_LAG = 250  # the committed offset is this far behind the checkpoint: those records are re-read
KEYS = {**KEY_LENGTH, "repeat_interval": 5}
Partition = ContactPartition | AgentPartition | CallerPartition


@cache
def simulated(setup: str, engagement: str) -> tuple[Scenario, MemorySink, TruthRecorder]:
    return simulated_variant(BASE, setup, engagement)


def delivered(events: list[Event], lateness_ms: int, rng: random.Random) -> list[Event]:
    """The events in the order a partition's log holds them: each reaches the broker up to `lateness_ms` after
    its own time, but never before an earlier event of its key (Kafka keeps order per key only), so keys
    interleave out of time order, and no event is further than `lateness_ms` behind one read before it."""
    last: dict[tuple[str, bytes], int] = {}
    arrivals = []
    for index, event in enumerate(events):
        key = (event_topic(event), event_key(event))
        at = max(last.get(key, -(2**62)), to_ms(event.ts) + rng.randint(0, lateness_ms))
        last[key] = at
        arrivals.append((at, index, event))
    arrivals.sort(key=lambda arrival: arrival[:2])
    return [event for _, _, event in arrivals]


class Warehouse:
    """The aggregate tables as ClickHouse keeps them (ReplacingMergeTree on `version`): per key, the row with
    the highest version, the later insert among equal versions."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], Any]] = defaultdict(dict)

    def insert(self, drained: dict[str, list[Any]]) -> None:
        for table, rows in drained.items():
            stored = self.tables[table]
            for row in rows:
                key = row[: KEYS[table]]
                if key not in stored or row.version >= stored[key].version:
                    stored[key] = row

    def rows(self, table: str) -> list[Any]:
        return list(self.tables[table].values())


class Worker:
    """One partition of each topic, read in batches as the edge reads them: contact events and vendor reports
    into one contact partition (as `test_engine_vs_truth` does), agent and schedule events into an agent
    partition, and the customer-call outcomes the contact partition publishes into the caller-keyed topic,
    read back by a caller partition."""

    def __init__(self, config: EngineConfig, checkpoint: dict[str, Any] | None = None) -> None:
        factories: dict[str, type[Partition]] = {
            "contact": ContactPartition,
            "agent": AgentPartition,
            "caller": CallerPartition,
        }
        if checkpoint is None:
            self.engines = {topic: factory(0, config) for topic, factory in factories.items()}
            self.position = dict.fromkeys(factories, 0)
        else:  # a restart: the engines from the checkpoint, read again from the (older) committed offsets
            self.engines = {
                topic: factory.restore(checkpoint[topic], config) for topic, factory in factories.items()
            }
            self.position = {
                topic: max(0, checkpoint[topic]["last_offset"] + 1 - COMMIT_LAG) for topic in factories
            }
        self.replayed = dict.fromkeys(factories, 0)

    def read(self, logs: dict[str, list[Any]], share: float, warehouse: Warehouse) -> None:
        """Each input topic up to `share` of its log, then the caller topic up to its end."""
        for topic in ("contact", "agent"):
            self._read(logs, topic, round(len(logs[topic]) * share), warehouse)
        self._read(logs, "caller", len(logs["caller"]), warehouse)

    def _read(self, logs: dict[str, list[Any]], topic: str, until: int, warehouse: Warehouse) -> None:
        start = self.position[topic]
        engine = self.engines[topic]
        output = engine.process([(offset, logs[topic][offset]) for offset in range(start, until)])
        assert not output.rejected
        assert not output.duplicates
        self.replayed[topic] += output.replayed
        self.position[topic] = max(start, until)
        self._publish(logs, warehouse)

    def _publish(self, logs: dict[str, list[Any]], warehouse: Warehouse) -> None:
        for engine in self.engines.values():
            if isinstance(engine, ContactPartition):
                logs["caller"].extend(engine.drain_caller_contacts())
            warehouse.insert(engine.drain())

    def checkpoint(self) -> dict[str, Any]:
        """Every partition's snapshot, through JSON as the edge stores it."""
        return {topic: json.loads(json.dumps(engine.snapshot())) for topic, engine in self.engines.items()}

    def finish(self, logs: dict[str, list[Any]], warehouse: Warehouse) -> None:
        """The stream has gone quiet: every partition's time moves on a day, so its last intervals close."""
        for topic in ("contact", "agent"):
            self.engines[topic].advance_idle(DAY_MS)
            self._publish(logs, warehouse)
        self._read(logs, "caller", len(logs["caller"]), warehouse)
        self.engines["caller"].advance_idle(DAY_MS)
        self._publish(logs, warehouse)


def restarted_run(scenario: Scenario, sink: MemorySink, seed: int) -> tuple[Warehouse, dict[str, list[Any]]]:
    config = EngineConfig(
        tenants={scenario.name: TenantConfig(setup=scenario.setup, in_house=scenario.in_house.id)}
    )
    rng = random.Random(seed)
    events = list(sink.events())
    contacts = [e for e in events if e.type.startswith(("contact.", "vendor."))]
    agents = [e for e in events if e.type.startswith(("agent.", "schedule."))]
    logs: dict[str, list[Any]] = {
        "contact": delivered(contacts, config.lateness_ms, rng),
        "agent": delivered(agents, config.lateness_ms, rng),
        "caller": [],  # the caller-keyed topic: it outlives the worker
    }
    warehouse = Warehouse()
    crashed = Worker(config)
    checkpoint: dict[str, Any] = {}
    for done in range(1, CRASH_AFTER + 1):
        crashed.read(logs, done / ROUNDS, warehouse)
        if done == CHECKPOINT_AFTER:
            checkpoint = crashed.checkpoint()
    # Killed: no final checkpoint. Its rows since the checkpoint were written; its caller outcomes were sent.
    restored = Worker(config, checkpoint)
    for done in range(CHECKPOINT_AFTER + 1, ROUNDS + 1):
        restored.read(logs, done / ROUNDS, warehouse)
    restored.finish(logs, warehouse)
    # The run did what it says: the crashed worker read past its checkpoint, and the records counted before
    # the checkpoint that the restored one re-read (from the older committed offset) were skipped.
    for topic, snapshot in checkpoint.items():
        assert crashed.position[topic] > snapshot["last_offset"] + 1, topic
        assert restored.replayed[topic] == min(COMMIT_LAG, snapshot["last_offset"] + 1) > 0, topic
    return warehouse, logs


def lag_behind_latest_ms(log: list[Event]) -> tuple[int, int]:
    """How out of time order a log is: the largest lag of an event behind the latest one read before it, and
    how many events are read after a later one."""
    latest, worst, late = -(2**62), 0, 0
    for event in log:
        ts = to_ms(event.ts)
        if ts < latest:
            worst, late = max(worst, latest - ts), late + 1
        latest = max(latest, ts)
    return worst, late


@pytest.mark.parametrize("setup", ["virtualized", "enterprise_routed", "network_delivered"])
@pytest.mark.parametrize("engagement", ["shared"])
def test_a_shuffled_restored_run_equals_the_truth_in_every_table(setup: str, engagement: str) -> None:
    """One scenario per setup, so each table is seen with what every setup hides: vendor rows from reports
    (network-delivered, enterprise-routed), routing NULL (network-delivered), vendor agents (virtualized)."""
    scenario, sink, truth = simulated(setup, engagement)
    warehouse, logs = restarted_run(scenario, sink, seed=20_240_501)
    lateness_ms = EngineConfig().lateness_ms
    for topic in ("contact", "agent"):
        worst, late = lag_behind_latest_ms(logs[topic])
        # Disordered for real, and never beyond what the engine accepts as on time.
        assert lateness_ms // 2 < worst <= lateness_ms, topic
        assert late > len(logs[topic]) // 4, topic
    # The restored worker re-published the outcomes the crashed one had sent after its checkpoint.
    published = [contact.initial_contact_id for contact in logs["caller"]]
    assert len(published) > len(set(published))
    target_index = list(EngineConfig().service_thresholds_s).index(scenario.service_threshold_s)

    quality: dict[tuple[str, str, int], dict[str, Any]] = {}
    for row in warehouse.rows("quality_interval"):
        assert row.is_final == 1
        quality[(row.source, row.call_type, to_ms(row.interval_start))] = quality_figures(row, target_index)
    expected = expected_quality(scenario, truth)
    # Rows with nothing but later events (e.g. a transfer leg's quality) may exist only in the engine.
    assert {k: v for k, v in quality.items() if v["offered"] or k in expected} == expected
    # Where the setup hides the vendor's calls its rows come from its reports, NULL where they say nothing.
    reported = [v for v in quality.values() if v["observed_via"] == "vendor_report"]
    assert bool(reported) == (setup != "virtualized")
    assert all(v["talk_ms"] is None and v["transferred_in"] is None for v in reported)

    overflow = {
        (row.call_type, to_ms(row.interval_start)): overflow_figures(row, target_index)
        for row in warehouse.rows("overflow_interval")
    }
    assert overflow == expected_overflow_figures(scenario, truth)
    if setup == "network_delivered":  # the carrier routes: NULL, never 0
        assert overflow
        assert all(row["overflowed"] is None for row in overflow.values())
    else:
        assert sum(row["overflowed"] for row in overflow.values()) > 0

    volume = {
        (row.source, to_ms(row.interval_start)): (row.offered, row.answered, row.abandoned)
        for row in warehouse.rows("contact_volume_interval")
        if row.offered or row.answered or row.abandoned
    }
    assert volume == expected_volume(scenario, truth)

    # Adherence: conformance's numerator and denominator, and occupancy's numerator, per agent, to the ms.
    per_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in warehouse.rows("adherence_interval"):
        sums = per_agent[row.agent_id]
        sums[0] += row.worked_on_queue_ms
        sums[1] += row.scheduled_on_queue_ms
        sums[2] += row.handling_ms
    conformance = expected_conformance(scenario, truth)
    assert {agent: (sums[0], sums[1]) for agent, sums in per_agent.items()} == conformance
    assert {agent: sums[2] for agent, sums in per_agent.items()} == expected_handling(scenario, truth)
    assert any(agent.startswith("vendor-a") for agent in conformance) == (setup == "virtualized")

    repeats = {
        (row.source, row.call_type, to_ms(row.interval_start)): (row.handled, row.repeated)
        for row in warehouse.rows("repeat_interval")
    }
    assert repeats == expected_repeats(scenario, truth)
    assert sum(repeated for _, repeated in repeats.values()) > 0
