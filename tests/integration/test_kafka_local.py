"""The local broker launcher against a real Apache Kafka broker, on its own ports and home.

A separate broker (ports 19192/19193, temporary home) so these tests can stop it without breaking the session
broker other tests share; the jar directory is shared, so mvn still runs at most once.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from kafka import KafkaProducer
from kafka import TopicPartition
from kafka.admin import KafkaAdminClient

from infra.kafka_local import KafkaLocal

pytestmark = pytest.mark.integration

PORT = 19192
CONTROLLER_PORT = 19193


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def kafka_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaLocal]:
    kafka = KafkaLocal(
        port=PORT, controller_port=CONTROLLER_PORT, home_dir=tmp_path_factory.mktemp("kafka-home")
    )
    try:
        yield kafka
    finally:
        kafka.stop()


@pytest.fixture
def running(kafka_local: KafkaLocal) -> KafkaLocal:
    # Per test, so a test that runs after the stop test (-k, reordering) gets a live broker again.
    kafka_local.start()
    kafka_local.wait_ready(timeout=120)
    return kafka_local


def test_start_is_idempotent(running: KafkaLocal) -> None:
    pid = running.start()
    assert running.start() == pid
    assert running.is_running()
    assert running.pid_file.read_text().strip() == str(pid)
    assert running.home != running.root / ".local" / "kafka"
    assert running.lib_dir == running.root / ".local" / "kafka" / "lib"
    assert _port_open(PORT)
    assert f"listeners=PLAINTEXT://127.0.0.1:{PORT},CONTROLLER://127.0.0.1:{CONTROLLER_PORT}" in (
        running.server_properties.read_text()
    )


def test_round_trip_1000_keyed_messages_on_3_partitions(running: KafkaLocal) -> None:
    topic = f"test-kafka-local-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=running.bootstrap)
    try:
        admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1}})
        admin.wait_for_topics([topic], timeout_ms=30_000)
    finally:
        admin.close()

    sent: dict[tuple[str, str], int] = {}  # (key, value) -> partition the producer reported
    producer = KafkaProducer(
        bootstrap_servers=running.bootstrap,
        acks="all",
        linger_ms=5,
    )
    try:
        futures = []
        for i in range(1000):
            key, value = f"agent-{i % 37}", f"event-{i}"
            futures.append(((key, value), producer.send(topic, key=key.encode(), value=value.encode())))
        producer.flush(timeout=30)
        for kv, fut in futures:
            sent[kv] = fut.get(timeout=30).partition
    finally:
        producer.close(timeout=5)
    assert len(sent) == 1000
    assert set(sent.values()) == {0, 1, 2}, "37 keys should spread over all 3 partitions"

    partitions = [TopicPartition(topic, p) for p in range(3)]
    consumer = KafkaConsumer(
        bootstrap_servers=running.bootstrap,
        group_id=None,
        enable_auto_commit=False,
    )
    received: list[tuple[str, str, int]] = []
    try:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        assert sum(end.values()) == 1000
        deadline = time.monotonic() + 60
        while len(received) < 1000 and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                received.extend((r.key.decode(), r.value.decode(), tp.partition) for r in records)
        # One more poll: anything beyond the 1000 would be a duplicate.
        for tp, records in consumer.poll(timeout_ms=500).items():
            received.extend((r.key.decode(), r.value.decode(), tp.partition) for r in records)
    finally:
        consumer.close()

    assert len(received) == 1000
    assert {(k, v): p for k, v, p in received} == sent
    key_partitions: dict[str, set[int]] = {}
    for k, _, p in received:
        key_partitions.setdefault(k, set()).add(p)
    assert all(len(ps) == 1 for ps in key_partitions.values()), "one key must live in one partition"


def test_restarts_after_being_killed_mid_election(running: KafkaLocal) -> None:
    running.stop()
    quorum_state = running.data_dir / "__cluster_metadata-0" / "quorum-state"
    state = json.loads(quorum_state.read_text())
    # What a SIGKILL between the controller's self-vote and its leader record leaves behind; Kafka 3.9.1
    # alone then fails the next start with "Cannot transition to Candidate ... already a Leader".
    state.update(leaderId=-1, votedId=1, leaderEpoch=state["leaderEpoch"] + 1)
    quorum_state.write_text(json.dumps(state))
    running.start()
    running.wait_ready(timeout=60)
    assert json.loads(quorum_state.read_text())["leaderId"] == 1


def test_stop_removes_pid_file_and_closes_port(running: KafkaLocal) -> None:
    pid = running.start()
    running.stop()
    assert not running.pid_file.exists()
    assert not running.is_running()
    assert (
        not Path(f"/proc/{pid}").exists() or b"kafka.Kafka" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    )
    assert not _port_open(PORT)
    assert not _port_open(CONTROLLER_PORT)
    running.stop()  # a second stop is a no-op


def test_reset_data_refuses_while_running_and_wipes_after_stop(running: KafkaLocal) -> None:
    with pytest.raises(RuntimeError, match="stop the broker"):
        running.reset_data()
    running.stop()
    running.reset_data()
    assert not running.data_dir.exists()


def test_wait_ready_fails_fast_when_not_running(tmp_path: Path) -> None:
    kafka = KafkaLocal(port=19194, controller_port=19195, sasl_port=19196, home_dir=tmp_path)
    assert not kafka.is_running()
    kafka.stop()  # no pid file: nothing to do
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="not running"):
        kafka.wait_ready(timeout=30)
    assert time.monotonic() - started < 5
