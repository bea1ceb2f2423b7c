"""What the fault-injection runs share: a small two-setup scenario published to fresh topics with its truth,
a worker process, and the wait for the warehouse to equal that truth exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client

from producers.kafka_out import ensure_topics
from producers.simulator.core import Simulation
from producers.simulator.kafka_sink import KafkaSink
from producers.simulator.scenario import Scenario, scenario_from_dict, variant
from producers.simulator.truth import TruthRecorder
from streams.engine.timebase import to_ms
from streams.events import TOPIC_AGENT_EVENTS, TOPIC_CONTACT_EVENTS, TOPIC_VENDOR_REPORTS
from tests.support.expected import expected_conformance, expected_overflow, expected_quality, expected_repeats
from tests.support.warehouse import assert_same, overflow_from_warehouse, quality_from_warehouse

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 3
BASE = scenario_from_dict(
    {
        "name": "faults",
        "call_types": [{"name": "billing", "daily_volume": 700, "transfer_prob": 0.05}],
        "in_house": {"id": "in-house", "agents": 16, "teams": 2},
        "vendors": [{"id": "vendor-a", "agents": 8, "teams": 1, "queue_limit": 3}],
    }
)
Expected = dict[str, tuple[Any, Any, Any, Any]]


class FaultRun:
    """Topics, worker settings and the expected aggregates of one run; `publish` adds a scenario's events."""

    def __init__(
        self, bootstrap: str, dsn: str, suffix: str, work: Path, setups: tuple[str, ...], **env: str
    ):
        self.bootstrap = bootstrap
        self.work = work
        self.scenarios: list[Scenario] = [variant(BASE, setup, "shared") for setup in setups]  # type: ignore[arg-type]
        self.topics = {
            TOPIC_CONTACT_EVENTS: f"contacts.{suffix}",
            TOPIC_AGENT_EVENTS: f"agents.{suffix}",
            TOPIC_VENDOR_REPORTS: f"reports.{suffix}",
        }
        ensure_topics(bootstrap, {**dict.fromkeys(self.topics.values(), PARTITIONS), f"dlq.{suffix}": 1,
                                  f"callers.{suffix}": PARTITIONS})  # fmt: skip
        engine_config = work / "engine.json"
        engine_config.write_text(
            json.dumps({"tenants": {s.name: {"setup": s.setup} for s in self.scenarios}})
        )
        self.env = dict(os.environ)
        self.env.update(
            ACDSCOPE_KAFKA_BOOTSTRAP=bootstrap,
            ACDSCOPE_CLICKHOUSE_DSN=dsn,
            ACDSCOPE_TOPIC_CONTACT_EVENTS=self.topics[TOPIC_CONTACT_EVENTS],
            ACDSCOPE_TOPIC_AGENT_EVENTS=self.topics[TOPIC_AGENT_EVENTS],
            ACDSCOPE_TOPIC_VENDOR_REPORTS=self.topics[TOPIC_VENDOR_REPORTS],
            ACDSCOPE_TOPIC_CALLER_CONTACTS=f"callers.{suffix}",
            ACDSCOPE_TOPIC_DEAD_LETTER=f"dlq.{suffix}",
            ACDSCOPE_TOPIC_PARTITIONS=str(PARTITIONS),
            ACDSCOPE_FAUST_APP_ID=f"acdscope-faults-{suffix}",
            ACDSCOPE_FAUST_DATA_DIR=str(work / "faust"),
            ACDSCOPE_ENGINE_CONFIG=str(engine_config),
            ACDSCOPE_CHECKPOINT_INTERVAL_S="1",
            ACDSCOPE_CONSUME_BATCH_MAX="300",
            **env,
        )
        self.expected: Expected = {}
        self.log_path = work / "worker.log"

    def publish(self, scenario: Scenario) -> None:
        truth = TruthRecorder()
        sink = KafkaSink(self.bootstrap, scenario.name, self.topics)
        Simulation(scenario, sink, truth, b"faults").run()
        sink.close()
        self.expected[scenario.name] = (
            expected_quality(scenario, truth),
            {k: {n: v for n, v in r.items() if v} for k, r in expected_overflow(scenario, truth).items()},
            expected_conformance(scenario, truth),
            expected_repeats(scenario, truth),
        )

    def start_worker(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "faust", "-A", "streams.edge.app", "worker", "-l", "info", "--without-web"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def log_tail(self) -> str:
        return self.log_path.read_text()[-3000:]

    def wait_checkpointed(self, client: Client, worker: subprocess.Popen[bytes], rows: int = 1) -> None:
        deadline = time.monotonic() + 60
        while client.query("select count() from engine_checkpoint").result_rows[0][0] < rows:
            assert time.monotonic() < deadline, self.log_tail()
            assert worker.poll() is None, self.log_tail()
            time.sleep(0.2)

    def assert_exact(self, client: Client, worker: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
        """Waits until the warehouse equals the truth of every published scenario, then asserts it."""
        deadline = time.monotonic() + timeout_s
        while True:
            assert worker.poll() is None, self.log_tail()
            got_q, got_o, repeats = (
                quality_from_warehouse(client),
                overflow_from_warehouse(client),
                _repeats(client),
            )
            done = all(
                got_q.get(n, {}) == q and got_o.get(n, {}) == o and repeats.get(n, {}) == r
                for n, (q, o, _, r) in self.expected.items()
            )
            if done or time.monotonic() > deadline:
                break
            time.sleep(1)
        for name, (quality, overflow, _, repeat) in self.expected.items():
            assert_same(got_q.get(name, {}), quality, f"quality of {name}")
            assert_same(got_o.get(name, {}), overflow, f"overflow of {name}")
            assert repeats.get(name, {}) == repeat, f"repeat contacts of {name}"
        conformance: dict[str, dict[str, tuple[int, int]]] = {}
        for tenant, agent, worked, scheduled in client.query(
            "select tenant, agent_id, sum(worked_on_queue_ms), sum(scheduled_on_queue_ms)"
            " from adherence_interval final group by tenant, agent_id"
        ).result_rows:
            conformance.setdefault(tenant, {})[agent] = (worked, scheduled)
        for name, (_, _, agents, _) in self.expected.items():
            assert conformance.get(name, {}) == agents, f"adherence of {name}"


def _repeats(client: Client) -> dict[str, dict[tuple[str, str, int], tuple[int, int]]]:
    out: dict[str, dict[tuple[str, str, int], tuple[int, int]]] = {}
    for tenant, source, call_type, start, handled, repeated in client.query(
        "select tenant, source, call_type, interval_start, sum(handled), sum(repeated)"
        " from repeat_interval final group by tenant, source, call_type, interval_start"
    ).result_rows:
        out.setdefault(tenant, {})[(source, call_type, to_ms(start))] = (handled, repeated)
    return out
