"""A publisher rides out its broker SIGKILLed for two minutes: it waits (and says so), resumes when the broker is
back on the same data, and every record is on the topic exactly once, each key's records in the order sent.

Its own broker (ports 29192/29193/29194, temporary home), since the test kills it; the jars are shared.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from kafka import TopicPartition

import producers.kafka_out
from infra.kafka_local import KafkaLocal
from producers.kafka_out import ensure_topics
from producers.kafka_out import publish_raw
from producers.simulator.run import simulate_in_memory
from streams.events import encode_event
from streams.events import event_key
from tests.support.scenarios import small

pytestmark = pytest.mark.integration

PORT, CONTROLLER_PORT, SASL_PORT = 29192, 29193, 29194
TOPIC = "outage.events"
PARTITIONS = 4
OUTAGE_S = 120.0
PER_SECOND = 1_000  # slow enough that the stream is mid-way when the broker dies and goes on while it is away
KILL_AFTER = 6_000


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[KafkaLocal]:
    kafka = KafkaLocal(
        port=PORT, controller_port=CONTROLLER_PORT, sasl_port=SASL_PORT, home_dir=tmp_path / "kafka-home"
    )
    kafka.start()
    try:
        kafka.wait_ready(timeout=120)
        yield kafka
    finally:
        kafka.stop()


def _messages() -> list[tuple[bytes, bytes]]:
    """A simulated day's contact and agent events, keyed as the contract says (several hundred keys)."""
    memory, _ = simulate_in_memory(small("outage", calls=2_500, agents=40, vendor_agents=0), caller_key=b"k")
    memory.close()
    return [(event_key(event), encode_event(event)) for event in memory.events()]


def _paced(messages: list[tuple[bytes, bytes]], started: threading.Event) -> Iterator[tuple[bytes, bytes]]:
    began = time.monotonic()
    for number, message in enumerate(messages, start=1):
        if number == KILL_AFTER:
            started.set()
        if number % 100 == 0:
            time.sleep(max(0.0, began + number / PER_SECOND - time.monotonic()))
        yield message


def _read_all(bootstrap: str, expected: int) -> dict[bytes, list[bytes]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    partitions = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
    by_key: dict[bytes, list[bytes]] = defaultdict(list)
    try:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        assert sum(end.values()) == expected, f"{sum(end.values())} records on the topic, {expected} sent"
        read = 0
        deadline = time.monotonic() + 120
        while read < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000, max_records=10_000).values():
                for record in records:
                    by_key[record.key].append(record.value)
                read += len(records)
        assert read == expected
    finally:
        consumer.close()
    return by_key


def test_publishing_survives_a_two_minute_broker_kill(
    broker: KafkaLocal, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A small bound on unacknowledged records, so the publisher also blocks in send while the broker is away.
    monkeypatch.setattr(producers.kafka_out, "MAX_UNACKNOWLEDGED", 5_000)
    messages = _messages()
    assert len(messages) > 3 * KILL_AFTER
    ensure_topics(broker.bootstrap, {TOPIC: PARTITIONS})
    started = threading.Event()
    outcome: dict[str, object] = {}

    def publish() -> None:
        try:
            outcome["sent"] = publish_raw(broker.bootstrap, TOPIC, _paced(messages, started))
        except BaseException as exc:
            outcome["error"] = exc

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    assert started.wait(timeout=120), "the publisher did not get going"
    pid = broker.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # mid-stream: batches in flight, more records arriving
    killed_at = time.monotonic()
    while broker.is_running():
        time.sleep(0.1)
    time.sleep(max(0.0, killed_at + OUTAGE_S - time.monotonic()))
    assert publisher.is_alive(), f"the publisher ended while the broker was away: {outcome}"
    broker.start()  # the same home: the records taken before the kill are still there
    broker.wait_ready(timeout=120)
    publisher.join(timeout=300)
    assert not publisher.is_alive(), "the publisher did not finish after the broker came back"
    assert "error" not in outcome, outcome["error"]
    assert outcome["sent"] == len(messages)
    assert "broker unreachable, waiting" in capsys.readouterr().err

    expected: dict[bytes, list[bytes]] = defaultdict(list)
    for key, value in messages:
        expected[key].append(value)
    # Each record exactly once (the count of all of them matches, and per key the lists are equal), in the
    # order sent per key.
    assert _read_all(broker.bootstrap, len(messages)) == expected
