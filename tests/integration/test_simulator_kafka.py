"""The simulator publishing to a real broker: every event on its contract topic, keyed, in per-key order; a
paired run publishes every variant, each as its own tenant."""

from __future__ import annotations

from collections import Counter
from collections import defaultdict

import pytest
from kafka import KafkaConsumer

from producers.kafka_out import ensure_topics
from producers.simulator.core import Simulation
from producers.simulator.kafka_sink import KafkaSink
from producers.simulator.output import MemorySink
from producers.simulator.run import simulate_in_memory
from producers.simulator.run import simulate_paired_to_kafka
from producers.simulator.truth import TruthRecorder
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.events import decode_event
from streams.events import event_key
from tests.support.scenarios import small

pytestmark = pytest.mark.integration

SCENARIO = small("kafka", calls=250, agents=10, vendor_agents=5, setup="enterprise_routed")


def test_simulated_events_land_on_their_topics_keyed_and_in_order(servers, topic_suffix):
    topics = {
        TOPIC_CONTACT_EVENTS: f"contacts.{topic_suffix}",
        TOPIC_AGENT_EVENTS: f"agents.{topic_suffix}",
        TOPIC_VENDOR_REPORTS: f"reports.{topic_suffix}",
    }
    ensure_topics(servers.kafka_bootstrap, {name: 3 for name in topics.values()})
    sink = KafkaSink(servers.kafka_bootstrap, "s", topics)
    Simulation(SCENARIO, sink, TruthRecorder(), b"k").run()
    sink.close()
    reference = MemorySink("s")
    Simulation(SCENARIO, reference, TruthRecorder(), b"k").run()
    reference.close()
    expected = list(reference.events())

    received = defaultdict(list)
    for topic, partition, event in _read(servers.kafka_bootstrap, topics, len(expected)):
        received[(topic, partition)].append(event)
    by_topic = Counter()
    for (topic, _), events in received.items():
        by_topic[topic] += len(events)
    assert by_topic[topics[TOPIC_VENDOR_REPORTS]] > 0
    assert sum(by_topic.values()) == sum(sink.sent.values())
    # Per key, the broker kept the simulator's order.
    expected_order = defaultdict(list)
    for event in expected:
        expected_order[event_key(event)].append(event.event_id)
    got_order = defaultdict(list)
    for events in received.values():
        for event in events:
            got_order[event_key(event)].append(event.event_id)
    assert got_order == expected_order


def test_a_paired_run_publishes_every_variant_as_its_own_tenant(servers, topic_suffix, tmp_path):
    topics = {
        TOPIC_CONTACT_EVENTS: f"contacts.{topic_suffix}",
        TOPIC_AGENT_EVENTS: f"agents.{topic_suffix}",
        TOPIC_VENDOR_REPORTS: f"reports.{topic_suffix}",
    }
    ensure_topics(servers.kafka_bootstrap, {name: 3 for name in topics.values()})
    base = small("paired", calls=120, agents=6, vendor_agents=3)
    results = simulate_paired_to_kafka(base, tmp_path / "out", servers.kafka_bootstrap, b"k", topics)
    assert len(results) == 9
    expected = {}
    for result in results:
        memory, _ = simulate_in_memory(result.scenario, caller_key=b"k")
        memory.close()
        expected[result.scenario.tenant()] = list(memory.events())
        assert result.events == len(expected[result.scenario.tenant()])
        assert (result.directory / "truth_legs.parquet").is_file()

    received = defaultdict(list)
    wanted = sum(len(events) for events in expected.values())
    for _, _, event in _read(servers.kafka_bootstrap, topics, wanted):
        received[event.tenant].append(event)
    assert sorted(received) == sorted(expected)
    for tenant, events in expected.items():
        # All of the variant's events, and per key in the simulator's order.
        assert _ids_by_key(received[tenant]) == _ids_by_key(events), tenant


def _read(bootstrap, topics, wanted):
    """Exactly `wanted` messages from the topics, from the start, each keyed as the contract prescribes."""
    consumer = KafkaConsumer(
        *topics.values(), bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10_000,
        group_id=None,
    )  # fmt: skip
    read = []
    try:
        for message in consumer:
            event = decode_event(message.value)
            assert message.key == event_key(event)
            read.append((message.topic, message.partition, event))
            if len(read) == wanted:
                break
    finally:
        consumer.close()
    assert len(read) == wanted
    return read


def _ids_by_key(events):
    by_key = defaultdict(list)
    for event in events:
        by_key[event_key(event)].append(event.event_id)
    return by_key
