"""Simulator -> real Kafka -> a real `faust worker` -> ClickHouse equals the simulator's ground truth, exactly, for
one day of each of the 9 scenarios (3 setups x 3 engagement models), NULLs included where a setup hides a figure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from producers.kafka_out import ensure_topics
from producers.simulator.core import Simulation
from producers.simulator.kafka_sink import KafkaSink
from producers.simulator.scenario import ENGAGEMENTS
from producers.simulator.scenario import SETUPS
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder
from streams.engine.timebase import to_ms
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.warehouse.migrations import migrate
from tests.support.expected import expected_conformance
from tests.support.expected import expected_overflow
from tests.support.expected import expected_quality
from tests.support.expected import expected_repeats
from tests.support.faults import stop_worker
from tests.support.scenarios import mixed
from tests.support.warehouse import assert_same
from tests.support.warehouse import overflow_from_warehouse
from tests.support.warehouse import quality_from_warehouse

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 4

BASE = mixed("e2e", billing=450, sales=200, agents=19, teams=2, vendor_agents=9, vendor_teams=1)


def test_nine_scenarios_end_to_end_equal_the_simulators_truth(servers, clickhouse_db, topic_suffix, tmp_path):
    dsn, client = clickhouse_db
    migrate(client)
    topics = {
        TOPIC_CONTACT_EVENTS: f"contacts.{topic_suffix}",
        TOPIC_AGENT_EVENTS: f"agents.{topic_suffix}",
        TOPIC_VENDOR_REPORTS: f"reports.{topic_suffix}",
    }
    dlq = f"dlq.{topic_suffix}"
    ensure_topics(
        servers.kafka_bootstrap,
        {**{name: PARTITIONS for name in topics.values()}, dlq: 1, f"callers.{topic_suffix}": PARTITIONS},
    )

    scenarios = [variant(BASE, setup, engagement) for setup in SETUPS for engagement in ENGAGEMENTS]
    expected_q, expected_o, expected_a, expected_r = {}, {}, {}, {}
    for scenario in scenarios:
        truth = TruthRecorder()
        sink = KafkaSink(servers.kafka_bootstrap, scenario.name, topics)
        Simulation(scenario, sink, truth, b"e2e").run()
        sink.close()
        expected_q[scenario.name] = expected_quality(scenario, truth)
        expected_a[scenario.name] = expected_conformance(scenario, truth)
        expected_r[scenario.name] = expected_repeats(scenario, truth)
        expected_o[scenario.name] = {
            key: {n: v for n, v in row.items() if v}
            for key, row in expected_overflow(scenario, truth).items()
        }
    engine_config = tmp_path / "engine.json"
    engine_config.write_text(
        json.dumps({"tenants": {s.name: {"setup": s.setup, "in_house": s.in_house.id} for s in scenarios}})
    )
    env = dict(os.environ)
    env.update(
        ACDSCOPE_KAFKA_BOOTSTRAP=servers.kafka_bootstrap,
        ACDSCOPE_CLICKHOUSE_DSN=dsn,
        ACDSCOPE_TOPIC_CONTACT_EVENTS=topics[TOPIC_CONTACT_EVENTS],
        ACDSCOPE_TOPIC_AGENT_EVENTS=topics[TOPIC_AGENT_EVENTS],
        ACDSCOPE_TOPIC_VENDOR_REPORTS=topics[TOPIC_VENDOR_REPORTS],
        ACDSCOPE_TOPIC_CALLER_CONTACTS=f"callers.{topic_suffix}",
        ACDSCOPE_TOPIC_ALERT_INPUTS=f"alert-inputs.{topic_suffix}",
        ACDSCOPE_TOPIC_ALERTS=f"alerts.{topic_suffix}",
        ACDSCOPE_TOPIC_DEAD_LETTER=dlq,
        ACDSCOPE_TOPIC_PARTITIONS=str(PARTITIONS),
        ACDSCOPE_FAUST_APP_ID=f"acdscope-nine-{topic_suffix}",
        ACDSCOPE_FAUST_DATA_DIR=str(tmp_path / "faust"),
        ACDSCOPE_ENGINE_CONFIG=str(engine_config),
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "streams.edge.app", "worker", "-l", "info"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240
        got_q: dict = {}
        got_o: dict = {}
        previous: Any = None
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            assert worker.poll() is None, f"worker exited early:\n{log_path.read_text()[-3000:]}"
            assert "Crashed reason=" not in log_path.read_text(), log_path.read_text()[-3000:]
            got_q, got_o = quality_from_warehouse(client), overflow_from_warehouse(client)
            if all(
                got_q.get(n, {}) == expected_q[n] and got_o.get(n, {}) == expected_o[n] for n in expected_q
            ):
                break
            if (got_q, got_o) != previous:
                previous, stable_since = (got_q, got_o), time.monotonic()
            elif time.monotonic() - stable_since > 20:
                break  # nothing has changed for 20 s: the worker is done, the difference is real
            time.sleep(1)
        for name in expected_q:
            assert_same(got_q.get(name, {}), expected_q[name], f"quality of {name}")
            assert_same(got_o.get(name, {}), expected_o[name], f"overflow of {name}")
        # Adherence: conformance inputs per agent equal the truth's spans and schedules, to the millisecond, and
        # vendor agents appear only where the setup shows them (virtualized).
        deadline = time.monotonic() + 60
        while True:
            rows = client.query(
                "select tenant, agent_id, sum(worked_on_queue_ms), sum(scheduled_on_queue_ms)"
                " from adherence_interval final group by tenant, agent_id"
            ).result_rows
            got_a: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
            for tenant, agent, worked, scheduled in rows:
                got_a[tenant][agent] = (worked, scheduled)
            if all(got_a.get(n, {}) == expected_a[n] for n in expected_a) or time.monotonic() > deadline:
                break
            time.sleep(1)
        for name in expected_a:
            assert got_a.get(name, {}) == expected_a[name], f"adherence of {name}"
        assert any(agent.startswith("vendor-a") for agent in got_a["virtualized-shared"])
        assert not any(agent.startswith("vendor-a") for agent in got_a["enterprise-routed-shared"])
        # Repeat contacts, through the caller-keyed topic: handled and repeated per source and interval.
        deadline = time.monotonic() + 60
        while True:
            got_r: dict[str, dict[tuple[str, str, int], tuple[int, int]]] = defaultdict(dict)
            for tenant, source, call_type, start, handled, repeated in client.query(
                "select tenant, source, call_type, interval_start, sum(handled), sum(repeated)"
                " from repeat_interval final group by tenant, source, call_type, interval_start"
            ).result_rows:
                got_r[tenant][(source, call_type, to_ms(start))] = (handled, repeated)
            if all(got_r.get(n, {}) == expected_r[n] for n in expected_r) or time.monotonic() > deadline:
                break
            time.sleep(1)
        for name in expected_r:
            assert got_r.get(name, {}) == expected_r[name], f"repeat contacts of {name}"
        dead = client.query("select count() from dead_letter").result_rows[0][0]
        assert dead == 0
        # NULL with a reason, never 0: network-delivered routing, enterprise-routed vendor outcomes.
        hidden = dict(
            client.query(
                "select tenant, countIf(overflowed is null) from overflow_interval final group by tenant"
            ).result_rows
        )
        assert hidden["network-delivered-shared"] > 0
        assert hidden["virtualized-shared"] == 0
    finally:
        code = stop_worker(worker)
    assert code == 0, log_path.read_text()[-3000:]
