"""What the fault-injection runs share: a small scenario (one simulated day in each delivery setup) published
to fresh topics with its truth, a worker process, the wait for the warehouse to equal that truth exactly, and
the reference run: the same scenario with no fault, whose every aggregate row the fault runs must reproduce."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client
from kafka import KafkaAdminClient
from kafka import KafkaConsumer
from kafka import TopicPartition

from producers.kafka_out import ensure_topics
from producers.simulator.core import Simulation
from producers.simulator.kafka_sink import KafkaSink
from producers.simulator.output import MemorySink
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder
from streams.engine.timebase import to_ms
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.events import encode_event
from streams.events import event_key
from streams.events import event_topic
from streams.tenant import load_tenant_file
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from tests.support.expected import expected_conformance
from tests.support.expected import expected_overflow
from tests.support.expected import expected_quality
from tests.support.expected import expected_repeats
from tests.support.scenarios import ROSTER
from tests.support.warehouse import assert_same
from tests.support.warehouse import overflow_from_warehouse
from tests.support.warehouse import quality_from_warehouse

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 3
BASE = scenario_from_dict(
    {
        "name": "faults",
        "call_types": [{"name": "billing", "daily_volume": 700, "transfer_prob": 0.05}],
        "in_house": {"id": "in-house", "agents": 16, "teams": 2, "shifts": ROSTER},
        "vendors": [{"id": "vendor-a", "agents": 8, "teams": 1, "queue_limit": 3, "shifts": ROSTER}],
    }
)
# Every run replays all three setups in this order (the reference, the worker kill, the ClickHouse outage, the
# broker restart), so every run publishes the same events to the same partitions at the same offsets.
SETUPS = ("virtualized", "enterprise_routed", "network_delivered")
# The simulator's caller-hash key in every run (the hashes, and so the caller-topic partitions, depend on it);
# the hostile run also hands it to the worker as the secret it must never write anywhere.
CALLER_KEY = b"faults-caller-hash-key-7c41e0d2b95a"
Expected = dict[str, tuple[Any, Any, Any, Any]]
Rows = dict[str, list[tuple[Any, ...]]]
# The tables whose every row a fault run must reproduce: the aggregates, the accepted events (keyed by
# partition and offset) and the dead letters (none). Not compared: `adherence_live`, a board as of the
# processing time; `engine_checkpoint`, bookkeeping; `source_terms` and `call_type_dim`, which no worker writes.
COMPARED_TABLES = (
    "quality_interval",
    "overflow_interval",
    "overflow_target_interval",
    "adherence_interval",
    "repeat_interval",
    "contact_volume_interval",
    "acd_events",
    "dead_letter",
    "alerts",
)
# Bookkeeping columns, not figures: `version` (offsets; the caller-topic offsets depend on how the worker
# batched its outcomes), `inserted_at` and `received_at` (wall-clock times), and `is_final`: a quiet
# partition's last intervals close as processing time passes (`EnginePipeline.tick`), so it says how long a
# run sat idle after its last event, not what was counted.
IGNORED_COLUMNS = frozenset({"version", "inserted_at", "received_at", "is_final"})


class FaultRun:
    """Topics, worker settings and the expected aggregates of one run; `publish` adds a scenario's events."""

    def __init__(
        self, bootstrap: str, dsn: str, suffix: str, work: Path, setups: tuple[str, ...] = SETUPS, **env: str
    ):
        self.bootstrap = bootstrap
        self.work = work
        self.suffix = suffix
        self.scenarios: list[Scenario] = [variant(BASE, setup, "shared") for setup in setups]  # type: ignore[arg-type]
        self.topics = {
            TOPIC_CONTACT_EVENTS: f"contacts.{suffix}",
            TOPIC_AGENT_EVENTS: f"agents.{suffix}",
            TOPIC_VENDOR_REPORTS: f"reports.{suffix}",
        }
        ensure_topics(bootstrap, {**dict.fromkeys(self.topics.values(), PARTITIONS), f"dlq.{suffix}": 1,
                                  f"callers.{suffix}": PARTITIONS, f"alert-inputs.{suffix}": PARTITIONS})  # fmt: skip
        engine_config = work / "engine.json"
        engine_config.write_text(json.dumps({"tenants": {s.name: _tenant(s) for s in self.scenarios}}))
        self.env = dict(os.environ)
        self.env.update(
            ACDSCOPE_KAFKA_BOOTSTRAP=bootstrap,
            ACDSCOPE_CLICKHOUSE_DSN=dsn,
            ACDSCOPE_TOPIC_CONTACT_EVENTS=self.topics[TOPIC_CONTACT_EVENTS],
            ACDSCOPE_TOPIC_AGENT_EVENTS=self.topics[TOPIC_AGENT_EVENTS],
            ACDSCOPE_TOPIC_VENDOR_REPORTS=self.topics[TOPIC_VENDOR_REPORTS],
            ACDSCOPE_TOPIC_CALLER_CONTACTS=f"callers.{suffix}",
            ACDSCOPE_TOPIC_ALERT_INPUTS=f"alert-inputs.{suffix}",
            ACDSCOPE_TOPIC_ALERTS=f"alerts.{suffix}",
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
        Simulation(scenario, sink, truth, CALLER_KEY).run()
        sink.close()
        self._expect(scenario, truth)

    def events(self, scenario: Scenario) -> list[tuple[str, bytes, bytes]]:
        """The scenario's events as `publish` sends them, (contract topic, key, value) in order, with the truth
        recorded the same way: for a test that sends them itself."""
        truth = TruthRecorder()
        sink = MemorySink(scenario.name)
        Simulation(scenario, sink, truth, CALLER_KEY).run()
        sink.close()
        self._expect(scenario, truth)
        return [(event_topic(event), event_key(event), encode_event(event)) for event in sink.events()]

    def _expect(self, scenario: Scenario, truth: TruthRecorder) -> None:
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

    def input_topics(self) -> list[str]:
        return [
            *self.topics.values(),
            self.env["ACDSCOPE_TOPIC_CALLER_CONTACTS"],
            self.env["ACDSCOPE_TOPIC_ALERT_INPUTS"],
        ]

    def wait_caught_up(self, worker: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
        """Until the worker's group has committed every input partition up to its end. The worker acks an event
        only once a written checkpoint covers it (written after the rows it covers, in the same flush), and a
        dead letter once its row is written: from then on the warehouse holds every row this run will write
        (bar `is_final` and the live board, which move with processing time)."""
        group = self.env["ACDSCOPE_FAUST_APP_ID"]
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            partitions = [TopicPartition(t, p) for t in self.input_topics() for p in range(PARTITIONS)]
            deadline = time.monotonic() + timeout_s
            while True:
                assert worker.poll() is None, self.log_tail()
                ends = consumer.end_offsets(partitions)
                committed = admin.list_group_offsets({group: None}).get(group, {})
                behind = {
                    f"{tp.topic}[{tp.partition}]": (committed[tp].offset if tp in committed else None, end)
                    for tp, end in ends.items()
                    if end and (tp not in committed or committed[tp].offset < end)
                }
                if not behind:
                    return
                assert time.monotonic() < deadline, f"committed vs end offsets: {behind}\n{self.log_tail()}"
                time.sleep(0.5)
        finally:
            consumer.close()
            admin.close()

    @staticmethod
    def columns(client: Client, table: str) -> list[str]:
        """The table's columns in order, without the bookkeeping ones."""
        return [
            name
            for (name,) in client.query(
                "select name from system.columns where database = currentDatabase() and table = {t:String}"
                " order by position",
                parameters={"t": table},
            ).result_rows
            if name not in IGNORED_COLUMNS
        ]

    def rows(self, client: Client, tables: tuple[str, ...] = COMPARED_TABLES) -> Rows:
        """The tables' rows as `final` reads them, sorted, without the bookkeeping columns; topic names lose
        this run's suffix, so runs on different topics compare."""
        out: Rows = {}
        for table in tables:
            columns = self.columns(client, table)
            listed = ", ".join(columns)
            rows = client.query(f"select {listed} from {table} final order by {listed}").result_rows
            if "topic" in columns:
                at = columns.index("topic")
                rows = [(*row[:at], row[at].removesuffix(f".{self.suffix}"), *row[at + 1 :]) for row in rows]
            out[table] = [tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in rows]
        return out

    def assert_same_rows(
        self,
        client: Client,
        worker: subprocess.Popen[bytes],
        reference: Rows,
        tables: tuple[str, ...] = COMPARED_TABLES,
    ) -> None:
        """Every row of every compared table equals the reference run's: same keys, same values."""
        self.wait_caught_up(worker)
        got = self.rows(client, tables)
        for table in tables:
            if got[table] != reference[table]:
                only_here = sorted(set(got[table]) - set(reference[table]), key=repr)
                only_there = sorted(set(reference[table]) - set(got[table]), key=repr)
                raise AssertionError(
                    f"{table}: {len(got[table])} rows, the reference run has {len(reference[table])};"
                    f" only here ({len(only_here)}): {only_here[:3]}; only in the reference"
                    f" ({len(only_there)}): {only_there[:3]}"
                )


def stop_worker(worker: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as an operator stops a worker; SIGKILL if it has not exited after 30 s. Its exit code."""
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.wait()


def timed_stop(worker: subprocess.Popen[bytes]) -> tuple[int, float]:
    """SIGTERM, and how long the worker took to exit: (exit code, seconds). A worker still running 30 s later
    is killed and the stop fails."""
    began = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    try:
        code = worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise AssertionError("the worker was still running 30 s after SIGTERM (killed)") from None
    return code, time.monotonic() - began


def _tenant(scenario: Scenario) -> dict[str, Any]:
    """The scenario's setup, with the bank tenant's contracts and alert rules, so the alert stage has work."""
    bank = load_tenant_file(ROOT / "tenants" / "bank.toml")
    vendor_terms = bank.sources[bank.vendors[0]]
    sources = {scenario.in_house.id: bank.sources[bank.in_house]} | {
        v.id: vendor_terms for v in scenario.vendors
    }
    return {
        "setup": scenario.setup,
        "in_house": scenario.in_house.id,
        "sources": {source: terms.model_dump() for source, terms in sources.items()},
        "alerts": bank.alerts.model_dump(exclude_none=True),
    }


def reference_rows(bootstrap: str, clickhouse_http: str, suffix: str, work: Path) -> Rows:
    """Run 1 of the four-way comparison: the fault runs' scenario, published the same way, with no fault.

    Its own database, dropped afterwards; what it returns is every compared table's rows."""
    database = f"acd_reference_{suffix}"
    admin = connect(clickhouse_http + "/default")
    admin.command(f"create database {database}")
    client = connect(f"{clickhouse_http}/{database}")
    try:
        migrate(client)
        run = FaultRun(bootstrap, f"{clickhouse_http}/{database}", suffix, work)
        for scenario in run.scenarios:
            run.publish(scenario)
        worker = run.start_worker()
        try:
            run.assert_exact(client, worker)
            run.wait_caught_up(worker)
            rows = run.rows(client)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        assert not rows["dead_letter"], rows["dead_letter"][:3]
        return rows
    finally:
        client.close()
        admin.command(f"drop database if exists {database} sync")
        admin.close()


def _repeats(client: Client) -> dict[str, dict[tuple[str, str, int], tuple[int, int]]]:
    out: dict[str, dict[tuple[str, str, int], tuple[int, int]]] = {}
    for tenant, source, call_type, start, handled, repeated in client.query(
        "select tenant, source, call_type, interval_start, sum(handled), sum(repeated)"
        " from repeat_interval final group by tenant, source, call_type, interval_start"
    ).result_rows:
        out.setdefault(tenant, {})[(source, call_type, to_ms(start))] = (handled, repeated)
    return out
