"""Publish canonical events to Kafka, keyed as the contract says, and create topics with a known partition count.

Only moves bytes: no metric, no decoding of what it sends.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from kafka import KafkaAdminClient
from kafka import KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaTimeoutError
from kafka.errors import TopicAlreadyExistsError
from kafka.producer.future import FutureRecordMetadata

from streams.events import ContactEvent
from streams.events import contact_key
from streams.events import encode_event

# How long a publisher waits out an unreachable broker before it gives up: several minutes of outage (a broker
# restart, a failover) must not end a replay or a simulation. kafka-python's defaults give up after 60 s
# ("Failed to update metadata after 60.0 secs") and expire unsent records after 120 s.
DEFAULT_OUTAGE_S = 900.0
# Records sent but not yet acknowledged before `send` waits: kafka-python 3 has no bounded buffer
# (`buffer_memory` is gone), so without this a publisher would pile a whole outage's events up in memory.
MAX_UNACKNOWLEDGED = 50_000
# How long one wait inside the client lasts before the publisher says it is still waiting.
_NOTICE_S = 10.0


class PublishError(RuntimeError):
    """A record the broker did not take: the publisher stops rather than go on with a gap behind it."""


def producer_settings(outage_s: float = DEFAULT_OUTAGE_S) -> dict[str, Any]:
    """kafka-python settings of every publisher (and of the benchmark's bare client, so the two compare).

    Idempotent with acks=all and at most 5 requests in flight: a retried batch is neither duplicated nor
    reordered, so every key keeps its order, across broker restarts too (the broker keeps the producer's
    sequence numbers in its log). Batches of up to 256 KiB after a 20 ms linger, uncompressed: lz4 made the
    client faster (`bench/producer.py`), but the worker's consumer (aiokafka) decodes lz4, zstd and snappy only
    with `cramjam`, which is not a dependency, so a compressed batch crashed the worker's fetcher
    (`tests/integration/test_readme_streaming.py` runs the simulator into a real worker).
    Unsent records live `outage_s` (`delivery_timeout_ms`), retries are unlimited (the default), and a
    reconnect is tried at least every second, so the first batch goes out as soon as the broker is back.
    `send` blocks at most `_NOTICE_S` for metadata so that `Publisher` can say it is waiting, and retry."""
    return {
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "delivery_timeout_ms": int(outage_s * 1000),
        "max_block_ms": int(_NOTICE_S * 1000),
        "reconnect_backoff_max_ms": 1000,
    }


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Publisher:
    """The one producer every publisher uses (`event_producer`): `producer_settings`, plus what kafka-python
    leaves to its caller. It waits out a broker outage of up to `outage_s` (saying so every `_NOTICE_S`),
    holds at most `max_unacknowledged` records unacknowledged, and raises `PublishError` on the first record the
    broker did not take, instead of losing it silently as a bare `KafkaProducer.send` with no look at its
    future does."""

    def __init__(
        self,
        bootstrap: str,
        security: Mapping[str, Any] | None = None,
        outage_s: float = DEFAULT_OUTAGE_S,
        max_unacknowledged: int | None = None,
        notify: Callable[[str], None] = _stderr,
    ) -> None:
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap, **producer_settings(outage_s), **(security or {})
        )
        self.outage_s = outage_s
        self._max = MAX_UNACKNOWLEDGED if max_unacknowledged is None else max_unacknowledged
        self._notify = notify
        self._pending: deque[FutureRecordMetadata] = deque()
        self.sent = 0
        self.acknowledged = 0
        self.waits = 0  # notices given: times the broker was found unreachable for `_NOTICE_S`

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        waiting_since = None
        while True:
            try:
                future = self.producer.send(topic, key=key, value=value)
                break
            except KafkaTimeoutError:
                # No metadata for the topic within max_block_ms: nothing was appended, so the same send is
                # retried, and no later record has overtaken this one.
                waiting_since = self._still_waiting(waiting_since, f"metadata for {topic}")
        self._pending.append(future)
        self.sent += 1
        if len(self._pending) > self._max:
            self._settle(self._max // 2)

    def flush(self) -> None:
        """Every record sent so far acknowledged (or `PublishError`); lingering batches go out by themselves."""
        self._settle(0)
        self.producer.flush()

    def close(self) -> None:
        """Without a flush: after a failure the records still queued are abandoned (the caller has the error)
        rather than waited for; every publisher flushes before it closes."""
        self.producer.close(timeout=_NOTICE_S)

    def _settle(self, keep: int) -> None:
        """Wait, oldest first, until at most `keep` records are unacknowledged."""
        pending = self._pending
        waiting_since = None
        while len(pending) > keep:
            future = pending[0]
            if not future.is_done:
                with contextlib.suppress(Exception):  # a failure is read from the future below
                    future.get(timeout=_NOTICE_S)
                if not future.is_done:  # still queued or retried by the client: the broker is away
                    waiting_since = self._still_waiting(waiting_since, "acknowledgements")
                    continue
            pending.popleft()
            if future.failed():
                raise PublishError(
                    f"kafka: record {self.acknowledged + 1:,} of {self.sent:,} sent was not taken by the "
                    f"broker: {future.exception!r}"
                )
            self.acknowledged += 1
            waiting_since = None

    def _still_waiting(self, since: float | None, what: str) -> float:
        now = time.monotonic()
        since = now if since is None else since
        waited = now - since + _NOTICE_S
        if waited > self.outage_s + _NOTICE_S:
            raise PublishError(
                f"kafka: broker unreachable for {waited:.0f} s (waiting for {what}); giving up"
            )
        self.waits += 1
        self._notify(
            f"kafka: broker unreachable, waiting for {what} ({waited:.0f} s so far, "
            f"{len(self._pending):,} records unacknowledged; giving up after {self.outage_s:.0f} s)"
        )
        return since


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


def event_producer(
    bootstrap: str, security: Mapping[str, Any] | None = None, outage_s: float = DEFAULT_OUTAGE_S
) -> Publisher:
    """The one producer every publisher uses (`Publisher`)."""
    return Publisher(bootstrap, security, outage_s)


def publish_contact_events(
    bootstrap: str, topic: str, events: Iterable[ContactEvent], security: Mapping[str, Any] | None = None
) -> int:
    """Contact events to their topic, keyed by call (`event_producer`)."""
    producer = event_producer(bootstrap, security)
    try:
        for event in events:
            producer.send(topic, key=contact_key(event), value=encode_event(event))
        producer.flush()
    finally:
        producer.close()
    return producer.sent


def publish_raw(
    bootstrap: str,
    topic: str,
    messages: Iterable[tuple[bytes | None, bytes]],
    security: Mapping[str, Any] | None = None,
    outage_s: float = DEFAULT_OUTAGE_S,
) -> int:
    """Send pre-encoded payloads as they are; replays and hostile-input tests need exact bytes on the wire."""
    producer = event_producer(bootstrap, security, outage_s)
    try:
        for key, value in messages:
            producer.send(topic, key=key, value=value)
        producer.flush()
    finally:
        producer.close()
    return producer.sent
