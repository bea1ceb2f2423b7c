"""Publishing to Kafka: the simulator's and replay's rates beside the client's own, in the same run, on one core.

The client's own rate is kafka-python's `KafkaProducer` with the publishers' settings (`producer_settings()`)
sending the very payloads and keys the publishers send, already encoded, so it is what the library itself
costs per record; the publishers also simulate (or read and validate) and encode each event. Each rate goes to
a fresh set of topics (4 partitions each) of the local broker, timed from the first send to the last
acknowledgement (`flush`), producer start-up excluded; the client is measured before and after the publishers
and the faster of the two is the reference. Every run's topics are then counted: a rate whose records did not
all arrive is an error, not a figure.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from bench.engine import pin_one_core
from bench.stack import PARTITIONS
from bench.stack import local_stack
from producers.kafka_out import ensure_topics
from producers.kafka_out import producer_settings
from producers.replay import KafkaOutput
from producers.replay import read_events
from producers.replay import replay
from producers.simulator.core import Simulation
from producers.simulator.gcpause import paused_gc
from producers.simulator.kafka_sink import KafkaSink
from producers.simulator.run import simulate_one
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.events import decode_event
from streams.events import event_key
from streams.events import event_topic

TARGET_RATIO = 0.5
CALLER_KEY = b"bench"
_CLIENT = ("client", "client, collector paused")
_PUBLISHERS = ("simulator", "replay JSON lines", "replay Parquet")


def _topics(bootstrap: str, label: str) -> dict[str, str]:
    suffix = f"{label}-{uuid.uuid4().hex[:6]}"
    topics = {
        TOPIC_CONTACT_EVENTS: f"bench.produce.contact.{suffix}",
        TOPIC_AGENT_EVENTS: f"bench.produce.agent.{suffix}",
        TOPIC_VENDOR_REPORTS: f"bench.produce.reports.{suffix}",
    }
    ensure_topics(bootstrap, dict.fromkeys(topics.values(), PARTITIONS))
    return topics


def _count_and_drop(bootstrap: str, topics: dict[str, str]) -> int:
    """Records in the run's topics (end offsets; nothing else writes there), then the topics are deleted."""
    from kafka import KafkaAdminClient
    from kafka import KafkaConsumer
    from kafka import TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        partitions = [TopicPartition(t, p) for t in topics.values() for p in range(PARTITIONS)]
        count = sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        with contextlib.suppress(Exception):
            admin.delete_topics(list(topics.values()))
    finally:
        admin.close()
    return count


def _measured(bootstrap: str, label: str, expected: int, publish: Callable[[dict[str, str]], None]) -> float:
    topics = _topics(bootstrap, label)
    began = time.perf_counter()
    publish(topics)
    seconds = time.perf_counter() - began
    arrived = _count_and_drop(bootstrap, topics)
    if arrived != expected:
        raise RuntimeError(f"{label}: {arrived:,} records arrived of {expected:,} sent")
    return expected / seconds


def client_rate(bootstrap: str, messages: list[tuple[str, bytes, bytes]], collector: bool) -> float:
    """The library alone: pre-encoded payloads and keys, the publishers' producer settings; with the cyclic
    collector on, or paused as the publishers pause it (the faster of the two is the reference)."""

    def publish(topics: dict[str, str]) -> None:
        producer = KafkaProducer(bootstrap_servers=bootstrap, **producer_settings())
        try:
            with contextlib.nullcontext() if collector else paused_gc():
                for topic, key, value in messages:
                    producer.send(topics[topic], key=key, value=value)
                producer.flush()
        finally:
            producer.close()

    return _measured(bootstrap, "client", len(messages), publish)


def simulator_rate(bootstrap: str, scenario: Scenario, expected: int) -> float:
    """`acdscope simulate --kafka`'s work: the simulation (truth recorded, not written) into `KafkaSink`."""

    def publish(topics: dict[str, str]) -> None:
        sink = KafkaSink(bootstrap, f"{scenario.seed}:{scenario.tenant()}", topics)
        try:
            Simulation(scenario, sink, TruthRecorder(), CALLER_KEY).run()
        finally:
            sink.close()

    return _measured(bootstrap, "simulator", expected, publish)


