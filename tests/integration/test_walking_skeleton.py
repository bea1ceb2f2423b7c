"""Producer -> real Kafka -> a real `faust worker` process -> ClickHouse equals the producer's ground truth."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from acdscope.dashboards import run
from producers.kafka_out import ensure_topics
from producers.kafka_out import publish_raw
from producers.tiny_sim import TinyScenario
from producers.tiny_sim import simulate
from streams.edge.records import HEADER_OFFSET
from streams.edge.records import HEADER_REASON
from streams.edge.records import HEADER_TOPIC
from streams.events import contact_key
from streams.events import encode_event
from streams.warehouse.migrations import migrate
from tests.support.faults import stop_worker

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 4

MALFORMED = [
    (b"bad-1", b'{"type": "contact.offered", "event_id": "not-a-uuid"'),  # truncated JSON
    (b"bad-2", b'{"type": "contact.teleported", "event_id": "00000000-0000-4000-8000-000000000001"}'),
    (b"bad-3", b"\xff\xfe\x00 not utf-8"),
]


def _worker_env(servers, dsn: str, topics: dict[str, str], tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ACDSCOPE_KAFKA_BOOTSTRAP=servers.kafka_bootstrap,
        ACDSCOPE_CLICKHOUSE_DSN=dsn,
        ACDSCOPE_TOPIC_CONTACT_EVENTS=topics["events"],
        ACDSCOPE_TOPIC_DEAD_LETTER=topics["dlq"],
        ACDSCOPE_TOPIC_AGENT_EVENTS=topics["agents"],
        ACDSCOPE_TOPIC_VENDOR_REPORTS=topics["reports"],
        ACDSCOPE_TOPIC_CALLER_CONTACTS=topics["callers"],
        ACDSCOPE_TOPIC_ALERT_INPUTS=f"alert-inputs.{topics['suffix']}",
        ACDSCOPE_TOPIC_ALERTS=f"alerts.{topics['suffix']}",
        ACDSCOPE_TOPIC_PARTITIONS=str(PARTITIONS),
        ACDSCOPE_FAUST_APP_ID=f"acdscope-test-{topics['suffix']}",
        ACDSCOPE_FAUST_DATA_DIR=str(tmp_path / "faust"),
    )
    return env


def test_worker_counts_equal_ground_truth_and_dead_letters_bad_messages(
    servers, clickhouse_db, topic_suffix, tmp_path
):
    dsn, client = clickhouse_db
    migrate(client)
    topics = {
        "events": f"acd.contact-events.{topic_suffix}",
        "agents": f"acd.agent-events.{topic_suffix}",
        "reports": f"acd.vendor-reports.{topic_suffix}",
        "callers": f"acd.caller-contacts.{topic_suffix}",
        "dlq": f"acd.dead-letter.{topic_suffix}",
        "suffix": topic_suffix,
    }
    ensure_topics(
        servers.kafka_bootstrap,
        {
            topics["events"]: PARTITIONS,
            topics["agents"]: PARTITIONS,
            topics["reports"]: PARTITIONS,
            topics["dlq"]: 1,
        },
    )

    scenario = TinyScenario(hours=4.0, calls_per_hour=300.0, seed=11)
    events, truth = simulate(scenario)
    messages = [(contact_key(event), encode_event(event)) for event in events]
    third = len(messages) // 3
    # Bad records sit between good ones: the worker must keep going and count what follows them.
    stream = (
        messages[:third] + MALFORMED[:2] + messages[third : 2 * third] + MALFORMED[2:] + messages[2 * third :]
    )
    assert publish_raw(servers.kafka_bootstrap, topics["events"], stream) == len(events) + len(MALFORMED)

    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "streams.edge.app", "worker", "-l", "info"],
            cwd=ROOT,
            env=_worker_env(servers, dsn, topics, tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        expected = {key: counts for key, counts in truth.table().items()}
        params = {"from": scenario.start, "until": scenario.start + timedelta(hours=scenario.hours + 1)}
        deadline = time.monotonic() + 120
        got: dict = {}
        while time.monotonic() < deadline:
            assert worker.poll() is None, f"worker exited early:\n{log_path.read_text()[-3000:]}"
            assert "Crashed reason=" not in log_path.read_text(), log_path.read_text()[-3000:]
            result = run(client, "contact_volume", params)
            got = {(row[0], row[1]): (row[2], row[3], row[4]) for row in result.rows}
            if got == expected:
                break
            time.sleep(0.5)
        assert got == expected, (
            f"warehouse differs from ground truth; worker log tail:\n{log_path.read_text()[-3000:]}"
        )
        assert sum(c[0] for c in expected.values()) == sum(1 for e in events if e.type == "contact.offered")

        consumer = KafkaConsumer(
            topics["dlq"],
            bootstrap_servers=servers.kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=20_000,
            group_id=None,
        )
        letters = []
        for message in consumer:
            letters.append(message)
            if len(letters) == len(MALFORMED):
                break
        consumer.close()
        assert sorted((m.key, m.value) for m in letters) == sorted(MALFORMED)
        for message in letters:
            headers = dict(message.headers)
            assert headers[HEADER_TOPIC].decode() == topics["events"]
            assert int(headers[HEADER_OFFSET]) >= 0
            assert headers[HEADER_REASON]
        reasons = {m.key: dict(m.headers)[HEADER_REASON].decode() for m in letters}
        assert reasons[b"bad-1"].startswith("json_invalid")
        assert "contact.teleported" in reasons[b"bad-2"] or "union_tag_invalid" in reasons[b"bad-2"]
        assert reasons[b"bad-3"].startswith("json_invalid")

        stored = client.query("select reason, payload from dead_letter final order by reason").result_rows
        assert len(stored) == len(MALFORMED)
        # Every good event is kept raw, once, with its wire bytes (written in the same flush, after the counts).
        deadline = time.monotonic() + 30
        while True:
            raw = tuple(
                client.query("select count(), uniqExact(event_id) from acd_events final").result_rows[0]
            )
            if raw == (len(events), len(events)) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert raw == (len(events), len(events))
    finally:
        code = stop_worker(worker)
        print(f"worker log: {log_path}")
    assert code == 0, log_path.read_text()[-3000:]
    assert "Crashed reason=" not in log_path.read_text()
