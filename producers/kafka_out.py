"""Publish canonical events to Kafka, keyed as the contract says, and create topics with a known partition count.

Only moves bytes: no metric, no decoding of what it sends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from kafka import KafkaAdminClient
from kafka import KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from streams.events import ContactEvent
from streams.events import contact_key
from streams.events import encode_event


def ensure_topics(bootstrap: str, topics: dict[str, int], security: Mapping[str, Any] | None = None) -> None:
    """Create missing topics; Faust needs source topics to exist with the partition count it was told.

    `security`: kafka-python keyword arguments for SASL / TLS (`Settings.kafka_security()`), here and below."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="acdscope-admin", **(security or {}))
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(name, partitions, 1) for name, partitions in topics.items() if name not in existing]
        if new:
            # Another process may create the same topic between the listing and the create.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
    finally:
        admin.close()


def event_producer(bootstrap: str, security: Mapping[str, Any] | None = None) -> KafkaProducer:
    """The one producer every publisher uses: idempotent with acks=all, so a retried send never duplicates or
    reorders an event of a key; batched (20 ms linger, 256 KiB batches) for replay and simulation rates."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        batch_size=256 * 1024,
        **(security or {}),
    )


def publish_contact_events(
    bootstrap: str, topic: str, events: Iterable[ContactEvent], security: Mapping[str, Any] | None = None
) -> int:
    """Contact events to their topic, keyed by call (`event_producer`)."""
    producer = event_producer(bootstrap, security)
    sent = 0
    try:
        for event in events:
            producer.send(topic, key=contact_key(event), value=encode_event(event))
            sent += 1
        producer.flush()
    finally:
        producer.close()
    return sent


def publish_raw(
    bootstrap: str,
    topic: str,
    messages: Iterable[tuple[bytes | None, bytes]],
    security: Mapping[str, Any] | None = None,
) -> int:
    """Send pre-encoded payloads as they are; replays and hostile-input tests need exact bytes on the wire."""
    producer = event_producer(bootstrap, security)
    sent = 0
    try:
        for key, value in messages:
            producer.send(topic, key=key, value=value)
            sent += 1
        producer.flush()
    finally:
        producer.close()
    return sent
