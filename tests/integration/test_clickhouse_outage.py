"""The ClickHouse endpoint stopped for 60 s mid-stream, then started again: the worker neither crashes nor
drops anything. It keeps its rows, stops consuming once its buffer is full, retries with backoff, and ends
with exactly the simulator's truth (quality, overflow, adherence, repeat contacts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from infra.chdb_server import ChdbServer
from producers.kafka_out import ensure_topics
from producers.simulator.core import Simulation
from producers.simulator.kafka_sink import KafkaSink
from producers.simulator.scenario import scenario_from_dict, variant
from producers.simulator.truth import TruthRecorder
from streams.engine.timebase import to_ms
from streams.events import TOPIC_AGENT_EVENTS, TOPIC_CONTACT_EVENTS, TOPIC_VENDOR_REPORTS
from streams.warehouse.migrations import migrate
from tests.support.expected import expected_conformance, expected_overflow, expected_quality, expected_repeats
from tests.support.warehouse import assert_same, overflow_from_warehouse, quality_from_warehouse

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 3
OUTAGE_S = 60
BASE = scenario_from_dict(
    {
        "name": "outage",
        "call_types": [{"name": "billing", "daily_volume": 700, "transfer_prob": 0.05}],
        "in_house": {"id": "in-house", "agents": 16, "teams": 2},
        "vendors": [{"id": "vendor-a", "agents": 8, "teams": 1, "queue_limit": 3}],
    }
)


def test_clickhouse_down_for_a_minute_loses_nothing(servers, clickhouse_db, topic_suffix, tmp_path):
    dsn, client = clickhouse_db
    migrate(client)
    topics = {
        TOPIC_CONTACT_EVENTS: f"contacts.{topic_suffix}",
        TOPIC_AGENT_EVENTS: f"agents.{topic_suffix}",
        TOPIC_VENDOR_REPORTS: f"reports.{topic_suffix}",
    }
    ensure_topics(servers.kafka_bootstrap, {**{t: PARTITIONS for t in topics.values()},
                                            f"dlq.{topic_suffix}": 1, f"callers.{topic_suffix}": PARTITIONS})  # fmt: skip
    scenarios = [variant(BASE, setup, "shared") for setup in ("virtualized", "enterprise_routed")]
    engine_config = tmp_path / "engine.json"
    engine_config.write_text(json.dumps({"tenants": {s.name: {"setup": s.setup} for s in scenarios}}))
    env = dict(os.environ)
    env.update(
        ACDSCOPE_KAFKA_BOOTSTRAP=servers.kafka_bootstrap,
        ACDSCOPE_CLICKHOUSE_DSN=dsn,
        ACDSCOPE_TOPIC_CONTACT_EVENTS=topics[TOPIC_CONTACT_EVENTS],
        ACDSCOPE_TOPIC_AGENT_EVENTS=topics[TOPIC_AGENT_EVENTS],
        ACDSCOPE_TOPIC_VENDOR_REPORTS=topics[TOPIC_VENDOR_REPORTS],
        ACDSCOPE_TOPIC_CALLER_CONTACTS=f"callers.{topic_suffix}",
        ACDSCOPE_TOPIC_DEAD_LETTER=f"dlq.{topic_suffix}",
        ACDSCOPE_TOPIC_PARTITIONS=str(PARTITIONS),
        ACDSCOPE_FAUST_APP_ID=f"acdscope-outage-{topic_suffix}",
        ACDSCOPE_FAUST_DATA_DIR=str(tmp_path / "faust"),
        ACDSCOPE_ENGINE_CONFIG=str(engine_config),
        ACDSCOPE_CHECKPOINT_INTERVAL_S="1",
        ACDSCOPE_CONSUME_BATCH_MAX="300",
        ACDSCOPE_SINK_MAX_ROWS="250",  # a small buffer: the outage must fill it and pause consuming
    )
    expected: dict[str, Any] = {}

    def publish(scenario: Any) -> None:
        truth = TruthRecorder()
        sink = KafkaSink(servers.kafka_bootstrap, scenario.name, topics)
        Simulation(scenario, sink, truth, b"outage").run()
        sink.close()
        expected[scenario.name] = (
            expected_quality(scenario, truth),
            {k: {n: v for n, v in r.items() if v} for k, r in expected_overflow(scenario, truth).items()},
            expected_conformance(scenario, truth),
            expected_repeats(scenario, truth),
        )

    endpoint = ChdbServer.from_env()
    log_path = tmp_path / "worker.log"
    publish(scenarios[0])
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "streams.edge.app", "worker", "-l", "info", "--without-web"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while client.query("select count() from engine_checkpoint").result_rows[0][0] < 1:
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            assert worker.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
        endpoint.stop()  # mid-stream: the first scenario is partly written
        try:
            publish(scenarios[1])  # arrives while ClickHouse is away
            down_until = time.monotonic() + OUTAGE_S
            while time.monotonic() < down_until:
                assert worker.poll() is None, (
                    f"worker died during the outage:\n{log_path.read_text()[-3000:]}"
                )
                time.sleep(1)
        finally:
            endpoint.start()
            endpoint.wait_ready()
        during = log_path.read_text()
        assert "sink write failed" in during
        assert "consuming paused" in during  # the buffer filled: bounded memory, no drop
        deadline = time.monotonic() + 120
        while True:
            assert worker.poll() is None, log_path.read_text()[-3000:]
            got_q, got_o = quality_from_warehouse(client), overflow_from_warehouse(client)
            repeats: dict[str, dict[tuple[str, str, int], tuple[int, int]]] = {}
            for tenant, source, call_type, start, handled, repeated in client.query(
                "select tenant, source, call_type, interval_start, sum(handled), sum(repeated)"
                " from repeat_interval final group by tenant, source, call_type, interval_start"
            ).result_rows:
                repeats.setdefault(tenant, {})[(source, call_type, to_ms(start))] = (handled, repeated)
            done = all(
                got_q.get(n, {}) == q and got_o.get(n, {}) == o and repeats.get(n, {}) == r
                for n, (q, o, _, r) in expected.items()
            )
            if done or time.monotonic() > deadline:
                break
            time.sleep(1)
        for name, (quality, overflow, _, repeat) in expected.items():
            assert_same(got_q.get(name, {}), quality, f"quality of {name}")
            assert_same(got_o.get(name, {}), overflow, f"overflow of {name}")
            assert repeats.get(name, {}) == repeat, f"repeat contacts of {name}"
        conformance: dict[str, dict[str, tuple[int, int]]] = {}
        for tenant, agent, worked, scheduled in client.query(
            "select tenant, agent_id, sum(worked_on_queue_ms), sum(scheduled_on_queue_ms)"
            " from adherence_interval final group by tenant, agent_id"
        ).result_rows:
            conformance.setdefault(tenant, {})[agent] = (worked, scheduled)
        for name, (_, _, agents, _) in expected.items():
            assert conformance.get(name, {}) == agents, f"adherence of {name}"
        text = log_path.read_text()
        assert "sink writes succeed again" in text
        assert "Crashed reason=" not in text
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
