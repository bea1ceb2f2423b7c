"""10,000 hostile records through the running worker, among the fault runs' scenario (one simulated day in
each delivery setup, every input topic), whose good events arrive partly out of order and partly twice.

Every hostile record ends in the dead-letter table with a reason (matched one for one by topic, partition and
offset) and on the dead-letter topic; the worker keeps going; the good events are counted exactly: the
simulator's truth, and row for row the aggregates of the reference run (which sent them once, in order).
No secret (the caller-hash key and the Kafka SASL password the worker is given, the dashboards' ClickHouse
password the report connects with) appears in the worker's log, the dead-letter table, or that report.

Measured here (2 cores, local broker over SASL and endpoint): 10,000 hostile records (19 MB, 120 of them
100 kB) among the 20,036 good events, 2,078 of those out of order and 652 sent twice: all sent in 1.3 s, all
counted and dead-lettered (offsets committed) 6.4 s after the worker started; the test takes about 12 s.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from clickhouse_connect.driver.client import Client
from kafka import KafkaConsumer
from kafka import KafkaProducer
from kafka import TopicPartition

from infra.chdb_server import LOCAL_DASHBOARD_PASSWORD
from infra.kafka_local import LOCAL_SASL_PASSWORD
from infra.kafka_local import LOCAL_SASL_USER
from infra.kafka_local import KafkaLocal
from streams.warehouse.migrations import migrate
from tests.support.faults import CALLER_KEY
from tests.support.faults import COMPARED_TABLES
from tests.support.faults import PARTITIONS
from tests.support.faults import ROOT
from tests.support.faults import FaultRun
from tests.support.hostile import CALLERS
from tests.support.hostile import GOOD_KINDS
from tests.support.hostile import Outgoing
from tests.support.hostile import census
from tests.support.hostile import mix

pytestmark = pytest.mark.integration

HOSTILE = 10_000
SEED = 20261123  # the mix is seeded: a failing record is sent the same way by the next run


def _send(run: FaultRun, records: list[Outgoing]) -> dict[tuple[str, int, int], str]:
    """Every record in order, through one idempotent producer; where each hostile one landed, and its kind."""
    names = {**run.topics, CALLERS: run.env["ACDSCOPE_TOPIC_CALLER_CONTACTS"]}
    producer = KafkaProducer(
        bootstrap_servers=run.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        batch_size=256 * 1024,
    )
    hostile = []
    for record in records:
        sent = producer.send(
            names[record.topic], key=record.key, value=record.value, partition=record.partition
        )
        if record.kind not in GOOD_KINDS:
            hostile.append((sent, record.kind))
    producer.flush()
    producer.close()
    return {(m.topic, m.partition, m.offset): kind for future, kind in hostile for m in [future.get()]}


def _dead_letters(client: Client) -> dict[tuple[str, int, int], str]:
    return {
        (topic, partition, offset): reason
        for topic, partition, offset, reason in client.query(
            "select topic, stream_partition, stream_offset, reason from dead_letter final"
        ).result_rows
    }


def test_ten_thousand_hostile_records_are_dead_letters_and_the_good_events_count_exactly(
    servers, clickhouse_db, topic_suffix, tmp_path, fault_reference
):
    dsn, client = clickhouse_db
    migrate(client)
    run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path)
    secrets = {"caller-hash key": CALLER_KEY.decode(), "dashboards password": LOCAL_DASHBOARD_PASSWORD}
    run.env["ACDSCOPE_CALLER_HASH_KEY"] = CALLER_KEY.decode()
    if servers.how == "local":  # the local broker's SASL/PLAIN listener; testcontainers' broker has none
        run.env.update(
            ACDSCOPE_KAFKA_BOOTSTRAP=KafkaLocal.from_env().sasl_bootstrap,
            ACDSCOPE_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
            ACDSCOPE_KAFKA_SASL_MECHANISM="PLAIN",
            ACDSCOPE_KAFKA_SASL_USERNAME=LOCAL_SASL_USER,
            ACDSCOPE_KAFKA_SASL_PASSWORD=LOCAL_SASL_PASSWORD,
        )
        secrets["Kafka SASL password"] = LOCAL_SASL_PASSWORD
    good = [event for scenario in run.scenarios for event in run.events(scenario)]
    records = mix(good, HOSTILE, SEED, PARTITIONS)
    kinds = census(records)
    assert sum(n for kind, n in kinds.items() if kind not in GOOD_KINDS) == HOSTILE
    assert kinds["good"] + kinds["reordered"] == len(good)
    assert kinds["reordered"] > 1_000, kinds
    assert kinds["duplicate"] > 400, kinds

    began = time.monotonic()
    worker = run.start_worker()
    try:
        hostile = _send(run, records)
        sent_s = time.monotonic() - began
        assert len(hostile) == HOSTILE
        run.wait_caught_up(worker, timeout_s=240)
        caught_up_s = time.monotonic() - began

        # Every hostile record is a dead letter, one for one, with a reason; no good event is.
        dead = _dead_letters(client)
        assert dead.keys() == hostile.keys(), (
            f"{len(dead)} dead letters for {len(hostile)} hostile records; hostile and not dead:"
            f" {Counter(hostile[k] for k in hostile.keys() - dead.keys())}; dead and not hostile:"
            f" {[dead[k] for k in list(dead.keys() - hostile.keys())[:5]]}"
        )
        assert all(reason.strip() for reason in dead.values())
        by_kind: dict[str, set[str]] = {}
        for where, reason in dead.items():
            by_kind.setdefault(hostile[where], set()).add(reason)
        # The far ones decode: the engine refuses the past, the edge the future (EngineConfig.max_lead_hours).
        assert by_kind["far_past"] == {"event time older than the 48 h correction horizon"}
        assert all(r.endswith("h after the record was produced") for r in by_kind["far_future"])
        assert all("does not belong on the" in r for r in by_kind["misrouted"])
        assert all(r.startswith("not a caller-contact record") for r in by_kind["caller_topic"])
        assert by_kind["tombstone"] == {"empty message value"}
        dlq = TopicPartition(run.env["ACDSCOPE_TOPIC_DEAD_LETTER"], 0)
        consumer = KafkaConsumer(bootstrap_servers=run.bootstrap)
        try:
            assert consumer.end_offsets([dlq])[dlq] == HOSTILE
        finally:
            consumer.close()

        # The good events, out of order and partly twice, count exactly once.
        run.assert_exact(client, worker)
        aggregates = tuple(t for t in COMPARED_TABLES if t not in ("acd_events", "dead_letter"))
        run.assert_same_rows(client, worker, fault_reference, aggregates)
        # Every accepted event once, as received: the reference's, at other offsets; a duplicate delivery is
        # counted (the engine's duplicates) but not stored again, so the raw table has one row per event id.
        at = run.columns(client, "acd_events").index("stream_offset")
        got = run.rows(client, ("acd_events",))["acd_events"]
        assert kinds["duplicate"] > 400
        assert len(got) == len(fault_reference["acd_events"])
        assert {r[:at] + r[at + 1 :] for r in got} == {
            r[:at] + r[at + 1 :] for r in fault_reference["acd_events"]
        }

        log = run.log_path.read_text(errors="replace")
        assert worker.poll() is None
        assert "Crashed reason=" not in log
        assert "batch handler failed" not in log
        print(
            f"\nhostile run: {HOSTILE} hostile records ({dict(sorted(Counter(hostile.values()).items()))}) among"
            f" {len(good)} good events ({kinds['reordered']} out of order, {kinds['duplicate']} sent twice):"
            f" sent in {sent_s:.1f} s, caught up {caught_up_s:.1f} s after the worker started"
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    # No secret in the worker's log, the dead-letter table, or a report made from this database.
    # The report lists the tenants that have terms; the worker's engine configuration names no sources.
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps({"tenants": {s.name: {"setup": s.setup, "engagement": "shared",
                                                      "sources": {"in-house": {}, "vendor-a": {}}}
                                             for s in run.scenarios}}))  # fmt: skip
    subprocess.run([sys.executable, "-m", "acdscope.cli", "terms"], cwd=ROOT, check=True, capture_output=True,
                   env={**run.env, "ACDSCOPE_ENGINE_CONFIG": str(terms)})  # fmt: skip
    report_file = tmp_path / "report.html"
    report = subprocess.run(
        [sys.executable, "-m", "acdscope.cli", "report", "--out", str(report_file)],
        cwd=ROOT, env=run.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    html = report_file.read_text()
    assert all(scenario.name in html for scenario in run.scenarios), report.stdout[-3000:]
    log = run.log_path.read_bytes()
    for name, secret in secrets.items():
        assert secret.encode() not in log, f"the {name} is in the worker's log"
        assert secret not in report.stdout + report.stderr, f"the {name} is in the report's output"
        assert secret not in html, f"the {name} is in the HTML report"
        leaked = client.query(
            "select count() from dead_letter where position(payload, {s:String}) > 0"
            " or position(reason, {s:String}) > 0 or position(topic, {s:String}) > 0",
            parameters={"s": secret},
        ).result_rows[0][0]
        assert leaked == 0, f"the {name} is in {leaked} dead-letter rows"
