"""A worker killed with SIGKILL mid-stream and started again ends with exactly the aggregates of an
uninterrupted run: engine checkpoints are restored and re-read offsets are skipped, not counted again."""

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
BASE = scenario_from_dict(
    {
        "name": "restart",
        "call_types": [{"name": "billing", "daily_volume": 700, "transfer_prob": 0.05}],
        "in_house": {"id": "in-house", "agents": 16, "teams": 2},
        "vendors": [{"id": "vendor-a", "agents": 8, "teams": 1, "queue_limit": 3}],
    }
)


def _start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "streams.edge.app", "worker", "-l", "info"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def test_sigkill_mid_stream_then_restart_counts_everything_exactly_once(
    servers, clickhouse_db, topic_suffix, tmp_path
):
    dsn, client = clickhouse_db
    migrate(client)
    topics = {
        TOPIC_CONTACT_EVENTS: f"contacts.{topic_suffix}",
        TOPIC_AGENT_EVENTS: f"agents.{topic_suffix}",
        TOPIC_VENDOR_REPORTS: f"reports.{topic_suffix}",
    }
    ensure_topics(
        servers.kafka_bootstrap,
        {
            **{t: PARTITIONS for t in topics.values()},
            f"dlq.{topic_suffix}": 1,
            f"callers.{topic_suffix}": PARTITIONS,
        },
    )
    scenarios = [
        variant(BASE, setup, "shared") for setup in ("virtualized", "enterprise_routed", "network_delivered")
    ]
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
        ACDSCOPE_FAUST_APP_ID=f"acdscope-restart-{topic_suffix}",
        ACDSCOPE_FAUST_DATA_DIR=str(tmp_path / "faust"),
        ACDSCOPE_ENGINE_CONFIG=str(engine_config),
        ACDSCOPE_CHECKPOINT_INTERVAL_S="1",
        ACDSCOPE_CONSUME_BATCH_MAX="300",
        ACDSCOPE_FAUST_SESSION_TIMEOUT_S="6",
    )
    expected: dict[str, Any] = {}

    def publish(scenario: Any) -> None:
        truth = TruthRecorder()
        sink = KafkaSink(servers.kafka_bootstrap, scenario.name, topics)
        Simulation(scenario, sink, truth, b"restart").run()
        sink.close()
        expected[scenario.name] = (
            expected_quality(scenario, truth),
            {k: {n: v for n, v in r.items() if v} for k, r in expected_overflow(scenario, truth).items()},
            expected_conformance(scenario, truth),
            expected_repeats(scenario, truth),
        )

    log_path = tmp_path / "worker.log"
    publish(scenarios[0])
    worker = _start_worker(env, log_path)
    try:
        publish(scenarios[1])  # arrives while the worker runs
        deadline = time.monotonic() + 60
        while client.query("select count() from engine_checkpoint").result_rows[0][0] < 2:
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            assert worker.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGKILL)  # no clean shutdown, no final checkpoint
        worker.wait()
    killed_at = log_path.stat().st_size
    publish(scenarios[2])  # arrives while no worker runs
    worker = _start_worker(env, log_path)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert worker.poll() is None, log_path.read_text()[-3000:]
            got_q, got_o = quality_from_warehouse(client), overflow_from_warehouse(client)
            done = all(
                got_q.get(n, {}) == q and got_o.get(n, {}) == o for n, (q, o, _, _) in expected.items()
            )
            if done or time.monotonic() > deadline:
                break
            time.sleep(1)
        for name, (quality, overflow, _, _) in expected.items():
            assert_same(got_q.get(name, {}), quality, f"quality of {name}")
            assert_same(got_o.get(name, {}), overflow, f"overflow of {name}")
        rows = client.query(
            "select tenant, agent_id, sum(worked_on_queue_ms), sum(scheduled_on_queue_ms)"
            " from adherence_interval final group by tenant, agent_id"
        ).result_rows
        conformance: dict[str, dict[str, tuple[int, int]]] = {}
        for tenant, agent, worked, scheduled in rows:
            conformance.setdefault(tenant, {})[agent] = (worked, scheduled)
        for name, (_, _, agents, _) in expected.items():
            assert conformance.get(name, {}) == agents, f"adherence of {name}"
        repeats: dict[str, dict[tuple[str, str, int], tuple[int, int]]] = {}
        deadline = time.monotonic() + 30
        while True:
            repeats = {}
            for tenant, source, call_type, start, handled, repeated in client.query(
                "select tenant, source, call_type, interval_start, sum(handled), sum(repeated)"
                " from repeat_interval final group by tenant, source, call_type, interval_start"
            ).result_rows:
                repeats.setdefault(tenant, {})[(source, call_type, to_ms(start))] = (handled, repeated)
            if all(repeats.get(n, {}) == r[3] for n, r in expected.items()) or time.monotonic() > deadline:
                break
            time.sleep(1)
        for name, (_, _, _, expected_r) in expected.items():
            assert repeats.get(name, {}) == expected_r, f"repeat contacts of {name}"
        restarted_log = log_path.read_text()[killed_at:]
        assert "Crashed reason=" not in restarted_log
        assert "from its checkpoint at offset" in restarted_log
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