def replay_rate(bootstrap: str, path: Path, fmt: str, expected: int) -> float:
    """`acdscope replay FILE --format jsonl|parquet --to kafka --speed 0`'s work: read, validate, publish."""

    def publish(topics: dict[str, str]) -> None:
        output = KafkaOutput(bootstrap, topics)
        try:
            replay(read_events(path, fmt, CALLER_KEY), output)
        finally:
            output.close()

    return _measured(bootstrap, f"replay-{fmt}", expected, publish)


def run(days: int = 3, rounds: int = 2) -> dict[str, Any]:
    pin_one_core()
    base = scenario_from_dict({**Scenario().model_dump(), "days": days})
    scenario = variant(base, "virtualized", "shared")  # every event visible: all 20 event types
    with tempfile.TemporaryDirectory() as tmp, local_stack() as stack:
        files = simulate_one(scenario, Path(tmp) / "run", ("parquet", "jsonl"), caller_key=CALLER_KEY)
        jsonl = files.directory / "events.jsonl"
        # What the publishers send, encoded once: the same ids, payloads and keys (the simulator's seed).
        messages = []
        with jsonl.open("rb") as lines:
            for line in lines:
                value = line.rstrip(b"\n")
                event = decode_event(value)
                messages.append((event_topic(event), event_key(event), value))
        n = len(messages)
        bootstrap = stack.bootstrap
        rates: dict[str, list[float]] = {name: [] for name in (*_CLIENT, *_PUBLISHERS)}
        for _ in range(rounds):  # interleaved, best of each: the two cores are shared with the broker
            rates["client"].append(client_rate(bootstrap, messages, collector=True))
            rates["client, collector paused"].append(client_rate(bootstrap, messages, collector=False))
            rates["simulator"].append(simulator_rate(bootstrap, scenario, n))
            rates["replay JSON lines"].append(replay_rate(bootstrap, jsonl, "jsonl", n))
            rates["replay Parquet"].append(
                replay_rate(bootstrap, files.directory / "events.parquet", "parquet", n)
            )
    best = {name: max(values) for name, values in rates.items()}
    client = max(best[name] for name in _CLIENT)
    ratios = {name: best[name] / client for name in _PUBLISHERS}
    worst = min(ratios.values())
    return {
        "name": "publishing to Kafka vs the client",
        "figure": ", ".join(
            f"{name} {best[name]:,.0f} events/s ({ratios[name]:.2f}x)" for name in _PUBLISHERS
        )
        + f" of the client's own {client:,.0f}/s ("
        + ", ".join(f"{name} {best[name]:,.0f}/s" for name in _CLIENT)
        + ")",
        "method": (
            f"{n:,} simulator events ({days} days of the default bank, virtualized, shared: every event type) "
            f"into 3 fresh topics x {PARTITIONS} partitions of the local broker per rate; one process pinned to "
            "one CPU (the producer's sender thread included); the publishers' producer settings throughout "
            "(idempotent, acks=all, uncompressed, 20 ms linger, 256 KiB batches); from the first send to the last "
            "acknowledgement. Client: KafkaProducer.send of the same payloads and keys, already encoded, with "
            "the cyclic collector on and paused, the faster the reference. Simulator: Simulation.run (truth "
            "recorded, not written) into KafkaSink. Replay: replay() of the run's events.jsonl / "
            f"events.parquet into KafkaOutput, flat out. {rounds} interleaved rounds, best of each; every "
            "run's topics hold exactly the events sent"
        ),
        "events": n,
        "events_per_s": {name: round(rate) for name, rate in best.items()},
        "rounds_events_per_s": {name: [round(rate) for rate in values] for name, values in rates.items()},
        "ratios": {name: round(value, 3) for name, value in ratios.items()},
        "target": f"each publisher >= {TARGET_RATIO} x client",
        "met": worst >= TARGET_RATIO,
    }


if __name__ == "__main__":
    print(run(*(int(arg) for arg in sys.argv[1:3])))
